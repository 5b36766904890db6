"""Spectrogram peaks → triplet landmarks → packed ``uint32`` hashes, numpy only.

The constellation family (Wang's Shazam paper; audfprint), with Panako's idea for speed and tempo: each
hash describes an *anchor* peak and two later *target* peaks by quantities that survive a change of
playback speed (tempo and pitch together) or of tempo alone:

* frequencies live on a logarithmic axis (``BINS_PER_OCTAVE`` per octave), where a pitch change by a factor
  ``s`` is a shift of every peak by ``BINS_PER_OCTAVE · log2(s)`` bins; the hash keeps the *differences*
  of the targets' log-frequencies to the anchor's (unchanged by the shift) and the anchor's log-frequency
  only coarsely;
* times enter as the *ratio* ``(t2 − t1) / (t3 − t1)`` (unchanged by any time scaling) plus the span
  ``t3 − t1`` on a coarse logarithmic scale.

Hash layout (32 bits): anchor band (5) | Δf₂ (6) | Δf₃ (6) | time ratio (5) | span class (3) | spare (7 = 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import scipy.fft
from scipy.ndimage import maximum_filter1d, uniform_filter1d

ANALYSIS_RATE_HZ = 11025
"""The one rate every fingerprint is computed at (Hz): 5.5 kHz of bandwidth holds the landmark peaks; the
decoder (:func:`fingerprint.audio.decode`) resamples every delivery to it."""
FFT_SIZE = 1024
HOP_SIZE = 128
"""Hop in samples: 11.6 ms per frame."""
FRAME_SECONDS = HOP_SIZE / ANALYSIS_RATE_HZ
BINS_PER_OCTAVE = 24
LOWEST_HZ = 110.0
HIGHEST_HZ = 4800.0

PEAK_TIME_RADIUS = 8
"""Frames either side a peak must dominate (±93 ms)."""
PEAK_FREQUENCY_RADIUS = 4
"""Log-frequency bins either side a peak must dominate (±1/6 octave)."""
PEAKS_PER_SECOND = 24
"""Peak budget: the loudest peaks of each second are kept, the rest dropped."""
TARGET_MIN_FRAMES = 4
TARGET_MAX_FRAMES = 130
"""Targets lie 46 ms to 1.5 s after their anchor."""
TARGET_MAX_BINS = 31
"""and within ±31 log bins (±1.3 octaves) of it."""
TARGETS_PER_ANCHOR = 4
"""Nearest targets considered; every pair of them makes a triplet, so 6 hashes per anchor."""
_SPAN_EDGES = np.array([8, 13, 20, 31, 48, 74, 100])
"""Span classes (frames): roughly ×1.5 steps, so a ±2% time scaling rarely changes the class."""


@dataclass(frozen=True)
class Peaks:
    """Spectral peaks: ``frames`` int32 frame index, ``bins`` int32 log-frequency bin, sorted by frame."""

    frames: np.ndarray
    bins: np.ndarray


@lru_cache(maxsize=4)
def _log_filterbank(sample_rate_hz: int, fft_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Map of FFT bins to log-frequency bins: ``(fft_bin_index, log_bin_index)`` for bins in range."""
    frequencies = np.fft.rfftfreq(fft_size, 1.0 / sample_rate_hz)
    in_range = (frequencies >= LOWEST_HZ) & (frequencies <= HIGHEST_HZ)
    fft_bins = np.flatnonzero(in_range)
    log_bins = np.floor(BINS_PER_OCTAVE * np.log2(frequencies[fft_bins] / LOWEST_HZ)).astype(np.int64)
    return fft_bins, log_bins


def log_spectrogram(samples: np.ndarray) -> np.ndarray:
    """Log-magnitude spectrogram on a log-frequency axis.

    Args:
        samples: ``(n,)`` float32 mono audio at :data:`ANALYSIS_RATE_HZ`.

    Returns:
        ``(n_frames, n_log_bins)`` float32, natural-log magnitude (max over the FFT bins of each log bin).
    """
    if samples.ndim != 1:
        raise ValueError(f"samples must be one-dimensional (mono), got shape {samples.shape}")
    if len(samples) < FFT_SIZE:
        return np.zeros((0, 1), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(np.asarray(samples, np.float32), FFT_SIZE)[::HOP_SIZE]
    first_fft_bin, log_bins, group_starts = _log_groups(ANALYSIS_RATE_HZ, FFT_SIZE)
    in_band, filled = slice(first_fft_bin, first_fft_bin + len(log_bins)), log_bins[group_starts]
    window = _window(FFT_SIZE)
    spectrum = np.zeros((len(frames), int(log_bins[-1]) + 1), dtype=np.float32)
    for start in range(0, len(frames), _FRAMES_PER_BLOCK):  # float32 all through, one cache-sized block at a time
        block = slice(start, start + _FRAMES_PER_BLOCK)
        magnitude = np.abs(scipy.fft.rfft(frames[block] * window, axis=1)[:, in_band])
        spectrum[block, filled] = np.maximum.reduceat(magnitude, group_starts, axis=1)
    return np.log(spectrum + 1e-6, out=spectrum)


_FRAMES_PER_BLOCK = 256
"""Frames windowed and transformed at once: 1 MiB of samples, which stays in cache (the whole song at once ran
1.7x slower and held 2 x 4 KiB per frame: 2.5 GB for an hour)."""


@lru_cache(maxsize=4)
def _window(size: int) -> np.ndarray:
    return np.hanning(size).astype(np.float32)


@lru_cache(maxsize=4)
def _log_groups(sample_rate_hz: int, fft_size: int) -> tuple[int, np.ndarray, np.ndarray]:
    """The in-band FFT bins as runs sharing a log bin: ``(first_fft_bin, log_bin_of_each_fft_bin,
    start_of_each_run)`` (the band is one contiguous stretch of FFT bins and log bins never decrease along it,
    so the maximum per log bin is a ``reduceat`` over runs; a log bin no FFT bin falls in stays empty)."""
    fft_bins, log_bins = _log_filterbank(sample_rate_hz, fft_size)
    if not (np.diff(fft_bins) == 1).all() or (np.diff(log_bins) < 0).any():
        raise AssertionError("the log filterbank must map a contiguous band of FFT bins monotonically")
    return int(fft_bins[0]), log_bins, np.flatnonzero(np.r_[True, np.diff(log_bins) > 0])


PEAK_CHUNK_SECONDS = 64
"""Seconds of frames whose peaks are found at once (~2.8 MB per working array; a whole hour at once held
~1.2 GB of filter arrays)."""
_FRAMES_PER_SECOND = round(1.0 / FRAME_SECONDS)
"""The per-second peak budget counts frames in groups of this many (86)."""


def find_peaks(spectrogram: np.ndarray, *, chunk_seconds: int = PEAK_CHUNK_SECONDS) -> Peaks:
    """Local maxima that stand out from their neighbourhood, at most :data:`PEAKS_PER_SECOND` a second.

    Args:
        spectrogram: ``(n_frames, n_log_bins)`` from :func:`log_spectrogram`.
        chunk_seconds: the filters run over this many whole seconds of frames at a time (plus their reach either
            side), so the working memory is a few MB whatever the length; the peaks do not depend on it.

    Returns:
        The peaks, sorted by frame, then bin.
    """
    if spectrogram.shape[0] == 0:
        return Peaks(np.empty(0, np.int32), np.empty(0, np.int32))
    if chunk_seconds < 1:
        raise ValueError(f"chunk_seconds must be >= 1, got {chunk_seconds}")
    floor = float(spectrogram.max()) - 9.0  # peaks within 9 nepers of the loudest bin of the whole recording
    chunk = chunk_seconds * _FRAMES_PER_SECOND  # whole seconds: the per-second budget never spans two chunks
    found = [_chunk_peaks(spectrogram, start, min(start + chunk, len(spectrogram)), floor)
             for start in range(0, len(spectrogram), chunk)]
    frames = np.concatenate([f for f, _ in found])
    bins = np.concatenate([b for _, b in found])
    return Peaks(frames.astype(np.int32), bins.astype(np.int32))


def _chunk_peaks(spectrogram: np.ndarray, start: int, stop: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """``(frames, bins)`` of the peaks in frames ``[start, stop)``, sorted by frame then bin. The filters read
    :data:`PEAK_TIME_RADIUS` frames beyond either end, so the result equals that of one pass over everything."""
    lo, hi = max(start - PEAK_TIME_RADIUS, 0), min(stop + PEAK_TIME_RADIUS, len(spectrogram))
    part = spectrogram[lo:hi]
    # each running filter along the array's contiguous axis (2-5x faster than across it): the frequency maximum
    # on the spectrogram, then the time maximum and the time average on its transpose
    time_major = np.ascontiguousarray(part.T)
    neighbourhood_max = maximum_filter1d(np.ascontiguousarray(maximum_filter1d(
        part, 2 * PEAK_FREQUENCY_RADIUS + 1, axis=1, mode="constant", cval=-np.inf).T),
        2 * PEAK_TIME_RADIUS + 1, axis=1, mode="constant", cval=-np.inf)
    background = uniform_filter1d(time_major, size=2 * PEAK_TIME_RADIUS + 1, axis=1, mode="nearest")
    inner = slice(start - lo, stop - lo)
    time_major = time_major[:, inner]
    is_peak = ((neighbourhood_max[:, inner] == time_major) & (time_major - background[:, inner] > 0.5)
               & (time_major > floor))
    bins, frames = np.nonzero(is_peak)
    frames += start
    strength = spectrogram[frames, bins]
    second = frames // _FRAMES_PER_SECOND
    order = np.lexsort((-strength, second))
    frames, bins, second = frames[order], bins[order], second[order]
    rank = np.arange(len(second)) - np.searchsorted(second, second, side="left")
    keep = rank < PEAKS_PER_SECOND
    frames, bins = frames[keep], bins[keep]
    by_time = np.lexsort((bins, frames))
    return frames[by_time], bins[by_time]


def _targets(peaks: Peaks, *, window: int = 24) -> np.ndarray:
    """``(n_peaks, TARGETS_PER_ANCHOR)`` indices of each anchor's nearest valid targets (-1 = none)."""
    n = len(peaks.frames)
    following = np.arange(n)[:, None] + np.arange(1, window + 1)[None, :]
    inside = following < n
    following = np.where(inside, following, n - 1)
    dt = peaks.frames[following] - peaks.frames[:, None]
    df = peaks.bins[following] - peaks.bins[:, None]
    valid = inside & (dt >= TARGET_MIN_FRAMES) & (dt <= TARGET_MAX_FRAMES) & (np.abs(df) <= TARGET_MAX_BINS)
    rank = np.cumsum(valid, axis=1) - 1
    chosen = np.full((n, TARGETS_PER_ANCHOR), -1, dtype=np.int64)
    rows, columns = np.nonzero(valid & (rank < TARGETS_PER_ANCHOR))
    chosen[rows, rank[rows, columns]] = following[rows, columns]
    return chosen


_PAIRS_OF_TARGETS = np.array([(a, b) for a in range(TARGETS_PER_ANCHOR) for b in range(a + 1, TARGETS_PER_ANCHOR)])


def triplet_hashes(peaks: Peaks, *, bin_shift: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every (anchor, target, target) triplet and the anchor's frame.

    Args:
        peaks: from :func:`find_peaks`.
        bin_shift: added to every log-frequency bin first (searching pitch-shifted versions).

    Returns:
        ``(hashes, frames)``: ``(n_hashes,)`` uint32 and ``(n_hashes,)`` int32 anchor frames.
    """
    if len(peaks.frames) < 3:
        return np.empty(0, np.uint32), np.empty(0, np.int32)
    chosen = _targets(peaks)
    second, third = chosen[:, _PAIRS_OF_TARGETS[:, 0]], chosen[:, _PAIRS_OF_TARGETS[:, 1]]
    anchors = np.broadcast_to(np.arange(len(peaks.frames))[:, None], second.shape)
    valid = (second >= 0) & (third >= 0)
    anchor, second, third = anchors[valid], second[valid], third[valid]
    frames, bins = peaks.frames.astype(np.int64), peaks.bins.astype(np.int64) + bin_shift
    span = frames[third] - frames[anchor]
    ratio = np.minimum((frames[second] - frames[anchor]) * 32 // np.maximum(span, 1), 31)
    span_class = np.searchsorted(_SPAN_EDGES, span, side="right").clip(0, 7)
    anchor_band = (np.clip(bins[anchor], 0, 159) // 5).clip(0, 31)
    delta_second = bins[second] - bins[anchor] + 32
    delta_third = bins[third] - bins[anchor] + 32
    hashes = (anchor_band << 27) | (delta_second.clip(0, 63) << 21) | (delta_third.clip(0, 63) << 15) \
        | (ratio << 10) | (span_class << 7)
    return hashes.astype(np.uint32), frames[anchor].astype(np.int32)
