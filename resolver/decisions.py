"""Curators' decisions as constraints on a resolution: pairs that must, or must never, be grouped.

A rejected pair gets probability 0 wherever it is scored, so it is never proposed again and correlation or
linkage clustering keeps it apart; an accepted pair gets probability 1 and joins the candidate edges even
when blocking would not find it, so an accepted group stays together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PairDecisions:
    """Labeled id pairs: ``left_ids``/``right_ids`` object arrays, ``is_duplicate`` bool, all ``(n,)``."""

    left_ids: np.ndarray
    right_ids: np.ndarray
    is_duplicate: np.ndarray

    @classmethod
    def empty(cls) -> PairDecisions:
        """No decisions at all."""
        return cls(np.empty(0, object), np.empty(0, object), np.empty(0, bool))

    def __len__(self) -> int:
        return len(self.left_ids)

    def _rows(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row pairs (left < right) of the decisions whose two ids are both in ``ids``, and their labels."""
        order = np.argsort(ids)
        sorted_ids = ids[order]

        def locate(values: np.ndarray) -> np.ndarray:
            position, found = _find_sorted(sorted_ids, values)
            return np.where(found, order[position] if len(ids) else -1, -1)

        left, right = locate(self.left_ids), locate(self.right_ids)
        known = (left >= 0) & (right >= 0) & (left != right)
        left, right = left[known], right[known]
        return np.minimum(left, right), np.maximum(left, right), self.is_duplicate[known]

    def apply(self, ids: np.ndarray, left: np.ndarray, right: np.ndarray, probability: np.ndarray) -> np.ndarray:
        """``probability`` with decided pairs set to 1 (duplicates) or 0 (not); rows index ``ids``."""
        if not len(self) or not len(left):
            return probability
        decided_left, decided_right, label = self._rows(ids)
        n = len(ids)
        codes = np.minimum(left, right) * n + np.maximum(left, right)
        decided = decided_left * n + decided_right
        order = np.argsort(decided)
        decided, label = decided[order], label[order]
        position, hit = _find_sorted(decided, codes)
        out = probability.copy()
        out[hit] = np.where(label[position[hit]], 1.0, 0.0)
        return out

    def must_link(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row pairs (left < right) labeled duplicates, both ids present in ``ids``."""
        left, right, label = self._rows(ids)
        return left[label], right[label]


def _find_sorted(sorted_values: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(position, found)``: where each of ``values`` sits in ``sorted_values`` (clipped to a valid index)
    and whether it is there."""
    if not len(sorted_values):
        return np.zeros(len(values), np.int64), np.zeros(len(values), bool)
    position = np.clip(np.searchsorted(sorted_values, values), 0, len(sorted_values) - 1)
    return position, sorted_values[position] == values


def with_links(left: np.ndarray, right: np.ndarray, probability: np.ndarray, linked_left: np.ndarray,
               linked_right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scored edges plus must-link edges (probability 1); the same arrays, uncopied, when there are none."""
    if not len(linked_left):
        return left, right, probability
    return (np.concatenate([left, linked_left]), np.concatenate([right, linked_right]),
            np.concatenate([probability, np.ones(len(linked_left))]))
