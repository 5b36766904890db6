"""Vectorized per-signal comparisons over arrays of pairs.

Input: :class:`~resolver.features.TrackFeatures` and two ``(n_pairs,)`` int64 row-index arrays.
Output: :class:`PairSignals`, one array per signal, all of shape ``(n_pairs,)``. String similarities use
rapidfuzz ``process.cpdist`` (element-wise, multi-threaded), never a Python loop per pair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from catalog_er.resolver.audio_evidence import AudioEvidence
from catalog_er.resolver.features import TrackFeatures
from catalog_er.resolver.normalize import version_pattern
from catalog_er.resolver.record_text import RecordWords, TokenStatistics
from catalog_er.resolver.regex_kernels import regex_match

MISSING = -1
"""Code of a categorical signal when either side lacks the value."""


@dataclass(frozen=True)
class PairSignals:
    """Raw evidence for each pair. Similarities are in [0, 1], NaN when either side is missing."""

    title_similarity: np.ndarray
    """float32, rapidfuzz normalized Indel similarity of the core titles."""
    artist_similarity: np.ndarray
    """float32, token-set similarity of all credited names (NaN if a credit is missing)."""
    isrc_match: np.ndarray
    """int8: 1 same valid ISRC, 0 different valid ISRCs, -1 missing on a side."""
    duration_delta_ms: np.ndarray
    """float64 absolute difference in milliseconds, NaN when missing."""
    version_match: np.ndarray
    """int8: 1 same version (both plain, or the same tag), 0 conflicting version tags, -1 a side has no title."""
    album_match: np.ndarray
    """int8: 1 same core album title, 0 different, -1 missing."""
    release_year_match: np.ndarray
    """int8: 1 same year, 0 different, -1 missing."""
    audio_match: np.ndarray
    """int8 index into :data:`resolver.audio_evidence.AUDIO_LEVELS` (0 no alignment, 1 partial or time-scaled,
    2 aligned copy), -1 when a side has no usable audio."""
    record_similarity: np.ndarray
    """float32 IDF-weighted cosine of the two whole records' words (:mod:`resolver.record_text`); NaN unless a
    side may be smeared (:attr:`resolver.features.TrackFeatures.smeared`) and both have words."""
    restructured: np.ndarray
    """bool: a side's fields were restructured (:attr:`resolver.features.TrackFeatures.restructured`)."""

    def __len__(self) -> int:
        return len(self.title_similarity)


SignalAdjuster = Callable[[PairSignals, np.ndarray, np.ndarray], PairSignals]
"""``(signals, left, right) → signals``: replaces measured signals with better evidence (artist clusters)."""

_PARALLEL_PAIRS = 10_000
"""From this many pairs on, rapidfuzz spreads a call over all cores."""
_CHUNK_PAIRS = 1_000_000
"""Pairs per rapidfuzz call: bounds the temporary Python lists to ~16 MB each."""


def string_similarity(left: np.ndarray, right: np.ndarray, scorer) -> np.ndarray:
    """Element-wise similarity in [0, 1] of two equal-length object arrays of strings (float32)."""
    scores = np.empty(len(left), dtype=np.float32)
    for start in range(0, len(left), _CHUNK_PAIRS):
        stop = start + _CHUNK_PAIRS
        workers = -1 if len(left) >= _PARALLEL_PAIRS else 1  # threads cost more than a few pairs take
        scores[start:stop] = process.cpdist(list(left[start:stop]), list(right[start:stop]), scorer=scorer,
                                            workers=workers, dtype=np.float32)
    return scores / np.float32(100.0)


def value_codes(values: np.ndarray) -> np.ndarray:
    """``(n,)`` int32 code per distinct string of ``values`` (``(n,)`` object array), -1 for "" (missing): pairs
    compare codes, not strings (an object comparison over millions of pairs costs seconds)."""
    codes = pc.dictionary_encode(pa.array(values, pa.string())).indices.to_numpy(zero_copy_only=False)
    codes = codes.astype(np.int32)
    codes[values == ""] = -1
    return codes


def _categorical_match(codes: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``(n_pairs,)`` int8: 1 where the rows' :func:`value_codes` are equal, 0 where not, -1 where a side lacks
    the value."""
    first, second = codes[left], codes[right]
    out = (first == second).astype(np.int8)
    out[(first < 0) | (second < 0)] = MISSING
    return out


def _detail_conflict(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Live venues or remixers that are both named and clearly different."""
    both = (left != "") & (right != "")
    conflict = np.zeros(len(left), dtype=bool)
    if both.any():
        similarity = string_similarity(left[both], right[both], fuzz.token_set_ratio)
        conflict[both] = similarity < 0.8
    return conflict


def compare_pairs(features: TrackFeatures, left: np.ndarray, right: np.ndarray,
                  audio: AudioEvidence | None = None, *, statistics: TokenStatistics) -> PairSignals:
    """Compute every signal for the pairs ``(left[i], right[i])``; audio only where ``audio`` is given;
    ``statistics``: the catalog's word frequencies, which weigh the whole-record comparison."""
    f = features
    has_title, has_artist = f.title_core != "", f.artist_names != ""
    title_similarity = string_similarity(f.title_core[left], f.title_core[right], fuzz.ratio)
    title_similarity[~(has_title[left] & has_title[right])] = np.nan
    _compare_cut_starts(f.title_core, f.title_cut, left, right, title_similarity)
    artist_similarity = string_similarity(f.artist_names[left], f.artist_names[right], fuzz.token_set_ratio)
    artist_similarity[~(has_artist[left] & has_artist[right])] = np.nan
    kind = value_codes(f.version_kind)
    same_kind = kind[left] == kind[right]
    version_match = (same_kind & ~_detail_conflict(f.version_detail[left], f.version_detail[right])).astype(np.int8)
    untitled = ~has_title & (kind < 0)  # no title ("Track 07"): no word on the version either
    version_match[untitled[left] | untitled[right]] = MISSING
    _unsmear_versions(f, kind, left, right, version_match)
    record = np.full(len(left), np.nan, dtype=np.float32)
    smeared = np.flatnonzero(f.smeared[left] | f.smeared[right])
    if len(smeared):  # field by field says it all for the other pairs
        words = RecordWords(f.record_text, np.concatenate([left[smeared], right[smeared]]), statistics)
        record[smeared] = words.similarity(left[smeared], right[smeared])
        title_similarity[smeared], artist_similarity[smeared] = _found_in_records(
            f, words, left[smeared], right[smeared], title_similarity[smeared], artist_similarity[smeared])
    return PairSignals(
        title_similarity=title_similarity,
        artist_similarity=artist_similarity,
        isrc_match=_categorical_match(value_codes(f.isrc), left, right),
        duration_delta_ms=np.abs(f.duration_ms[left] - f.duration_ms[right]),
        version_match=version_match,
        album_match=_album_match(f, left, right),
        release_year_match=_categorical_match(f.release_year, left, right),
        audio_match=audio.match_levels(left, right) if audio is not None else np.full(len(left), MISSING, np.int8),
        record_similarity=record,
        restructured=f.restructured[left] | f.restructured[right],
    )


MIN_CUT_CHARS = 4
"""A value cut shorter than this says too little to be compared with another's start."""


def _cut_starts(values: np.ndarray, cut: np.ndarray, left: np.ndarray, right: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """For the pairs one side of which is cut (``cut``: ``(n,)`` bool) and long enough (:data:`MIN_CUT_CHARS`):
    ``(pairs, similarity)`` — their positions, and the similarity (rapidfuzz ``ratio`` / 100) of the cut value
    with the other's value cut to the same length. ``values``: ``(n,)`` folded strings."""
    either = np.flatnonzero(cut[left] | cut[right])
    if not len(either):
        return either, np.empty(0, np.float32)
    left_cut = cut[left[either]]
    short = values[np.where(left_cut, left[either], right[either])]
    whole = values[np.where(left_cut, right[either], left[either])]
    lengths = np.array([len(value) for value in short.tolist()], dtype=np.int64)
    kept = (lengths >= MIN_CUT_CHARS) & np.array([bool(value) for value in whole.tolist()], dtype=bool)
    starts = np.array([value[:n] for value, n in zip(whole[kept].tolist(), lengths[kept].tolist(), strict=True)],
                      dtype=object)
    return either[kept], string_similarity(short[kept], starts, fuzz.ratio)


def _compare_cut_starts(values: np.ndarray, cut: np.ndarray, left: np.ndarray, right: np.ndarray,
                        similarity: np.ndarray) -> None:
    """Raise, in place, the similarity of pairs with a cut side to how well the cut value matches the start of the
    other (× :data:`CONTAINED_SIMILARITY`: what is visible agrees, the rest is unknown)."""
    pairs, start_similarity = _cut_starts(values, cut, left, right)
    similarity[pairs] = np.fmax(similarity[pairs], start_similarity * np.float32(CONTAINED_SIMILARITY))


CUT_ALBUM_SAME = 0.95
"""A cut album whose visible start matches the other album this closely is the same album."""


def _album_match(f: TrackFeatures, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``album_match``: the core albums' codes, a cut album matching the other's start counting as the same."""
    match = _categorical_match(value_codes(f.album_core), left, right)
    pairs, start_similarity = _cut_starts(f.album_core, f.album_cut, left, right)
    match[pairs[start_similarity >= np.float32(CUT_ALBUM_SAME)]] = 1
    return match


def _unsmear_versions(features: TrackFeatures, kind: np.ndarray, left: np.ndarray, right: np.ndarray,
                      version_match: np.ndarray) -> None:
    """Conflicts where one side has a version tag and the other, whose fields may be smeared, has none parsed but
    names that version somewhere in its text ("Lonely - Live in Paris 2:53 2018-05-03 …"): set to same, in
    place (a tag the title parser could not isolate is no evidence of another version). ``kind``: the
    :func:`value_codes` of ``features.version_kind``."""
    conflict = np.flatnonzero(version_match == 0)
    for untagged, tagged in ((left[conflict], right[conflict]), (right[conflict], left[conflict])):
        suspect = (kind[untagged] < 0) & (kind[tagged] >= 0) & features.smeared[untagged]
        tag_codes, first = np.unique(kind[tagged[suspect]], return_index=True)
        for code, row in zip(tag_codes.tolist(), tagged[suspect][first].tolist(), strict=True):
            pattern = version_pattern(features.version_kind[row])
            if pattern is None:
                continue
            pairs = np.flatnonzero(suspect & (kind[tagged] == code))
            texts = pa.array(features.record_text[untagged[pairs]].tolist(), pa.string())
            named = np.asarray(regex_match(texts, pattern), dtype=bool)
            version_match[conflict[pairs[named]]] = 1


CONTAINED_SIMILARITY = 0.9
"""What a title or credit found word for word in the other record's text counts as (a strong agreement short of
the exact one: it may have been found in another field)."""


def _found_in_records(features: TrackFeatures, words: RecordWords, left: np.ndarray, right: np.ndarray,
                      title: np.ndarray, artist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Title and artist similarities of pairs with a smeared side, each raised to what it is when one record's
    title (credit) is looked for in the other's whole text, both ways (:meth:`resolver.record_text.RecordWords.
    containment_of` × :data:`CONTAINED_SIMILARITY`): a title holding the artist, or a credit left in the title,
    still agrees. A pair missing the field stays null unless all of the other's words are found."""
    for part, similarity in ((features.title_core, title), (features.artist_names, artist)):
        need = np.flatnonzero(~(similarity >= np.float32(CONTAINED_SIMILARITY)))  # a find could raise these
        found = words.containment_of(part, left[need], right[need], both_ways=True)
        # a side without the field: only a complete find counts (not finding the words, or only some, in a text
        # that may be a placeholder or mistyped says nothing either way)
        complete = found >= np.float32(1.0 - 1e-6)
        found *= np.float32(CONTAINED_SIMILARITY)
        current = similarity[need]
        similarity[need] = np.where(np.isnan(current) & ~complete, current, np.fmax(current, found))
    _credit_spelled_in_record(features, left, right, title, artist)
    return title, artist


MIN_SPELLED_CREDIT_CHARS = 5
"""Credits shorter than this are not looked for letter by letter in another record (a short name occurs by chance)."""
MAX_SPELLED_CREDIT_CHARS = 100
"""Credits longer than this (a list of names, or garbage) are not looked for letter by letter either: finding a text
of ``m`` characters in one of ``n`` costs about ``m² · n / 64`` steps (rapidfuzz ``partial_ratio``)."""
SPELLED_CREDIT_SCORE = 0.85
"""How closely a credit must occur in the other record's text, letter by letter (rapidfuzz ``partial_ratio``
/ 100, an Indel similarity: one wrong letter costs ``1/len``): one wrong letter in a name of seven."""


def _credit_spelled_in_record(features: TrackFeatures, left: np.ndarray, right: np.ndarray, title: np.ndarray,
                              artist: np.ndarray) -> None:
    """Pairs one side of which has no credit, whose titles agree (>= :data:`CONTAINED_SIMILARITY`): the other's
    credit (of :data:`MIN_SPELLED_CREDIT_CHARS` to :data:`MAX_SPELLED_CREDIT_CHARS`) looked for letter by letter in
    this side's whole text (a scraped page's artist its parser did not know, mistyped: "Coudms" for "Coudus");
    found closely enough (:data:`SPELLED_CREDIT_SCORE`), the artist similarity is the score ×
    :data:`CONTAINED_SIMILARITY`, in place. Found no better, it stays null (no evidence either way)."""
    names = features.artist_names
    has_credit = names != ""
    one_sided = (np.isnan(artist) & (title >= np.float32(CONTAINED_SIMILARITY))
                 & (has_credit[left] != has_credit[right]))
    pairs = np.flatnonzero(one_sided)
    if not len(pairs):
        return
    credited_left = has_credit[left[pairs]]
    credited = np.where(credited_left, left[pairs], right[pairs])
    other = np.where(credited_left, right[pairs], left[pairs])
    credit = names[credited]
    sized = np.array([MIN_SPELLED_CREDIT_CHARS <= len(name) <= MAX_SPELLED_CREDIT_CHARS for name in credit.tolist()],
                     dtype=bool)
    pairs, credit, other = pairs[sized], credit[sized], other[sized]
    score = string_similarity(credit, features.record_text[other], fuzz.partial_ratio)
    found = score >= np.float32(SPELLED_CREDIT_SCORE)
    artist[pairs[found]] = score[found] * np.float32(CONTAINED_SIMILARITY)
