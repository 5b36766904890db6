"""Read the Parquet catalog dumps and write Parquet outputs: the only module that opens catalog files.

Each reader opens one file, checks it as a whole (it exists, is Parquet, has the required columns, has
rows) and reads only the contract columns present, then hands the table to the validator of
``service.io.validation``, which returns a :class:`LoadedTable` (usable rows plus the rejected report).
Problems with a whole file raise a ``service.errors.CatalogInputError`` subclass naming the path.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from catalog_er.resolver.records import (
    ARTIST_REQUIRED_COLUMNS,
    ARTIST_SCHEMA,
    ENGAGEMENT_REQUIRED_COLUMNS,
    ENGAGEMENT_SCHEMA,
    REJECTED_SCHEMA,
    TRACK_REQUIRED_COLUMNS,
    TRACK_SCHEMA,
)
from catalog_er.service.errors import EmptyInputError, InputFileError, OutputFileError, SchemaError
from catalog_er.service.io.validation import LoadedTable, validate_artists, validate_engagement, validate_tracks

# ---------------------------------------------------------------------------------------------- readers


def read_tracks(path: str | Path, *, max_title_chars: int = 1000) -> LoadedTable:
    """Read ``tracks.parquet`` and validate it into ``TRACK_SCHEMA`` (rules: :func:`validate_tracks`).

    Raises ``InputFileError``, ``SchemaError`` or ``EmptyInputError`` for a file that cannot be used.
    """
    file, table = _read(path, TRACK_SCHEMA, TRACK_REQUIRED_COLUMNS)
    return validate_tracks(table, file, max_title_chars=max_title_chars)


def read_artists(path: str | Path, *, max_name_chars: int = 1000) -> LoadedTable:
    """Read ``artists.parquet`` and validate it into ``ARTIST_SCHEMA`` (rules: :func:`validate_artists`).

    Raises ``InputFileError``, ``SchemaError`` or ``EmptyInputError`` for a file that cannot be used.
    """
    file, table = _read(path, ARTIST_SCHEMA, ARTIST_REQUIRED_COLUMNS)
    return validate_artists(table, file, max_name_chars=max_name_chars)


def read_engagement(
    path: str | Path, *, known_track_ids: pa.Array | pa.ChunkedArray | None = None
) -> LoadedTable:
    """Read ``engagement.parquet`` and validate it into ``ENGAGEMENT_SCHEMA`` (rules, ``known_track_ids``:
    :func:`validate_engagement`).

    Raises ``InputFileError``, ``SchemaError`` or ``EmptyInputError`` for a file that cannot be used.
    """
    file, table = _read(path, ENGAGEMENT_SCHEMA, ENGAGEMENT_REQUIRED_COLUMNS)
    return validate_engagement(table, file, known_track_ids=known_track_ids)


def _read(path: str | Path, schema: pa.Schema, required: Sequence[str]) -> tuple[str, pa.Table]:
    """Open one Parquet file, check the required columns, read only the contract columns present."""
    file = str(path)
    location = Path(path)
    if not location.exists():
        raise InputFileError(f"{file}: no such file", path=file)
    if location.is_dir():
        raise InputFileError(f"{file}: is a directory, expected a Parquet file", path=file)
    if not location.is_file():
        raise InputFileError(f"{file}: is not a regular file, expected a Parquet file", path=file)
    try:
        if location.stat().st_size == 0:
            raise InputFileError(f"{file}: the file is empty (0 bytes), expected a Parquet file", path=file)
        with pq.ParquetFile(file) as parquet:
            found = parquet.schema_arrow.names
            _check_columns(file, found, schema.names, required)
            if parquet.metadata.num_rows == 0:
                raise EmptyInputError(f"{file}: the file has no rows", path=file)
            table = parquet.read(columns=[name for name in schema.names if name in found])
    except (pa.ArrowException, OSError) as error:
        raise InputFileError(f"{file}: not a readable Parquet file ({error})", path=file) from error
    if table.num_rows == 0:
        raise EmptyInputError(f"{file}: the file has no rows", path=file)
    return file, table


def _check_columns(file: str, found: list[str], wanted: list[str], required: Sequence[str]) -> None:
    for name in wanted:
        if found.count(name) > 1:
            raise SchemaError(f"{file}: column '{name}' appears {found.count(name)} times", path=file)
    for name in required:
        if name not in found:
            listed = ", ".join(repr(column) for column in found[:30])
            more = f" and {len(found) - 30} more" if len(found) > 30 else ""
            hint = [column for column in found if column.strip().lower() == name]
            note = f" (found {hint[0]!r}; column names are case-sensitive)" if hint else ""
            raise SchemaError(
                f"{file}: required column '{name}' is missing{note}; columns found: {listed or 'none'}{more}",
                path=file,
            )


# ---------------------------------------------------------------------------------------------- writers


def write_table(table: pa.Table, path: str | Path) -> None:
    """Write ``table`` as zstd-compressed Parquet, creating the parent directory.

    The file is written under a temporary name and renamed, so a failed run never leaves half a file.
    Raises ``OutputFileError`` naming the path when it cannot be written.
    """
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, partial, compression="zstd")
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise OutputFileError(f"{target}: cannot write the output file ({error})", path=target) from error


def write_rejected(rejected_tables: Sequence[pa.Table], path: str | Path) -> int:
    """Concatenate rejected reports and write them to ``path``, only when there is at least one entry.

    Returns the number of entries (0 when nothing was written; an existing file at ``path`` is left alone).
    """
    parts = [table.select(REJECTED_SCHEMA.names).cast(REJECTED_SCHEMA) for table in rejected_tables]
    count = sum(part.num_rows for part in parts)
    if count:
        write_table(pa.concat_tables(parts), path)
    return count
