"""The join of the cores: fingerprints as the resolver's audio evidence, for a catalog and for a look-up."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples
from catalog_er.fingerprint.synthetic import render_song
from catalog_er.service.audio_evidence import TrackFingerprints, audio_evidence


def _print(seed: int, *, gain: float = 1.0, performance_seed: int | None = None) -> Fingerprint:
    song = render_song(seed=seed, seconds=15.0, rate_hz=22050, performance_seed=performance_seed)
    mono = (song if song.ndim == 1 else song.mean(axis=1)).astype(np.float32) * np.float32(gain)
    return fingerprint_samples(soxr.resample(mono, 22050, ANALYSIS_RATE_HZ).astype(np.float32))


@pytest.fixture(scope="module")
def prints() -> dict[str, Fingerprint]:
    return {"song": _print(3), "quieter copy": _print(3, gain=0.5), "other song": _print(4),
            "live take": _print(3, performance_seed=9)}


def test_catalog_evidence_finds_the_copy_and_verifies_only_rows_with_audio(prints: dict[str, Fingerprint]) -> None:
    rows = [prints["song"], None, prints["quieter copy"], prints["other song"], None]
    evidence = audio_evidence(rows, find_candidates=True)
    assert evidence.has_audio.tolist() == [True, False, True, True, False]
    assert evidence.signature_rows.tolist() == [0, 2, 3] and evidence.signatures.shape[0] == 3
    assert (0, 2) in set(zip(evidence.candidate_left.tolist(), evidence.candidate_right.tolist(), strict=True))
    levels = evidence.match_levels(np.array([0, 0, 1, 2]), np.array([2, 3, 2, 4]))
    assert levels.tolist() == [2, 0, -1, -1]  # aligned copy, no alignment, then pairs where a side has no audio
    with pytest.raises(ValueError, match="do not both have audio"):
        evidence.verify(np.array([0]), np.array([1]))


def test_look_up_evidence_pools_the_candidates_then_the_query(prints: dict[str, Fingerprint]) -> None:
    stored = TrackFingerprints({"t-song": prints["song"], "t-live": prints["live take"]})
    assert len(stored) == 2 and "t-song" in stored and stored.get("t-none") is None
    assert stored.matching_ids(prints["quieter copy"]) == ["t-song"]
    assert stored.evidence(["t-song", "t-live"], None) is None  # no query audio: metadata decides
    evidence = stored.evidence(["t-live", "t-none", "t-song"], prints["quieter copy"])
    assert evidence is not None and evidence.has_audio.tolist() == [True, False, True, True]
    query = np.full(3, 3)
    assert evidence.match_levels(query, np.arange(3)).tolist() == [0, -1, 2]  # live take: no alignment
    assert TrackFingerprints({}).evidence(["t-song"], prints["song"]) is None
