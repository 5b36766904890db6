"""Parquet: read one Parquet file of a dump (``service.io.files`` finds the files), write Parquet outputs.

The reader checks the file's columns from its footer and reads only the contract columns it holds; the writers
write under a temporary name and rename, so a failed run never leaves half a file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from catalog_er.resolver.records import REJECTED_SCHEMA
from catalog_er.service.errors import InputFileError, OutputFileError
from catalog_er.service.io.parts import PartFile, RawPart, check_columns

# ---------------------------------------------------------------------------------------------- reader


def read_parquet_part(file: PartFile, schema: pa.Schema, required: Sequence[str]) -> RawPart:
    """Read the contract columns (``schema``) that the Parquet ``file`` holds, after checking ``required`` ones.

    Raises ``SchemaError`` (a missing or repeated column) or ``InputFileError`` (not readable Parquet).
    """
    try:
        with pq.ParquetFile(file.path) as parquet:
            found = parquet.schema_arrow.names
            check_columns(file, found, schema.names, required)
            table = parquet.read(columns=[name for name in schema.names if name in found])
    except (pa.ArrowException, OSError) as error:
        raise InputFileError(f"{file.label}: not a readable Parquet file ({error})", path=file.path) from error
    return RawPart(table, np.arange(table.num_rows, dtype=np.int64), REJECTED_SCHEMA.empty_table())


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
