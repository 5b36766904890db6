"""Where the two cores meet: fingerprints (:mod:`fingerprint`) become the resolver's audio evidence
(:class:`resolver.audio_evidence.AudioEvidence`). The batch run and the live catalog both build it here.

- :func:`audio_evidence`: evidence over rows ``0 .. n - 1``, each with a fingerprint or none. For a whole
  catalog (``find_candidates=True``) it also proposes candidate pairs from the recordings themselves: MinHash
  signatures of each fingerprint's hash set (for LSH) and each recording's best-voted neighbours in an inverted
  index of all of them. For a look-up the pairs are already chosen, and only the verifier is needed.
- :class:`TrackFingerprints`: the fingerprints of stored tracks by id, with the inverted index over them —
  what the service searches with the audio of an unsaved track, and the pool a look-up's evidence comes from.

Verdicts are memoized per pair of rows: clustering and evidence ask for the same pair more than once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from catalog_er.fingerprint.index import FingerprintIndex
from catalog_er.fingerprint.match import AudioRelation, relation
from catalog_er.fingerprint.signature import SIGNATURE_PERMUTATIONS, Fingerprint, signatures
from catalog_er.resolver.audio_evidence import AUDIO_LEVELS, AUDIO_UNUSABLE, AudioEvidence, AudioVerifier

_LEVEL_OF_RELATION = {AudioRelation.UNUSABLE: AUDIO_UNUSABLE,
                      AudioRelation.NO_ALIGNMENT: AUDIO_LEVELS.index("no alignment"),
                      AudioRelation.PARTIAL: AUDIO_LEVELS.index("partial or time-scaled"),
                      AudioRelation.ALIGNED: AUDIO_LEVELS.index("aligned copy")}
"""The fingerprint's relation of two recordings → the resolver's audio level."""


def _memoized_verifier(prints: Sequence[Fingerprint | None]) -> AudioVerifier:
    """An :data:`AudioVerifier` over rows of ``prints`` (only asked about rows that have a fingerprint)."""
    verdicts: dict[tuple[int, int], int] = {}

    def verify_rows(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        out = np.empty(len(left), dtype=np.int8)
        for k, (a, b) in enumerate(zip(left.tolist(), right.tolist(), strict=True)):
            key = (min(a, b), max(a, b))
            if key not in verdicts:
                first, second = prints[key[0]], prints[key[1]]
                if first is None or second is None:
                    raise ValueError(f"rows {key} do not both have audio: the verifier only judges pairs that do")
                verdicts[key] = _LEVEL_OF_RELATION[relation(first, second)]
            out[k] = verdicts[key]
        return out

    return verify_rows


def audio_evidence(prints: Sequence[Fingerprint | None], *, find_candidates: bool) -> AudioEvidence:
    """Audio evidence over rows ``0 .. len(prints) - 1`` (``None``: the row has no usable audio).

    ``find_candidates``: also find candidate pairs from the recordings (a whole catalog's blocking); without it
    the evidence only verifies pairs (a look-up, whose candidates are already chosen)."""
    has_audio = np.array([p is not None for p in prints], dtype=bool)
    rows = np.flatnonzero(has_audio).astype(np.int64)
    verify_rows = _memoized_verifier(prints)
    empty = np.empty(0, np.int64)
    if not find_candidates:
        return AudioEvidence(has_audio, empty, np.empty((0, SIGNATURE_PERMUTATIONS), np.uint32), empty, empty,
                             verify_rows)
    recordings = [p for p in prints if p is not None]
    index = FingerprintIndex.build([str(row) for row in rows.tolist()], recordings)
    lefts, rights = [], []
    for position, fingerprint in enumerate(recordings):
        neighbours = index.candidates(fingerprint)
        neighbours = neighbours[neighbours != position]
        lefts.append(np.full(len(neighbours), rows[position]))
        rights.append(rows[neighbours])
    left = np.concatenate(lefts) if lefts else empty
    right = np.concatenate(rights) if rights else empty
    return AudioEvidence(has_audio, rows, signatures(recordings), np.minimum(left, right), np.maximum(left, right),
                         verify_rows)


class TrackFingerprints:
    """The fingerprints of stored tracks, by track id, with an inverted index over them."""

    def __init__(self, by_id: Mapping[str, Fingerprint]) -> None:
        self._by_id = dict(by_id)
        self._index = FingerprintIndex.build(list(self._by_id), list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._by_id

    def get(self, track_id: str) -> Fingerprint | None:
        """The fingerprint of ``track_id``, if one is stored."""
        return self._by_id.get(track_id)

    def matching_ids(self, query: Fingerprint) -> list[str]:
        """Ids of the stored tracks whose recording ``query`` matches (verified), best first."""
        return [hit.track_id for hit in self._index.search(query)]

    def evidence(self, track_ids: Sequence[str], query: Fingerprint | None) -> AudioEvidence | None:
        """Evidence over the tracks ``track_ids`` then the query (the pool
        :meth:`resolver.online.TrackIndex.score` compares); None without a query or any stored fingerprint."""
        if query is None or not self._by_id:
            return None
        return audio_evidence([self._by_id.get(track_id) for track_id in track_ids] + [query], find_candidates=False)
