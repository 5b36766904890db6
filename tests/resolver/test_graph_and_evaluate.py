from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from catalog_er.resolver.config import ClusteringConfig
from catalog_er.resolver.evaluate import calibration, clustering_scores, evaluate, predicted_labels
from catalog_er.resolver.graph import cluster_pairs


def _scorer(table: dict[tuple[int, int], float]):
    def score(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return np.array([table.get((int(a), int(b)), 0.0) for a, b in zip(left, right, strict=True)])

    return score


def test_chain_through_one_bad_edge_is_split() -> None:
    # 0-1-2 are duplicates; 2-3 is one confident but wrong edge; 3-4 duplicates. Completion finds that
    # 0,1 vs 3,4 are clearly different, so linkage cuts the chain.
    probabilities = {(0, 1): 0.99, (1, 2): 0.97, (0, 2): 0.95, (2, 3): 0.6, (3, 4): 0.99}
    left = np.array([0, 1, 2, 3])
    right = np.array([1, 2, 3, 4])
    known = np.array([probabilities[(a, b)] for a, b in zip(left, right, strict=True)])
    clustering = cluster_pairs(5, left, right, known, _scorer(probabilities), config=ClusteringConfig())
    labels = clustering.labels
    assert labels[0] == labels[1] == labels[2]
    assert labels[3] == labels[4]
    assert labels[2] != labels[3]
    assert clustering.split_components == 1


def test_clustering_is_symmetric_in_pair_order() -> None:
    probabilities = {(0, 1): 0.9, (1, 2): 0.9, (0, 2): 0.8}
    left, right = np.array([0, 1]), np.array([1, 2])
    known = np.array([0.9, 0.9])
    first = cluster_pairs(4, left, right, known, _scorer(probabilities), config=ClusteringConfig()).labels
    second = cluster_pairs(4, left[::-1], right[::-1], known[::-1], _scorer(probabilities),
                           config=ClusteringConfig()).labels
    assert (first[:, None] == first[None, :]).tolist() == (second[:, None] == second[None, :]).tolist()


def test_pairwise_and_bcubed_scores_on_a_known_case() -> None:
    predicted = np.array([0, 0, 0, 1, 2])
    truth = np.array([0, 0, 1, 1, 2])
    scores = clustering_scores(predicted, truth)
    # predicted pairs: (0,1),(0,2),(1,2) -> one true; true pairs: (0,1),(2,3)
    assert scores.predicted_pairs == 3
    assert scores.true_pairs == 2
    assert scores.pairwise_precision == pytest.approx(1 / 3)
    assert scores.pairwise_recall == pytest.approx(1 / 2)
    # B-cubed precision: (2/3 + 2/3 + 1/3 + 1 + 1) / 5
    assert scores.bcubed_precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)


def test_calibration_error_is_zero_when_confidence_matches_frequency() -> None:
    confidence = np.array([0.25] * 4 + [0.75] * 4)
    truth = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    error, table = calibration(confidence, truth)
    assert error == pytest.approx(0.0)
    assert [b.pairs for b in table] == [4, 4]
    worse, _ = calibration(np.full(8, 0.95), truth)
    assert worse == pytest.approx(0.45)


def test_evaluate_reads_contract_tables() -> None:
    truth_ids = pa.array(["a", "b", "c", "d"])
    truth_groups = pa.array(["r1", "r1", "r2", "r3"])
    proposals = pa.table({"entity_type": ["track"], "member_ids": [["a", "b"]], "confidence": [0.9]})
    pairs = pa.table({"entity_type": ["track", "track"], "left_id": ["a", "c"], "right_id": ["b", "d"],
                      "confidence": [0.9, 0.1]})
    candidates = pa.table({"left_id": ["a", "c"], "right_id": ["b", "d"]})
    result = evaluate("track", truth_ids, truth_groups, proposals, pairs, candidates)
    assert result.pairwise_f1 == 1.0
    assert result.blocking_recall == 1.0
    assert result.expected_calibration_error == pytest.approx((0.1 + 0.1) / 2)
    assert predicted_labels(truth_ids, proposals).tolist()[:2] == [0, 0]


def test_an_unknown_split_method_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match="unknown clustering method 'louvain'; expected one of"):
        cluster_pairs(2, np.array([0]), np.array([1]), np.array([0.9]), _scorer({}), config=ClusteringConfig(),
                      method="louvain")
