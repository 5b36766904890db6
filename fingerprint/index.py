"""An in-memory inverted index of many fingerprints: which tracks share hashes with a query, verified.

Postings are three parallel arrays sorted by hash (hash, track, frame), so a query is a few
``searchsorted`` calls and a ``bincount`` of votes, then :func:`fingerprint.match.verify` on the best few.
Hashes that occur in very many tracks (stop hashes: a common chord shape at a common spacing) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog_er.fingerprint.match import MatchResult, verify
from catalog_er.fingerprint.signature import Fingerprint

MAX_TRACKS_PER_HASH = 500
"""A hash in more postings than this is a stop hash: it names no recording."""
CANDIDATES_TO_VERIFY = 8
"""Tracks with the most shared hashes that are verified per query."""


@dataclass(frozen=True)
class IndexHit:
    """One verified candidate: its position in the index, its id and the verification result."""

    position: int
    track_id: str
    result: MatchResult


class FingerprintIndex:
    """Inverted index over fingerprints; build once with :meth:`build`, then :meth:`search`."""

    def __init__(self, track_ids: list[str], fingerprints: list[Fingerprint], hashes: np.ndarray,
                 tracks: np.ndarray) -> None:
        self.track_ids = track_ids
        self.fingerprints = fingerprints
        self._hashes = hashes
        self._tracks = tracks

    @classmethod
    def build(cls, track_ids: list[str], fingerprints: list[Fingerprint]) -> FingerprintIndex:
        """Index ``fingerprints`` (one per id, same order)."""
        if len(track_ids) != len(fingerprints):
            raise ValueError(f"{len(track_ids)} track ids but {len(fingerprints)} fingerprints")
        unique = [np.unique(f.hashes) for f in fingerprints]
        hashes = np.concatenate(unique) if unique else np.empty(0, np.uint32)
        tracks = np.repeat(np.arange(len(fingerprints), dtype=np.int32), [len(u) for u in unique])
        order = np.argsort(hashes, kind="stable")
        return cls(list(track_ids), list(fingerprints), hashes[order], tracks[order])

    def __len__(self) -> int:
        return len(self.fingerprints)

    @property
    def postings(self) -> int:
        """Number of (hash, track) postings held."""
        return len(self._hashes)

    def candidates(self, query: Fingerprint, *, limit: int = CANDIDATES_TO_VERIFY) -> np.ndarray:
        """Index positions of up to ``limit`` tracks sharing the most distinct hashes with ``query``."""
        distinct = np.unique(query.hashes)
        start = np.searchsorted(self._hashes, distinct, side="left")
        stop = np.searchsorted(self._hashes, distinct, side="right")
        count = stop - start
        usable = (count > 0) & (count <= MAX_TRACKS_PER_HASH)
        start, count = start[usable], count[usable]
        if count.sum() == 0:
            return np.empty(0, np.int64)
        ramp = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        votes = np.bincount(self._tracks[np.repeat(start, count) + ramp], minlength=len(self.fingerprints))
        top = np.argsort(-votes, kind="stable")[:limit]
        return top[votes[top] > 0]

    def search(self, query: Fingerprint, *, limit: int = CANDIDATES_TO_VERIFY) -> list[IndexHit]:
        """Verified matches of ``query``, best score first (non-matches are left out)."""
        hits = []
        for position in self.candidates(query, limit=limit):
            result = verify(query, self.fingerprints[int(position)])
            if result.is_match:
                hits.append(IndexHit(int(position), self.track_ids[int(position)], result))
        return sorted(hits, key=lambda hit: -hit.result.score)
