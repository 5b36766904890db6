"""Hard negatives: audio made from a recording that is *not* that recording, though every frame of it is there.

A reversed copy or a copy cut into pieces and shuffled shares the original's spectrum, its loudness, its
length and (in a trap) its metadata; a fingerprint that only counted shared hashes would call it a copy.
Another take of the song (``render_song(..., performance_seed=...)``) is the third kind, made by the renderer.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np


def reverse(x: np.ndarray) -> np.ndarray:
    """The audio played backwards: ``x`` ``(n,)`` or ``(n, channels)``, same shape and dtype."""
    return np.ascontiguousarray(x[::-1])


def shuffle_segments(x: np.ndarray, *, rate_hz: int, seed: int, min_seconds: float = 2.0,
                     max_seconds: float = 5.0) -> np.ndarray:
    """``x`` cut into segments of ``min_seconds``–``max_seconds`` (seeded lengths) put back in a seeded order
    that moves every segment (a derangement, so no stretch keeps its place); same shape and dtype."""
    if not 0 < min_seconds <= max_seconds:
        raise ValueError(f"need 0 < min_seconds <= max_seconds, got {min_seconds} and {max_seconds}")
    rng = np.random.default_rng(seed)
    bounds = [0]
    while bounds[-1] < len(x):
        bounds.append(bounds[-1] + int(rng.uniform(min_seconds, max_seconds) * rate_hz))
    bounds[-1] = len(x)
    pieces = [x[start:stop] for start, stop in pairwise(bounds)]
    if len(pieces) < 2:
        raise ValueError(f"{len(x) / rate_hz:.1f} s of audio is too short to shuffle in {min_seconds:g} s pieces")
    cycle = rng.permutation(len(pieces))  # one cycle through every piece: none keeps its place
    order = np.empty(len(pieces), dtype=np.int64)
    order[cycle] = np.roll(cycle, -1)
    return np.ascontiguousarray(np.concatenate([pieces[i] for i in order]))
