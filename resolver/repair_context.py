"""What a whole catalog teaches the repairs of :mod:`resolver.repair`, learned once with vectorized Arrow code.

* the keys (:func:`resolver.repair_titles.name_key`) of its artist credits and of every name in them;
* the albums each primary artist has (album keys, :func:`resolver.repair_titles.album_key`);
* each source's habits (:class:`SourceHabits`): how often it numbers or scrapes its titles, which duration units
  it writes, the order of its numeric dates.

Also the column helpers the repairs share: keys of whole columns and masks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.records import TRACK_SCHEMA
from catalog_er.resolver.regex_kernels import regex_match, regex_replace
from catalog_er.resolver.repair_fields import DurationEvidence, numeric_date_order, placeholder_pattern, unit_shares
from catalog_er.resolver.repair_scraped import SCRAPED_SHAPE, KnownNames, find_fields
from catalog_er.resolver.repair_titles import EDITION_GROUP, EDITION_TAIL, TRACK_NUMBER_SHAPE, numbered_title

NUMBERED_SOURCE_SHARE = 0.10
"""A source numbers its titles when this share of them starts with a track number (10 %: real titles that merely
start with a number and a separator, like "4-Ever", are far rarer)."""
SCRAPED_SOURCE_SHARE = 0.30
"""A source is scraped when this share of its titles holds two scraped fields; then one field and a known name
suffice."""
ARTIST_IN_TITLE_SHARE = 0.10
"""A source writes its artists into its titles when this share of its rows has no artist and a spaced dash in the
title (in a clean catalog a few in a thousand: an unknown artist on a "Song - Live" title)."""
MIN_HABIT_ROWS = 3
"""Rows that must show a habit before a share of them counts as the source's habit (a tiny source proves none)."""
_NAME_SEPARATOR = "\x1f"  # joins an artist key and an album key in RepairContext.artist_albums
_CREDIT_SEPARATOR = " (?:feat|ft|featuring|with|x|and|vs|versus|presents|pres) "  # as normalize.split_credit
_CREDIT_WORDS = r"(?:^| )(?:feat|ft|featuring|with|x|and|vs|versus|presents|pres|the)(?: |$)"
_NUMERIC_DATE = r"^(?P<first>\d{1,2})[-/.](?P<second>\d{1,2})[-/.](?:\d{4}|\d{2})$"


# --- column helpers ---------------------------------------------------------------------------------------

def flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def true_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow column as a numpy mask, null → False."""
    filled = pc.fill_null(values, False) if values.null_count else values
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def int_values(values: pa.Array | pa.ChunkedArray, missing: int) -> np.ndarray:
    """An integer Arrow column as int64 numpy, null → ``missing``."""
    return np.asarray(pc.fill_null(values, missing).to_numpy(zero_copy_only=False), dtype=np.int64)


def replace_rows(values: pa.Array, rows: np.ndarray, replacements: pa.Array) -> pa.Array:
    """``values`` with ``rows`` (ascending int indices) set to ``replacements`` (same length as ``rows``)."""
    mask = np.zeros(len(values), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(values, pa.array(mask), replacements.cast(values.type))


def name_key_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`resolver.repair_titles.name_key` of every value (null stays null), vectorized: the same steps in
    Arrow; accents are dropped only where there are any, and Unicode character classes are used only for what is
    still not ASCII then (other scripts)."""
    values = flat(values)
    other = np.flatnonzero(true_mask(pc.invert(pc.string_is_ascii(values))))
    if not len(other):
        return _key_steps(values, "a-z0-9")
    decomposed = pc.utf8_normalize(values.take(other), "NFKD")
    marked = np.flatnonzero(true_mask(pc.not_equal(pc.utf8_length(decomposed), pc.utf8_length(values.take(other)))))
    if len(marked):
        decomposed = replace_rows(decomposed, marked,
                                  regex_replace(decomposed.take(marked), r"\p{Mn}+", ""))
    values = replace_rows(values, other, decomposed)
    latin = true_mask(pc.string_is_ascii(values))
    keys = pa.nulls(len(values), pa.string())
    for rows, letters in ((np.flatnonzero(latin), "a-z0-9"), (np.flatnonzero(~latin), r"\p{L}\p{N}")):
        if len(rows):
            keys = replace_rows(keys, rows, _key_steps(values.take(rows), letters))
    return keys


def _key_steps(values: pa.Array, letters: str) -> pa.Array:
    """Lower case, "&" → " and ", apostrophes dropped, every run of characters other than ``letters`` (a regex
    class body) → one space (the costly step: only where there is something to replace), trimmed."""
    keyed = pc.replace_substring(pc.utf8_lower(values), "&", " and ")
    for apostrophe in "'’`´":
        keyed = pc.replace_substring(keyed, apostrophe, "")
    untidy = np.flatnonzero(true_mask(regex_match(keyed, f"[^{letters} ]|  |^ | $")))
    if len(untidy):
        keyed = replace_rows(keyed, untidy, regex_replace(keyed.take(untidy), f"[^{letters}]+", " "))
    return pc.utf8_trim(keyed, " ")


def album_key_column(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`resolver.repair_titles.album_key` of every value (null stays null), vectorized; the edition patterns
    run only where a bracket, a dash or an edition word could be."""
    values = flat(values)
    grouped = np.flatnonzero(true_mask(regex_match(values, r"[(\[]|\s[-–—]\s")))
    if len(grouped):
        values = replace_rows(values, grouped, regex_replace(values.take(grouped), EDITION_GROUP, " "))
    keys = name_key_column(values)
    tailed = np.flatnonzero(true_mask(regex_match(keys, EDITION_TAIL)))
    if len(tailed):
        keys = replace_rows(keys, tailed, pc.utf8_trim(regex_replace(keys.take(tailed), EDITION_TAIL, ""),
                                                       " "))
    return keys


def without_placeholders(values: pa.Array | pa.ChunkedArray, column: str) -> pa.Array:
    """``values`` with the placeholders of ``column`` nulled (:func:`resolver.repair_fields.placeholder_pattern`)."""
    values = flat(values)
    hit = pc.fill_null(regex_match(values, placeholder_pattern(column)), False)
    return pc.if_else(hit, pa.scalar(None, values.type), values)


def source_codes(source: pa.Array | pa.ChunkedArray, names: list[str]) -> np.ndarray:
    """``(n,)`` int64 index of each row's source in ``names`` (``""`` for null), ``len(names)`` when absent."""
    codes = pc.index_in(pc.fill_null(flat(source), ""), value_set=pa.array(names, pa.string()))
    return int_values(codes, len(names))


# --- what a catalog teaches -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SourceHabits:
    """What one source's rows show about how it writes (``rows`` 0: a source the catalog never had)."""

    rows: int = 0
    numbered_titles: int = 0
    """Titles that start with a track number (:func:`resolver.repair_titles.numbered_title`)."""
    scraped_titles: int = 0
    """Titles that hold two or more scraped fields (:func:`resolver.repair_scraped.find_fields`)."""
    artist_in_title_rows: int = 0
    """Rows without an artist whose title has a spaced dash ("Nina Vale - Harbour Lights")."""
    durations: DurationEvidence = field(default_factory=DurationEvidence)
    duration_shares: Mapping[str, float] = field(default_factory=dict)
    day_first: bool | None = None
    """Order of numeric dates: True day/month, False month/day, None unknown."""

    @cached_property
    def numbers_titles(self) -> bool:
        """Whether the source numbers its titles (:data:`NUMBERED_SOURCE_SHARE`)."""
        return self.numbered_titles >= max(MIN_HABIT_ROWS, NUMBERED_SOURCE_SHARE * self.rows)

    @cached_property
    def scraped(self) -> bool:
        """Whether the source scrapes whole records into its titles (:data:`SCRAPED_SOURCE_SHARE`)."""
        return self.scraped_titles >= max(MIN_HABIT_ROWS, SCRAPED_SOURCE_SHARE * self.rows)

    @cached_property
    def puts_artists_in_titles(self) -> bool:
        """Whether the source writes "Artist - Title" with no artist (:data:`ARTIST_IN_TITLE_SHARE`)."""
        return self.artist_in_title_rows >= max(MIN_HABIT_ROWS, ARTIST_IN_TITLE_SHARE * self.rows)

    def describe(self) -> dict:
        """JSON-ready summary of these habits."""
        share = (lambda count: round(count / self.rows, 4)) if self.rows else (lambda count: 0.0)
        return {"rows": self.rows, "numbered_title_share": share(self.numbered_titles),
                "numbers_titles": self.numbers_titles, "scraped_title_share": share(self.scraped_titles),
                "scraped": self.scraped, "artist_in_title_share": share(self.artist_in_title_rows),
                "puts_artists_in_titles": self.puts_artists_in_titles, "duration_units": self.durations.units(),
                "duration_unit_shares": {unit: round(value, 4) for unit, value in self.duration_shares.items()},
                "numeric_date_order": {True: "day_first", False: "month_first", None: None}[self.day_first]}


@dataclass(frozen=True)
class RepairContext:
    """What a whole catalog teaches about its records (learned once, reused for look-ups of single tracks).

    ``artists``: keys of the catalog's artist credits and of each name in them; ``albums``: every album key;
    ``artist_albums``: each primary artist's album keys, as ``"artist\x1falbum"``; ``sources``: the habits of
    each source (``""``: rows without a source).
    """

    artists: KnownNames
    albums: KnownNames
    artist_albums: frozenset[str]
    sources: Mapping[str, SourceHabits]

    @classmethod
    def learn(cls, tracks: pa.Table) -> RepairContext:
        """Learn from a validated ``TRACK_SCHEMA`` table (with ``source``)."""
        check_columns(tracks)
        credited = without_placeholders(tracks["artist"], "artist")
        # a scraped record's other columns hold pieces of its page ("The", "Punk", "$ 0.99"): no names from them
        scraped_rows = _scraped_rows(flat(tracks["title"]))
        scraped, nothing = pa.array(scraped_rows), pa.scalar(None, pa.string())
        artist = pc.dictionary_encode(pc.if_else(scraped, nothing, credited))
        album = pc.dictionary_encode(pc.if_else(scraped, nothing, without_placeholders(tracks["album"], "album")))
        credit_keys = name_key_column(artist.dictionary)
        names, primary = _credit_names(credit_keys)
        album_keys = pc.dictionary_encode(album_key_column(album.dictionary))
        return cls(artists=KnownNames.of(pa.concat_arrays([credit_keys, names])),
                   albums=KnownNames.of(album_keys.dictionary),
                   artist_albums=_artist_albums(artist.indices, pc.dictionary_encode(primary), album.indices,
                                                album_keys),
                   sources=_learn_sources(tracks, credited, scraped_rows))

    def habits(self, source: str | None) -> SourceHabits:
        """The habits of ``source`` (None: rows without a source); an unseen source has none."""
        return self.sources.get(source or "", SourceHabits())

    def is_known_artist(self, key: str) -> bool:
        """Whether a name key is an artist (or a whole credit) of the catalog."""
        return key in self.artists.keys

    def is_known_album(self, artist: str, key: str) -> bool:
        """Whether the catalog knows album ``key`` for the primary artist key ``artist``."""
        return f"{artist}{_NAME_SEPARATOR}{key}" in self.artist_albums

    def describe(self) -> dict:
        """JSON-ready: what was learned, per source (for ``summary.json``)."""
        return {"artists_known": len(self.artists), "albums_known": len(self.albums),
                "sources": {name: habits.describe() for name, habits in sorted(self.sources.items())}}


def check_columns(tracks: pa.Table) -> None:
    """Raise ``ValueError`` naming the ``TRACK_SCHEMA`` columns ``tracks`` lacks."""
    missing = [name for name in TRACK_SCHEMA.names if name not in tracks.column_names]
    if missing:
        raise ValueError(f"tracks table lacks column(s) {missing}: validate it first (resolver.records.TRACK_SCHEMA)")


def _credit_names(keys: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Every name in the credit ``keys`` (split as :func:`resolver.normalize.split_credit` splits them, vectorized)
    and each credit's first name (null when it has none). Only credits with a separator or "the" are split."""
    first = keys
    split = np.flatnonzero(true_mask(regex_match(keys, _CREDIT_WORDS)))
    if not len(split):
        return keys.filter(pc.not_equal(keys, "")), pc.if_else(pc.equal(keys, ""), pa.scalar(None, pa.string()), keys)
    parts = pc.split_pattern_regex(pc.binary_join_element_wise(" ", keys.take(split), " ", ""), _CREDIT_SEPARATOR)
    names = pc.list_flatten(parts)
    for _ in range(2):  # "the" dropped wherever it stands ("the the" needs two passes)
        names = regex_replace(names, "(?:^| )the(?: |$)", " ")
    names = pc.utf8_trim(regex_replace(names, " +", " "), " ")
    owners = int_values(pc.list_parent_indices(parts), -1)
    kept = true_mask(pc.not_equal(names, ""))
    owners, positions = owners[kept], np.flatnonzero(kept)
    leading = np.r_[True, owners[1:] != owners[:-1]] if len(owners) else np.zeros(0, dtype=bool)
    primary = pa.nulls(len(split), pa.string())
    if len(positions):
        primary = replace_rows(primary, owners[leading], names.take(pa.array(positions[leading])))
    first = replace_rows(first, split, primary)
    whole = np.ones(len(keys), dtype=bool)
    whole[split] = False
    every = pa.concat_arrays([keys.filter(pa.array(whole)), names.filter(pa.array(kept))])
    return every.filter(pc.not_equal(every, "")), pc.if_else(pc.equal(first, ""), pa.scalar(None, pa.string()), first)


def _artist_albums(artist: pa.Array, primary: pa.DictionaryArray, album: pa.Array,
                   owned: pa.DictionaryArray) -> frozenset[str]:
    """``"artist\\x1falbum"`` keys of every (primary artist, album) pair of the rows. ``artist``/``album``: each
    row's index into the distinct credits and albums (null when missing); ``primary``/``owned``: the primary
    name and album key of each distinct credit and album, dictionary-encoded."""
    present = true_mask(pc.and_(pc.is_valid(artist), pc.is_valid(album)))
    names = int_values(primary.indices, -1)[int_values(artist, 0)[present]]
    keys = int_values(owned.indices, -1)[int_values(album, 0)[present]]
    known = (names >= 0) & (keys >= 0)
    width = max(len(owned.dictionary), 1)
    pairs = np.sort(names[known] * width + keys[known])
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    joined = pc.binary_join_element_wise(primary.dictionary.take(pa.array(pairs // width)),
                                         owned.dictionary.take(pa.array(pairs % width)), _NAME_SEPARATOR)
    return frozenset(joined.to_pylist())


def _distinct_flags(values: pa.Array, rows: np.ndarray, flag: Callable[[str], bool]) -> np.ndarray:
    """``flag(value)`` for ``values[rows]`` (non-null), computed once per distinct value."""
    taken = values.take(rows)
    distinct = pc.unique(taken)
    flags = np.array([flag(value) for value in distinct.to_pylist()], dtype=bool)
    return flags[int_values(pc.index_in(taken, value_set=distinct), 0)]


def _shaped_rows(title: pa.Array, shape: str, flag: Callable[[str], bool]) -> np.ndarray:
    """``(n,)`` bool: titles that match the RE2 ``shape`` and pass ``flag``."""
    out = np.zeros(len(title), dtype=bool)
    rows = np.flatnonzero(true_mask(regex_match(title, shape)))
    if len(rows):
        out[rows] = _distinct_flags(title, rows, flag)
    return out


def _scraped_rows(title: pa.Array) -> np.ndarray:
    """``(n,)`` bool: titles holding two or more kinds of a store page's fields (price, length, date, genres)."""
    scraped = np.zeros(len(title), dtype=bool)
    shaped = np.flatnonzero(true_mask(regex_match(title, SCRAPED_SHAPE)))
    if len(shaped):
        scraped[shaped] = find_fields(title.take(shaped)).kinds() >= 2
    return scraped


def _learn_sources(tracks: pa.Table, artist: pa.Array, scraped_rows: np.ndarray) -> dict[str, SourceHabits]:
    """Each source's habits; ``artist``: the artist column without placeholders; ``scraped_rows``: ``(n,)`` bool,
    the rows whose titles are scraped (:func:`_scraped_rows`)."""
    names = sorted(pc.unique(pc.fill_null(flat(tracks["source"]), "")).to_pylist())
    codes = source_codes(tracks["source"], names)
    rows = np.bincount(codes, minlength=len(names))
    title = flat(tracks["title"])
    numbered = np.bincount(codes[_shaped_rows(title, TRACK_NUMBER_SHAPE, lambda t: numbered_title(t) is not None)],
                           minlength=len(names))
    scraped = np.bincount(codes[scraped_rows], minlength=len(names))
    no_artist = true_mask(pc.is_null(artist))
    dashed = true_mask(regex_match(title, r"\s[-–—]\s|\S:\s"))
    artist_in_title = np.bincount(codes[no_artist & dashed], minlength=len(names))
    duration = flat(tracks["duration_ms"])
    present = true_mask(pc.is_valid(duration))
    values = int_values(duration, 0)
    first, second = _numeric_date_parts(flat(tracks["release_date"]))
    order = np.argsort(codes, kind="stable")  # rows grouped by source: linear in rows however many sources
    bounds = np.r_[0, np.cumsum(rows)]
    habits = {}
    for code, name in enumerate(names):
        mine = order[bounds[code]: bounds[code + 1]]
        durations = values[mine[present[mine]]]
        dated = mine[first[mine] >= 0]
        habits[name] = SourceHabits(
            rows=int(rows[code]), numbered_titles=int(numbered[code]), scraped_titles=int(scraped[code]),
            artist_in_title_rows=int(artist_in_title[code]),
            durations=DurationEvidence.from_values(durations), duration_shares=unit_shares(durations),
            day_first=numeric_date_order(first[dated], second[dated]))
    return habits


def _numeric_date_parts(dates: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """First and second number of each ``dd/mm/yyyy``-like date (int64, -1 elsewhere)."""
    first = np.full(len(dates), -1, dtype=np.int64)
    second = first.copy()
    rows = np.flatnonzero(true_mask(regex_match(dates, _NUMERIC_DATE)))
    if len(rows):
        parts = pc.extract_regex(dates.take(rows), _NUMERIC_DATE)
        first[rows] = int_values(pc.cast(pc.struct_field(parts, "first"), pa.int64()), -1)
        second[rows] = int_values(pc.cast(pc.struct_field(parts, "second"), pa.int64()), -1)
    return first, second
