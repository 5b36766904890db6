"""Row pairs from group keys, vectorized: every blocker, the graph and the artist signals pair rows this way.

Pairs are two int64 arrays of row indices with ``left < right``; nothing here loops in Python per row.
"""

from __future__ import annotations

import numpy as np


def concatenated_ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, sizes)])``, vectorized (int64)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    ramp = np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(np.asarray(starts, dtype=np.int64), sizes) + ramp


def pairs_within_groups(group_keys: np.ndarray, *, max_group_size: int, sort_within: np.ndarray | None = None,
                        window: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """All row pairs that share a key; oversized groups fall back to a sorted neighbourhood.

    Args:
        group_keys: ``(n,)`` integer key per row; rows with key -1 belong to no group.
        max_group_size: groups larger than this are not paired exhaustively.
        sort_within: ``(n,)`` float, e.g. duration; with ``window > 0``, an oversized group is sorted by it
            (ties by row) and each row is paired with its next ``window`` neighbours only (NaN sorts last).
        window: neighbours per row in oversized groups; 0 skips oversized groups entirely.

    Returns:
        ``(left, right, oversized_groups)``; ``left``/``right`` int64 row indices with ``left < right``.
    """
    valid_rows = np.flatnonzero(group_keys != -1)
    if sort_within is None:
        order = valid_rows[np.argsort(group_keys[valid_rows], kind="stable")]
    else:
        order = valid_rows[np.lexsort((sort_within[valid_rows], group_keys[valid_rows]))]
    sorted_keys = group_keys[order]
    if len(order) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0
    boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate(([0], boundaries))
    sizes = np.diff(np.concatenate((starts, [len(order)])))
    too_big = sizes > max_group_size
    exhaustive_span = np.where(too_big, 0, sizes)
    neighbour_span = np.where(too_big, min(window + 1, max_group_size) if window else 0, 0)
    span = np.maximum(exhaustive_span, neighbour_span)
    lefts, rights = [], []
    for offset in range(1, int(span.max(initial=1))):
        has = (sizes > offset) & (span > offset)
        count = sizes[has] - offset
        first = concatenated_ranges(starts[has], count)
        lefts.append(order[first])
        rights.append(order[first + offset])
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64), int(too_big.sum())
    left = np.concatenate(lefts)
    right = np.concatenate(rights)
    return np.minimum(left, right), np.maximum(left, right), int(too_big.sum())


def dedupe_pairs(left: np.ndarray, right: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs of rows below ``n``, sorted by ``(left, right)``; sort-based (numpy's hash-based unique is
    slower here)."""
    codes = left.astype(np.int64) * n + right
    codes.sort()
    if len(codes):
        codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return codes // n, codes % n


def sorted_neighbourhood(members: np.ndarray, sort_values: np.ndarray, query_row: int, query_value: float, *,
                         window: int) -> np.ndarray:
    """The rows :func:`pairs_within_groups` pairs with ``query_row`` in an oversized group: the ``window`` rows
    before and the ``window`` after it in the group's ``(sort value, row)`` order (NaN sorts last).

    Args:
        members: ``(k,)`` int rows of the group, with or without ``query_row`` itself.
        sort_values: ``(k,)`` float sort value of each member (duration, say).
        query_row, query_value: the row asked about and its sort value; a row not among ``members`` (an
            unsaved track) takes the place the group would give it as its last row.
        window: neighbours on each side.

    Returns:
        ``(≤ 2·window,)`` rows of ``members``, in group order.
    """
    others = members != query_row
    members, sort_values = members[others], sort_values[others]
    order = np.lexsort((members, sort_values))
    members, sort_values = members[order], sort_values[order]
    if np.isnan(query_value):
        before = ~np.isnan(sort_values) | (members < query_row)
    else:
        before = (sort_values < query_value) | ((sort_values == query_value) & (members < query_row))
    position = int(before.sum())
    return members[max(position - window, 0): position + window]
