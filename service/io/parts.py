"""One file of a dump read raw, and what the per-format readers share: formats, the column checks, joining parts.

A dump is one file or several part files (``service.io.files`` finds them). Each part is read by the reader of
its format (``service.io.parquet``, ``service.io.delimited``, ``service.io.json_lines``) into a :class:`RawPart`:
the contract columns the file holds, as they were read, with each row's number in the file and the rows the
reader could not read at all. :func:`join_parts` unifies the column types of several parts (or pieces of one
file) so the validator of ``service.io.validation`` sees one table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.resolver.records import REJECTED_SCHEMA
from catalog_er.service.errors import SchemaError
from catalog_er.service.io.column_types import decode_binary, flat_array, is_text_or_binary, to_text, to_text_list
from catalog_er.service.io.validation import FIELD_DECODED, ROW_DROPPED, decoded_reasons, show_value, shown_ids


@dataclass(frozen=True)
class Format:
    """A file format a dump may come in: its ``name`` (as errors say it) and the file name endings that mean it."""

    name: str
    extensions: tuple[str, ...]


PARQUET = Format("Parquet", (".parquet", ".parq", ".pq"))
CSV = Format("CSV", (".csv",))
TSV = Format("TSV", (".tsv", ".tab"))
JSON_LINES = Format("JSON Lines", (".jsonl", ".ndjson", ".jsonlines", ".json"))
FORMATS = (PARQUET, CSV, TSV, JSON_LINES)
COMPRESSIONS = (".gz", ".bz2", ".zst", ".lz4")
"""Compressed text files (``tracks.csv.gz``) are decompressed while reading; Parquet compresses inside."""


@dataclass(frozen=True)
class PartFile:
    """One file to read: ``path`` as the report and errors name it, and its ``format``."""

    path: str
    format: Format

    @property
    def label(self) -> str:
        """How errors name the file: ``tracks.csv (CSV)``."""
        return f"{self.path} ({self.format.name})"


@dataclass(frozen=True)
class RawPart:
    """One file read raw.

    ``table`` holds the contract columns found in the file, as read (any type; CSV columns are binary);
    ``rows`` (int64, one per table row) is each row's 0-based record number in the file; ``rejected``
    (``REJECTED_SCHEMA``) lists the records the reader could not read at all (a CSV row with the wrong number
    of fields, a line that is not JSON), each a dropped row.
    """

    table: pa.Table
    rows: np.ndarray
    rejected: pa.Table


def with_text_decoded(part: RawPart, file: PartFile, id_field: str) -> tuple[RawPart, pa.Table]:
    """``part`` with each binary column read as text, and a ``field decoded`` rejected-report entry for each value
    that was not UTF-8 and was read in the legacy encoding its column most likely uses
    (:func:`service.io.column_types.decode_binary`). Done per file, where one encoding was used: a dump whose
    files come from different sources may mix them. ``id_field`` names the report's ``id``."""
    table, found = part.table, []
    for index, field in enumerate(table.schema):
        if not (pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type)):
            continue
        original = flat_array(table[field.name])
        text, decoded, encoding = decode_binary(original)
        table = table.set_column(index, field.name, text)
        if decoded is not None:
            found.append((field.name, original, text, np.flatnonzero(decoded), encoding))
    if not found:
        return RawPart(table, part.rows, part.rejected), REJECTED_SCHEMA.empty_table()
    ids = _report_ids(table, id_field)
    entries = [pa.table({
        "file": pa.repeat(file.path, len(positions)),
        "row": pa.array(part.rows[positions], pa.int64()),
        "id": shown_ids(ids.take(pa.array(positions, pa.int64()))),
        "field": pa.repeat(name, len(positions)),
        "reason": pa.array(decoded_reasons(name, original, text, positions, encoding), pa.string()),
        "action": pa.repeat(FIELD_DECODED, len(positions)),
    }, schema=REJECTED_SCHEMA) for name, original, text, positions, encoding in found]
    return RawPart(table, part.rows, part.rejected), pa.concat_tables(entries)


def _report_ids(table: pa.Table, id_field: str) -> pa.Array:
    """The ``id_field`` column as report ids (text); nulls when the file has none or of a type that cannot be
    written as text (validation then names that column's type)."""
    if id_field in table.column_names:
        try:
            return flat_array(table[id_field]).cast(pa.string())
        except pa.ArrowException:
            pass
    return pa.nulls(table.num_rows, pa.string())


def malformed_rows(file: PartFile, rows: Sequence[int], problems: Sequence[str], texts: Sequence[str]) -> pa.Table:
    """Rejected-report rows (``row dropped``) for records of ``file`` that could not be read at all: the reason
    is the problem followed by the record's text (cut to ``MAX_SHOWN_CHARS``)."""
    count = len(rows)
    reasons = [f"{problem}: {show_value(text.strip())}" for problem, text in zip(problems, texts, strict=True)]
    return pa.table(
        {
            "file": pa.repeat(file.path, count),
            "row": pa.array(rows, pa.int64()),
            "id": pa.nulls(count, pa.string()),
            "field": pa.nulls(count, pa.string()),
            "reason": pa.array(reasons, pa.string()),
            "action": pa.repeat(ROW_DROPPED, count),
        },
        schema=REJECTED_SCHEMA,
    )


def check_columns(file: PartFile, found: Sequence[str], wanted: Sequence[str], required: Sequence[str]) -> None:
    """Refuse a file where a contract column appears twice or a required one is missing (``SchemaError``)."""
    found = list(found)
    for name in wanted:
        if found.count(name) > 1:
            raise SchemaError(f"{file.label}: column '{name}' appears {found.count(name)} times", path=file.path)
    for name in required:
        if name not in found:
            listed = ", ".join(show_value(column) for column in found[:30])
            more = f" and {len(found) - 30} more" if len(found) > 30 else ""
            hint = [column for column in found if column.strip().lower() == name]
            note = f" (found {show_value(hint[0])}; column names are case-sensitive)" if hint else ""
            header = "; the first line must name the columns" if file.format in (CSV, TSV) else ""
            raise SchemaError(
                f"{file.label}: required column '{name}' is missing{note}; columns found: {listed or 'none'}{more}"
                f"{header}",
                path=file.path,
            )


def join_parts(tables: Sequence[pa.Table], schema: pa.Schema, *, label: str) -> pa.Table:
    """Concatenate raw tables read from the parts (or pieces) of one dump: the columns of ``schema`` that any of
    them holds, a column missing from a table filled with nulls, the types made one where they differ.

    Differing types become one type without losing what validation must see: text and binary -> binary
    (invalid UTF-8 stays detectable), numbers -> the wider number for whole-number columns, anything else ->
    text (or lists of text for list columns) as the validator would convert it. ``label`` names the dump in
    a ``SchemaError`` about a column that cannot be used.
    """
    if len(tables) == 1:
        return tables[0]
    names = [name for name in schema.names if any(name in table.column_names for table in tables)]
    columns = {name: _one_type([_column(table, name) for table in tables], schema.field(name), label)
               for name in names}
    joined = [pa.table({name: columns[name][k] for name in names}) for k in range(len(tables))]
    return pa.concat_tables(joined)


def _column(table: pa.Table, name: str) -> pa.ChunkedArray:
    if name in table.column_names:
        return table[name]
    return pa.chunked_array([pa.nulls(table.num_rows)], pa.null())


def _one_type(columns: list[pa.ChunkedArray], target: pa.Field, label: str) -> list[pa.ChunkedArray]:
    kinds = {column.type for column in columns} - {pa.null()}
    if len(kinds) <= 1:
        kind = kinds.pop() if kinds else pa.null()
        return [column.cast(kind) for column in columns]
    if all(is_text_or_binary(kind) for kind in kinds):
        kind = pa.binary() if any(not _is_text(kind) for kind in kinds) else pa.string()
        return [column.cast(kind) for column in columns]
    if pa.types.is_integer(target.type):
        try:
            wider = pa.unify_schemas([pa.schema([pa.field(target.name, kind)]) for kind in kinds],
                                     promote_options="permissive").field(target.name).type
            return [column.cast(wider) for column in columns]
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    convert = to_text_list if pa.types.is_list(target.type) else to_text
    return [pa.chunked_array([convert(column, file=label, field=target.name).values]) for column in columns]


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)
