"""Read catalog dumps as people have them: one file, a folder of part files or a glob pattern, in Parquet, CSV,
TSV or JSON Lines; the only module that decides which files make a dump.

A dump is found from the path given (:func:`find_dump_files`):

- a file: its format from its name (``.parquet``/``.parq``/``.pq``, ``.csv``, ``.tsv``/``.tab``,
  ``.jsonl``/``.ndjson``/``.jsonlines``/``.json``; text formats may be compressed: ``tracks.csv.gz``, ``.bz2``,
  ``.zst``, ``.lz4``); a name with none of these is read as Parquet when the file starts as Parquet does;
- a folder: every file below it (sub-folders too), in path order, skipping names that start with ``.`` or ``_``
  (``_SUCCESS``, ``.crc`` files) — all of one format, e.g. the ``part-*.parquet`` files Spark or pyarrow write;
- a glob pattern (``'dumps/tracks-*.csv'``, ``**`` for sub-folders; quote it so the shell leaves it alone): the
  files it matches, in path order, skipping names that start with ``.`` or ``_``, all of one format.

Each file is read by the reader of its format (``service.io.parquet``, ``service.io.delimited``,
``service.io.json_lines``), the parts are joined (``service.io.parts.join_parts``) and validated as one table by
``service.io.validation``, so a ``track_id`` repeated in a later part file is a duplicate. The rejected report
names, for each row, the file it is in and its 0-based row number within that file. An empty (0-byte) part of
a folder or pattern is skipped; a single empty file is an error. Problems with a whole file raise a
``service.errors.CatalogInputError`` subclass whose message names the file and its format.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalog_er.resolver.records import (
    ARTIST_REQUIRED_COLUMNS,
    ARTIST_SCHEMA,
    ENGAGEMENT_REQUIRED_COLUMNS,
    ENGAGEMENT_SCHEMA,
    REJECTED_SCHEMA,
    TRACK_REQUIRED_COLUMNS,
    TRACK_SCHEMA,
)
from catalog_er.service.errors import EmptyInputError, InputFileError
from catalog_er.service.io.delimited import read_delimited_part
from catalog_er.service.io.json_lines import read_json_lines_part
from catalog_er.service.io.parquet import read_parquet_part
from catalog_er.service.io.parts import (
    COMPRESSIONS,
    CSV,
    FORMATS,
    JSON_LINES,
    PARQUET,
    TSV,
    Format,
    PartFile,
    RawPart,
    join_parts,
    with_text_decoded,
)
from catalog_er.service.io.validation import (
    LoadedTable,
    RowOrigins,
    sort_report,
    validate_artists,
    validate_engagement,
    validate_tracks,
)

_READERS: dict[Format, Callable[[PartFile, pa.Schema, Sequence[str]], RawPart]] = {
    PARQUET: read_parquet_part, CSV: read_delimited_part, TSV: read_delimited_part,
    JSON_LINES: read_json_lines_part,
}
_PARQUET_MAGIC = b"PAR1"
_GLOB_CHARACTERS = "*?["

# ---------------------------------------------------------------------------------------------- readers


def read_tracks(path: str | Path, *, max_title_chars: int = 1000) -> LoadedTable:
    """Read a tracks dump and validate it into ``TRACK_SCHEMA`` (rules: :func:`validate_tracks`).

    Raises ``InputFileError``, ``SchemaError`` or ``EmptyInputError`` for a dump that cannot be used.
    """
    dump = read_dump(path, TRACK_SCHEMA, TRACK_REQUIRED_COLUMNS)
    return dump.validated(validate_tracks(dump.table, dump.origins, max_title_chars=max_title_chars))


def read_artists(path: str | Path, *, max_name_chars: int = 1000) -> LoadedTable:
    """Read an artists dump and validate it into ``ARTIST_SCHEMA`` (rules: :func:`validate_artists`).

    Raises ``InputFileError``, ``SchemaError`` or ``EmptyInputError`` for a dump that cannot be used.
    """
    dump = read_dump(path, ARTIST_SCHEMA, ARTIST_REQUIRED_COLUMNS)
    return dump.validated(validate_artists(dump.table, dump.origins, max_name_chars=max_name_chars))


def read_engagement(
    path: str | Path, *, known_track_ids: pa.Array | pa.ChunkedArray | None = None
) -> LoadedTable:
    """Read an engagement dump and validate it into ``ENGAGEMENT_SCHEMA`` (rules, ``known_track_ids``:
    :func:`validate_engagement`).

    Raises ``InputFileError``, ``SchemaError`` or ``EmptyInputError`` for a dump that cannot be used.
    """
    dump = read_dump(path, ENGAGEMENT_SCHEMA, ENGAGEMENT_REQUIRED_COLUMNS)
    return dump.validated(validate_engagement(dump.table, dump.origins, known_track_ids=known_track_ids))


@dataclass(frozen=True)
class RawDump:
    """A dump read but not validated: the contract columns found (``table``, any types), where each row came
    from (``origins``) and the records no reader could read (``rejected``, ``REJECTED_SCHEMA``)."""

    table: pa.Table
    origins: RowOrigins
    rejected: pa.Table

    def validated(self, loaded: LoadedTable) -> LoadedTable:
        """``loaded`` (this dump's table, validated) with the unreadable records added to its report, in order."""
        if self.rejected.num_rows == 0:
            return loaded
        report = pa.concat_tables([self.rejected, loaded.rejected])
        return LoadedTable(loaded.table, sort_report(report, self.origins.files))


def read_dump(path: str | Path, schema: pa.Schema, required: Sequence[str]) -> RawDump:
    """Read every file of the dump at ``path`` (see the module docstring): the contract columns of ``schema``
    they hold, after checking the ``required`` ones in each file.

    Raises ``EmptyInputError`` when no file holds a row (a file with only unreadable rows has rows).
    """
    label, files = find_dump_files(path)
    several = len(files) > 1
    if several:
        files = [file for file in files if Path(file.path).stat().st_size > 0]
    id_field = "artist_id" if "artist_id" in schema.names else "track_id"
    decoded = [with_text_decoded(_READERS[file.format](file, schema, required), file, id_field) for file in files]
    parts = [part for part, _ in decoded]
    if sum(part.table.num_rows + part.rejected.num_rows for part in parts) == 0:
        raise EmptyInputError(f"{label}: no rows in any of the files" if several else f"{label}: the file has no rows",
                              path=str(path))
    table = join_parts([part.table for part in parts], schema, label=label)
    origins = RowOrigins(
        label,
        tuple(file.path for file in files),
        np.repeat(np.arange(len(parts), dtype=np.int64), [part.table.num_rows for part in parts]),
        np.concatenate([part.rows for part in parts]),
    )
    rejected = pa.concat_tables([part.rejected for part in parts] + [report for _, report in decoded]
                                ) if parts else REJECTED_SCHEMA.empty_table()
    return RawDump(table, origins, rejected)


# ---------------------------------------------------------------------------------------------- finding files


def find_dump_files(path: str | Path) -> tuple[str, list[PartFile]]:
    """The files the dump at ``path`` is made of, in reading order, and how errors name the dump as a whole
    (``tracks.csv (CSV)``, ``parts (folder of 3 Parquet files)``).

    Raises ``InputFileError`` when nothing can be read there: no such file, nothing matched, a file whose format
    cannot be told, files of several formats, an empty single file.
    """
    text = str(path)
    location = Path(path)
    if location.is_dir():
        found = [entry for entry in sorted(location.rglob("*"))
                 if entry.is_file() and not _hidden(entry.relative_to(location))]
        return _several(text, found, kind="folder", nothing="holds no data files")
    if not location.exists() and any(character in text for character in _GLOB_CHARACTERS):
        found = [Path(match) for match in sorted(glob.glob(text, recursive=True))
                 if Path(match).is_file() and not _hidden(Path(Path(match).name))]
        return _several(text, found, kind="pattern", nothing="matches no file")
    if not location.exists():
        raise InputFileError(f"{text}: no such file", path=text)
    if not location.is_file():
        raise InputFileError(f"{text}: is not a regular file, a folder or a glob pattern", path=text)
    file = PartFile(text, _format_of(location))
    if location.stat().st_size == 0:
        raise InputFileError(f"{file.label}: the file is empty (0 bytes)", path=text)
    return file.label, [file]


def _several(text: str, found: list[Path], *, kind: str, nothing: str) -> tuple[str, list[PartFile]]:
    """The part files of a folder or a pattern, all of one format."""
    if not found:
        raise InputFileError(f"{text}: the {kind} {nothing} (expected Parquet, CSV, TSV or JSON Lines files)",
                             path=text)
    files = [PartFile(str(entry), _format_of(entry)) for entry in found]
    formats = {file.format: file for file in files}
    if len(formats) > 1:
        examples = "; ".join(f"{file.format.name}: {file.path}" for file in formats.values())
        raise InputFileError(f"{text}: the {kind} holds files of several formats ({examples}); a dump is one format",
                             path=text)
    how = f"folder of {len(files)}" if kind == "folder" else f"{len(files)} matched"
    return f"{text} ({how} {files[0].format.name} file{'s' if len(files) > 1 else ''})", files


def _hidden(relative: Path) -> bool:
    """Whether a path inside a folder dump is skipped: any part of it starts with ``.`` or ``_``."""
    return any(part.startswith((".", "_")) for part in relative.parts)


def _format_of(path: Path) -> Format:
    """The format of a data file, from its name; Parquet when the name says nothing and the bytes start as
    Parquet's do. Raises ``InputFileError`` when the format cannot be told."""
    name = path.name.lower()
    for compression in COMPRESSIONS:
        if name.endswith(compression):
            name = name.removesuffix(compression)
    for candidate in FORMATS:
        if name.endswith(candidate.extensions):
            return candidate
    try:
        with path.open("rb") as opened:
            if opened.read(len(_PARQUET_MAGIC)) == _PARQUET_MAGIC:
                return PARQUET
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read ({error})", path=path) from error
    endings = ", ".join(extension for known in FORMATS for extension in known.extensions)
    raise InputFileError(f"{path}: cannot tell the format from the name (expected one of {endings}, or a folder or "
                         f"glob pattern of such files)", path=path)
