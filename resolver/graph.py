"""Scored pairs → groups of duplicates, without chaining unrelated tracks through one bad edge.

1. Connected components over pairs at or above ``merge_threshold`` (scipy, vectorized).
2. Every component of three or more is *completed*: all its member pairs are scored, including those
   blocking never proposed, so a group is judged on all its pairs, not on a spanning chain.
3. A component where some member pair falls below the threshold (say two different ISRCs and
   conflicting version tags) is re-clustered, by one of two methods:

   - ``"average"`` (tracks): average linkage on ``1 − probability`` (scipy's hierarchical clustering), cut
     at ``1 − merge_threshold``: a group survives only where its members are, on average, more likely
     duplicates than not.
   - ``"correlation"`` (artists): correlation clustering over positive *and* negative evidence, solved by
     greedy additive edge contraction on a networkx graph whose edge weights are the pairs' log-odds
     against the threshold, ``logit(p) − logit(merge_threshold)``: two groups merge while the summed
     weight between them is positive, so one strong "same" edge cannot outvote several "different" ones
     and a chain through one weak edge falls apart. Unlike average linkage it weighs *how sure* each pair
     is (p = 0.999 counts for more than p = 0.6), which matters for artists, where one id often carries
     decisive evidence (a shared recording) against one member and none against the rest.
4. Components above ``max_component_size`` are first cut by raising the edge threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from catalog_er.resolver.config import ClusteringConfig
from catalog_er.resolver.pairing import pairs_within_groups

PairScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Scores pairs given ``(left, right)`` row arrays; returns ``(n_pairs,)`` probabilities."""


@dataclass(frozen=True)
class Clustering:
    """``labels``: ``(n,)`` int64 group per row (singletons have their own label).

    ``member_left``/``member_right``/``member_probability``: every pair of rows that share a group of two or
    more, with its probability (the evidence for proposals), ``left < right``.
    """

    labels: np.ndarray
    member_left: np.ndarray
    member_right: np.ndarray
    member_probability: np.ndarray
    split_components: int
    """Components that linkage split because some member pair disagreed."""


def _components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def _lookup_probability(query_left: np.ndarray, query_right: np.ndarray, known_codes: np.ndarray,
                        known_probability: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of query pairs found in a sorted code table; returns ``(found_mask, probability)``."""
    codes = query_left * n + query_right
    position = np.clip(np.searchsorted(known_codes, codes), 0, max(len(known_codes) - 1, 0))
    found = known_codes[position] == codes if len(known_codes) else np.zeros(len(codes), bool)
    probability = np.where(found, known_probability[position] if len(known_codes) else 0.0, np.nan)
    return found, probability


def _average_linkage(size: int, pair_index: tuple[np.ndarray, np.ndarray], probability: np.ndarray,
                     threshold: float) -> np.ndarray:
    """Labels of one component's members by average linkage on 1 − probability."""
    distance = np.ones((size, size))
    distance[pair_index] = 1.0 - probability
    distance[pair_index[1], pair_index[0]] = 1.0 - probability
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return fcluster(tree, t=1.0 - threshold, criterion="distance").astype(np.int64)


def _correlation_clustering(size: int, pair_index: tuple[np.ndarray, np.ndarray], probability: np.ndarray,
                            threshold: float) -> np.ndarray:
    """Labels of one component's members by greedy additive edge contraction (see the module docstring)."""
    clipped = np.clip(probability, 1e-9, 1 - 1e-9)
    weight = np.log(clipped / (1 - clipped)) - np.log(threshold / (1 - threshold))
    graph = nx.Graph()
    graph.add_nodes_from(range(size))
    graph.add_weighted_edges_from(zip(pair_index[0].tolist(), pair_index[1].tolist(), weight.tolist(), strict=True))
    members = {node: [node] for node in range(size)}
    while graph.number_of_edges():
        keep, merged, best = max(graph.edges(data="weight"), key=lambda edge: (edge[2], -min(edge[0], edge[1])))
        if best <= 0:
            break
        for neighbour, data in list(graph[merged].items()):
            if neighbour == keep:
                continue
            if graph.has_edge(keep, neighbour):
                graph[keep][neighbour]["weight"] += data["weight"]
            else:
                graph.add_edge(keep, neighbour, weight=data["weight"])
        graph.remove_node(merged)
        members[keep].extend(members.pop(merged))
    labels = np.empty(size, dtype=np.int64)
    for label, rows in enumerate(sorted(members.values(), key=min), start=1):
        labels[rows] = label
    return labels


_SPLIT_METHODS = {"average": _average_linkage, "correlation": _correlation_clustering}


def _cap_component_sizes(labels: np.ndarray, left: np.ndarray, right: np.ndarray, probability: np.ndarray,
                         config: ClusteringConfig) -> np.ndarray:
    """Re-cut components larger than the cap using ever stricter edge thresholds."""
    for strict in (0.8, 0.95, 0.99, 0.999):
        sizes = np.bincount(labels)
        if sizes.max(initial=0) <= config.max_component_size:
            break
        oversized = sizes[labels] > config.max_component_size
        keep = (probability >= config.merge_threshold) & ~(oversized[left] & (probability < strict))
        labels = _components(len(labels), left[keep], right[keep])
    return labels


def _members_and_pairs(labels: np.ndarray, pair_left: np.ndarray, components: np.ndarray):
    """Yield ``(component, member_rows, pair_indices)`` for each of ``components``, with two sorts in all
    (not one scan of every row per component)."""
    wanted = np.isin(labels, components)
    rows = np.flatnonzero(wanted)
    rows = rows[np.argsort(labels[rows], kind="stable")]
    pairs = np.flatnonzero(wanted[pair_left])
    pairs = pairs[np.argsort(labels[pair_left[pairs]], kind="stable")]
    row_bounds = np.searchsorted(labels[rows], components, side="left"), np.searchsorted(
        labels[rows], components, side="right")
    pair_bounds = np.searchsorted(labels[pair_left[pairs]], components, side="left"), np.searchsorted(
        labels[pair_left[pairs]], components, side="right")
    for k, component in enumerate(components):
        yield (component, rows[row_bounds[0][k]:row_bounds[1][k]],
               pairs[pair_bounds[0][k]:pair_bounds[1][k]])


def cluster_pairs(n: int, left: np.ndarray, right: np.ndarray, probability: np.ndarray, score: PairScorer, *,
                  config: ClusteringConfig, method: str = "average") -> Clustering:
    """Group ``n`` rows from scored pairs (see the module docstring; ``method`` splits disagreeing
    components: ``"average"`` or ``"correlation"``)."""
    split = _SPLIT_METHODS.get(method)
    if split is None:
        raise ValueError(f"unknown clustering method {method!r}; expected one of {sorted(_SPLIT_METHODS)}")
    confident = probability >= config.merge_threshold
    labels = _components(n, left[confident], right[confident])
    labels = _cap_component_sizes(labels, left, right, probability, config)

    member_left, member_right, _ = pairs_within_groups(labels, max_group_size=config.max_component_size)
    order = np.argsort(left * n + right)
    known_codes, known_probability = (left * n + right)[order], probability[order]
    found, member_probability = _lookup_probability(member_left, member_right, known_codes,
                                                    known_probability, n)
    if (~found).any():
        member_probability[~found] = score(member_left[~found], member_right[~found])

    disagreeing = np.unique(labels[member_left[member_probability < config.merge_threshold]])
    new_labels = labels.copy()
    next_label = int(labels.max(initial=-1)) + 1
    local_index = np.full(n, -1, dtype=np.int64)
    for _component, members, pair_rows in _members_and_pairs(labels, member_left, disagreeing):
        local_index[members] = np.arange(len(members))
        sub_labels = split(
            len(members),
            (local_index[member_left[pair_rows]], local_index[member_right[pair_rows]]),
            member_probability[pair_rows],
            config.merge_threshold,
        )
        new_labels[members] = next_label + sub_labels
        next_label += int(sub_labels.max()) + 1

    same_group = new_labels[member_left] == new_labels[member_right]
    return Clustering(
        labels=new_labels,
        member_left=member_left[same_group],
        member_right=member_right[same_group],
        member_probability=member_probability[same_group],
        split_components=len(disagreeing),
    )
