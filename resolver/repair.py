"""Repair, then compare: undo the common per-source habits of a validated tracks table before records are compared.

What a catalog teaches about itself is learned once (:class:`RepairContext` in :mod:`resolver.repair_context`: the
names of its artists, the albums each artist has, each source's habits) and applied to its rows or to single
tracks looked up later (:func:`repair_tracks`). The repaired table has the same rows and schema; the caller keeps
the originals. Each row records which repairs changed it (:data:`REPAIR_KINDS`, a bitmask). The repairs run in
this order, each reading the values the previous ones left:

1. ``placeholder``: a text value that only says "unknown" ("[unknown]", "N/A", "-", "Unknown Artist", "Various
   Artists" as an artist … :func:`resolver.repair_fields.placeholder_pattern`) becomes null. The title is
   required, so a placeholder title becomes ``""``: the features then see no title, as for "Track 07".
2. ``scraped_fields``: a title holding a whole record gives back its title words and fills the missing artist,
   album, duration and release date (:func:`resolver.repair_scraped.parse_scraped`).
3. ``track_number``: "007-Title", "03. Title", "Track 3 - Title" → "Title"; numbers that need the source's habit
   ("3 - Title", "A1. Title") only in a source that numbers its titles
   (:data:`resolver.repair_context.NUMBERED_SOURCE_SHARE`; :func:`resolver.repair_titles.strip_track_number`).
4. ``artist_from_title``: "Artist - Title" → the artist (when the column is empty and the prefix is a known
   artist of the catalog, or the source writes its artists into titles) and the title; the prefix alone is
   stripped when it names the credited artist (:func:`resolver.repair_titles.split_artist_prefix`).
5. ``album_from_title``: a title suffix naming the record's album, or, without one, an album the catalog knows
   for the record's artist, is stripped and fills the empty album (:func:`resolver.repair_titles.strip_album_suffix`).
6. ``duration_unit``: seconds and minutes × 1000 become milliseconds by the source's evidence; no length in any
   unit → null (:class:`resolver.repair_fields.DurationEvidence`).
7. ``release_date``: other date formats become ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``
   (:func:`resolver.repair_fields.parse_release_date`; numeric day/month order learned per source).

Modules: this one runs the repairs over a table; :mod:`resolver.repair_context` learns; the rules for single
values live in :mod:`resolver.repair_fields` (placeholders, dates, durations), :mod:`resolver.repair_titles`
(track numbers, artists and albums in titles, name keys) and :mod:`resolver.repair_scraped`.

Cost: columns are scanned with vectorized RE2 patterns (linear time, safe on hostile input) that pre-select the
rows a title or date repair may change; Python runs only on those, once per distinct record or value, and reads
at most :data:`resolver.repair_titles.MAX_TITLE_CHARS` characters of a title.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.normalize import QUALIFIER_WORDS, VERSION_WORDS
from catalog_er.resolver.regex_kernels import regex_match, regex_replace
from catalog_er.resolver.repair_context import (
    RepairContext,
    SourceHabits,
    album_key_column,
    check_columns,
    flat,
    int_values,
    name_key_column,
    replace_rows,
    source_codes,
    true_mask,
)
from catalog_er.resolver.repair_fields import (
    CANONICAL_DATE,
    PLACEHOLDER_COLUMNS,
    duration_factors,
    parse_release_date,
    placeholder_pattern,
)
from catalog_er.resolver.repair_scraped import SCRAPED_SHAPE, find_fields, is_field_fragment, parse_scraped
from catalog_er.resolver.repair_titles import (
    TRACK_NUMBER_SHAPE,
    album_key,
    credit_names,
    name_key,
    split_artist_prefix,
    strip_album_suffix,
    strip_track_number,
)

__all__ = ["REPAIR_KINDS", "RepairContext", "RepairedTracks", "SourceHabits", "repair_counts", "repair_names",
           "repair_tracks"]

REPAIR_KINDS: tuple[str, ...] = ("placeholder", "track_number", "artist_from_title", "album_from_title",
                                 "duration_unit", "release_date", "scraped_fields")
"""Bit ``k`` of :attr:`RepairedTracks.kinds` is set when ``REPAIR_KINDS[k]`` changed the row."""
_BIT = {kind: 1 << k for k, kind in enumerate(REPAIR_KINDS)}

MAX_DURATION_MS = 24 * 3600 * 1000
"""Longest plausible track once in milliseconds (as in validation): longer is an export error → null."""
_INITIALS = 3  # leading characters compared to pre-select a title prefix or suffix naming the artist or album
_SHAPE = {"number": 1, "scraped": 2, "dash": 4, "qualifier": 8}
"""Bits of :func:`_title_shapes`: which title repairs a row's title may need."""


@dataclass(frozen=True)
class RepairedTracks:
    """The repaired table (same rows and schema) and, per row, which repairs changed it."""

    tracks: pa.Table
    kinds: np.ndarray
    """``(n,)`` uint16 bitmask: bit ``k`` set when ``REPAIR_KINDS[k]`` changed the row."""

    def counts(self) -> dict[str, int]:
        """Rows changed per kind of :data:`REPAIR_KINDS`."""
        return repair_counts(self.kinds)


def repair_counts(kinds: np.ndarray) -> dict[str, int]:
    """Rows changed per kind of :data:`REPAIR_KINDS`, from ``(n,)`` uint16 repair bitmasks."""
    return {kind: int(((kinds >> k) & 1).sum()) for k, kind in enumerate(REPAIR_KINDS)}


def repair_names(kinds: np.ndarray) -> dict[int, list[str]]:
    """Row → names of the repairs that changed it, for the rows with any (``kinds``: ``(n,)`` uint16 bitmasks)."""
    return {int(row): [kind for k, kind in enumerate(REPAIR_KINDS) if (int(kinds[row]) >> k) & 1]
            for row in np.flatnonzero(kinds).tolist()}


def repair_tracks(tracks: pa.Table, context: RepairContext) -> RepairedTracks:
    """Repair a validated ``TRACK_SCHEMA`` table with what ``context`` learned (see the module docstring)."""
    check_columns(tracks)
    columns = {name: flat(tracks[name]) for name in tracks.column_names}
    kinds = np.zeros(tracks.num_rows, dtype=np.uint16)
    names = list(context.sources)
    habits = [context.sources[name] for name in names] + [SourceHabits()]
    codes = source_codes(columns["source"], names)
    _repair_placeholders(columns, kinds)
    shapes = _title_shapes(columns)
    rows = np.flatnonzero(shapes)
    if len(rows):
        _repair_titles(columns, kinds, rows, shapes[rows].tolist(), codes[rows].tolist(), habits, context)
    _repair_durations(columns, kinds, codes, habits)
    _repair_dates(columns, kinds, codes, habits)
    repaired = pa.Table.from_arrays([columns[name] for name in tracks.column_names], schema=tracks.schema)
    return RepairedTracks(repaired, kinds)


def _repair_placeholders(columns: dict[str, pa.Array], kinds: np.ndarray) -> None:
    for column in PLACEHOLDER_COLUMNS:
        hit = true_mask(regex_match(columns[column], placeholder_pattern(column)))
        if hit.any():
            blank = pa.scalar("" if column == "title" else None, pa.string())
            columns[column] = pc.if_else(pa.array(hit), blank, columns[column])
            kinds[hit] |= _BIT["placeholder"]


# --- titles -----------------------------------------------------------------------------------------------

def _title_shapes(columns: dict[str, pa.Array]) -> np.ndarray:
    """``(n,)`` uint8 bits of :data:`_SHAPE` per row, 0 for a title no title repair applies to.

    Selected with vectorized patterns on the raw text, mostly literal ones: a spaced hyphen or dash, a bracket. A
    dashed title is looked at when the artist is missing or starts like the prefix, and the rest is no version
    tag; a bracketed or dashed one when the album starts like the first group (or the album is missing and the
    artist is not), and the group is no version tag.
    """
    title, artist, album = columns["title"], columns["artist"], columns["album"]
    shapes = np.zeros(len(title), dtype=np.uint8)
    shapes[true_mask(regex_match(title, TRACK_NUMBER_SHAPE))] |= _SHAPE["number"]
    shapes[true_mask(regex_match(title, SCRAPED_SHAPE))] |= _SHAPE["scraped"]
    groups: list[tuple[np.ndarray, pa.Array]] = []  # rows and the text of a suffix that may be their album
    dashed = np.flatnonzero(true_mask(regex_match(title, _ARTIST_SEPARATORS)))
    if len(dashed):
        text = title.take(dashed)
        for dash in _OTHER_DASHES:
            text = pc.replace_substring(text, dash, " - ")
        text = regex_replace(text, r"(\S): ", r"\1 - ", max_replacements=1)
        prefix, rest = _split_once(text, " - ")
        rest = _cut(_split_once(rest, " - ")[0], "([{")  # "Artist - Title - Live": only "Title" may be a tag
        credited = artist.take(dashed)
        hit = true_mask(pc.is_null(credited)) | true_mask(pc.equal(_initials(prefix), _initials(credited)))
        shapes[_unless_qualifier(dashed, hit, rest, QUALIFIER_WORDS)] |= _SHAPE["dash"]
        groups.append((dashed, rest))
    bracketed = np.flatnonzero(true_mask(regex_match(title, r"[(\[]")))
    if len(bracketed):
        text = title.take(bracketed)
        groups += [(bracketed, _first_group(text, "[", "]"))]
        # the album may follow a version tag or a credit: "Title ( DJ Mix ) (Album) [Deluxe]"
        groups += [(bracketed, group) for group in _groups(text, "(", ")", MAX_GROUPS)]
    for rows, group in groups:
        own = album.take(rows)
        hit = (true_mask(pc.is_null(own)) & true_mask(pc.is_valid(artist.take(rows)))) | true_mask(
            pc.equal(_initials(group), _initials(own)))
        shapes[_unless_qualifier(rows, hit, group, VERSION_WORDS)] |= _SHAPE["qualifier"]
    return shapes


def _unless_qualifier(rows: np.ndarray, hit: np.ndarray, texts: pa.Array, words: str) -> np.ndarray:
    """``rows[hit]`` whose text (``texts``, one per row) is present and holds none of ``words``."""
    kept = np.flatnonzero(hit & true_mask(pc.is_valid(texts)))
    if not len(kept):
        return kept
    lowered = pc.utf8_lower(pc.utf8_slice_codeunits(texts.take(kept), 0, 80))
    return rows[kept[~true_mask(regex_match(lowered, words))]]


_ARTIST_SEPARATORS = r" [-–—] |\S: "  # spaced dashes, or a colon after a word ("Artist: Title")
_OTHER_DASHES = (" – ", " — ")  # en and em dash, spaced; read like " - "


def _split_once(values: pa.Array, separator: str) -> tuple[pa.Array, pa.Array]:
    """Text before and after the first literal ``separator`` (after: null where there is none)."""
    parts = _pad(pc.split_pattern(values, separator, max_splits=1), 2)
    return pc.list_element(parts, 0), pc.list_element(parts, 1)


def _cut(values: pa.Array, characters: str) -> pa.Array:
    """Each value up to the first of ``characters``."""
    for character in characters:
        values = pc.list_element(pc.split_pattern(values, character, max_splits=1), 0)
    return values


def _first_group(values: pa.Array, opening: str, closing: str) -> pa.Array:
    """The text of each value's first ``opening`` … ``closing`` group that is no featuring credit (null if none)."""
    parts = _pad(pc.split_pattern(values, opening, max_splits=2), 3)
    groups = [_cut(pc.list_element(parts, k), closing) for k in (1, 2)]
    credit = regex_match(pc.utf8_lower(groups[0]), r"^\s*(?:feat|ft|featuring|with)\b")
    return pc.if_else(pc.fill_null(credit, False), groups[1], groups[0])


MAX_GROUPS = 3
"""Round-bracket groups of a title looked at for an appended album."""


def _groups(values: pa.Array, opening: str, closing: str, count: int) -> list[pa.Array]:
    """The text of each value's first ``count`` ``opening`` … ``closing`` groups (null where it has fewer)."""
    parts = _pad(pc.split_pattern(values, opening, max_splits=count), count + 1)
    return [_cut(pc.list_element(parts, k), closing) for k in range(1, count + 1)]


def _pad(lists: pa.Array, length: int) -> pa.Array:
    """``lists`` with nulls appended to ``length`` elements."""
    return pc.list_slice(lists, 0, length, return_fixed_size_list=True)


def _initials(values: pa.Array) -> pa.Array:
    """The first lower-case characters of each value after leading punctuation and a leading "the" (pre-selection
    only: accents are kept, so "Été" and "Ete" differ here)."""
    lowered = pc.utf8_ltrim(pc.utf8_lower(pc.utf8_slice_codeunits(values, 0, 16)), characters=_LEADING)
    lowered = pc.if_else(pc.starts_with(lowered, "the "), pc.utf8_slice_codeunits(lowered, 4, 16), lowered)
    return pc.utf8_slice_codeunits(lowered, 0, _INITIALS)


_LEADING = " \t\"'“‘«¡¿([{.-_*#"


@dataclass(frozen=True)
class _TitleRepair:
    title: str
    artist: str | None
    album: str | None
    duration_ms: int | None  # to fill a missing duration
    release_date: str | None  # to fill a missing date
    kinds: int


@dataclass(frozen=True)
class _Record:
    """What the title repairs read of one row: its values, their keys, which repairs its title may need."""

    title: str
    artist: str | None
    album: str | None
    artist_key: str  # name_key of the artist ("" when missing)
    album_key: str  # album_key of the album ("" when missing)
    has_duration: bool
    has_date: bool
    shapes: int  # bits of _SHAPE
    fields: tuple[tuple[str, int, str | None], ...]  # scraped fields found in the title: (kind, start, text)
    segments: tuple[str, ...]  # the title's texts between those fields


def _repair_title(record: _Record, habits: SourceHabits, context: RepairContext) -> _TitleRepair | None:
    """Scraped fields, track number, artist prefix and album suffix of one record's title, in that order; each
    runs when the title had its shape or an earlier repair changed it."""
    title, artist, album, credited, own_album = (record.title, record.artist, record.album, record.artist_key,
                                                 record.album_key)
    bits = 0
    duration_ms: int | None = None
    release_date: str | None = None
    if record.fields:
        fields = {kind: (start, text) for kind, start, text in record.fields}
        if is_field_fragment(artist):
            artist, credited = None, ""
        if is_field_fragment(album):
            album, own_album = None, ""
        scraped = parse_scraped(title, fields, source_is_scraped=habits.scraped, artist=credited, album=own_album,
                                artists=context.artists, albums=context.albums, is_album_of=context.is_known_album,
                                segments=record.segments)
        if scraped is not None:
            bits |= _BIT["scraped_fields"]
            title = scraped.title
            artist, album = _fill(artist, scraped.artist), _fill(album, scraped.album)
            credited = name_key(artist) if artist else ""
            own_album = album_key(album) if album else ""
            duration_ms = None if record.has_duration else scraped.duration_ms
            release_date = None if record.has_date else scraped.release_date
    credited_names = credit_names(credited) if credited else ()
    if bits or record.shapes & _SHAPE["number"]:
        stripped = strip_track_number(title, source_numbers_titles=habits.numbers_titles, credited=credited,
                                      is_known_artist=context.is_known_artist)
        if stripped is not None:
            bits |= _BIT["track_number"]
            title = stripped
    if bits or record.shapes & _SHAPE["dash"]:
        split = split_artist_prefix(title, credited=credited, credited_names=credited_names, album=own_album,
                                    is_known_artist=context.is_known_artist,
                                    source_puts_artists_in_titles=habits.puts_artists_in_titles)
        if split is not None:
            bits |= _BIT["artist_from_title"]
            if not credited_names:
                artist = split[0]
                credited_names = credit_names(name_key(artist))
            title = split[1]
            stripped = strip_track_number(title, source_numbers_titles=habits.numbers_titles,
                                          credited=name_key(artist) if artist else "",
                                          is_known_artist=context.is_known_artist)
            if stripped is not None:  # "Artist - 004-Title": the number came after the artist
                bits |= _BIT["track_number"]
                title = stripped
    if bits or record.shapes & _SHAPE["qualifier"]:
        primary = credited_names[0] if credited_names else ""
        suffix = strip_album_suffix(title, album=own_album,
                                    is_known_album=lambda key: bool(primary) and context.is_known_album(primary, key))
        if suffix is not None:
            bits |= _BIT["album_from_title"]
            title = suffix[0]
            album = album or suffix[1]
    return _TitleRepair(title, artist, album, duration_ms, release_date, bits) if bits else None


def _fill(current: str | None, found: str | None) -> str | None:
    """A column's value after a scraped title: ``found`` when the column is empty or holds a fragment of it."""
    if found is None or (current and not name_key(found).startswith(name_key(current))):
        return current
    return found


def _repair_titles(columns: dict[str, pa.Array], kinds: np.ndarray, rows: np.ndarray, shapes: list[int],
                   codes: list[int], habits: list[SourceHabits], context: RepairContext) -> None:
    """Title repairs of ``rows`` (ascending; ``shapes`` and source ``codes`` into ``habits`` of each), once per
    distinct record; changed values are written back. Keys and scraped fields are found for all rows at once."""
    artist, album = columns["artist"].take(rows), columns["album"].take(rows)
    titles = columns["title"].take(rows)
    fields: list[tuple[tuple[str, int, str | None], ...]] = [()] * len(rows)
    segments: list[tuple[str, ...]] = [()] * len(rows)
    scraped = [i for i, shape in enumerate(shapes) if shape & _SHAPE["scraped"]]
    if scraped:
        spans = find_fields(titles.take(pa.array(scraped, pa.int64())))
        for j, i in enumerate(scraped):
            fields[i] = tuple((kind, start, text) for kind, (start, text) in spans.row(j).items())
            segments[i] = spans.segments[j]
    records = zip(titles.to_pylist(), artist.to_pylist(), album.to_pylist(),
                  [key or "" for key in name_key_column(artist).to_pylist()],
                  [key or "" for key in album_key_column(album).to_pylist()],
                  true_mask(pc.is_valid(columns["duration_ms"].take(rows))).tolist(),
                  true_mask(pc.is_valid(columns["release_date"].take(rows))).tolist(), shapes, fields, segments,
                  strict=True)
    done: dict[tuple, _TitleRepair | None] = {}
    changed: list[int] = []
    repairs: list[_TitleRepair] = []
    for i, (values, code) in enumerate(zip(records, codes, strict=True)):
        key = (*values, code)
        if key not in done:
            done[key] = _repair_title(_Record(*values), habits[code], context)
        repair = done[key]
        if repair is not None:
            changed.append(i)
            repairs.append(repair)
    if not changed:
        return
    where = rows[np.array(changed, dtype=np.int64)]
    kinds[where] |= np.array([repair.kinds for repair in repairs], dtype=np.uint16)
    for name in ("title", "artist", "album", "duration_ms", "release_date"):
        new_values = [getattr(repair, name) for repair in repairs]
        if name in ("duration_ms", "release_date"):  # fills only: the others stay as they are
            filled = np.array([value is not None for value in new_values], dtype=bool)
            if filled.any():
                kept = [value for value in new_values if value is not None]
                columns[name] = replace_rows(columns[name], where[filled], pa.array(kept, columns[name].type))
        else:
            columns[name] = replace_rows(columns[name], where, pa.array(new_values, pa.string()))


# --- durations and dates ----------------------------------------------------------------------------------

def _repair_durations(columns: dict[str, pa.Array], kinds: np.ndarray, codes: np.ndarray,
                      habits: list[SourceHabits]) -> None:
    duration = columns["duration_ms"]
    present = true_mask(pc.is_valid(duration))
    values = int_values(duration, 0)
    evidence = [h.durations for h in habits]
    factor = duration_factors(values, seconds=np.array([e.seconds for e in evidence], dtype=bool)[codes],
                              minutes_x1000=np.array([e.minutes_x1000 for e in evidence], dtype=bool)[codes],
                              ms=np.array([e.ms for e in evidence], dtype=bool)[codes])
    repaired = values * factor
    unknown = present & ((factor == 0) | (repaired > MAX_DURATION_MS))
    changed = present & ((factor != 1) | unknown)
    if changed.any():
        columns["duration_ms"] = pa.array(repaired, pa.int64(), mask=~present | unknown)
        kinds[changed] |= _BIT["duration_unit"]


def _repair_dates(columns: dict[str, pa.Array], kinds: np.ndarray, codes: np.ndarray,
                  habits: list[SourceHabits]) -> None:
    """Dates not yet ``YYYY[-MM[-DD]]`` parsed once per distinct (value, the source's numeric date order)."""
    dates = columns["release_date"]
    rows = np.flatnonzero(true_mask(pc.invert(regex_match(dates, CANONICAL_DATE))))
    if not len(rows):
        return
    orders = np.array([{None: 0, True: 1, False: 2}[h.day_first] for h in habits], dtype=np.int64)[codes[rows]]
    keyed = pc.binary_join_element_wise(dates.take(rows), pa.array(orders.astype(str)), "\x1f")
    distinct = pc.unique(keyed)
    parsed = []
    for key in distinct.to_pylist():
        value, order = key.rsplit("\x1f", 1)
        result = parse_release_date(value, day_first=(None, True, False)[int(order)])
        parsed.append(result if result != value else None)
    repaired = pa.array(parsed, pa.string()).take(pc.index_in(keyed, value_set=distinct))
    changed = true_mask(pc.is_valid(repaired))
    if changed.any():
        where = rows[changed]
        columns["release_date"] = replace_rows(dates, where, repaired.filter(pa.array(changed)))
        kinds[where] |= _BIT["release_date"]
