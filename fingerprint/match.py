"""Verify a candidate pair of fingerprints, and search an index of many.

Verification: every hash the two share gives a pair of anchor times ``(t_query, t_reference)``. The same
recording lines those pairs up on ``t_reference = scale · t_query + offset``; a different recording
scatters them. We try the time scales of a ±6% speed or tempo change, histogram the offsets, and count
the pairs on the best line. A verdict needs enough such pairs, a fair share of the shorter side's hashes,
and a best offset that clearly beats every other offset (two songs with the same drum pattern at the same
tempo align a little at every bar; a copy aligns at one offset only).

Copies of one master sit on the unit line (scale 1 within the fit's precision). A line at another scale
is one of many hypotheses searched, and a live take — whose tempo drifts and holds steady for a while —
lines up with the studio cut over such stretches, so a time-scaled match must show more: a larger share
and aligned hashes in most seconds of the stretch the two sides share.

A copy also lines up piece by piece: a recording cut into pieces and shuffled aligns one piece on the best line
and every other piece at an offset of its own, which the verdict refuses (:data:`MAX_DISPLACED_SHARE`). A
reversed copy shares the spectrum but not the order of its peaks, so its triplet hashes scatter.

:func:`relation` turns a verdict into what the resolver weighs (:class:`AudioRelation`): an aligned copy, a
partial or time-scaled alignment, no alignment of two usable fingerprints (two recordings, whatever the metadata
says), or too little audio to judge.

The thresholds were chosen on the audio benchmark's seed 20261126 (500 recordings, 19 distortions, live
takes, covers and all 124,750 pairs of distinct recordings); the README gives the check on other seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from catalog_er.fingerprint.landmarks import FRAME_SECONDS
from catalog_er.fingerprint.signature import Fingerprint

TIME_SCALES = np.round(np.arange(0.94, 1.0601, 0.0025), 4)
"""Candidate ratios of reference time to query time (speed or tempo changes up to ±6%: on 34 real songs, ±5%
tempo copies matched 0/34 with ±4% and 34/34 with ±6%, with no new match between distinct songs)."""
OFFSET_BIN_FRAMES = 3
"""Width of an offset histogram bin (35 ms) for the coarse search of the line."""
INLIER_FRAMES = 0.6
"""After refitting the line to the coarse inliers, a pair counts when within ±0.6 frame (±7 ms) of it: the
same recording lines up to the frame, a live take of the same song (notes ±30 ms) mostly does not. On 12
synthetic songs the best live take aligned 1.9% of its hashes and the worst 5 dB-SNR copy 2.3%."""
MAX_OCCURRENCES_PER_HASH = 16
"""A hash repeated more often than this in a reference (a drone, a loop) is not used to align."""
MIN_ALIGNED_HASHES = 12
"""Aligned hash pairs needed for a match; unrelated recordings align at most a handful by chance."""
RUNNER_UP_EXCLUSION_BINS = 10
"""Offsets within ±10 bins (±350 ms) of the best one are its own neighbourhood, not a rival."""
MIN_DISTINCTIVENESS = 2.0
"""The best offset must collect this many times the hashes of the best rival offset (distinct songs sharing
a drum pattern scored 1.0–1.85 on the benchmark, 5 dB-SNR copies 2.4 and up)…"""
CLEAR_SHARE = 0.1
"""…unless this share of the shorter side aligns, which no distinct recording reached (at most 0.04): a song
that repeats a section aligns at two offsets, and a copy of it must still match."""
MIN_ALIGNED_SHARE = 0.012
"""Share of the shorter fingerprint's hashes that must align on the unit line (5 dB-SNR copies: 1% below)."""
MIN_UNIT_OVERLAP_COVERAGE = 0.12
"""Share of the overlapping seconds that must hold an aligned hash on the unit line: a copy aligns all
along (5 dB-SNR copies 0.17 and up), an unrelated song that happens to line up aligns in a second or two
(three such matches in a 10,000-track index covered 0.07–0.09)."""
SEGMENT_SECONDS = 4.0
"""The query is also judged piece by piece: a copy lines up in every piece of this length…"""
MIN_SEGMENT_PAIRS = 8
"""…so a piece whose hashes pile up at another offset (this many shared pairs or more in one bin, twice those on
the line) is *displaced*: a copy re-cut in pieces and shuffled, where every piece aligns, each at its own
offset. A song repeating a section aligns its repeats at other offsets too, but each as well on the line."""
MAX_DISPLACED_SHARE = 0.2
"""Share of the pieces with evidence (on the line or displaced) that may be displaced in a match: on 30
synthetic 30 s songs, copies of them reached 0 (MP3, Opus, 10 dB SNR, trims, tempo) or 0.2 (5 dB SNR, ±2% speed);
the songs cut in 2–5 s pieces and shuffled 0.5 to 0.875 (15 of 30 matched without this rule, none with it)."""
UNIT_SCALE_TOLERANCE = 0.001
"""A fitted scale within this of 1 is the unit line (copies of one master fit within 0.0004 over 30 s)."""
MIN_SCALED_SHARE = 0.02
"""Share needed on a time-scaled line…"""
MIN_SCALED_OVERLAP_COVERAGE = 0.6
"""…and share of the overlapping seconds that hold an aligned hash (live takes reached 0.57, ±2% speed
copies 0.6 or more in 94% of cases)."""


MIN_USABLE_SECONDS = 5.0
"""A fingerprint shorter than this cannot say that two recordings differ: a copy of a 5 s stretch aligns 40 or
more hashes on the benchmark's 5 dB-SNR copies, three times :data:`MIN_ALIGNED_HASHES`."""
MIN_USABLE_HASHES_PER_SECOND = 10.0
"""…nor one this sparse (near silence, a lone drone or tone: music gives 60–140 hashes per second)."""
ALIGNED_MIN_SPAN = 0.5
"""A match on the unit line is an *aligned copy* when the stretch both sides share spans at least this share of
the longer one; less (a 30 s excerpt of a 4 min song) is a *partial* alignment."""


class AudioRelation(IntEnum):
    """What the audio of two deliveries says about them, weakest first (the resolver's audio levels).

    ``UNUSABLE``: a side's fingerprint is too short or too sparse to judge (:func:`is_usable`);
    ``NO_ALIGNMENT``: both are usable and they do not align — two different recordings, even when every metadata
    field agrees (a reversed or re-cut copy, another take of the song); ``PARTIAL``: they align on a time-scaled
    line (a speed or tempo change) or over a small part of the longer one (an excerpt); ``ALIGNED``: a copy of one
    master, aligned on the unit line over most of its length."""

    UNUSABLE = -1
    NO_ALIGNMENT = 0
    PARTIAL = 1
    ALIGNED = 2


def is_usable(fingerprint: Fingerprint) -> bool:
    """Whether ``fingerprint`` holds enough audio for "does not align" to mean "another recording"
    (:data:`MIN_USABLE_SECONDS`, :data:`MIN_USABLE_HASHES_PER_SECOND`)."""
    return (fingerprint.seconds >= MIN_USABLE_SECONDS
            and fingerprint.hashes_per_second >= MIN_USABLE_HASHES_PER_SECOND)


@dataclass(frozen=True)
class MatchResult:
    """Verdict on one pair. ``score``: query hashes that align; ``share``: score / hashes of the shorter side;
    ``offset_seconds``: where the query starts in the reference; ``time_scale``: reference seconds per query
    second; ``query_coverage`` / ``reference_coverage``: share of each side's seconds holding an aligned
    hash."""

    is_match: bool
    score: int
    share: float
    distinctiveness: float
    """Hashes at the best offset over those at the best rival offset (a copy aligns at one offset only;
    two songs sharing a drum pattern align about as well at every bar)."""
    offset_seconds: float
    time_scale: float
    query_coverage: float
    reference_coverage: float
    overlap_coverage: float = 0.0
    """Share of the seconds both sides cover (on the fitted line) in which a hash aligns."""
    overlap_span: float = 0.0
    """Length of the stretch both sides cover on the fitted line, over the longer side's length (0 to 1)."""
    displaced_share: float = 0.0
    """Share of the query's pieces that line up at another offset (:func:`_displaced_share`)."""

    @property
    def unit_scale(self) -> bool:
        """The fitted line runs at the original speed (copies of one master)."""
        return abs(self.time_scale - 1.0) <= UNIT_SCALE_TOLERANCE


_NO_MATCH = MatchResult(False, 0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def relation(query: Fingerprint, reference: Fingerprint, *, result: MatchResult | None = None) -> AudioRelation:
    """The :class:`AudioRelation` of two fingerprints: unusable, else the verdict of :func:`verify` and, for a
    match, whether it is an aligned copy or a partial / time-scaled one; ``result``: ``verify(query, reference)``
    when the caller has it already."""
    if not (is_usable(query) and is_usable(reference)):
        return AudioRelation.UNUSABLE
    result = result if result is not None else verify(query, reference)
    if not result.is_match:
        return AudioRelation.NO_ALIGNMENT
    if result.unit_scale and result.overlap_span >= ALIGNED_MIN_SPAN:
        return AudioRelation.ALIGNED
    return AudioRelation.PARTIAL


def is_match(score: int, share: float, distinctiveness: float, time_scale: float, overlap_coverage: float,
             displaced_share: float = 0.0) -> bool:
    """The verdict rule (see the module docstring and the thresholds above)."""
    if score < MIN_ALIGNED_HASHES or displaced_share > MAX_DISPLACED_SHARE:
        return False
    if distinctiveness < MIN_DISTINCTIVENESS and share < CLEAR_SHARE:
        return False
    if abs(time_scale - 1.0) <= UNIT_SCALE_TOLERANCE:
        return share >= MIN_ALIGNED_SHARE and overlap_coverage >= MIN_UNIT_OVERLAP_COVERAGE
    return share >= MIN_SCALED_SHARE and overlap_coverage >= MIN_SCALED_OVERLAP_COVERAGE


def _shared_pairs(query: Fingerprint, reference: Fingerprint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(query_hash_index, query_frames, reference_frames)`` of every shared hash occurrence (capped)."""
    order = np.argsort(reference.hashes, kind="stable")
    sorted_hashes = reference.hashes[order]
    start = np.searchsorted(sorted_hashes, query.hashes, side="left")
    stop = np.searchsorted(sorted_hashes, query.hashes, side="right")
    count = stop - start
    usable = (count > 0) & (count <= MAX_OCCURRENCES_PER_HASH)
    start, count = start[usable], count[usable]
    query_index = np.repeat(np.flatnonzero(usable), count)
    query_frames = np.repeat(query.frames[usable], count)
    ramp = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    reference_frames = reference.frames[order[np.repeat(start, count) + ramp]]
    return query_index, query_frames.astype(np.float64), reference_frames.astype(np.float64)


def _coverage(frames: np.ndarray, seconds: float) -> float:
    if seconds <= 0:
        return 0.0
    covered_seconds = np.unique(np.floor(frames * FRAME_SECONDS)).size
    return float(min(covered_seconds / max(np.ceil(seconds), 1.0), 1.0))


def _overlap(query: Fingerprint, reference: Fingerprint, scale: float, intercept_frames: float) -> tuple[float, float]:
    """``(start, stop)`` query seconds of the stretch that also lies inside the reference on the line."""
    offset_seconds = intercept_frames * FRAME_SECONDS
    return max(0.0, -offset_seconds / scale), min(query.seconds, (reference.seconds - offset_seconds) / scale)


def _overlap_coverage(query_frames: np.ndarray, start: float, stop: float) -> float:
    """Share of the overlapping query seconds ``[start, stop)`` holding an aligned hash."""
    if stop <= start:
        return 0.0
    covered_seconds = np.unique(np.floor(query_frames * FRAME_SECONDS - start)).size
    return float(min(covered_seconds / max(np.ceil(stop - start), 1.0), 1.0))


def _displaced_share(query_frames: np.ndarray, residual: np.ndarray, aligned: np.ndarray, start: float,
                     stop: float) -> float:
    """Share of the query's :data:`SEGMENT_SECONDS` pieces with evidence whose shared hashes line up at another
    offset rather than on the line (see :data:`MIN_SEGMENT_PAIRS`); ``residual``: each shared pair's distance
    from the line in frames, ``aligned``: the pairs on it; ``start``/``stop``: the query seconds the reference
    also covers on the line — only pieces inside it are judged (beyond a trimmed copy's end, a song's repeated
    section rightly lines up elsewhere)."""
    seconds = query_frames * FRAME_SECONDS
    inside = (seconds >= start) & (seconds < stop)
    segment = np.floor((seconds - start) / SEGMENT_SECONDS).astype(np.int64)
    n_segments = int(segment[inside].max(initial=0)) + 1
    on_line = np.bincount(segment[aligned & inside], minlength=n_segments)
    away = inside & (np.abs(residual) > RUNNER_UP_EXCLUSION_BINS * OFFSET_BIN_FRAMES)
    if not away.any():
        return 0.0
    offset_bin = np.floor(residual[away] / OFFSET_BIN_FRAMES).astype(np.int64)
    keys, counts = np.unique(segment[away] * (1 << 32) + (offset_bin - offset_bin.min()), return_counts=True)
    off_line = np.zeros(n_segments, dtype=np.int64)
    np.maximum.at(off_line, keys >> 32, counts)
    displaced = (off_line >= MIN_SEGMENT_PAIRS) & (off_line >= 2 * on_line)
    with_evidence = displaced | (on_line >= MIN_SEGMENT_PAIRS)
    return float(displaced.sum() / max(int(with_evidence.sum()), 1))


def _refit(query_frames: np.ndarray, reference_frames: np.ndarray, scale: float) -> tuple[float, float]:
    """Least-squares line through the coarse inliers (twice, dropping pairs off by more than 2 frames).

    A fitted slope outside the searched scales (inliers bunched in a few frames give any slope) is not a
    refinement: the coarse line is kept then."""
    intercept = float(np.median(reference_frames - scale * query_frames)) if len(query_frames) else 0.0
    for _ in range(2):
        keep = np.abs(reference_frames - (scale * query_frames + intercept)) <= 2 * INLIER_FRAMES
        if keep.sum() < 3 or np.ptp(query_frames[keep]) == 0:
            break
        fitted_scale, fitted_intercept = (float(v) for v in np.polyfit(query_frames[keep], reference_frames[keep], 1))
        if not TIME_SCALES[0] <= fitted_scale <= TIME_SCALES[-1]:
            break
        scale, intercept = fitted_scale, fitted_intercept
    return scale, intercept


def verify(query: Fingerprint, reference: Fingerprint) -> MatchResult:
    """Do ``query`` and ``reference`` carry the same recording? (see the module docstring)."""
    query_index, query_frames, reference_frames = _shared_pairs(query, reference)
    if len(query_frames) < MIN_ALIGNED_HASHES:
        return _NO_MATCH
    offsets = reference_frames[None, :] - TIME_SCALES[:, None] * query_frames[None, :]
    bins = np.floor(offsets / OFFSET_BIN_FRAMES).astype(np.int64)
    lowest = bins.min()
    width = int(bins.max() - lowest) + 2
    flat = (np.arange(len(TIME_SCALES))[:, None] * width + (bins - lowest)).ravel()
    histogram = np.bincount(flat, minlength=len(TIME_SCALES) * width).reshape(len(TIME_SCALES), width)
    histogram = histogram[:, :-1] + histogram[:, 1:]  # a line may straddle two bins
    scale_index, offset_bin = (int(i) for i in np.unravel_index(int(np.argmax(histogram)), histogram.shape))
    row = histogram[scale_index].copy()
    best = int(row[offset_bin])
    row[max(offset_bin - RUNNER_UP_EXCLUSION_BINS, 0) : offset_bin + RUNNER_UP_EXCLUSION_BINS + 1] = 0
    distinctiveness = best / max(int(row.max(initial=0)), 1)
    coarse_scale = float(TIME_SCALES[scale_index])
    low = (offset_bin + lowest) * OFFSET_BIN_FRAMES
    near = (offsets[scale_index] >= low - OFFSET_BIN_FRAMES) & (offsets[scale_index] < low + 3 * OFFSET_BIN_FRAMES)
    scale, intercept = _refit(query_frames[near], reference_frames[near], coarse_scale)
    residual = reference_frames - (scale * query_frames + intercept)
    aligned = np.abs(residual) <= INLIER_FRAMES
    score = int(np.unique(query_index[aligned]).size)
    shorter = max(min(len(query.hashes), len(reference.hashes)), 1)
    share = score / shorter
    start, stop = _overlap(query, reference, scale, intercept)
    overlap_coverage = _overlap_coverage(query_frames[aligned], start, stop)
    longer = max(query.seconds, reference.seconds / scale, 1e-9)
    displaced_share = _displaced_share(query_frames, residual, aligned, start, stop)
    return MatchResult(
        is_match=is_match(score, share, distinctiveness, scale, overlap_coverage, displaced_share),
        score=score,
        share=share,
        distinctiveness=distinctiveness,
        offset_seconds=intercept * FRAME_SECONDS,
        time_scale=scale,
        query_coverage=_coverage(query_frames[aligned], query.seconds),
        reference_coverage=_coverage(reference_frames[aligned], reference.seconds),
        overlap_coverage=overlap_coverage,
        overlap_span=float(min(max(stop - start, 0.0) / longer, 1.0)),
        displaced_share=displaced_share,
    )
