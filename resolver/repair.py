"""Repair, then compare: undo the common per-source habits of a validated tracks table before records are compared.

What a catalog teaches about itself is learned once (:class:`RepairContext`, :mod:`resolver.repair_context`: the
names of its artists, the albums each artist has, each source's habits) and applied to its rows or to single
tracks looked up later (:func:`repair_tracks`). The repaired table has the same rows and schema; the caller keeps
the originals. Each row records which repairs changed it (:data:`REPAIR_KINDS`, a bitmask). The repairs run in
this order:

1. ``placeholder``: a text value that only says "unknown" ("[unknown]", "N/A", "-", "Unknown Artist", "Various
   Artists" as an artist … :func:`resolver.repair_fields.placeholder_pattern`) becomes null. The title is
   required, so a placeholder title becomes ``""``: the features then see no title, as for "Track 07".
2. ``scraped_fields``: a title holding a whole record gives back its title words and fills the missing artist,
   album, duration and release date (:func:`resolver.repair_titles.parse_scraped`).
3. ``track_number``: "007-Title", "03. Title", "Track 3 - Title" → "Title"; numbers that need the source's habit
   ("3 - Title", "A1. Title") only in a source that numbers its titles
   (:data:`resolver.repair_context.NUMBERED_SOURCE_SHARE`; :func:`resolver.repair_titles.strip_track_number`).
4. ``artist_from_title``: "Artist - Title" → the artist (when the column is empty and the prefix is a known
   artist of the catalog) and the title; the prefix alone is stripped when it names the credited artist
   (:func:`resolver.repair_titles.split_artist_prefix`).
5. ``album_from_title``: a title suffix naming the record's album, or, without one, an album the catalog knows
   for the record's artist, is stripped and fills the empty album (:func:`resolver.repair_titles.strip_album_suffix`).
6. ``duration_unit``: seconds and minutes × 1000 become milliseconds by the source's evidence; no length in any
   unit → null (:class:`resolver.repair_fields.DurationEvidence`).
7. ``release_date``: other date formats become ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``
   (:func:`resolver.repair_fields.parse_release_date`; numeric day/month order learned per source).

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
from catalog_er.resolver.repair_context import (
    RepairContext,
    SourceHabits,
    check_columns,
    flat,
    int_values,
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
from catalog_er.resolver.repair_scraped import SCRAPED_SHAPE, parse_scraped
from catalog_er.resolver.repair_titles import (
    TRACK_NUMBER_SHAPE,
    album_key,
    credit_names,
    name_key,
    split_artist_prefix,
    strip_album_suffix,
    strip_track_number,
)

__all__ = ["REPAIR_KINDS", "RepairContext", "RepairedTracks", "SourceHabits", "repair_tracks"]

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
        return {kind: int(((self.kinds >> k) & 1).sum()) for k, kind in enumerate(REPAIR_KINDS)}


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
        hit = true_mask(pc.match_substring_regex(columns[column], placeholder_pattern(column)))
        if hit.any():
            blank = pa.scalar("" if column == "title" else None, pa.string())
            columns[column] = pc.if_else(pa.array(hit), blank, columns[column])
            kinds[hit] |= _BIT["placeholder"]


# --- titles -----------------------------------------------------------------------------------------------

def _title_shapes(columns: dict[str, pa.Array]) -> np.ndarray:
    """``(n,)`` uint8 bits of :data:`_SHAPE` per row, 0 for a title no title repair applies to.

    Selected with vectorized patterns on the raw text, mostly literal ones: a spaced hyphen or dash, a bracket. A
    dashed title is looked at when its rest is no version tag and the artist is missing or starts like the prefix;
    a bracketed or dashed one when a first group is no version tag and the album starts like it, or the album is
    missing and the artist is not.
    """
    title, artist, album = columns["title"], columns["artist"], columns["album"]
    shapes = np.zeros(len(title), dtype=np.uint8)
    shapes[true_mask(pc.match_substring_regex(title, TRACK_NUMBER_SHAPE))] |= _SHAPE["number"]
    shapes[true_mask(pc.match_substring_regex(title, SCRAPED_SHAPE))] |= _SHAPE["scraped"]
    dashed = true_mask(pc.match_substring(title, " - "))
    for dash in _OTHER_DASHES:
        dashed |= true_mask(pc.match_substring(title, dash))
    grouped = dashed | true_mask(pc.match_substring_regex(title, r"[(\[{]"))
    rows = np.flatnonzero(grouped)
    if not len(rows):
        return shapes
    text, credited, own = title.take(rows), artist.take(rows), album.take(rows)
    for dash in _OTHER_DASHES:
        text = pc.replace_substring(text, dash, " - ")
    prefix, rest = _split_once(text, " - ")
    no_artist = true_mask(pc.is_null(credited))
    rest_is_text = true_mask(pc.is_valid(rest)) & ~_looks_like_qualifier(_cut(rest, "([{"))
    dash_hit = rest_is_text & (no_artist | true_mask(pc.equal(_initials(prefix), _initials(credited))))
    album_initials = _initials(own)
    no_album = true_mask(pc.is_null(own)) & ~no_artist
    album_hit = np.zeros(len(rows), dtype=bool)
    for group in (_cut(rest, "([{"), _first_group(text, "(", ")"), _first_group(text, "[", "]")):
        is_text = true_mask(pc.is_valid(group)) & ~_looks_like_qualifier(group, VERSION_WORDS)
        album_hit |= is_text & (no_album | true_mask(pc.equal(_initials(group), album_initials)))
    shapes[rows[dash_hit]] |= _SHAPE["dash"]
    shapes[rows[album_hit]] |= _SHAPE["qualifier"]
    return shapes


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
    credit = pc.match_substring_regex(pc.utf8_lower(groups[0]), r"^\s*(?:feat|ft|featuring|with)\b")
    return pc.if_else(pc.fill_null(credit, False), groups[1], groups[0])


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


def _looks_like_qualifier(values: pa.Array, words: str = QUALIFIER_WORDS) -> np.ndarray:
    """Whether each value holds one of ``words`` (:data:`resolver.normalize.QUALIFIER_WORDS` or
    ``VERSION_WORDS``; null: no). Lower-cased raw text is matched, so this says yes only where
    :func:`resolver.normalize.qualifier_kind` would, bar oddities like "o'live"."""
    lowered = pc.utf8_lower(pc.utf8_slice_codeunits(values, 0, 80))
    return true_mask(pc.match_substring_regex(lowered, words))


@dataclass(frozen=True)
class _TitleRepair:
    title: str
    artist: str | None
    album: str | None
    duration_ms: int | None  # to fill a missing duration
    release_date: str | None  # to fill a missing date
    kinds: int


def _repair_title(title: str, artist: str | None, album: str | None, has_duration: bool, has_date: bool,
                  shapes: int, habits: SourceHabits, context: RepairContext) -> _TitleRepair | None:
    """Scraped fields, track number, artist prefix and album suffix of one record's title, in that order; each
    runs when the title had its shape (``shapes``: bits of :data:`_SHAPE`) or an earlier repair changed it."""
    bits = 0
    duration_ms: int | None = None
    release_date: str | None = None
    if shapes & _SHAPE["scraped"]:
        scraped = parse_scraped(title, source_is_scraped=habits.scraped, artist=name_key(artist) if artist else "",
                                album=album_key(album) if album else "", artists=context.artists,
                                albums=context.albums, is_album_of=context.is_known_album)
        if scraped is not None:
            bits |= _BIT["scraped_fields"]
            title = scraped.title
            artist = _fill(artist, scraped.artist)
            album = _fill(album, scraped.album)
            duration_ms = None if has_duration else scraped.duration_ms
            release_date = None if has_date else scraped.release_date
    credited = name_key(artist) if artist else ""
    credited_names = credit_names(credited) if credited else ()
    if bits or shapes & _SHAPE["number"]:
        stripped = strip_track_number(title, source_numbers_titles=habits.numbers_titles, credited=credited,
                                      is_known_artist=context.is_known_artist)
        if stripped is not None:
            bits |= _BIT["track_number"]
            title = stripped
    own_album = album_key(album) if album else ""
    if bits or shapes & _SHAPE["dash"]:
        split = split_artist_prefix(title, credited=credited, credited_names=credited_names, album=own_album,
                                    is_known_artist=context.is_known_artist,
                                    source_puts_artists_in_titles=habits.puts_artists_in_titles)
        if split is not None:
            bits |= _BIT["artist_from_title"]
            if not credited_names:
                artist = split[0]
                credited_names = credit_names(name_key(artist))
            title = split[1]
    if bits or shapes & _SHAPE["qualifier"]:
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
    distinct record; changed values are written back."""
    titles = columns["title"].take(rows).to_pylist()
    artists = columns["artist"].take(rows).to_pylist()
    albums = columns["album"].take(rows).to_pylist()
    has_duration = true_mask(pc.is_valid(columns["duration_ms"].take(rows))).tolist()
    has_date = true_mask(pc.is_valid(columns["release_date"].take(rows))).tolist()
    done: dict[tuple, _TitleRepair | None] = {}
    changed: list[int] = []
    repairs: list[_TitleRepair] = []
    for i, record in enumerate(zip(titles, artists, albums, has_duration, has_date, shapes, codes, strict=True)):
        if record not in done:
            title, artist, album, duration, date, shape, code = record
            done[record] = _repair_title(title, artist, album, duration, date, shape, habits[code], context)
        repair = done[record]
        if repair is not None:
            changed.append(i)
            repairs.append(repair)
    if not changed:
        return
    where = rows[np.array(changed, dtype=np.int64)]
    kinds[where] |= np.array([repair.kinds for repair in repairs], dtype=np.uint16)
    for name in ("title", "artist", "album", "duration_ms", "release_date"):
        values = [getattr(repair, name) for repair in repairs]
        if name in ("duration_ms", "release_date"):  # fills only: the others stay as they are
            filled = np.array([value is not None for value in values], dtype=bool)
            if filled.any():
                columns[name] = replace_rows(columns[name], where[filled],
                                             pa.array([v for v in values if v is not None], columns[name].type))
        else:
            columns[name] = replace_rows(columns[name], where, pa.array(values, pa.string()))


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
    dates = columns["release_date"]
    rows = np.flatnonzero(true_mask(pc.invert(pc.match_substring_regex(dates, CANONICAL_DATE))))
    if not len(rows):
        return
    parsed: dict[tuple[str, bool | None], str | None] = {}
    changed, values = [], []
    for row, value, code in zip(rows.tolist(), dates.take(rows).to_pylist(), codes[rows].tolist(), strict=True):
        key = (value, habits[code].day_first)
        if key not in parsed:
            parsed[key] = parse_release_date(value, day_first=key[1])
        if parsed[key] is not None and parsed[key] != value:
            changed.append(row)
            values.append(parsed[key])
    if changed:
        where = np.array(changed, dtype=np.int64)
        columns["release_date"] = replace_rows(dates, where, pa.array(values, pa.string()))
        kinds[where] |= _BIT["release_date"]
