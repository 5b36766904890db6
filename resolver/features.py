"""Column-level normalization: a validated tracks table → numpy feature columns, one row per track.

Parsing runs once per *distinct* raw value (titles and credits repeat a lot across deliveries) and the
results are scattered back with an index array, so the Python work is per distinct string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.limits import MAX_COMPARED_CHARS
from catalog_er.resolver.normalize import (
    ParsedTitle,
    fold,
    fold_column,
    is_placeholder_title,
    normalize_isrc,
    parse_artist_credit,
    parse_title,
)
from catalog_er.resolver.regex_kernels import regex_match, regex_replace
from catalog_er.resolver.repair import REPAIR_KINDS, RepairContext, repair_tracks
from catalog_er.resolver.repair_scraped import SCRAPED_SHAPE

Parsed = TypeVar("Parsed")

STRUCTURAL_REPAIRS = np.uint16(sum(1 << REPAIR_KINDS.index(kind)
                                   for kind in ("scraped_fields", "artist_from_title", "album_from_title")))
"""Repairs that move text between fields: a record they changed was smeared by its source."""
SMEARED_TITLE_WORDS = 9
"""A core title this long is taken as possibly holding other fields (few real titles have nine words or more;
those that do are only compared as whole records in addition to field by field)."""


@dataclass(frozen=True)
class TrackFeatures:
    """Normalized columns of ``n`` tracks; every array has shape ``(n,)``.

    Strings are numpy ``object`` arrays of ``str`` ("" when missing), each at most
    :data:`resolver.limits.MAX_COMPARED_CHARS` characters; numbers use NaN or -1 for missing.
    """

    track_id: np.ndarray
    title_core: np.ndarray
    """Folded core title; "" for placeholder titles ("Track 07"), which carry no evidence."""
    version_kind: np.ndarray
    version_detail: np.ndarray
    artist_names: np.ndarray
    """All credited names (display credit plus feat. names found in the title), sorted, space-joined."""
    primary_artist: np.ndarray
    isrc: np.ndarray
    duration_ms: np.ndarray
    """float64 milliseconds, NaN when missing."""
    album_core: np.ndarray
    label: np.ndarray
    release_year: np.ndarray
    """int32, -1 when missing or unparsable."""
    record_text: np.ndarray
    """Every text field as delivered (before repairs), folded and joined (title, credit, album, label): the
    record as one bag of words (:mod:`resolver.record_text`)."""
    smeared: np.ndarray
    """bool: the record's fields may not hold what their names say — :attr:`restructured`, or no artist credit.
    Pairs with such a record are compared as whole records too, and blocked on their words and length."""
    restructured: np.ndarray
    """bool: a title of :data:`SMEARED_TITLE_WORDS` words or more (a scraped record keeps everything in its title),
    or fields that a repair had to pull out of the title. Field comparisons of pairs with such a record are
    weighed apart from those of sound pairs (:data:`resolver.comparisons.TRACK_COMPARISONS`)."""
    repairs: np.ndarray
    """uint16 bitmask of the repairs that changed the row before it was normalized (bit ``k``:
    :data:`resolver.repair.REPAIR_KINDS` ``[k]``)."""
    title_cut: np.ndarray
    """bool: the title ends with an ellipsis ("…", "..."): a fixed-width export cut it, so it is compared with the
    start of other titles (:func:`resolver.compare.compare_pairs`)."""
    album_cut: np.ndarray
    """bool: the album ends with an ellipsis, as :attr:`title_cut`."""

    def __len__(self) -> int:
        return len(self.track_id)

    def take(self, rows: np.ndarray) -> TrackFeatures:
        """The features of ``rows`` (int64 indices), in that order."""
        return TrackFeatures(**{name: getattr(self, name)[rows] for name in self.__dataclass_fields__})

    def concat(self, other: TrackFeatures) -> TrackFeatures:
        """These rows followed by ``other``'s."""
        return TrackFeatures(**{name: np.concatenate([getattr(self, name), getattr(other, name)])
                                for name in self.__dataclass_fields__})

    def replace_rows(self, rows: np.ndarray, other: TrackFeatures) -> TrackFeatures:
        """A copy with ``rows`` set to ``other``'s rows (same length as ``rows``)."""
        columns = {}
        for name in self.__dataclass_fields__:
            column = getattr(self, name).copy()
            column[rows] = getattr(other, name)
            columns[name] = column
        return TrackFeatures(**columns)


def _map_distinct(column: pa.ChunkedArray | pa.Array, parse: Callable[[str], Parsed]) -> list[Parsed | None]:
    """Apply ``parse`` to each distinct non-null value; return one result per row (None where null)."""
    distinct = pc.unique(column)
    parsed = [None if value is None else parse(value) for value in distinct.to_pylist()]
    positions = pc.index_in(column, value_set=distinct).to_numpy(zero_copy_only=False)
    lookup = np.empty(len(parsed) + 1, dtype=object)
    lookup[: len(parsed)] = parsed
    positions = np.where(np.isnan(positions.astype(float)), len(parsed), positions).astype(np.int64)
    return lookup[positions].tolist()


def _present(values: list[Parsed | None], column: str) -> list[Parsed]:
    """``values`` of a required column, which validation guarantees is never null."""
    if any(value is None for value in values):
        raise ValueError(f"column {column!r} holds nulls: validate the table first (resolver.records)")
    return values  # type: ignore[return-value]  # checked above


def _strings(values: Sequence[str | None]) -> np.ndarray:
    """``(n,)`` object array of the values ("" for None), each cut to :data:`resolver.limits.MAX_COMPARED_CHARS`."""
    return np.array([v[:MAX_COMPARED_CHARS] if v else "" for v in values], dtype=object)


def _artist_key(names: Sequence[str]) -> str:
    return " ".join(sorted(set(names)))


def extract_track_features(tracks: pa.Table, *, context: RepairContext | None = None) -> TrackFeatures:
    """Repair, then normalize a validated tracks table (``resolver.records.TRACK_SCHEMA``) into feature columns.

    ``context``: what the catalog taught the repairs (:class:`resolver.repair.RepairContext`); a look-up of a few
    tracks passes its catalog's, and without one it is learned from ``tracks`` themselves. The values are
    repaired only for comparing: the caller's table keeps the originals."""
    repaired = repair_tracks(tracks, context if context is not None else RepairContext.learn(tracks))
    # the whole record's words come from the values as delivered (a repair that misreads a field leaves them),
    # less what only has a store page's shape (price, length, date, genre list: no words worth comparing)
    delivered = tracks.set_column(tracks.schema.get_field_index("title"), "title",
                                  regex_replace(tracks["title"], SCRAPED_SHAPE, " "))
    record_text = pc.binary_join_element_wise(
        *(fold_column(delivered[column]) for column in ("title", "artist", "album", "label")), " ",
        null_handling="skip")
    tracks = repaired.tracks
    titles = _present(_map_distinct(tracks["title"], _parse_unclosed_title), "title")
    credits = _map_distinct(tracks["artist"], parse_artist_credit)
    artist_names = []
    primary = []
    for title, credit in zip(titles, credits, strict=True):
        names = list(credit or ()) + list(title.featured)
        artist_names.append(_artist_key(names))
        primary.append(credit[0] if credit else (title.featured[0] if title.featured else ""))
    albums = _map_distinct(tracks["album"], lambda raw: parse_title(raw).core)
    labels = _map_distinct(tracks["label"], fold)
    isrcs = _map_distinct(tracks["isrc"], normalize_isrc)
    duration = tracks["duration_ms"].to_numpy(zero_copy_only=False).astype(np.float64)
    title_core = _strings(["" if is_placeholder_title(t.core) else t.core for t in titles])
    title_words = pc.utf8_length(regex_replace(pa.array(title_core.tolist(), pa.string()), r"[^ ]", ""))
    artist_key = _strings(artist_names)
    year_text = pc.utf8_slice_codeunits(tracks["release_date"], 0, 4)
    release_year = pc.cast(
        pc.if_else(regex_match(year_text, r"^[0-9]{4}$"), year_text, None), pa.int32()
    )
    restructured = ((title_words.to_numpy(zero_copy_only=False) + 1 >= SMEARED_TITLE_WORDS)
                    | ((repaired.kinds & STRUCTURAL_REPAIRS) != 0))
    return TrackFeatures(
        track_id=np.array(tracks["track_id"].to_pylist(), dtype=object),
        title_core=title_core,
        version_kind=_strings([t.version_kind for t in titles]),
        version_detail=_strings([t.version_detail for t in titles]),
        artist_names=artist_key,
        primary_artist=_strings(primary),
        isrc=_strings(isrcs),
        duration_ms=duration,
        album_core=_strings(albums),
        label=_strings(labels),
        release_year=pc.fill_null(release_year, -1).to_numpy(zero_copy_only=False).astype(np.int32),
        record_text=_strings(record_text.to_pylist()),
        smeared=restructured | (artist_key == ""),
        restructured=restructured,
        repairs=repaired.kinds,
        title_cut=_ends_cut(tracks["title"]),
        album_cut=_ends_cut(tracks["album"]),
    )


CUT_MARKER = r"(?:…|\.\.\.)\s*$"
"""An ellipsis ending a value (RE2): the value was cut short."""
UNCLOSED_GROUP = r"\s[(\[][^()\[\]]*$"
"""A bracket opened and never closed at the end of a title ("Touch the Hands (Touch the Ha"): an appended album or
tag that a fixed-width export cut (linear: a character class repeated once)."""
UNCLOSED = re.compile(UNCLOSED_GROUP)


def _parse_unclosed_title(title: str) -> ParsedTitle:
    """:func:`resolver.normalize.parse_title` of a title, whose unclosed bracket at the end (:data:`UNCLOSED_GROUP`)
    is closed when it holds a version tag ("Song (Live at Wemb": still live) and left out otherwise."""
    unclosed = UNCLOSED.search(title)
    if unclosed is None:
        return parse_title(title)
    closed = parse_title(title + (")" if unclosed.group().lstrip().startswith("(") else "]"))
    return closed if closed.version_kind else parse_title(title[: unclosed.start()])


def _ends_cut(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """``(n,)`` bool: the value ends with :data:`CUT_MARKER` (False where null)."""
    return np.asarray(pc.fill_null(regex_match(column, CUT_MARKER), False), dtype=bool)
