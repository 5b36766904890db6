"""Same work, other recording: key- and tempo-invariant comparison of two songs' harmony and melody.

Fingerprints (:mod:`fingerprint.signature`) recognise one *recording*; a live take, a cover, a re-recording in
another key or tempo shares no spectral peaks with it. This module gives the *work-level* signal: whether two
recordings play the same song. Such pairs are never merged; the evidence names the relation.

:func:`work_profile` (the only step that needs librosa, imported lazily so the CLI starts without it):

1. at most the first :data:`ANALYSIS_SECONDS` of the audio (one excerpt keeps the cost bounded);
2. beats (``librosa.beat.beat_track`` on the onset strength);
3. chroma (``librosa.feature.chroma_stft``; ``chroma_cqt`` measured 2x slower and less robust to a change of
   instruments on the synthetic covers), its per-frame energy kept, medians per beat (``librosa.util.sync``):
   beat-synchronous, hence tempo-invariant;
4. each beat scaled so its strongest pitch class is 255 (uint8); beats 30 dB below the median beat are zeroed.

:func:`same_work_score` (numpy only) follows Serrà, Serra & Andrzejak (2009), "Cross recurrence quantification
for cover song identification": the two beat-chroma sequences are embedded in windows of
:data:`EMBEDDING_BEATS` beats, a binary cross-recurrence plot marks the mutual nearest neighbours (the closest
:data:`NEIGHBOUR_FRACTION` of the other song's windows, both ways), and a Smith–Waterman-style local alignment
(Qmax, the recursion of ``librosa.sequence.rqa`` with knight moves and gap penalties) finds the longest stretch
the two songs follow each other. The score is that length over the shorter song's length (so it does not grow
with the songs' length), in [0, 1], the best of the 12 chroma rotations (key-invariant: a transposed cover).

Known limit (``make bench-same-work``): most misses are beat-tracking octave errors — one recording tracked at
half, two thirds or double the other's beat rate — which no beat-synchronous comparison at one rate recovers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from catalog_er.fingerprint.landmarks import ANALYSIS_RATE_HZ

__all__ = [
    "ANALYSIS_SECONDS",
    "EMBEDDING_BEATS",
    "MIN_BEATS",
    "SAME_WORK_RELATION",
    "SAME_WORK_THRESHOLD",
    "WorkProfile",
    "is_same_work",
    "same_work_score",
    "work_profile",
]

ANALYSIS_SECONDS: Final = 120.0  # the first two minutes: verses and a chorus of most songs; bounds the cost
EMBEDDING_BEATS: Final = 9  # windows of 9 beats (~2 bars) compared: one beat's chord is shared by many songs
MIN_BEATS: Final = 32  # 8 bars of 4/4: fewer beats give too short a sequence to align
NEIGHBOUR_FRACTION: Final = 0.1  # each window recurs with the closest 10 % of the other song's windows, mutually
GAP_ONSET: Final = 5.0  # Qmax penalty for leaving the recurrence (Serrà et al. 2009)
GAP_EXTEND: Final = 0.5  # Qmax penalty for each further step off it
SAME_WORK_RELATION: Final = "same work, other recording"  # how the evidence names the relation (never a merge)
# Dev seed of tests/benchmarks/bench_same_work.py: precision 1.000 and recall 0.9025 for every threshold in
# [0.70, 0.80]; 0.75 is the middle of that plateau (the lowest threshold with precision >= 0.99 there is 0.60).
SAME_WORK_THRESHOLD: Final = 0.75
_FRAME_SECONDS: Final = 0.186  # chroma FFT window (2048 samples at 11025 Hz); hop = a quarter of it
_QUIET_BEAT_RATIO: Final = 1e-3  # a beat whose chroma peak is 30 dB under the median beat's is silence
_N_PITCH_CLASSES: Final = 12
_SILENCE_PEAK: Final = 1e-4  # -80 dBFS: an excerpt that never gets louder is silence (no beats, no pitch)


@dataclass(frozen=True)
class WorkProfile:
    """What a recording plays, beat by beat, to compare with other recordings (:func:`same_work_score`).

    Attributes:
        chroma: uint8 ``(n_beats, 12)``, pitch classes C..B per beat, each beat's strongest class 255 (a silent
            beat all 0). 12 bytes per beat: ~3 KB for two minutes at 120 bpm.
        tempo_bpm: the beat tracker's tempo estimate, in beats per minute (0 when no beat was found).
        analysed_seconds: how much audio the profile covers, in seconds (at most :data:`ANALYSIS_SECONDS`).
    """

    chroma: np.ndarray
    tempo_bpm: float
    analysed_seconds: float

    @property
    def n_beats(self) -> int:
        """Number of beats (rows of ``chroma``)."""
        return int(self.chroma.shape[0])

    @property
    def n_sounding_beats(self) -> int:
        """Number of beats that are not silent (rows of ``chroma`` not all 0)."""
        return int(np.count_nonzero(self.chroma.any(axis=1)))

    @property
    def is_usable(self) -> bool:
        """True when the profile has at least :data:`MIN_BEATS` beats with sound (enough to align)."""
        return self.n_sounding_beats >= MIN_BEATS


def work_profile(samples: np.ndarray, *, rate_hz: int = ANALYSIS_RATE_HZ) -> WorkProfile:
    """Beat-synchronous chroma of the first :data:`ANALYSIS_SECONDS` of ``samples``.

    Args:
        samples: mono audio, float ``(n_samples,)`` in [-1, 1], e.g. what :func:`fingerprint.audio.decode` returns.
        rate_hz: sample rate of ``samples``, in Hz, in [8000, 192000]; default the analysis rate (11025 Hz).

    Returns:
        the :class:`WorkProfile`; deterministic (same samples → same profile). Check ``is_usable`` before comparing.

    Raises:
        ValueError: ``samples`` is not a finite 1-D float array, or ``rate_hz`` is out of range.
    """
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, int) or not 8000 <= rate_hz <= 192_000:
        raise ValueError(f"rate_hz must be an int in [8000, 192000], got {rate_hz!r}")
    samples = np.asarray(samples)
    if samples.ndim != 1 or not np.issubdtype(samples.dtype, np.floating):
        raise ValueError(f"samples must be a 1-D float array, got shape {samples.shape} dtype {samples.dtype}")
    excerpt = np.ascontiguousarray(samples[: round(ANALYSIS_SECONDS * rate_hz)], dtype=np.float32)
    if not np.isfinite(excerpt).all():
        raise ValueError("samples contain NaN or infinity")
    analysed_seconds = excerpt.size / rate_hz
    n_fft = 1 << round(math.log2(_FRAME_SECONDS * rate_hz))
    hop = n_fft // 4
    if excerpt.size < n_fft or float(np.abs(excerpt).max()) < _SILENCE_PEAK:
        return WorkProfile(np.zeros((0, _N_PITCH_CLASSES), np.uint8), 0.0, analysed_seconds)

    import librosa  # lazily: librosa (numba, llvmlite) costs seconds to import; the CLI starts without it

    onset_envelope = librosa.onset.onset_strength(y=excerpt, sr=rate_hz, hop_length=hop, n_fft=n_fft)
    tempo, beats = librosa.beat.beat_track(onset_envelope=onset_envelope, sr=rate_hz, hop_length=hop)
    energy = librosa.feature.chroma_stft(y=excerpt, sr=rate_hz, n_fft=n_fft, hop_length=hop, norm=None)
    per_beat = librosa.util.sync(energy, beats.tolist(), aggregate=np.median).T  # (n_beats + 1, 12), edges included
    return WorkProfile(
        chroma=_quantise(per_beat),
        tempo_bpm=float(np.atleast_1d(tempo)[0]) if beats.size else 0.0,
        analysed_seconds=analysed_seconds,
    )


def _quantise(per_beat: np.ndarray) -> np.ndarray:
    """Scale each beat's chroma so its peak is 255 and round to uint8; near-silent beats become all 0."""
    peak = per_beat.max(axis=1, keepdims=True)
    reference = float(np.median(peak)) if peak.size else 0.0
    sounding = peak > max(reference * _QUIET_BEAT_RATIO, np.finfo(np.float32).tiny)
    scaled = np.where(sounding, per_beat / np.where(sounding, peak, 1.0), 0.0)
    return np.round(scaled * 255).astype(np.uint8)


def same_work_score(a: WorkProfile, b: WorkProfile) -> float:
    """How much of the shorter song the other plays too, in the best key: in [0, 1]; symmetric.

    Around 1 for another recording of the same song (live take, cover, re-recording, in any key and at any
    tempo), lower for unrelated songs; compare with :data:`SAME_WORK_THRESHOLD` (:func:`is_same_work`). Cost:
    O(12 · n_a · n_b) for ``n_a``, ``n_b`` beats; ~4–6 ms for two one-minute songs (~100 beats each).

    Raises:
        ValueError: a profile is not usable (fewer than :data:`MIN_BEATS` beats with sound).
    """
    for name, profile in (("a", a), ("b", b)):
        if not profile.is_usable:
            raise ValueError(
                f"profile {name} has too few beats with sound to compare: {profile.n_sounding_beats} < {MIN_BEATS} "
                f"({profile.analysed_seconds:.1f} s analysed, {profile.tempo_bpm:.0f} bpm)"
            )
    first, second = sorted((a.chroma, b.chroma), key=lambda chroma: (chroma.shape[0], chroma.tobytes()))
    windows_first = _windows(first)  # (n_first, EMBEDDING_BEATS * 12), unit rows (or zero)
    windows_second = _windows(second)
    n_first, n_second = windows_first.shape[0], windows_second.shape[0]
    rotated = np.stack(  # (12, n_second, EMBEDDING_BEATS * 12): the second song transposed by 0..11 semitones
        [
            np.roll(windows_second.reshape(n_second, EMBEDDING_BEATS, _N_PITCH_CLASSES), shift, axis=2).reshape(
                n_second, -1
            )
            for shift in range(_N_PITCH_CLASSES)
        ]
    )
    similarity = np.matmul(windows_first, rotated.transpose(0, 2, 1))  # cosine, (12, n_first, n_second)
    recurrence = _mutual_neighbours(similarity)
    longest = _qmax(recurrence)  # (12,) longest alignment per rotation
    return float(min(1.0, longest.max() / min(n_first, n_second)))


def is_same_work(score: float) -> bool:
    """True when :func:`same_work_score` says the two recordings play the same song."""
    return score >= SAME_WORK_THRESHOLD


def _windows(chroma: np.ndarray) -> np.ndarray:
    """Time-delay embedding: ``(n_beats - EMBEDDING_BEATS + 1, EMBEDDING_BEATS * 12)`` float32, unit-norm rows."""
    values = chroma.astype(np.float32) / 255.0
    n_windows = values.shape[0] - EMBEDDING_BEATS + 1
    stacked = np.concatenate([values[offset : offset + n_windows] for offset in range(EMBEDDING_BEATS)], axis=1)
    norms = np.linalg.norm(stacked, axis=1, keepdims=True)
    return np.divide(stacked, norms, out=np.zeros_like(stacked), where=norms > 0)


def _mutual_neighbours(similarity: np.ndarray) -> np.ndarray:
    """Binary cross-recurrence ``(r, n, m)``: cell (i, j) is on when window j is among the closest
    ``NEIGHBOUR_FRACTION`` of row i and window i among the closest of column j (and they share some sound)."""
    _, n_rows, n_columns = similarity.shape
    k_row = max(1, int(NEIGHBOUR_FRACTION * n_columns))
    k_column = max(1, int(NEIGHBOUR_FRACTION * n_rows))
    row_cut = -np.partition(-similarity, k_row - 1, axis=2)[:, :, k_row - 1 : k_row]
    column_cut = -np.partition(-similarity, k_column - 1, axis=1)[:, k_column - 1 : k_column, :]
    return (similarity >= row_cut) & (similarity >= column_cut) & (similarity > 0)


def _qmax(recurrence: np.ndarray) -> np.ndarray:
    """Longest local alignment per plot of ``recurrence`` (bool ``(r, n, m)``): Serrà et al.'s Qmax, ``(r,)``.

    Q[i, j] = max(Q[i-1, j-1], Q[i-2, j-1], Q[i-1, j-2]) + 1 on a recurrence; off it, the same predecessors
    minus :data:`GAP_ONSET` (predecessor on a recurrence) or :data:`GAP_EXTEND` (off one), floored at 0. Rows are
    computed one after another, every column and plot at once (the recursion only looks at earlier rows).
    """
    n_plots, n_rows, n_columns = recurrence.shape
    # Two zero columns on the left and two zero rows before the first stand for "outside the plot" (off it).
    previous = np.zeros((n_plots, n_columns + 2))  # Q of row i-1
    before = np.zeros((n_plots, n_columns + 2))  # Q of row i-2
    previous_gap = np.full((n_plots, n_columns + 2), GAP_EXTEND)  # penalty of stepping off from row i-1
    before_gap = previous_gap.copy()  # ... from row i-2
    penalty = np.where(recurrence, GAP_ONSET, GAP_EXTEND)  # (r, n, m): onset from a recurrence, else extension
    best = np.zeros(n_plots)
    for row in range(n_rows):
        diagonal = previous[:, 1:-1]  # (i-1, j-1)
        knight_down = before[:, 1:-1]  # (i-2, j-1)
        knight_right = previous[:, :-2]  # (i-1, j-2)
        extend = np.maximum(np.maximum(diagonal, knight_down), knight_right) + 1.0
        gap = np.maximum(
            np.maximum(diagonal - previous_gap[:, 1:-1], knight_down - before_gap[:, 1:-1]),
            knight_right - previous_gap[:, :-2],
        )
        current = np.zeros_like(previous)
        current[:, 2:] = np.where(recurrence[:, row, :], extend, np.maximum(gap, 0.0))
        best = np.maximum(best, current.max(axis=1))
        before, previous = previous, current
        before_gap, previous_gap = previous_gap, np.full_like(previous_gap, GAP_EXTEND)
        previous_gap[:, 2:] = penalty[:, row, :]
    return best
