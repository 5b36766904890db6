"""Audio → :class:`Fingerprint` (hashes with their times) → MinHash signature for catalog-wide search.

The fingerprint keeps every hash with its anchor frame, which verification needs (offset histograms). The
MinHash signature is computed over the *set* of hashes with the same batch MinHash as the text blocking
(identical to datasketch's ``MinHash``), so one LSH machinery finds candidates for both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog_er.fingerprint.landmarks import (
    ANALYSIS_RATE_HZ,
    FRAME_SECONDS,
    find_peaks,
    log_spectrogram,
    triplet_hashes,
)
from catalog_er.resolver.lsh import batch_signatures

SIGNATURE_PERMUTATIONS = 64
SIGNATURE_SEED = 7


@dataclass(frozen=True)
class Fingerprint:
    """Hashes of one recording: ``hashes`` ``(n,)`` uint32, ``frames`` ``(n,)`` int32 anchor frame
    (× :data:`~fingerprint.landmarks.FRAME_SECONDS` = seconds), sorted by frame; ``seconds`` is the audio
    duration and ``peak_count`` the number of spectral peaks behind the hashes."""

    hashes: np.ndarray
    frames: np.ndarray
    seconds: float
    peak_count: int

    @property
    def hashes_per_second(self) -> float:
        """Hash density, a quality indicator (silence and pure noise give few)."""
        return len(self.hashes) / self.seconds if self.seconds else 0.0

    def storage_bytes(self) -> int:
        """Bytes needed to store hashes and frames (4 + 4 per hash)."""
        return int(self.hashes.nbytes + self.frames.nbytes)


def fingerprint_samples(samples: np.ndarray) -> Fingerprint:
    """Fingerprint mono float32 audio at :data:`~fingerprint.landmarks.ANALYSIS_RATE_HZ` (shape ``(n,)``)."""
    peaks = find_peaks(log_spectrogram(samples))
    hashes, frames = triplet_hashes(peaks)
    return Fingerprint(hashes, frames, len(samples) / ANALYSIS_RATE_HZ, len(peaks.frames))


def signatures(fingerprints: list[Fingerprint], *, num_perm: int = SIGNATURE_PERMUTATIONS) -> np.ndarray:
    """``(n_fingerprints, num_perm)`` uint32 MinHash signatures over each fingerprint's set of hashes."""
    if not fingerprints:
        return np.empty((0, num_perm), dtype=np.uint32)
    hash_sets = [np.unique(f.hashes) for f in fingerprints]
    tokens = np.concatenate(hash_sets)
    set_ids = np.repeat(np.arange(len(fingerprints)), [len(s) for s in hash_sets])
    return batch_signatures(tokens, set_ids, len(fingerprints), num_perm=num_perm, seed=SIGNATURE_SEED)


__all__ = ["FRAME_SECONDS", "Fingerprint", "fingerprint_samples", "signatures"]
