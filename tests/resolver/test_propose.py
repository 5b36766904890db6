"""resolver.propose: stable proposal ids, the canonical rule, member confidence and the evidence JSON."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from catalog_er.resolver.propose import (
    CANONICAL_RULE,
    PairEvidence,
    build_proposals,
    canonical_order,
    proposal_id,
)
from catalog_er.resolver.records import PROPOSAL_SCHEMA, TRACK_SCHEMA


def _tracks(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist([{name: row.get(name) for name in TRACK_SCHEMA.names} for row in rows],
                                schema=TRACK_SCHEMA)


# --- proposal ids ------------------------------------------------------------------------------------------

def test_proposal_id_depends_on_the_members_not_their_order() -> None:
    first = proposal_id("track", ["t3", "t1", "t2"])
    assert first == proposal_id("track", ["t1", "t2", "t3"]) == proposal_id("track", ["t2", "t3", "t1"])
    assert first.startswith("track-") and len(first) == len("track-") + 16
    assert proposal_id("artist", ["t1", "t2", "t3"]) == "artist-" + first.removeprefix("track-")
    assert proposal_id("track", ["t1", "t2"]) != first
    # the separator keeps ["ab", "c"] and ["a", "bc"] apart
    assert proposal_id("track", ["ab", "c"]) != proposal_id("track", ["a", "bc"])


# --- the canonical rule --------------------------------------------------------------------------------------

FULL = {"artist": "A", "album": "B", "duration_ms": 1, "isrc": "USRC17607839", "release_date": "2001-01-01",
        "label": "L"}


def test_canonical_rule_order_isrc_then_filled_fields_then_date_then_id() -> None:
    tracks = _tracks([
        {"track_id": "t-isrc", "title": "x", "isrc": "USRC17607839"},  # valid ISRC, nearly empty
        {**FULL, "track_id": "t-full", "title": "x", "isrc": "bad"},  # every field, ISRC invalid
        {"track_id": "t-dated-late", "title": "x", "album": "B", "release_date": "2010-05-05"},
        {"track_id": "t-dated-early", "title": "x", "label": "L", "release_date": "1999-05-05"},
        {"track_id": "t-b-undated", "title": "x", "album": "B", "label": "L"},
        {"track_id": "t-a-undated", "title": "x", "album": "B", "label": "L"},
    ])
    has_valid_isrc = np.array([True, False, False, False, False, False])
    rank = canonical_order(tracks, has_valid_isrc)
    ranked = [tracks["track_id"][int(i)].as_py() for i in np.argsort(rank)]
    # ISRC first; then 6 filled > 2 filled; 2 filled: dated early < dated late < undated (by id); 1 filled...
    assert ranked == ["t-isrc", "t-full", "t-dated-early", "t-dated-late", "t-a-undated", "t-b-undated"]
    assert sorted(rank.tolist()) == list(range(tracks.num_rows))


def test_filled_fields_outrank_an_earlier_date() -> None:
    tracks = _tracks([{"track_id": "early", "title": "x", "release_date": "1970-01-01"},
                      {"track_id": "fuller", "title": "x", "album": "B", "label": "L", "release_date": "2020-01-01"}])
    assert canonical_order(tracks, np.array([False, False])).tolist() == [1, 0]
    # …and a valid ISRC outranks both
    assert canonical_order(tracks, np.array([True, False])).tolist() == [0, 1]


def test_canonical_rank_follows_the_rows_whatever_their_order() -> None:
    tracks = _tracks([{"track_id": f"t{i}", "title": "x", "release_date": f"20{i:02d}-01-01",
                       "album": "B" if i % 2 else None} for i in range(8)])
    has_valid_isrc = np.array([i % 3 == 0 for i in range(8)])
    rank = canonical_order(tracks, has_valid_isrc)
    permutation = np.random.default_rng(3).permutation(8)
    shuffled = canonical_order(tracks.take(permutation), has_valid_isrc[permutation])
    assert shuffled.tolist() == rank[permutation].tolist()


# --- proposals -----------------------------------------------------------------------------------------------

IDS = np.array(["t0", "t1", "t2", "t3", "t4", "t5"], dtype=object)
LABELS = np.array([0, 0, 0, 1, 1, 2])  # group 0: rows 0-2; group 1: rows 3-4; row 5 alone
MEMBER_LEFT = np.array([0, 0, 1, 3])
MEMBER_RIGHT = np.array([1, 2, 2, 4])
MEMBER_PROBABILITY = np.array([0.9, 0.8, 0.7, 0.6])
EVIDENCE = PairEvidence(
    comparison_names=("title", "isrc"),
    level_labels=(("different", "same"), ("no", "yes")),
    weights=(np.array([-2.0, 3.0]), np.array([-1.0, 5.25])),
    levels=np.array([[1, 1], [1, -1], [0, 0], [1, 1]], dtype=np.int8),
)


def _build(order: np.ndarray | None = None, **kwargs) -> pa.Table:
    order = np.arange(len(MEMBER_LEFT)) if order is None else order
    evidence = PairEvidence(EVIDENCE.comparison_names, EVIDENCE.level_labels, EVIDENCE.weights,
                            EVIDENCE.levels[order])
    return build_proposals("track", IDS, LABELS, np.array([5, 2, 4, 0, 1, 3]), MEMBER_LEFT[order],
                           MEMBER_RIGHT[order], MEMBER_PROBABILITY[order], evidence, **kwargs)


def test_one_proposal_per_group_sorted_by_confidence() -> None:
    table = _build()
    assert table.schema == PROPOSAL_SCHEMA
    rows = table.to_pylist()
    assert [r["member_ids"] for r in rows] == [["t0", "t1", "t2"], ["t3", "t4"]]  # no proposal for t5 alone
    assert [r["confidence"] for r in rows] == pytest.approx([0.8, 0.6])  # mean over the member pairs
    assert [r["canonical_id"] for r in rows] == ["t1", "t3"]  # the smallest canonical rank in each group
    assert [r["proposal_id"] for r in rows] == [proposal_id("track", ["t0", "t1", "t2"]),
                                                proposal_id("track", ["t3", "t4"])]
    assert {r["entity_type"] for r in rows} == {"track"}


def test_member_confidence_is_the_mean_of_its_pairs() -> None:
    evidence = json.loads(_build().to_pylist()[0]["evidence"])
    assert evidence["member_confidence"] == {"t0": pytest.approx(0.85), "t1": pytest.approx(0.8),
                                             "t2": pytest.approx(0.75)}


def test_evidence_json_shape() -> None:
    evidence = json.loads(_build().to_pylist()[0]["evidence"])
    assert set(evidence) == {"canonical_rule", "group_confidence", "member_confidence", "pairs", "pairs_total"}
    assert evidence["canonical_rule"] == CANONICAL_RULE
    assert evidence["pairs_total"] == 3
    assert evidence["pairs"] == [  # strongest first; a null level is named and weighs nothing
        {"left_id": "t0", "right_id": "t1", "confidence": 0.9,
         "signals": {"title": "same (+3.0)", "isrc": "yes (+5.2)"}},
        {"left_id": "t0", "right_id": "t2", "confidence": 0.8,
         "signals": {"title": "same (+3.0)", "isrc": "null (0.0)"}},
        {"left_id": "t1", "right_id": "t2", "confidence": 0.7,
         "signals": {"title": "different (-2.0)", "isrc": "no (-1.0)"}},
    ]
    custom = json.loads(_build(canonical_rule="oldest first").to_pylist()[1]["evidence"])
    assert custom["canonical_rule"] == "oldest first"


def test_evidence_keeps_the_strongest_pairs_up_to_the_cap() -> None:
    rows = _build(max_pairs_in_evidence=2).to_pylist()
    first = json.loads(rows[0]["evidence"])
    assert [(p["left_id"], p["right_id"]) for p in first["pairs"]] == [("t0", "t1"), ("t0", "t2")]
    assert first["pairs_total"] == 3
    assert len(first["member_confidence"]) == 3  # the cap limits the pairs listed, not the members
    assert rows[0]["confidence"] == pytest.approx(0.8)  # …nor the pairs the confidence averages


def test_proposals_do_not_depend_on_the_order_of_member_pairs() -> None:
    expected = _build()
    for seed in range(3):
        shuffled = _build(np.random.default_rng(seed).permutation(len(MEMBER_LEFT)))
        assert shuffled.equals(expected)


def test_equal_confidence_is_ordered_by_proposal_id() -> None:
    ids = np.array([f"t{i}" for i in range(8)], dtype=object)
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    left, right = np.array([0, 2, 4, 6]), np.array([1, 3, 5, 7])
    evidence = PairEvidence(("title",), (("same",),), (np.array([1.0]),), np.zeros((4, 1), np.int8))
    table = build_proposals("track", ids, labels, np.arange(8), left, right, np.full(4, 0.5), evidence)
    proposal_ids = table["proposal_id"].to_pylist()
    assert len(proposal_ids) == 4 and proposal_ids == sorted(proposal_ids)


def test_no_member_pairs_no_proposals() -> None:
    empty = np.empty(0, np.int64)
    evidence = PairEvidence(("title",), (("same",),), (np.array([1.0]),), np.empty((0, 1), np.int8))
    table = build_proposals("artist", IDS, np.arange(6), np.arange(6), empty, empty, np.empty(0), evidence)
    assert table.num_rows == 0 and table.schema == PROPOSAL_SCHEMA
