"""resolver.decisions: curators' decisions pin scored pairs to 1 or 0 and add must-link edges."""

from __future__ import annotations

import numpy as np

from catalog_er.resolver.decisions import PairDecisions, with_links

IDS = np.array(["d", "a", "c", "b", "e"], dtype=object)
"""Rows 0..4; deliberately not in sorted order, so row numbers and sorted positions differ."""


def _decisions(*decided: tuple[str, str, bool]) -> PairDecisions:
    left, right, label = zip(*decided, strict=True) if decided else ((), (), ())
    return PairDecisions(np.array(left, object), np.array(right, object), np.array(label, bool))


def _row(track_id: str) -> int:
    return int(np.flatnonzero(track_id == IDS)[0])


def test_decided_pairs_are_pinned_in_either_orientation_and_others_keep_their_score() -> None:
    decisions = _decisions(("a", "b", True), ("e", "c", False))
    # candidate pairs as row numbers, in both orientations, plus pairs nobody decided
    left = np.array([_row("a"), _row("c"), _row("b"), _row("a"), _row("d")])
    right = np.array([_row("b"), _row("e"), _row("a"), _row("c"), _row("e")])
    probability = np.array([0.2, 0.9, 0.3, 0.6, 0.4])
    before = probability.copy()
    out = decisions.apply(IDS, left, right, probability)
    assert out.tolist() == [1.0, 0.0, 1.0, 0.6, 0.4]
    assert np.array_equal(probability, before)  # the input is not modified


def test_ids_absent_from_the_table_and_self_pairs_are_ignored() -> None:
    decisions = _decisions(("a", "zz-not-here", True), ("yy", "b", False), ("c", "c", True), ("a", "d", False))
    left, right = np.array([_row("a"), _row("b"), _row("c")]), np.array([_row("d"), _row("c"), _row("e")])
    out = decisions.apply(IDS, left, right, np.array([0.7, 0.5, 0.8]))
    assert out.tolist() == [0.0, 0.5, 0.8]
    assert [x.tolist() for x in decisions.must_link(IDS)] == [[], []]


def test_decisions_about_ids_of_an_empty_table_change_nothing() -> None:
    decisions = _decisions(("a", "b", True))
    empty_ids = np.empty(0, object)
    assert [x.tolist() for x in decisions.must_link(empty_ids)] == [[], []]
    out = decisions.apply(empty_ids, np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    assert out.tolist() == []


def test_a_decision_given_twice_acts_once() -> None:
    once = _decisions(("a", "b", True), ("c", "d", False))
    twice = _decisions(("a", "b", True), ("b", "a", True), ("c", "d", False), ("c", "d", False))
    left, right = np.array([_row("a"), _row("d"), _row("a")]), np.array([_row("b"), _row("c"), _row("e")])
    probability = np.array([0.1, 0.9, 0.5])
    assert twice.apply(IDS, left, right, probability).tolist() == once.apply(IDS, left, right, probability).tolist()
    assert twice.apply(IDS, left, right, probability).tolist() == [1.0, 0.0, 0.5]
    linked = set(zip(*(x.tolist() for x in twice.must_link(IDS)), strict=True))
    assert linked == {(min(_row("a"), _row("b")), max(_row("a"), _row("b")))}


def test_empty_decisions_return_the_scores_as_they_are() -> None:
    probability = np.array([0.25, 0.75])
    for decisions in (PairDecisions.empty(), _decisions()):
        assert len(decisions) == 0
        assert decisions.apply(IDS, np.array([0, 1]), np.array([2, 3]), probability) is probability
        assert [x.tolist() for x in decisions.must_link(IDS)] == [[], []]
    no_pairs = _decisions(("a", "b", True)).apply(IDS, np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    assert no_pairs.tolist() == []


def test_must_link_gives_accepted_pairs_only_as_ordered_rows() -> None:
    decisions = _decisions(("e", "a", True), ("b", "c", False), ("d", "c", True))
    left, right = decisions.must_link(IDS)
    pairs = sorted(zip(left.tolist(), right.tolist(), strict=True))
    assert pairs == sorted([(min(_row("e"), _row("a")), max(_row("e"), _row("a"))),
                            (min(_row("d"), _row("c")), max(_row("d"), _row("c")))])
    assert (left < right).all() and len(left) == 2


def test_must_link_follows_the_rows_when_the_table_is_reordered() -> None:
    decisions = _decisions(("a", "b", True))
    reordered = IDS[::-1]
    left, right = decisions.must_link(reordered)
    assert {reordered[left[0]], reordered[right[0]]} == {"a", "b"}


def test_with_links_appends_must_link_edges_at_probability_one() -> None:
    left, right, probability = np.array([0, 1]), np.array([2, 3]), np.array([0.4, 0.6])
    edges = with_links(left, right, probability, np.array([1, 0]), np.array([4, 3]))
    assert [e.tolist() for e in edges] == [[0, 1, 1, 0], [2, 3, 4, 3], [0.4, 0.6, 1.0, 1.0]]
    unchanged = with_links(left, right, probability, np.empty(0, np.int64), np.empty(0, np.int64))
    assert unchanged[0] is left and unchanged[1] is right and unchanged[2] is probability
