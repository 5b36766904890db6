"""Every indexed track's scored candidates, kept in step with the index: the answer to "what duplicates
does this stored track have?" is a slice, not a search.

A candidate pair ``(a, b)`` is held twice, once under each row, in one compressed sparse row layout:
entries sorted by ``source`` row and, within a row, by probability (most likely first). Replacing or adding
rows drops every entry that touches them and merges the freshly scored pairs in (no full re-sort: only the
rows that gained entries are re-ordered).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog_er.resolver.fellegi_sunter import FellegiSunterModel


@dataclass(frozen=True)
class ScoredNeighbours:
    """``m`` entries over ``n`` rows. ``source``, ``target``: ``(m,)`` int32 rows; ``probability``: ``(m,)``
    float64 posterior of the pair; ``levels``: ``(m, n_comparisons)`` int8 comparison levels (-1 = null);
    ``indptr``: ``(n + 1,)`` int64, row ``r``'s entries are ``indptr[r]:indptr[r + 1]``."""

    source: np.ndarray
    target: np.ndarray
    probability: np.ndarray
    levels: np.ndarray
    indptr: np.ndarray

    @classmethod
    def from_pairs(cls, n_rows: int, left: np.ndarray, right: np.ndarray, levels: np.ndarray,
                   model: FellegiSunterModel) -> ScoredNeighbours:
        """The lists of ``n_rows`` rows holding the unordered pairs ``(left[i], right[i])`` scored at
        ``levels[i]`` (each pair once; no pair of a row with itself)."""
        probability = model.probability(levels)
        source = np.concatenate([left, right]).astype(np.int32)
        target = np.concatenate([right, left]).astype(np.int32)
        probability, levels = np.concatenate([probability, probability]), np.concatenate([levels, levels])
        order = np.lexsort((-probability, source))
        return cls._with_indptr(n_rows, source[order], target[order], probability[order], levels[order])

    @classmethod
    def _with_indptr(cls, n_rows: int, source: np.ndarray, target: np.ndarray, probability: np.ndarray,
                     levels: np.ndarray) -> ScoredNeighbours:
        indptr = np.searchsorted(source, np.arange(n_rows + 1), side="left").astype(np.int64)
        return cls(source, target, probability, levels, indptr)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def of(self, row: int) -> slice:
        """Row ``row``'s entries (index the arrays with it), most likely first."""
        return slice(int(self.indptr[row]), int(self.indptr[row + 1]))

    def updated(self, changed: np.ndarray, n_rows: int, left: np.ndarray, right: np.ndarray, levels: np.ndarray,
                model: FellegiSunterModel) -> ScoredNeighbours:
        """The lists after rows ``changed`` were replaced or added (``n_rows`` rows now): every entry touching a
        changed row is dropped, and the new pairs ``(left[i], right[i])`` at ``levels[i]`` are merged in."""
        is_changed = np.zeros(max(n_rows, len(self)), dtype=bool)
        is_changed[changed] = True
        keep = ~(is_changed[self.source] | is_changed[self.target])
        fresh = ScoredNeighbours.from_pairs(n_rows, left, right, levels, model)
        position = np.searchsorted(self.source[keep], fresh.source, side="right")
        source = np.insert(self.source[keep], position, fresh.source)
        target = np.insert(self.target[keep], position, fresh.target)
        probability = np.insert(self.probability[keep], position, fresh.probability)
        merged_levels = np.insert(self.levels[keep], position, fresh.levels, axis=0)
        gained = np.zeros(n_rows, dtype=bool)
        gained[fresh.source] = True
        regroup = np.flatnonzero(gained[source])  # whole runs of the rows that gained entries, in row order
        order = regroup[np.lexsort((-probability[regroup], source[regroup]))]
        target[regroup], probability[regroup] = target[order], probability[order]
        merged_levels[regroup] = merged_levels[order]
        return ScoredNeighbours._with_indptr(n_rows, source, target, probability, merged_levels)
