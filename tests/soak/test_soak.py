"""The fast part of the soak (issue 13): a short mixed load on a small served catalog. Every call gets an expected
status, every acknowledged write is in the database afterwards, the server survives. Latency is measured by
``make soak``, not asserted here (a shared machine's timings are noise)."""

from __future__ import annotations

from pathlib import Path

from tests.soak.mixed_load import run, summary


def test_a_short_mixed_load_loses_nothing_and_gets_only_expected_statuses(tmp_path: Path) -> None:
    load, checks = run(tmp_path, seconds=15.0, tracks=1_500, lookup_clients=6, listing_clients=1, reviewers=2,
                       ingesters=1, resolve_every_seconds=6.0, think_seconds=0.05)
    result = summary(load, checks)
    assert result["server_alive"]
    assert result["unexpected"] == 0, result["by_kind"]
    assert result["by_kind"]["lookup stored"]["OK"] + result["by_kind"]["lookup unsaved"]["OK"] > 50
    assert result["by_kind"]["resolve"]["OK"] >= 1
    assert result["acknowledged"]["ingested_tracks"] > 0
    assert result["missing_ingested"] == 0 and result["missing_reviews"] == 0, result
