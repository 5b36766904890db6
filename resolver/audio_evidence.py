"""What the resolver knows about audio: an interface the edge fills, so the core never decodes anything.

The service fingerprints the files (``fingerprint`` package) and hands the resolver an
:class:`AudioEvidence`: which rows have audio, candidate pairs found from the recordings themselves, and a
function that verifies pairs. The resolver only sees rows, pairs and verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

AUDIO_LEVELS = ("no alignment", "partial or time-scaled", "aligned copy")
"""What the audio of a pair says, weakest first; the verifier's codes index it (-1: a side's audio is missing or
too little to judge). "no alignment" means both recordings were usable and do not line up: two recordings."""
AUDIO_UNUSABLE = -1

AudioVerifier = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(left_rows, right_rows) → (n_pairs,)`` int8 index into :data:`AUDIO_LEVELS`, or :data:`AUDIO_UNUSABLE`;
only called on pairs where both rows have audio."""


@dataclass(frozen=True)
class AudioEvidence:
    """``has_audio``: ``(n_tracks,)`` bool; ``signature_rows`` ``(k,)`` int64 rows that have audio and
    ``signatures`` ``(k, num_perm)`` uint32 MinHash signatures of their hash sets (for LSH);
    ``candidate_left``/``candidate_right``: int64 rows of pairs that an inverted index of the fingerprints
    found sharing many hashes (left < right); ``verify``: see :data:`AudioVerifier`."""

    has_audio: np.ndarray
    signature_rows: np.ndarray
    signatures: np.ndarray
    candidate_left: np.ndarray
    candidate_right: np.ndarray
    verify: AudioVerifier

    def match_levels(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``(n_pairs,)`` int8 index into :data:`AUDIO_LEVELS`, -1 when a side has no usable audio."""
        levels = np.full(len(left), -1, dtype=np.int8)
        both = self.has_audio[left] & self.has_audio[right]
        if both.any():
            levels[both] = self.verify(left[both], right[both])
        return levels
