"""Normalized artist columns and the artist ↔ track links the artist signals are built from.

Name keys: :func:`resolver.normalize.fold` (NFKC, transliteration of every script to Latin with
``anyascii``, lower case, "&" → "and", punctuation → space), then "the" dropped wherever it stands and the
spaces removed, so "The Weeknd" / "Weeknd", "Кино" / "Kino", "Maddie.Adams" / "maddie adams" and
"White & Fenfield" / "White and Fenfield" share one key.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.features import _map_distinct
from catalog_er.resolver.limits import MAX_COMPARED_CHARS
from catalog_er.resolver.normalize import fold, is_placeholder_artist

_LATIN_END = 0x24F
"""Last code point of Latin Extended-B: letters above it are another script (Cyrillic, Hangul, kana …)."""


def native_name_key(name: str) -> str:
    """The name in its own script, case-folded, with spaces and punctuation removed ("" for placeholders).

    Romanization loses what a syllable or a kanji carries: "약속소녀" and "약속소년" are two different acts
    that romanize one letter apart ("yaksogsonyeo" / "yaksogsonyeon"), but differ in a whole syllable of
    four. Names written in the same non-Latin script are compared in it (see :func:`compare_names`). At most
    :data:`resolver.limits.MAX_COMPARED_CHARS` characters."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())[:MAX_COMPARED_CHARS]


def is_non_latin(native_key: str) -> bool:
    """Whether a native key holds letters of a script other than Latin."""
    return any(ord(ch) > _LATIN_END for ch in native_key)


def artist_name_key(name: str) -> str:
    """The comparison key of an artist name (see the module docstring), at most
    :data:`resolver.limits.MAX_COMPARED_CHARS` characters; "" for placeholders."""
    folded = fold(name)
    if is_placeholder_artist(folded):
        return ""
    words = [word for word in folded.split() if word != "the"]
    return "".join(words or folded.split())[:MAX_COMPARED_CHARS]


@dataclass(frozen=True)
class ArtistFeatures:
    """Normalized columns of ``n`` artists; every array has shape ``(n,)``.

    Strings are numpy ``object`` arrays ("" when missing).
    """

    artist_id: np.ndarray
    name: np.ndarray
    """The name as delivered (for people reading the evidence)."""
    name_key: np.ndarray
    """:func:`artist_name_key` of the name."""
    native_key: np.ndarray
    """:func:`native_name_key` of the name, "" when the name is in Latin script (the name key serves)."""
    genres: np.ndarray
    """Folded genres, sorted and joined by "|" ("" when none)."""
    genre_bits: np.ndarray
    """``(n, words)`` uint64: bit ``g`` set when the artist has genre ``g`` of the table's vocabulary."""
    country: np.ndarray
    """Upper-case country code."""

    def __len__(self) -> int:
        return len(self.artist_id)


def extract_artist_features(artists: pa.Table) -> ArtistFeatures:
    """Normalize a validated artists table (``resolver.records.ARTIST_SCHEMA``)."""
    genre_sets = [sorted({fold(g) for g in (values or []) if g and fold(g)})
                  for values in artists["genres"].to_pylist()]
    country = pc.utf8_upper(pc.utf8_trim_whitespace(pc.fill_null(artists["country"], "")))
    return ArtistFeatures(
        artist_id=np.array(artists["artist_id"].to_pylist(), dtype=object),
        name=np.array(artists["name"].to_pylist(), dtype=object),
        name_key=np.array(_map_distinct(artists["name"], artist_name_key), dtype=object),
        native_key=np.array(_map_distinct(artists["name"], _non_latin_key), dtype=object),
        genres=np.array(["|".join(genres) for genres in genre_sets], dtype=object),
        genre_bits=_genre_bits(genre_sets),
        country=np.array(country.to_pylist(), dtype=object),
    )


def _non_latin_key(name: str) -> str:
    native = native_name_key(name)
    return native if is_non_latin(native) else ""


def _genre_bits(genre_sets: list[list[str]]) -> np.ndarray:
    vocabulary = {genre: code for code, genre in enumerate(sorted({g for genres in genre_sets for g in genres}))}
    bits = np.zeros((len(genre_sets), max(1, -(-len(vocabulary) // 64))), dtype=np.uint64)
    for row, genres in enumerate(genre_sets):
        for genre in genres:
            word, bit = divmod(vocabulary[genre], 64)
            bits[row, word] |= np.uint64(1) << np.uint64(bit)
    return bits


@dataclass(frozen=True)
class TrackArtistLinks:
    """Which artists each track credits, as flat int64 arrays of the same length ``(n_links,)``.

    ``track_row``/``artist_row`` index the tracks and artists tables; ``primary`` marks the first credited
    id of a track. Credited ids not in the artists table are left out (``unknown_ids`` counts them).
    """

    track_row: np.ndarray
    artist_row: np.ndarray
    primary: np.ndarray
    unknown_ids: int


def link_tracks_to_artists(tracks: pa.Table, artists: pa.Table) -> TrackArtistLinks:
    """Explode ``tracks.artist_ids`` and look every id up in ``artists.artist_id`` (vectorized in Arrow)."""
    column = tracks["artist_ids"].combine_chunks() if tracks.num_rows else pa.array([], pa.list_(pa.string()))
    parents = pc.list_parent_indices(column).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(column)
    position = pc.index_in(flat, value_set=artists["artist_id"].combine_chunks())
    known = position.is_valid().to_numpy(zero_copy_only=False)
    primary = np.concatenate(([True], parents[1:] != parents[:-1])) if len(parents) else np.empty(0, bool)
    artist_row = pc.fill_null(position, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return TrackArtistLinks(track_row=parents[known], artist_row=artist_row[known], primary=primary[known],
                            unknown_ids=int((~known).sum()))
