"""Row pairs from group keys: exhaustive groups, sorted neighbourhoods, and one row's neighbourhood."""

from __future__ import annotations

import numpy as np
import pytest

from catalog_er.resolver.pairing import concatenated_ranges, dedupe_pairs, pairs_within_groups, sorted_neighbourhood


def test_pairs_within_groups_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(-1, 30, size=300)
    left, right, skipped = pairs_within_groups(keys, max_group_size=1000)
    expected = {(i, j) for i in range(300) for j in range(i + 1, 300) if keys[i] == keys[j] != -1}
    assert set(zip(left.tolist(), right.tolist(), strict=True)) == expected
    assert skipped == 0


def test_pairs_within_groups_skips_oversized_groups() -> None:
    keys = np.array([1, 1, 1, 2, 2, -1])
    left, right, skipped = pairs_within_groups(keys, max_group_size=2)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(3, 4)]
    assert skipped == 1


def test_concatenated_ranges() -> None:
    assert concatenated_ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]


def test_dedupe_pairs_sorts_and_drops_repeats() -> None:
    left, right = dedupe_pairs(np.array([3, 1, 3, 0]), np.array([4, 2, 4, 9]), 10)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 9), (1, 2), (3, 4)]


@pytest.mark.parametrize("seed", range(5))
def test_one_rows_neighbourhood_is_what_the_sorted_group_pairs_it_with(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, window = 80, 4
    durations = rng.choice([180_000.0, 200_000.0, 210_500.0, np.nan], n) + rng.integers(0, 3, n) * 1_000.0
    keys = np.zeros(n, np.int64)  # one oversized group
    left, right, oversized = pairs_within_groups(keys, max_group_size=10, sort_within=durations, window=window)
    assert oversized == 1
    for row in range(n):
        paired = set(right[left == row].tolist()) | set(left[right == row].tolist())
        members = np.arange(n)
        assert set(sorted_neighbourhood(members, durations, row, durations[row], window=window).tolist()) == paired
        # the same answer when the row is not among the members yet (an unsaved track joins as the last row)
        if row == n - 1:
            others = members[:-1]
            assert set(sorted_neighbourhood(others, durations[:-1], row, durations[row],
                                            window=window).tolist()) == paired
