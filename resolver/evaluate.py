"""Quality against ground truth: pairwise P/R/F1, B-cubed, blocking recall, calibration error.

All metrics take Arrow tables in the output contract (``proposals``, ``pairs``, candidate pairs) and a
truth mapping ``entity id → true group id``; counts come from a contingency table, never from
enumerating pairs, so a 1M-track evaluation is a few numpy sorts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CALIBRATION_BINS = 10


@dataclass(frozen=True)
class CalibrationBin:
    """Pairs whose confidence fell in ``[low, high)``: how many, mean confidence, share truly duplicate."""

    low: float
    high: float
    pairs: int
    mean_confidence: float
    duplicate_share: float


@dataclass(frozen=True)
class ClusteringScores:
    """Pairwise and B-cubed figures of one clustering against the truth."""

    true_pairs: int
    predicted_pairs: int
    pairwise_precision: float
    pairwise_recall: float
    pairwise_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float


@dataclass(frozen=True)
class Evaluation(ClusteringScores):
    """Every figure of one evaluation (``entity_type`` is ``track`` or ``artist``)."""

    entity_type: str
    entities: int
    candidate_pairs: int | None
    blocking_recall: float | None
    scored_pairs_evaluated: int
    expected_calibration_error: float
    calibration: list[CalibrationBin]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _pairs_of(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def _codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Dense int64 code per value (equal values, equal codes)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False).astype(np.int64)


def predicted_labels(entity_ids: pa.Array, proposals: pa.Table) -> np.ndarray:
    """``(n,)`` int64 cluster label per entity: the proposal's row index, or a fresh label if in none."""
    members = pc.list_flatten(proposals["member_ids"])
    owner = pc.list_parent_indices(proposals["member_ids"]).to_numpy(zero_copy_only=False).astype(np.int64)
    position = pc.index_in(entity_ids, value_set=members).to_numpy(zero_copy_only=False)
    labels = np.arange(len(entity_ids), dtype=np.int64) + proposals.num_rows
    found = ~np.isnan(position.astype(float))
    labels[found] = owner[position[found].astype(np.int64)]
    return labels


def clustering_scores(predicted: np.ndarray, truth: np.ndarray) -> ClusteringScores:
    """Pairwise and B-cubed precision/recall/F1 of two ``(n,)`` label arrays over the same entities."""
    predicted_codes = np.unique(predicted, return_inverse=True)[1].ravel()
    true_codes = np.unique(truth, return_inverse=True)[1].ravel()
    predicted_sizes, true_sizes = np.bincount(predicted_codes), np.bincount(true_codes)
    cells, overlap = np.unique(np.column_stack((predicted_codes, true_codes)), axis=0, return_counts=True)
    true_positive = _pairs_of(overlap)
    predicted_pairs, true_pairs = _pairs_of(predicted_sizes), _pairs_of(true_sizes)
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0

    p_sizes = predicted_sizes[cells[:, 0]].astype(np.float64)
    t_sizes = true_sizes[cells[:, 1]].astype(np.float64)
    n = len(predicted)
    bcubed_precision = float((overlap * overlap / p_sizes).sum() / n) if n else 1.0
    bcubed_recall = float((overlap * overlap / t_sizes).sum() / n) if n else 1.0
    return ClusteringScores(
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        pairwise_precision=precision,
        pairwise_recall=recall,
        pairwise_f1=_f1(precision, recall),
        bcubed_precision=bcubed_precision,
        bcubed_recall=bcubed_recall,
        bcubed_f1=_f1(bcubed_precision, bcubed_recall),
    )


def pair_labels(left_ids: pa.Array, right_ids: pa.Array, truth_ids: pa.Array, truth_groups: pa.Array
                ) -> np.ndarray:
    """``(n_pairs,)`` bool: do both sides of each pair belong to the same true group?"""
    group_codes = _codes(truth_groups)
    left = pc.index_in(left_ids, value_set=truth_ids).to_numpy(zero_copy_only=False)
    right = pc.index_in(right_ids, value_set=truth_ids).to_numpy(zero_copy_only=False)
    known = ~(np.isnan(left.astype(float)) | np.isnan(right.astype(float)))
    same = np.zeros(len(left), dtype=bool)
    same[known] = group_codes[left[known].astype(np.int64)] == group_codes[right[known].astype(np.int64)]
    return same


def calibration(confidence: np.ndarray, is_duplicate: np.ndarray, bins: int = CALIBRATION_BINS
                ) -> tuple[float, list[CalibrationBin]]:
    """Expected calibration error over equal-width bins, and the per-bin table.

    ECE = Σ_bins (pairs in bin / all pairs) · |mean confidence − share of true duplicates|.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    table, error = [], 0.0
    for b in range(bins):
        in_bin = which == b
        count = int(in_bin.sum())
        if count == 0:
            continue
        mean_confidence = float(confidence[in_bin].mean())
        share = float(is_duplicate[in_bin].mean())
        error += count / len(confidence) * abs(mean_confidence - share)
        table.append(CalibrationBin(float(edges[b]), float(edges[b + 1]), count, mean_confidence, share))
    return error, table


def evaluate(entity_type: str, truth_ids: pa.Array, truth_groups: pa.Array, proposals: pa.Table,
             pairs: pa.Table, candidates: pa.Table | None = None) -> Evaluation:
    """All figures for one entity type.

    Args:
        truth_ids, truth_groups: ground truth (``track_id`` → ``recording_id``, or artist → entity).
        proposals, pairs: the resolver's outputs (rows of other entity types are ignored).
        candidates: ``left_id``/``right_id`` of all candidate pairs, for blocking recall (optional).
    """
    proposals = proposals.filter(pc.equal(proposals["entity_type"], entity_type))
    pairs = pairs.filter(pc.equal(pairs["entity_type"], entity_type))
    truth_codes = _codes(truth_groups)
    scores = clustering_scores(predicted_labels(truth_ids, proposals), truth_codes)
    blocking_recall = None
    if candidates is not None and "entity_type" in candidates.column_names:
        candidates = candidates.filter(pc.equal(candidates["entity_type"], entity_type))
    if candidates is not None and scores.true_pairs:
        found = pair_labels(candidates["left_id"], candidates["right_id"], truth_ids, truth_groups)
        blocking_recall = float(found.sum() / scores.true_pairs)
    is_duplicate = pair_labels(pairs["left_id"], pairs["right_id"], truth_ids, truth_groups)
    confidence = pairs["confidence"].to_numpy(zero_copy_only=False)
    ece, table = calibration(confidence, is_duplicate)
    return Evaluation(
        entity_type=entity_type,
        entities=len(truth_ids),
        candidate_pairs=None if candidates is None else candidates.num_rows,
        blocking_recall=blocking_recall,
        scored_pairs_evaluated=len(confidence),
        expected_calibration_error=ece,
        calibration=table,
        **asdict(scores),
    )


def homonym_merge_rate(artist_ids: pa.Array, names: pa.Array, truth_entities: pa.Array, proposals: pa.Table
                       ) -> tuple[int, int]:
    """``(merged, total)`` pairs of artist ids with the same name (exactly, after case folding) but
    different true entities, and how many of them share a proposal."""
    proposals = proposals.filter(pc.equal(proposals["entity_type"], "artist"))
    predicted = predicted_labels(artist_ids, proposals)
    name_codes = _codes(pc.utf8_lower(names))
    entity_codes = _codes(truth_entities)
    order = np.lexsort((entity_codes, name_codes))
    merged = total = 0
    boundaries = np.flatnonzero(np.diff(name_codes[order])) + 1
    for group in np.split(order, boundaries):
        if len(group) < 2 or len(np.unique(entity_codes[group])) < 2:
            continue
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                a, b = group[i], group[j]
                if entity_codes[a] != entity_codes[b]:
                    total += 1
                    merged += int(predicted[a] == predicted[b])
    return merged, total
