"""How the store keeps the record tables of the data contract (tracks, artists, engagement) in SQLite.

Each SQLite table is derived from its schema in ``resolver.records``, never typed out again: one column per
field the service stores (:func:`service_schema`), under the same name, strings as TEXT, integers as
INTEGER, lists as JSON text, NOT NULL where the field is not nullable; then ``version`` (the ingest batch
that wrote the row) on versioned tables. The DDL, the upsert statement, the rows written and the tables
read back all come from that declaration, so a column added to a schema is stored and read with no edit here.
The layout matches databases written before it was derived (same table and column names, same encodings).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from catalog_er.resolver.records import ARTIST_SCHEMA, ENGAGEMENT_SCHEMA, TRACK_SCHEMA, service_schema

VERSION_COLUMN = "version"
"""The column of a versioned table holding the ingest batch (store-wide counter) that last wrote the row."""


@dataclass(frozen=True)
class RecordTable:
    """One record table in SQLite: the table ``name``, its ``contract`` schema (``resolver.records``), the
    ``key`` columns an upsert matches on (the primary key) and whether rows carry :data:`VERSION_COLUMN`."""

    name: str
    contract: pa.Schema
    key: tuple[str, ...]
    versioned: bool

    @property
    def stored(self) -> pa.Schema:
        """The contract's fields that have a SQLite column, in contract order."""
        return service_schema(self.contract)

    @property
    def columns(self) -> list[str]:
        """Every SQLite column, in table order."""
        return [*self.stored.names, *([VERSION_COLUMN] if self.versioned else [])]

    def create_sql(self) -> str:
        """``CREATE TABLE IF NOT EXISTS`` for this table."""
        definitions = [f"{field.name} {_sqlite_type(field)}{'' if field.nullable else ' NOT NULL'}"
                       for field in self.stored]
        if self.versioned:
            definitions.append(f"{VERSION_COLUMN} INTEGER NOT NULL")
        return (f"CREATE TABLE IF NOT EXISTS {self.name} (\n    {', '.join(definitions)}, "
                f"PRIMARY KEY ({', '.join(self.key)}));")

    def add_column_sql(self, present: set[str]) -> list[str]:
        """``ALTER TABLE`` statements adding the stored columns missing from a table that has ``present``
        (a database written before they were declared); only nullable columns can be added this way."""
        statements = []
        for field in self.stored:
            if field.name in present:
                continue
            if not field.nullable:
                raise ValueError(f"table {self.name} lacks the required column {field.name!r}: the database was "
                                 "written by an incompatible version")
            statements.append(f"ALTER TABLE {self.name} ADD COLUMN {field.name} {_sqlite_type(field)}")
        return statements

    def upsert_sql(self) -> str:
        """Insert one row, or update the row with its key in place: an updated row keeps its rowid, so the
        stored order is first-ingest order. Parameters: one per :attr:`columns`, in that order."""
        names = self.columns
        updates = ", ".join(f"{name} = excluded.{name}" for name in names if name not in self.key)
        action = f"UPDATE SET {updates}" if updates else "NOTHING"
        return (f"INSERT INTO {self.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
                f"ON CONFLICT ({', '.join(self.key)}) DO {action}")

    def select_sql(self) -> str:
        """``SELECT`` of every column in :attr:`columns` order; the caller appends WHERE / ORDER BY."""
        return f"SELECT {', '.join(self.columns)} FROM {self.name}"

    def sqlite_rows(self, records: pa.Table, version: int) -> list[tuple]:
        """``records`` (a ``contract`` table; columns the store does not keep are ignored) as parameter
        tuples of :meth:`upsert_sql`, stamped with ``version`` when the table is versioned."""
        columns: list[Iterable] = [_sqlite_values(records.column(field.name), field) for field in self.stored]
        if self.versioned:
            columns.append(itertools.repeat(version, records.num_rows))
        return list(zip(*columns, strict=True))

    def columns_by_name(self, rows: list[tuple]) -> dict[str, list]:
        """Rows of :meth:`select_sql` as SQLite values per column name."""
        values = list(zip(*rows, strict=True)) if rows else [()] * len(self.columns)
        return {name: list(column) for name, column in zip(self.columns, values, strict=True)}

    def arrow_table(self, columns: dict[str, list]) -> pa.Table:
        """Stored values by column name (:meth:`columns_by_name`) as a ``contract`` table; the contract
        columns the store does not keep are null."""
        count = len(columns[self.key[0]])
        return pa.Table.from_arrays(
            [_arrow_values(columns[field.name], field) if field.name in columns else pa.nulls(count, field.type)
             for field in self.contract], schema=self.contract)


def _sqlite_type(field: pa.Field) -> str:
    if pa.types.is_string(field.type) or pa.types.is_list(field.type):
        return "TEXT"
    if pa.types.is_integer(field.type):
        return "INTEGER"
    raise TypeError(f"column {field.name!r} has type {field.type}, which the store has no SQLite type for")


def _sqlite_values(column: pa.ChunkedArray, field: pa.Field) -> list:
    """One Arrow column as SQLite values (lists as JSON text)."""
    values = column.to_pylist()
    if pa.types.is_list(field.type):
        return [None if value is None else json.dumps(value) for value in values]
    return values


def _arrow_values(values: list, field: pa.Field) -> pa.Array:
    """SQLite values of one column as an Arrow array of ``field``'s type (JSON text back to lists)."""
    if pa.types.is_list(field.type):
        values = [None if value is None else json.loads(value) for value in values]
    return pa.array(values, field.type)


TRACKS = RecordTable("tracks", TRACK_SCHEMA, key=("track_id",), versioned=True)
ARTISTS = RecordTable("artists", ARTIST_SCHEMA, key=("artist_id",), versioned=True)
ENGAGEMENT = RecordTable("engagement", ENGAGEMENT_SCHEMA, key=("user_id", "track_id"), versioned=False)
"""One row per user and track: a repeated pair replaces the plays (unlike ``engagement.parquet``, where
repeated rows are kept as they are)."""
RECORD_TABLES = (TRACKS, ARTISTS, ENGAGEMENT)
