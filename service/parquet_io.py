"""Read and validate the Parquet catalog dumps, and write outputs: the only module that reads catalog files.

Each reader returns a :class:`LoadedTable`: the usable rows in exactly the contract schema of
``resolver.records`` and a rejected report (``REJECTED_SCHEMA``) with one row per problem found. Problems
with a whole file raise a ``service.errors.CatalogInputError`` subclass instead.

Conversions, all vectorized (applied per column, never per row; implemented in ``service.column_types``):

- Only the contract columns are read; unknown extra columns are ignored, absent optional columns become
  typed nulls. Dictionary-encoded columns are decoded, ``large_string`` / ``large_list`` become the plain
  types.
- Text columns: surrounding whitespace is stripped and a blank value counts as null. Integers and decimals
  are written as text (the song "1999"); floats too, whole ones without a fraction (``42.0`` -> ``"42"``)
  and NaN as null. Binary columns are read as UTF-8; a value that is not valid UTF-8 is unusable.
  ``release_date`` also accepts date and timestamp columns (written as ``YYYY-MM-DD``).
- Whole-number columns (``duration_ms``, ``plays``): any integer type; floats and decimals with whole
  values (NaN is null); numeric text such as ``"215000"``, ``" +215000 "`` or ``"2.15e5"``. Anything else is
  unusable.
- List columns (``artist_ids``, ``genres``): lists of text or numbers become ``list<string>``. A plain text
  column is split on ``";"`` (``"a1; a2"`` -> ``["a1", "a2"]``); a plain number becomes a one-element list.
  Elements are stripped and null or blank elements are removed.
- A column whose type cannot be used at all (for example bool, struct or map) raises ``SchemaError``,
  whether the column is required or optional.
- An unusable value in an optional column is nulled (``field nulled``); in a required column the row is
  dropped (``row dropped``). Rejected reasons show the bad value, cut to about 80 characters.
- Text is not Unicode-normalized here (the resolver normalizes); mixed scripts are kept as they are.

Row numbers in the rejected report are 0-based positions in the file; ``id`` is the row's ``track_id``,
``artist_id`` or (engagement) ``track_id`` when it is known.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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
from catalog_er.service.column_types import LIST_SEPARATOR as LIST_SEPARATOR  # re-exported: public name of this module
from catalog_er.service.column_types import Converted, flat_array, numpy_mask, to_int64, to_text, to_text_list
from catalog_er.service.errors import EmptyInputError, InputFileError, OutputFileError, SchemaError

ROW_DROPPED = "row dropped"
FIELD_NULLED = "field nulled"
MAX_DURATION_MS = 24 * 60 * 60 * 1000
"""Longest plausible track: longer durations are export errors (seconds x 1000 twice, epoch times)."""
MAX_SHOWN_CHARS = 80
"""Bad values quoted in rejected reasons are cut to this many characters."""

_ONLY_UNPRINTABLE = r"^[\p{Cc}\p{Cf}\p{Z}\s]*$"  # control, format (zero-width) and space characters


@dataclass(frozen=True)
class LoadedTable:
    """One validated input file.

    ``table`` conforms exactly to the target schema (column order, types) and holds only usable rows.
    ``rejected`` follows ``REJECTED_SCHEMA``: ``file``, ``row`` (0-based row number in the file), ``id``,
    ``field``, ``reason`` and ``action`` (``"row dropped"`` or ``"field nulled"``), sorted by row.
    """

    table: pa.Table
    rejected: pa.Table


@dataclass(frozen=True)
class _Frame:
    """Where each row of the arrays being checked came from: file row numbers and the row ids."""

    rows: np.ndarray
    ids: pa.Array

    def take(self, kept: np.ndarray) -> _Frame:
        return _Frame(self.rows[kept], self.ids.filter(pa.array(kept)))


class _Rejections:
    """Collects rejected-report entries for one file, a batch of rows at a time."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.parts: list[pa.Table] = []

    def add(self, frame: _Frame, positions: np.ndarray, field: str, reasons: list[str], action: str) -> None:
        count = len(positions)
        if count == 0:
            return
        columns = [
            pa.repeat(self.file, count),
            pa.array(frame.rows[positions], pa.int64()),
            frame.ids.take(pa.array(positions)),
            pa.repeat(field, count),
            pa.array(reasons, pa.string()),
            pa.repeat(action, count),
        ]
        self.parts.append(pa.Table.from_arrays(columns, schema=REJECTED_SCHEMA))

    def table(self) -> pa.Table:
        if not self.parts:
            return REJECTED_SCHEMA.empty_table()
        return pa.concat_tables(self.parts).sort_by([("row", "ascending")])


# ---------------------------------------------------------------------------------------------- readers


def _keep_named_rows(table: pa.Table, file: str, rejections: _Rejections, id_field: str, name_field: str,
                     max_chars: int) -> tuple[np.ndarray, _Frame, Converted]:
    """Row checks shared by tracks and artists: id and name present, name printable and not too long, id
    not seen before. Returns the kept-row mask, the frame of kept rows and the converted name column."""
    ids = to_text(table[id_field], file=file, field=id_field)
    name = to_text(table[name_field], file=file, field=name_field)
    frame = _Frame(np.arange(table.num_rows, dtype=np.int64), ids.values)
    kept = np.ones(table.num_rows, dtype=bool)
    kept = _drop_missing(rejections, frame, kept, ids, id_field)
    kept = _drop_missing(rejections, frame, kept, name, name_field)
    kept = _drop_bad_names(rejections, frame, kept, name, name_field, max_chars)
    kept = _drop_duplicates(rejections, frame, kept, id_field)
    return kept, frame.take(kept), name


def read_tracks(path: str | Path, *, max_title_chars: int = 1000) -> LoadedTable:
    """Read and validate ``tracks.parquet`` into ``TRACK_SCHEMA``.

    Rows are dropped for a missing (null/blank) or unusable ``track_id`` or ``title``, a title made only of
    control/format characters or longer than ``max_title_chars`` characters (after stripping), and a
    ``track_id`` seen before among the usable rows (the first occurrence is kept). ``duration_ms`` values
    that are not whole numbers, or outside 1 ms .. 24 h, are nulled.

    Raises ``InputFileError``, ``SchemaError`` or ``EmptyInputError`` for a file that cannot be used.
    """
    file, table = _read(path, TRACK_SCHEMA, TRACK_REQUIRED_COLUMNS)
    return validate_tracks(table, file, max_title_chars=max_title_chars)


def validate_tracks(table: pa.Table, source: str, *, max_title_chars: int = 1000) -> LoadedTable:
    """The checks of :func:`read_tracks` on a table already in memory (a gRPC batch, say); ``source`` names
    it in the rejected report's ``file`` column. ``table`` holds contract columns (the required ones at
    least); rows are numbered from 0."""
    if max_title_chars < 1:
        raise ValueError(f"max_title_chars must be at least 1, got {max_title_chars}")
    file = source
    rejections = _Rejections(file)
    kept, frame, title = _keep_named_rows(table, file, rejections, "track_id", "title", max_title_chars)
    usable = table.filter(pa.array(kept))
    duration = _optional(usable, TRACK_SCHEMA.field("duration_ms"), rejections, frame)
    out_of_range = numpy_mask(pc.or_(pc.less_equal(duration, 0), pc.greater(duration, MAX_DURATION_MS)))
    positions = np.flatnonzero(out_of_range)
    shown = duration.take(pa.array(positions)).to_pylist()
    reasons = [f"duration_ms {value} is outside 1..{MAX_DURATION_MS} ms (24 h)" for value in shown]
    rejections.add(frame, positions, "duration_ms", reasons, FIELD_NULLED)
    columns = {
        "track_id": frame.ids,
        "title": title.values.filter(pa.array(kept)),
        "artist_ids": _optional(usable, TRACK_SCHEMA.field("artist_ids"), rejections, frame),
        "duration_ms": pc.if_else(pa.array(out_of_range), pa.scalar(None, pa.int64()), duration),
    }
    for field in ("artist", "album", "isrc", "release_date", "label", "audio_path"):
        columns[field] = _optional(usable, TRACK_SCHEMA.field(field), rejections, frame)
    return LoadedTable(_assemble(columns, TRACK_SCHEMA), rejections.table())


def read_artists(path: str | Path, *, max_name_chars: int = 1000) -> LoadedTable:
    """Read and validate ``artists.parquet`` into ``ARTIST_SCHEMA``.

    Same rules as tracks: rows are dropped for a missing or unusable ``artist_id`` or ``name``, a name made
    only of control characters or longer than ``max_name_chars``, and a repeated ``artist_id`` (the first
    occurrence is kept). ``genres`` may be a list or ``";"``-separated text.
    """
    file, table = _read(path, ARTIST_SCHEMA, ARTIST_REQUIRED_COLUMNS)
    return validate_artists(table, file, max_name_chars=max_name_chars)


def validate_artists(table: pa.Table, source: str, *, max_name_chars: int = 1000) -> LoadedTable:
    """The checks of :func:`read_artists` on a table in memory (see :func:`validate_tracks`)."""
    if max_name_chars < 1:
        raise ValueError(f"max_name_chars must be at least 1, got {max_name_chars}")
    file = source
    rejections = _Rejections(file)
    kept, frame, name = _keep_named_rows(table, file, rejections, "artist_id", "name", max_name_chars)
    usable = table.filter(pa.array(kept))
    columns = {
        "artist_id": frame.ids,
        "name": name.values.filter(pa.array(kept)),
        "genres": _optional(usable, ARTIST_SCHEMA.field("genres"), rejections, frame),
        "country": _optional(usable, ARTIST_SCHEMA.field("country"), rejections, frame),
    }
    return LoadedTable(_assemble(columns, ARTIST_SCHEMA), rejections.table())


def read_engagement(
    path: str | Path, *, known_track_ids: pa.Array | pa.ChunkedArray | None = None
) -> LoadedTable:
    """Read and validate ``engagement.parquet`` into ``ENGAGEMENT_SCHEMA``.

    Rows are dropped for a missing or unusable ``user_id``, ``track_id`` or ``plays``, negative ``plays``
    (zero is allowed), and, when ``known_track_ids`` is given (the usable ``track_id`` column of the
    tracks), a ``track_id`` not among them. Repeated (user, track) rows are kept as they are. The rejected
    report's ``id`` is the row's ``track_id``.
    """
    file, table = _read(path, ENGAGEMENT_SCHEMA, ENGAGEMENT_REQUIRED_COLUMNS)
    return validate_engagement(table, file, known_track_ids=known_track_ids)


def validate_engagement(table: pa.Table, source: str, *,
                        known_track_ids: pa.Array | pa.ChunkedArray | None = None) -> LoadedTable:
    """The checks of :func:`read_engagement` on a table in memory (see :func:`validate_tracks`)."""
    file = source
    rejections = _Rejections(file)
    user_id = to_text(table["user_id"], file=file, field="user_id")
    track_id = to_text(table["track_id"], file=file, field="track_id")
    plays = to_int64(table["plays"], file=file, field="plays")
    frame = _Frame(np.arange(table.num_rows, dtype=np.int64), track_id.values)
    kept = np.ones(table.num_rows, dtype=bool)
    kept = _drop_missing(rejections, frame, kept, user_id, "user_id")
    kept = _drop_missing(rejections, frame, kept, track_id, "track_id")
    kept = _drop_missing(rejections, frame, kept, plays, "plays")
    negative = numpy_mask(pc.less(plays.values, 0))
    kept = _drop(
        rejections, frame, kept, negative, "plays", lambda p: _quote(plays.values, p, "plays {} is negative")
    )
    if known_track_ids is not None:
        known = flat_array(known_track_ids).cast(pa.string())
        unknown = ~numpy_mask(pc.is_in(track_id.values, value_set=known))
        kept = _drop(
            rejections,
            frame,
            kept,
            unknown,
            "track_id",
            lambda p: _quote(frame.ids, p, "track_id {} is not in the tracks"),
        )
    columns = {
        "user_id": user_id.values.filter(pa.array(kept)),
        "track_id": track_id.values.filter(pa.array(kept)),
        "plays": plays.values.filter(pa.array(kept)),
    }
    return LoadedTable(_assemble(columns, ENGAGEMENT_SCHEMA), rejections.table())


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


# ---------------------------------------------------------------------------------------------- reading


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


# ---------------------------------------------------------------------------------------------- row checks


def _drop(
    rejections: _Rejections,
    frame: _Frame,
    kept: np.ndarray,
    mask: np.ndarray,
    field: str,
    reasons: Callable[[np.ndarray], list[str]],
) -> np.ndarray:
    """Drop the still-kept rows where ``mask`` holds, with one rejected entry each; return the new kept."""
    hit = mask & kept
    positions = np.flatnonzero(hit)
    if positions.size:
        rejections.add(frame, positions, field, reasons(positions), ROW_DROPPED)
    return kept & ~hit


def _drop_missing(
    rejections: _Rejections, frame: _Frame, kept: np.ndarray, column: Converted, field: str
) -> np.ndarray:
    kept = _drop(
        rejections,
        frame,
        kept,
        column.unusable,
        field,
        lambda p: _quote(column.original, p, f"{field} {{}} {column.problem}"),
    )
    kept = _drop(rejections, frame, kept, column.blank, field, lambda p: [f"{field} is blank"] * len(p))
    null = numpy_mask(column.values.is_null())
    return _drop(rejections, frame, kept, null, field, lambda p: [f"{field} is null"] * len(p))


def _drop_bad_names(
    rejections: _Rejections, frame: _Frame, kept: np.ndarray, column: Converted, field: str, max_chars: int
) -> np.ndarray:
    """Drop titles/names made only of control, format or space characters, or longer than ``max_chars``."""
    unprintable = numpy_mask(pc.match_substring_regex(column.values, _ONLY_UNPRINTABLE))
    message = f"{field} {{}} has only control characters"
    kept = _drop(rejections, frame, kept, unprintable, field, lambda p: _quote(column.values, p, message))
    lengths = pc.utf8_length(column.values)
    too_long = numpy_mask(pc.greater(lengths, max_chars))

    def reasons(positions: np.ndarray) -> list[str]:
        counts = lengths.take(pa.array(positions)).to_pylist()
        return [f"{field} is {count} characters long (limit {max_chars})" for count in counts]

    return _drop(rejections, frame, kept, too_long, field, reasons)


def _drop_duplicates(rejections: _Rejections, frame: _Frame, kept: np.ndarray, field: str) -> np.ndarray:
    """Drop every kept row whose id was seen at an earlier kept row; the reason names that first row."""
    candidates = np.flatnonzero(kept)
    codes = pc.dictionary_encode(frame.ids.take(pa.array(candidates))).indices.to_numpy()
    _, first_of_code = np.unique(codes, return_index=True)  # codes number the ids in order of first sight
    first = candidates[first_of_code[codes]]
    later = np.zeros(len(kept), dtype=bool)
    later[candidates[first != candidates]] = True
    first_row = np.zeros(len(kept), dtype=np.int64)
    first_row[candidates] = frame.rows[first]

    def reasons(positions: np.ndarray) -> list[str]:
        ids = frame.ids.take(pa.array(positions)).to_pylist()
        return [
            f"duplicate {field} {_show(i)}: first seen at row {first_row[p]}"
            for i, p in zip(ids, positions, strict=True)
        ]

    return _drop(rejections, frame, kept, later, field, reasons)


def _optional(table: pa.Table, target: pa.Field, rejections: _Rejections, frame: _Frame) -> pa.Array:
    """Convert an optional column (typed nulls when absent), nulling unusable values with an entry each."""
    if target.name not in table.column_names:
        return pa.nulls(table.num_rows, target.type)
    if pa.types.is_list(target.type):
        convert = to_text_list
    elif pa.types.is_integer(target.type):
        convert = to_int64
    else:
        convert = to_text
    column = convert(table[target.name], file=rejections.file, field=target.name)
    positions = np.flatnonzero(column.unusable)
    reasons = _quote(column.original, positions, f"{target.name} {{}} {column.problem}")
    rejections.add(frame, positions, target.name, reasons, FIELD_NULLED)
    return column.values


def _assemble(columns: dict[str, pa.Array], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays(
        [columns[name].cast(schema.field(name).type) for name in schema.names], schema=schema
    )


# ---------------------------------------------------------------------------------------------- helpers


def _show(value: object) -> str:
    """A value as quoted in a rejected reason: repr for text, cut to about ``MAX_SHOWN_CHARS``."""
    if isinstance(value, str | bytes) and len(value) > MAX_SHOWN_CHARS:
        return repr(value[:MAX_SHOWN_CHARS]) + "…"
    return repr(value) if isinstance(value, str | bytes) else str(value)


def _quote(values: pa.Array, positions: np.ndarray, template: str) -> list[str]:
    """``template`` with each value at ``positions`` in place of ``{}`` (loops over rejected rows only)."""
    return [
        template.format(_show(value)) for value in values.take(pa.array(positions, pa.int64())).to_pylist()
    ]
