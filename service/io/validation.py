"""Validate catalog tables already in memory (a dump just read, a batch of a gRPC ingest stream).

Each validator returns a :class:`LoadedTable`: the usable rows in exactly the contract schema of
``resolver.records`` and a rejected report (``REJECTED_SCHEMA``) with one row per problem found. Problems
with a whole column raise a ``service.errors.CatalogInputError`` subclass instead (``SchemaError``); problems
with a whole file are found by the reader (``service.io.files``).

Conversions, all vectorized (applied per column, never per row; implemented in ``service.io.column_types``):

- Only the contract columns are used; unknown extra columns are ignored, absent optional columns become
  typed nulls. Dictionary-encoded columns are decoded, ``large_string`` / ``large_list`` become the plain
  types.
- Text columns: surrounding whitespace is stripped and a blank value counts as null. Integers and decimals
  are written as text (the song "1999"); floats too, whole ones without a fraction (``42.0`` -> ``"42"``)
  and NaN as null. Binary columns (how CSV files are read) are read as UTF-8; the values of a column that are
  not valid UTF-8 are read in the legacy encoding they most likely use (``service.io.legacy_text``: Windows-1252
  unless the values read clearly better as Cyrillic, Greek, Central European, Japanese, Chinese or Korean text),
  each with a ``field decoded`` entry (a dump's files are decoded one by one: ``service.io.parts``).
  ``release_date`` also accepts date and timestamp columns (written as ``YYYY-MM-DD``).
- Whole-number columns (``duration_ms``, ``plays``): any integer type; floats and decimals with whole
  values (NaN is null); numeric text such as ``"215000"``, ``" +215000 "`` or ``"2.15e5"``. Anything else is
  unusable, except in ``duration_ms``, which also reads duration text as milliseconds: ``"4:05"``,
  ``"1:02:03"``, ``"4m 5sec"``, ``"4 min 5 sec"``, ``"4m5s"``, ``"PT4M5S"`` (all -> 245000 but the second).
  Numbers are kept as they are: whether a bare number meant seconds or milliseconds is the resolver's call.
- List columns (``artist_ids``, ``genres``): lists of text or numbers become ``list<string>``. A plain text
  column is split on ``";"`` (``"a1; a2"`` -> ``["a1", "a2"]``); a plain number becomes a one-element list.
  Elements are stripped and null or blank elements are removed.
- A column whose type cannot be used at all (for example bool, struct or map) raises ``SchemaError``,
  whether the column is required or optional.
- An unusable value in an optional column is nulled (``field nulled``); in a required column the row is
  dropped (``row dropped``). Rejected reasons show the bad value, cut to about 80 characters.
- A text longer than its field's limit, a list of more than ``MAX_LIST_ITEMS`` items or with an item longer than
  the field's limit (``resolver.limits``, after stripping) drops the row, whichever the field: a value that long
  is no catalog data, and the resolver never has to read one.
- Text is not Unicode-normalized here (the resolver normalizes); mixed scripts are kept as they are.

Row numbers in the rejected report are 0-based positions in the file (or batch); for a table read from several
files (:class:`RowOrigins`) ``file`` names each row's part file and ``row`` the position within it. ``id`` is the
row's ``track_id``, ``artist_id`` or (engagement) ``track_id`` when it is known.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.limits import MAX_FIELD_CHARS, MAX_ID_CHARS, MAX_LIST_ITEMS, MAX_NAME_CHARS
from catalog_er.resolver.records import ARTIST_SCHEMA, ENGAGEMENT_SCHEMA, REJECTED_SCHEMA, TRACK_SCHEMA
from catalog_er.resolver.regex_kernels import regex_match
from catalog_er.service.io.column_types import (
    Converted,
    flat_array,
    is_text_or_binary,
    numpy_mask,
    to_duration_ms,
    to_int64,
    to_text,
    to_text_list,
)

ROW_DROPPED = "row dropped"
FIELD_NULLED = "field nulled"
FIELD_DECODED = "field decoded"
"""The value was not UTF-8 and was read in a legacy encoding (``service.io.legacy_text``); row and value kept."""
MAX_DURATION_MS = 24 * 60 * 60 * 1000
"""Longest plausible track: longer durations are export errors (seconds x 1000 twice, epoch times)."""
MAX_SHOWN_CHARS = 80
"""Bad values quoted in rejected reasons are cut to this many characters."""

_ONLY_UNPRINTABLE = r"^[\p{Cc}\p{Cf}\p{Z}\s]*$"  # control, format (zero-width) and space characters
_UNFIT_ID = r"\p{Cc}|^[\p{Cf}\p{Z}\s]*$"  # a control character anywhere (NUL, line break, tab), or nothing visible
_LIST_FIELDS = frozenset(field.name for schema in (TRACK_SCHEMA, ARTIST_SCHEMA) for field in schema
                         if pa.types.is_list(field.type))


@dataclass(frozen=True)
class LoadedTable:
    """One validated input table (a file, or a batch of an ingest stream).

    ``table`` conforms exactly to the target schema (column order, types) and holds only usable rows.
    ``rejected`` follows ``REJECTED_SCHEMA``: ``file``, ``row`` (0-based row number in the file), ``id``,
    ``field``, ``reason`` and ``action`` (``"row dropped"`` or ``"field nulled"``), sorted by row.
    """

    table: pa.Table
    rejected: pa.Table


@dataclass(frozen=True)
class RowOrigins:
    """Where each row of a table came from, for the rejected report: a table read from several files (the part
    files of a folder or a glob) names each row's file and its row within that file.

    ``label`` names the whole input in errors about a column (``"tracks.csv (CSV)"``, ``"parts (folder of 3
    Parquet files)"``); ``files`` are the names written in the report's ``file`` column, in reading order;
    ``part`` (int64, one per row) indexes ``files``; ``row`` (int64, one per row) is the 0-based row number
    within that file.
    """

    label: str
    files: tuple[str, ...]
    part: np.ndarray
    row: np.ndarray

    @classmethod
    def one_file(cls, name: str, rows: int) -> RowOrigins:
        """Rows ``0 .. rows - 1`` of one file (or batch) called ``name``, in errors as in the report."""
        return cls(name, (name,), np.zeros(rows, dtype=np.int64), np.arange(rows, dtype=np.int64))


@dataclass(frozen=True)
class _Frame:
    """Where each row of the arrays being checked came from (its file and row there) and the row ids."""

    origins: RowOrigins
    part: np.ndarray
    rows: np.ndarray
    ids: pa.Array

    @classmethod
    def of(cls, origins: RowOrigins, ids: pa.Array) -> _Frame:
        return cls(origins, origins.part, origins.row, ids)

    def take(self, kept: np.ndarray) -> _Frame:
        return _Frame(self.origins, self.part[kept], self.rows[kept], self.ids.filter(pa.array(kept)))

    def place(self, position: int, *, seen_from: int) -> str:
        """Row ``position`` as a reason quotes it from row ``seen_from``: ``row 3``, or ``row 3 of FILE`` when
        the two rows are in different files."""
        part = self.part[position]
        elsewhere = f" of {self.origins.files[part]}" if part != self.part[seen_from] else ""
        return f"row {self.rows[position]}{elsewhere}"


def sort_report(report: pa.Table, files: Sequence[str]) -> pa.Table:
    """A rejected report (``REJECTED_SCHEMA``) in reading order: by file, in the order of ``files``, then row."""
    if report.num_rows == 0:
        return report
    rank = pc.index_in(report["file"], value_set=pa.array(list(files), pa.string()))
    order = pc.sort_indices(pa.table({"rank": rank, "row": report["row"]}),
                            sort_keys=[("rank", "ascending"), ("row", "ascending")])
    return report.take(order)


class _Rejections:
    """Collects rejected-report entries for one input, a batch of rows at a time."""

    def __init__(self, origins: RowOrigins) -> None:
        self.origins = origins
        self.file = origins.label  # names the input in errors about a whole column
        self.parts: list[pa.Table] = []

    def add(self, frame: _Frame, positions: np.ndarray, field: str, reasons: list[str], action: str) -> None:
        count = len(positions)
        if count == 0:
            return
        files = pa.array(self.origins.files, pa.string()).take(pa.array(frame.part[positions]))
        columns = [
            files,
            pa.array(frame.rows[positions], pa.int64()),
            shown_ids(frame.ids.take(pa.array(positions))),
            pa.repeat(field, count),
            pa.array(reasons, pa.string()),
            pa.repeat(action, count),
        ]
        self.parts.append(pa.Table.from_arrays(columns, schema=REJECTED_SCHEMA))

    def table(self) -> pa.Table:
        if not self.parts:
            return REJECTED_SCHEMA.empty_table()
        return sort_report(pa.concat_tables(self.parts), self.origins.files)


# ---------------------------------------------------------------------------------------------- validators


@dataclass(frozen=True)
class _NamedRows:
    """Tracks or artists after the row checks they share: ``usable`` rows of the input, their ``frame``, their
    ``name`` column converted, and the ``rejections`` so far."""

    usable: pa.Table
    frame: _Frame
    name: pa.Array
    rejections: _Rejections


def _keep_named_rows(table: pa.Table, source: str | RowOrigins, id_field: str, name_field: str, max_chars: int, *,
                     limit_name: str) -> _NamedRows:
    """Row checks shared by tracks and artists: id and name present, name printable and not too long
    (``max_chars``, at least 1; the caller's parameter is ``limit_name``), every other text within its limit
    (:func:`_drop_too_long`), id not seen before."""
    if max_chars < 1:
        raise ValueError(f"{limit_name} must be at least 1, got {max_chars}")
    rejections = _Rejections(_origins(source, table))
    file = rejections.file
    ids = to_text(table[id_field], file=file, field=id_field)
    name = to_text(table[name_field], file=file, field=name_field)
    frame = _Frame.of(rejections.origins, ids.values)
    kept = np.ones(table.num_rows, dtype=bool)
    kept = _drop_missing(rejections, frame, kept, ids, id_field)
    kept = _drop_unfit_ids(rejections, frame, kept, ids, id_field)
    kept = _drop_missing(rejections, frame, kept, name, name_field)
    kept = _drop_bad_names(rejections, frame, kept, name, name_field, max_chars)
    kept = _drop_too_long(rejections, frame, kept, table, skip=name_field)
    kept = _drop_duplicates(rejections, frame, kept, id_field)
    for column, field in ((ids, id_field), (name, name_field)):
        _report_decoded(rejections, frame, column, field, np.flatnonzero(column.decoded & kept)
                        if column.decoded is not None else None)
    return _NamedRows(table.filter(pa.array(kept)), frame.take(kept), name.values.filter(pa.array(kept)), rejections)


def validate_tracks(table: pa.Table, source: str | RowOrigins, *, max_title_chars: int = MAX_NAME_CHARS
                    ) -> LoadedTable:
    """Validate raw tracks into ``TRACK_SCHEMA``.

    ``table`` holds contract columns (the required ones at least) of any usable type; ``source`` names it
    in the rejected report's ``file`` column and in errors (rows are then numbered from 0), or is the
    :class:`RowOrigins` of a table read from several files. Rows are dropped for a missing (null/blank) or
    unusable ``track_id`` or ``title``, a title made only of control/format characters or longer than
    ``max_title_chars`` characters (after stripping), any other text over its limit (``resolver.limits``), and a
    ``track_id`` seen before among the usable rows (the first occurrence is kept). ``duration_ms`` values that
    are neither whole numbers nor duration text (``"4:05"``, ``"4m 5s"``: read as milliseconds), or outside
    1 ms .. 24 h, are nulled. A column of an unusable type raises ``SchemaError``. Here and in the other
    validators, an id holding a control character (NUL, a line break, a tab) or nothing visible drops its row.
    """
    rows = _keep_named_rows(table, source, "track_id", "title", max_title_chars, limit_name="max_title_chars")
    usable, frame, rejections = rows.usable, rows.frame, rows.rejections
    duration = _optional(usable, TRACK_SCHEMA.field("duration_ms"), rejections, frame)
    out_of_range = numpy_mask(pc.or_(pc.less_equal(duration, 0), pc.greater(duration, MAX_DURATION_MS)))
    positions = np.flatnonzero(out_of_range)
    shown = duration.take(pa.array(positions)).to_pylist()
    reasons = [f"duration_ms {value} is outside 1..{MAX_DURATION_MS} ms (24 h)" for value in shown]
    rejections.add(frame, positions, "duration_ms", reasons, FIELD_NULLED)
    columns = {
        "track_id": frame.ids,
        "title": rows.name,
        "artist_ids": _optional(usable, TRACK_SCHEMA.field("artist_ids"), rejections, frame),
        "duration_ms": pc.if_else(pa.array(out_of_range), pa.scalar(None, pa.int64()), duration),
    }
    return _completed(columns, usable, TRACK_SCHEMA, rejections, frame)


def validate_artists(table: pa.Table, source: str | RowOrigins, *, max_name_chars: int = MAX_NAME_CHARS
                     ) -> LoadedTable:
    """Validate raw artists into ``ARTIST_SCHEMA`` (``table`` and ``source`` as in :func:`validate_tracks`).

    Same rules as tracks: rows are dropped for a missing or unusable ``artist_id`` or ``name``, a name made
    only of control characters or longer than ``max_name_chars``, and a repeated ``artist_id`` (the first
    occurrence is kept). ``genres`` may be a list or ``";"``-separated text.
    """
    rows = _keep_named_rows(table, source, "artist_id", "name", max_name_chars, limit_name="max_name_chars")
    columns = {"artist_id": rows.frame.ids, "name": rows.name}
    return _completed(columns, rows.usable, ARTIST_SCHEMA, rows.rejections, rows.frame)


def _completed(columns: dict[str, pa.Array], usable: pa.Table, schema: pa.Schema, rejections: _Rejections,
               frame: _Frame) -> LoadedTable:
    """The validated table: ``columns`` already checked, every other column of ``schema`` optional and converted
    to its contract type (unusable values nulled, each with a rejected-report entry)."""
    for field in schema:
        if field.name not in columns:
            columns[field.name] = _optional(usable, field, rejections, frame)
    return LoadedTable(_assemble(columns, schema), rejections.table())


def validate_engagement(table: pa.Table, source: str | RowOrigins, *,
                        known_track_ids: pa.Array | pa.ChunkedArray | None = None) -> LoadedTable:
    """Validate raw engagement into ``ENGAGEMENT_SCHEMA`` (``table`` and ``source`` as in
    :func:`validate_tracks`).

    Rows are dropped for a missing or unusable ``user_id``, ``track_id`` or ``plays``, an id over its limit
    (``resolver.limits``), negative ``plays``
    (zero is allowed), and, when ``known_track_ids`` is given (the usable ``track_id`` column of the
    tracks), a ``track_id`` not among them. Repeated (user, track) rows are kept as they are. The rejected
    report's ``id`` is the row's ``track_id``.
    """
    rejections = _Rejections(_origins(source, table))
    file = rejections.file
    user_id = to_text(table["user_id"], file=file, field="user_id")
    track_id = to_text(table["track_id"], file=file, field="track_id")
    plays = to_int64(table["plays"], file=file, field="plays")
    frame = _Frame.of(rejections.origins, track_id.values)
    kept = np.ones(table.num_rows, dtype=bool)
    kept = _drop_missing(rejections, frame, kept, user_id, "user_id")
    kept = _drop_unfit_ids(rejections, frame, kept, user_id, "user_id")
    kept = _drop_missing(rejections, frame, kept, track_id, "track_id")
    kept = _drop_unfit_ids(rejections, frame, kept, track_id, "track_id")
    kept = _drop_missing(rejections, frame, kept, plays, "plays")
    kept = _drop_too_long(rejections, frame, kept, table)
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


def _drop_unfit_ids(
    rejections: _Rejections, frame: _Frame, kept: np.ndarray, column: Converted, field: str
) -> np.ndarray:
    """Drop ids holding a control character (NUL, a line break …) or nothing visible (zero-width characters)."""
    unfit = numpy_mask(regex_match(column.values, _UNFIT_ID))
    message = f"{field} {{}} holds a control character or nothing visible"
    return _drop(rejections, frame, kept, unfit, field, lambda p: _quote(column.values, p, message))


def _drop_bad_names(
    rejections: _Rejections, frame: _Frame, kept: np.ndarray, column: Converted, field: str, max_chars: int
) -> np.ndarray:
    """Drop titles/names made only of control, format or space characters, or longer than ``max_chars``."""
    unprintable = numpy_mask(regex_match(column.values, _ONLY_UNPRINTABLE))
    message = f"{field} {{}} has only control characters"
    kept = _drop(rejections, frame, kept, unprintable, field, lambda p: _quote(column.values, p, message))
    lengths = pc.utf8_length(column.values)
    over = numpy_mask(pc.greater(lengths, max_chars))

    def reasons(positions: np.ndarray) -> list[str]:
        counts = lengths.take(pa.array(positions)).to_pylist()
        return [too_long(field, count, max_chars) for count in counts]

    return _drop(rejections, frame, kept, over, field, reasons)


def _drop_too_long(rejections: _Rejections, frame: _Frame, kept: np.ndarray, table: pa.Table, *,
                   skip: str = "") -> np.ndarray:
    """Drop the rows holding a text longer than its field's limit (``resolver.limits.MAX_FIELD_CHARS``, after
    stripping), or a list of more than ``MAX_LIST_ITEMS`` items or with an item over the limit; every text and
    list column of ``table`` is checked but ``skip`` (checked by the caller)."""
    for field in table.schema:
        limit = MAX_FIELD_CHARS.get(field.name)
        if limit is None or field.name == skip or _all_within(table[field.name], limit):
            continue
        if field.name in _LIST_FIELDS:
            kept = _drop_long_lists(rejections, frame, kept, table[field.name], field.name, limit)
            continue
        lengths = pc.utf8_length(to_text(table[field.name], file=rejections.file, field=field.name).values)
        kept = _drop_over(rejections, frame, kept, lengths, field.name, too_long, limit)
    return kept


def _all_within(column: pa.ChunkedArray, limit: int) -> bool:
    """Whether no value of a text, binary or list-of-text ``column`` can exceed ``limit`` characters (nor, for a
    list, ``MAX_LIST_ITEMS`` items): true when the whole column holds at most ``limit`` bytes of text (a character
    takes at least one byte) and, for lists, at most ``MAX_LIST_ITEMS`` items in all. Constant time per chunk; a
    false answer only means the values must be measured one by one."""
    total_bytes = total_items = 0
    for chunk in column.chunks:
        if pa.types.is_list(chunk.type) or pa.types.is_large_list(chunk.type):
            total_items += _offsets_span(chunk)
            chunk = chunk.flatten()
        if not is_text_or_binary(chunk.type):
            return False
        total_bytes += _offsets_span(chunk)
    return total_bytes <= limit and total_items <= MAX_LIST_ITEMS


def _offsets_span(chunk: pa.Array) -> int:
    """Bytes of data (text, binary) or items (lists) a variable-length ``chunk`` holds, read off its offsets."""
    if len(chunk) == 0:
        return 0
    large = pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type) or pa.types.is_large_list(
        chunk.type)
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if large else np.int32)
    return int(offsets[chunk.offset + len(chunk)] - offsets[chunk.offset])


def _drop_long_lists(rejections: _Rejections, frame: _Frame, kept: np.ndarray, column: pa.ChunkedArray,
                     field: str, limit: int) -> np.ndarray:
    """:func:`_drop_too_long` of a list column: too many items, or an item over ``limit`` characters."""
    lists = to_text_list(column, file=rejections.file, field=field).values
    kept = _drop_over(rejections, frame, kept, pc.list_value_length(lists), field,
                      lambda name, count, most: f"{name} has {count} items (limit {most})", MAX_LIST_ITEMS)
    item_lengths = pc.utf8_length(pc.list_flatten(lists)).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    longest = np.zeros(len(lists), dtype=np.int64)
    np.maximum.at(longest, parents, item_lengths)
    return _drop_over(rejections, frame, kept, pa.array(longest), field,
                      lambda name, count, most: f"{name} holds an item {count} characters long (limit {most})", limit)


def _drop_over(rejections: _Rejections, frame: _Frame, kept: np.ndarray, sizes: pa.Array, field: str,
               reason: Callable[[str, int, int], str], limit: int) -> np.ndarray:
    """Drop the rows whose ``sizes`` (int, null where absent) exceed ``limit``, with ``reason(field, size,
    limit)``."""
    over = numpy_mask(pc.greater(sizes, limit))
    return _drop(rejections, frame, kept, over, field,
                 lambda positions: [reason(field, size, limit) for size in sizes.take(pa.array(positions)).to_pylist()])


def _drop_duplicates(rejections: _Rejections, frame: _Frame, kept: np.ndarray, field: str) -> np.ndarray:
    """Drop every kept row whose id was seen at an earlier kept row; the reason names that first row."""
    candidates = np.flatnonzero(kept)
    codes = pc.dictionary_encode(frame.ids.take(pa.array(candidates))).indices.to_numpy()
    _, first_of_code = np.unique(codes, return_index=True)  # codes number the ids in order of first sight
    first = candidates[first_of_code[codes]]
    later = np.zeros(len(kept), dtype=bool)
    later[candidates[first != candidates]] = True
    first_position = np.zeros(len(kept), dtype=np.int64)
    first_position[candidates] = first

    def reasons(positions: np.ndarray) -> list[str]:
        ids = frame.ids.take(pa.array(positions)).to_pylist()
        return [
            f"duplicate {field} {show_value(i)}: first seen at {frame.place(first_position[p], seen_from=p)}"
            for i, p in zip(ids, positions, strict=True)
        ]

    return _drop(rejections, frame, kept, later, field, reasons)


def _optional(table: pa.Table, target: pa.Field, rejections: _Rejections, frame: _Frame) -> pa.Array:
    """Convert an optional column (typed nulls when absent), nulling unusable values with an entry each."""
    if target.name not in table.column_names:
        return pa.nulls(table.num_rows, target.type)
    if target.name == "duration_ms":
        convert = to_duration_ms
    elif pa.types.is_list(target.type):
        convert = to_text_list
    elif pa.types.is_integer(target.type):
        convert = to_int64
    else:
        convert = to_text
    column = convert(table[target.name], file=rejections.file, field=target.name)
    positions = np.flatnonzero(column.unusable)
    reasons = _quote(column.original, positions, f"{target.name} {{}} {column.problem}")
    rejections.add(frame, positions, target.name, reasons, FIELD_NULLED)
    _report_decoded(rejections, frame, column, target.name,
                    np.flatnonzero(column.decoded) if column.decoded is not None else None)
    return column.values


def _report_decoded(rejections: _Rejections, frame: _Frame, column: Converted, field: str,
                    positions: np.ndarray | None) -> None:
    """One ``field decoded`` entry per value of ``column`` at ``positions`` (read in a legacy encoding; None:
    none was)."""
    if positions is None or len(positions) == 0:
        return
    reasons = decoded_reasons(field, column.original, column.values, positions, column.encoding)
    rejections.add(frame, positions, field, reasons, FIELD_DECODED)


def decoded_reasons(field: str, originals: pa.Array, texts: pa.Array, positions: np.ndarray, encoding: str
                    ) -> list[str]:
    """The rejected-report reason of each value at ``positions`` that was read in ``encoding`` (``originals``:
    the bytes as read, ``texts``: as decoded): ``title b'Caf\\xe9' is not UTF-8: read as cp1252 'Café'``."""
    taken = pa.array(positions, pa.int64())
    return [f"{field} {show_value(raw)} is not UTF-8: read as {encoding} {show_value(text)}"
            for raw, text in zip(originals.take(taken).to_pylist(), texts.take(taken).to_pylist(), strict=True)]


def _assemble(columns: dict[str, pa.Array], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays(
        [columns[name].cast(schema.field(name).type) for name in schema.names], schema=schema
    )


# ---------------------------------------------------------------------------------------------- helpers


def _origins(source: str | RowOrigins, table: pa.Table) -> RowOrigins:
    if isinstance(source, RowOrigins):
        if len(source.part) != table.num_rows:
            raise ValueError(f"{source.label}: origins of {len(source.part)} rows for a table of {table.num_rows}")
        return source
    return RowOrigins.one_file(source, table.num_rows)


def too_long(field: str, length: int, limit: int) -> str:
    """What is wrong with a text over its limit: ``"title is 10000 characters long (limit 1000)"``."""
    return f"{field} is {length} characters long (limit {limit})"


def shown_ids(ids: pa.Array) -> pa.Array:
    """Ids as the rejected report names them: an id over ``MAX_ID_CHARS`` (never a stored one) cut to
    ``MAX_SHOWN_CHARS`` characters and "…", so the report stays small; the others whole."""
    long = pc.fill_null(pc.greater(pc.utf8_length(ids), MAX_ID_CHARS), False)
    if not pc.any(long).as_py():
        return ids
    return pc.if_else(long, pc.binary_join_element_wise(pc.utf8_slice_codeunits(ids, 0, MAX_SHOWN_CHARS), "…", ""), ids)


def show_value(value: object) -> str:
    """A value as quoted in a rejected reason: repr for text, cut to about ``MAX_SHOWN_CHARS``; bytes that are
    valid UTF-8 (a CSV file's values) are quoted as the text they hold, others as bytes."""
    if isinstance(value, bytes):
        with contextlib.suppress(UnicodeDecodeError):
            value = value.decode("utf-8")
    if isinstance(value, str | bytes) and len(value) > MAX_SHOWN_CHARS:
        return repr(value[:MAX_SHOWN_CHARS]) + "…"
    return repr(value) if isinstance(value, str | bytes) else str(value)


def _quote(values: pa.Array, positions: np.ndarray, template: str) -> list[str]:
    """``template`` with each value at ``positions`` in place of ``{}`` (loops over rejected rows only)."""
    if len(positions) == 0:
        return []
    return [
        template.format(show_value(value)) for value in values.take(pa.array(positions, pa.int64())).to_pylist()
    ]
