"""The fast part of the kill -9 rounds (issue 13; ``make crash`` runs 100): a few rounds of each kind of work."""

from __future__ import annotations

from pathlib import Path

from tests.soak.crash_restart import KINDS, run


def test_kill_9_during_ingest_resolve_and_reviews_loses_no_acknowledged_write(tmp_path: Path) -> None:
    rounds = run(tmp_path, rounds_count=2 * len(KINDS), tracks=1_200, max_delay_seconds=2.5)
    assert rounds.problems == []
    assert rounds.by_kind == {kind: 2 for kind in KINDS}
    assert rounds.acknowledged_tracks, "no ingest was acknowledged before a kill: the rounds tested nothing"
