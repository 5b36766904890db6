"""Proto messages → raw record tables, one column per field of the record's schema (``resolver.records``)."""

from __future__ import annotations

import functools

import pyarrow as pa

from catalog_er.resolver.records import ARTIST_SCHEMA, ENGAGEMENT_SCHEMA, TRACK_SCHEMA, service_schema


def proto_rows(messages: list, *, schema: pa.Schema) -> pa.Table:
    """Proto messages as a raw table for validation: one column per field of ``schema``, taken from the
    message field of the same name. proto3 cannot tell an unset field from its default, so "" and an empty
    repeated field are missing values (null), and so is 0 in a nullable integer column; a required integer
    column keeps 0 (zero plays is a count)."""
    columns: dict[str, pa.Array] = {}
    for field in schema:
        values = [getattr(message, field.name) for message in messages]
        if pa.types.is_list(field.type):
            values = [list(value) or None for value in values]
        elif field.nullable or not pa.types.is_integer(field.type):
            values = [value or None for value in values]
        columns[field.name] = pa.array(values, field.type)
    return pa.table(columns)


track_rows = functools.partial(proto_rows, schema=service_schema(TRACK_SCHEMA))
artist_rows = functools.partial(proto_rows, schema=service_schema(ARTIST_SCHEMA))
engagement_rows = functools.partial(proto_rows, schema=service_schema(ENGAGEMENT_SCHEMA))
