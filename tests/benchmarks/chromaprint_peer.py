"""Chromaprint peer for the audio benchmark: ``fpcalc -raw`` fingerprints compared the way AcoustID does.

Fingerprints come from the ``fpcalc`` tool (Debian: ``apt-get install -y libchromaprint-tools``), one process
per file (fpcalc 1.5.1 given several files fingerprints only the first). A raw fingerprint is one ``uint32``
per 0.1238 s (4096-sample frames, hop 1365, at 11025 Hz).

The comparison re-implements ``acoustid_compare2(a, b, max_offset)`` of pg_acoustid (``match_fingerprints2``
in ``acoustid_compare.c``), the function the AcoustID server scores lookups and merges with:

1. Align: key every item by its top 14 bits; for each key present in both (the *last* index of the key on
   each side, index 0 counting as absent), vote for the offset ``i_a - i_b`` if ``|offset| <= max_offset``;
   the offset whose votes first reach the maximum (keys in increasing order) wins.
2. Gate: the top vote count must reach 2% of the larger number of distinct 14-bit keys in the overlapping
   tails; otherwise the score is 0.
3. Score the overlap: ``BER`` = differing bits / compared bits over the aligned overlap (taken in pairs of
   items, i.e. 64-bit words), ``score = (overlap / shorter length) · (1 − 2·BER)``, clamped at 0. A random pair
   differs in half its bits, so ``1 − 2·BER`` maps chance to 0 and identity to 1.
4. Low-diversity penalty: with ``diversity = min(1, distinct_keys/len + 0.5)`` (+10 smoothing), a repetitive
   fingerprint's score is raised to the power ``8 − 7·diversity``.

The "0.7 rule": the AcoustID server treats a pair as the same track when ``score > 0.7`` — its original
``TRACK_MERGE_THRESHOLD`` ("minimum similarity with the best matching fingerprint"; later raised to 0.75) —
with ``max_offset = TRACK_MAX_OFFSET = 80`` items (9.9 s). We use exactly that, and report the score so
that the 0.75 reading can be checked too. The server also filters candidates by duration (±7 s); we do not,
since trimmed or excerpted deliveries are exactly the cases we want scored.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MATCH_THRESHOLD = 0.7
"""AcoustID's TRACK_MERGE_THRESHOLD (original value): score above this = same track."""
MAX_OFFSET_ITEMS = 80
"""AcoustID's TRACK_MAX_OFFSET: alignments further apart than 80 items (9.9 s) are not considered."""
ITEM_SECONDS = 1365 / 11025
"""Seconds of audio per raw fingerprint item."""
FPCALC_LENGTH_SECONDS = 120
"""``fpcalc -length``: only the first 120 s of a file are fingerprinted (fpcalc's and AcoustID's default)."""
_MATCH_SHIFT = 32 - 14
_MATCH_KEYS = 1 << 14


class FpcalcError(RuntimeError):
    """fpcalc failed on a file (the message carries the path and fpcalc's stderr)."""


def find_fpcalc() -> str | None:
    """Path of the ``fpcalc`` executable, or None when it is not installed."""
    return shutil.which("fpcalc")


def fpcalc_raw(path: Path | str, *, length_seconds: int = FPCALC_LENGTH_SECONDS) -> np.ndarray:
    """Raw Chromaprint fingerprint of one file: ``(n_items,)`` uint32 (``fpcalc -raw -length N``)."""
    completed = subprocess.run(["fpcalc", "-raw", "-length", str(length_seconds), str(path)],
                               capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith("FINGERPRINT="):
            text = line.removeprefix("FINGERPRINT=")
            return np.array([int(v) for v in text.split(",")] if text else [], dtype=np.uint32)
    raise FpcalcError(f"fpcalc gave no fingerprint for {path}: exit {completed.returncode}, {completed.stderr!r}")


def children_cpu_seconds() -> float:
    """User + system CPU seconds of all waited-for child processes so far (``RUSAGE_CHILDREN``)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _last_index_by_key(keys: np.ndarray) -> np.ndarray:
    """``(2**14,)`` int64: last index at which each 14-bit key occurs (0 = absent, as in the C code)."""
    table = np.zeros(_MATCH_KEYS, dtype=np.int64)
    reversed_keys = keys[::-1]
    unique, first_in_reversed = np.unique(reversed_keys, return_index=True)
    table[unique] = len(keys) - 1 - first_in_reversed
    return table


def _best_offset(a: np.ndarray, b: np.ndarray, max_offset: int) -> tuple[int, int]:
    """``(top_count, top_offset)`` of the key-vote alignment (step 1 of the module docstring)."""
    a_last = _last_index_by_key(a >> _MATCH_SHIFT)[: _MATCH_KEYS - 1]
    b_last = _last_index_by_key(b >> _MATCH_SHIFT)[: _MATCH_KEYS - 1]
    both = (a_last > 0) & (b_last > 0)
    offsets = a_last[both] - b_last[both]  # keys ascending
    if max_offset:
        offsets = offsets[np.abs(offsets) <= max_offset]
    if len(offsets) == 0:
        return 0, -len(b)
    shifted = offsets + len(b)
    votes = np.bincount(shifted)
    top_count = int(votes.max())
    order = np.argsort(shifted, kind="stable")
    sorted_offsets = shifted[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_offsets, sorted_offsets, side="left")
    first_to_reach_top = int(order[rank == top_count - 1].min())
    return top_count, int(offsets[first_to_reach_top])


def compare(a: np.ndarray, b: np.ndarray, *, max_offset: int = MAX_OFFSET_ITEMS) -> float:
    """AcoustID similarity of two raw fingerprints in [0, 1] (``acoustid_compare2``; module docstring)."""
    a = np.asarray(a, dtype=np.uint32)
    b = np.asarray(b, dtype=np.uint32)
    if len(a) == 0 or len(b) == 0:
        return 0.0
    top_count, top_offset = _best_offset(a, b, max_offset)
    min_size = min(len(a), len(b)) & ~1
    if top_offset < 0:
        b = b[-top_offset:]
    else:
        a = a[top_offset:]
    pairs = min(len(a), len(b)) // 2
    if pairs == 0 or min_size == 0:
        return 0.0
    a_unique = np.unique(a >> _MATCH_SHIFT).size
    b_unique = np.unique(b >> _MATCH_SHIFT).size
    diversity = min(min(1.0, (a_unique + 10) / len(a) + 0.5), min(1.0, (b_unique + 10) / len(b) + 0.5))
    if top_count < max(a_unique, b_unique) * 0.02:
        return 0.0
    compared = 2 * pairs
    bit_errors = int(np.bitwise_count(a[:compared] ^ b[:compared]).sum())
    score = (compared / min_size) * (1.0 - 2.0 * bit_errors / (32 * compared))
    score = max(score, 0.0)
    if diversity < 1.0:
        score = score ** (8.0 - 7.0 * diversity)
    return float(score)


def is_match(score: float, *, threshold: float = MATCH_THRESHOLD) -> bool:
    """AcoustID's verdict: same track when the similarity exceeds the threshold."""
    return score > threshold


@dataclass(frozen=True)
class PeerSpeed:
    """fpcalc throughput over a set of files: audio seconds per CPU second (children's user + system)."""

    files: int
    audio_seconds: float
    cpu_seconds: float
    startup_cpu_seconds: float

    @property
    def audio_seconds_per_cpu_second(self) -> float:
        """Including fpcalc's process start per file."""
        return self.audio_seconds / self.cpu_seconds if self.cpu_seconds else float("inf")

    @property
    def without_startup(self) -> float:
        """Excluding the CPU of one process start (``fpcalc -version``) per file."""
        net = self.cpu_seconds - self.files * self.startup_cpu_seconds
        return self.audio_seconds / net if net > 0 else float("inf")


def measure_speed(paths: list[Path], audio_seconds: float) -> PeerSpeed:
    """Run fpcalc once per file (serially, one core) and account its CPU time via ``RUSAGE_CHILDREN``.

    The fixed cost of one process start (loading fpcalc and FFmpeg) is estimated from ``fpcalc -version``.
    """
    probes = []
    for _ in range(5):
        before = children_cpu_seconds()
        subprocess.run(["fpcalc", "-version"], capture_output=True, check=True)
        probes.append(children_cpu_seconds() - before)
    before = children_cpu_seconds()
    for path in paths:
        fpcalc_raw(path)
    cpu_seconds = children_cpu_seconds() - before
    return PeerSpeed(len(paths), audio_seconds, cpu_seconds, float(np.median(probes)))
