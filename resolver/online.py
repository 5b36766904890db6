"""The online path: a warm index of a resolved catalog for one-track look-ups.

Same blockers, comparisons and model as the batch pipeline — nothing here matches differently:

- :class:`TrackIndex` keeps, for each LSH blocker of :func:`resolver.blocking.text_blockers`, every track's
  bucket key in every band in one sorted array (:class:`resolver.lsh.BucketIndex`, the keys batch blocking
  groups on), so a query's buckets are found by one vectorized binary search (no per-track Python objects;
  12 bytes per track and band), plus the sorted ISRCs. Buckets and ISRC blocks are cut as in batch blocking:
  an ISRC shared by more than ``max_isrc_block_size`` tracks pairs nothing, a popular title's bucket pairs a
  track with its ``oversized_bucket_neighbours`` nearest in duration on either side
  (:func:`resolver.pairing.sorted_neighbourhood`).
- :meth:`TrackIndex.candidates` finds the rows sharing a bucket with each of a batch of query tracks, and
  :meth:`TrackIndex.score` scores a query track against its candidates with the trained model and returns
  them ranked with their evidence (an unsaved track's look-up).
- :attr:`TrackIndex.neighbours` holds every indexed track's scored candidates
  (:class:`resolver.neighbours.ScoredNeighbours`): a stored track's look-up is a slice of it. Built from the
  batch blockers (the pairs a full resolution scores); rows changed later are re-searched with the buckets
  above and their pairs re-scored. An index that only answers unsaved tracks (``stored_lookups=False``) keeps
  none: it is built and updated without scoring the catalog's own pairs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.resolver.audio_evidence import AudioEvidence
from catalog_er.resolver.blocking import TextBlocker, candidate_pairs, text_blockers
from catalog_er.resolver.compare import compare_pairs
from catalog_er.resolver.comparisons import TRACK_COMPARISONS, comparison_levels
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.features import TrackFeatures, extract_track_features
from catalog_er.resolver.fellegi_sunter import FellegiSunterModel
from catalog_er.resolver.lsh import BucketIndex, not_among
from catalog_er.resolver.neighbours import ScoredNeighbours
from catalog_er.resolver.pairing import concatenated_ranges, dedupe_pairs, sorted_neighbourhood
from catalog_er.resolver.record_text import TokenStatistics, tokenize
from catalog_er.resolver.repair import RepairContext


@dataclass(frozen=True)
class Match:
    """One scored candidate: its row in the index, probability, log₂ Bayes factor and per-signal evidence."""

    row: int
    probability: float
    match_weight: float
    evidence: dict[str, str]


class TrackIndex:
    """Candidates and scores for single tracks against ``features`` (see the module docstring)."""

    def __init__(self, features: TrackFeatures, model: FellegiSunterModel, config: ResolverConfig,
                 scored_pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None, *,
                 repair_context: RepairContext, statistics: TokenStatistics | None = None,
                 stored_lookups: bool = True) -> None:
        """``features``: of the catalog's tracks, repaired with ``repair_context`` (which look-ups repair with
        too: :meth:`prepare`); ``scored_pairs``: ``(left, right, levels)`` of the batch candidate pairs of
        ``features`` when a resolution has just compared them (otherwise they are found and compared here);
        ``statistics``: the catalog's word frequencies that resolution used (otherwise learned from
        ``features``). Look-ups and rows added later are weighed with these same statistics.
        ``stored_lookups``: keep :attr:`neighbours` (False: the index answers unsaved tracks only, and neither
        building nor updating it scores the catalog's own pairs)."""
        self.features, self.model, self.config, self.repair_context = features, model, config, repair_context
        self.statistics = statistics or TokenStatistics.learn(tokenize(features.record_text))
        self._evidence = _evidence_tables(model)
        blockers = text_blockers(features, config.blocking)
        self._sort_by_duration = {name: blocker.sort_by_duration for name, blocker in blockers.items()}
        self._smeared_only = {name: blocker.pair_with is not None for name, blocker in blockers.items()}
        self._buckets = {name: BucketIndex.build(keys, np.arange(len(features)))
                         for name, keys in self._bucket_keys(blockers).items()}
        self._isrc_sorted, self._isrc_rows = _isrc_lookup(features)
        self.neighbours: ScoredNeighbours | None = None
        if stored_lookups:
            if scored_pairs is None:
                pairs = candidate_pairs(features, config=config.blocking, statistics=self.statistics)
                scored_pairs = (pairs.left, pairs.right, self._levels(pairs.left, pairs.right))
            self.neighbours = ScoredNeighbours.from_pairs(len(features), *scored_pairs, model)

    def with_rows(self, rows: np.ndarray, features: TrackFeatures) -> TrackIndex:
        """A new index where row ``rows[i]`` holds row ``i`` of ``features``; ``rows`` at or past the end are
        appended (they must be ``len(self), len(self) + 1, …`` in order).

        Only the changed rows are hashed; each band's sorted keys are rebuilt from the old ones by dropping
        the replaced rows and merging the new keys in (no full re-sort); the changed rows' candidates are
        searched and scored, and merged into :attr:`neighbours` (when the index keeps them)."""
        n_old = len(self.features)
        appended = rows >= n_old
        if not np.array_equal(rows[appended], n_old + np.arange(int(appended.sum()))):
            raise ValueError("appended rows must continue the index in order")
        new = object.__new__(TrackIndex)
        replaced = self.features.replace_rows(rows[~appended], features.take(np.flatnonzero(~appended)))
        new.features = replaced.concat(features.take(np.flatnonzero(appended)))
        new.model, new.config, new._evidence, new.statistics = self.model, self.config, self._evidence, self.statistics
        new.repair_context = self.repair_context
        new._sort_by_duration, new._smeared_only = self._sort_by_duration, self._smeared_only
        keys = self._bucket_keys(text_blockers(features, self.config.blocking))
        new._buckets = {name: self._buckets[name].merged(blocker_keys, rows) for name, blocker_keys in keys.items()}
        new._isrc_sorted, new._isrc_rows = self._isrc_merged(rows, features.isrc)
        new.neighbours = None
        if self.neighbours is None:
            return new
        query, found = new._candidates(features, keys, query_rows=rows)
        changed, other = rows[query], found
        distinct = changed != other
        left, right = dedupe_pairs(np.minimum(changed, other)[distinct], np.maximum(changed, other)[distinct],
                                   len(new.features))
        new.neighbours = self.neighbours.updated(rows, len(new.features), left, right, new._levels(left, right),
                                                 self.model)
        return new

    def __len__(self) -> int:
        return len(self.features)

    def prepare(self, tracks: pa.Table) -> TrackFeatures:
        """Features of validated ``TRACK_SCHEMA`` rows to look up or add, repaired as the catalog was."""
        return extract_track_features(tracks, context=self.repair_context)

    def _bucket_keys(self, blockers: dict[str, TextBlocker]) -> dict[str, np.ndarray]:
        """Per text blocker: the ``(n, bands)`` int64 bucket keys of its rows (blockers hashing the same texts the
        same way share one MinHash pass)."""
        out: dict[str, np.ndarray] = {}
        signed: dict[tuple[int, bool], tuple[np.ndarray, np.ndarray]] = {}
        for name, blocker in blockers.items():
            key = (id(blocker.texts), blocker.words)
            if blocker.keys is None and key not in signed:
                signed[key] = blocker.signatures(self.config.blocking, self.statistics)
            out[name] = blocker.bucket_keys(signed.get(key))
        return out

    def _isrc_merged(self, rows: np.ndarray, isrcs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ISRC look-up with rows ``rows`` holding ``isrcs`` now: their old entries dropped and the new ones
        inserted where they sort (O(n) moves and O(k log n) comparisons, no re-sort of the catalog's ISRCs; the
        rows of one ISRC may then be out of row order, which no look-up depends on)."""
        keep = not_among(self._isrc_rows, rows)
        kept_isrcs, kept_rows = self._isrc_sorted[keep], self._isrc_rows[keep]
        order = np.argsort(isrcs, kind="stable")
        position = np.searchsorted(kept_isrcs, isrcs[order], side="right")
        return np.insert(kept_isrcs, position, isrcs[order]), np.insert(kept_rows, position, rows[order])

    def _levels(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``(len(left), n_comparisons)`` comparison levels of indexed rows' pairs (text and metadata only)."""
        return comparison_levels(compare_pairs(self.features, left, right, statistics=self.statistics),
                                 TRACK_COMPARISONS)

    def candidates(self, query: TrackFeatures) -> tuple[np.ndarray, np.ndarray]:
        """``(query_rows, rows)``, int64: each pair of a row of ``query`` (tracks not in the index) and an indexed
        row sharing a bucket of some blocker or a valid ISRC (each pair once, sorted by query row)."""
        return self._candidates(query, self._bucket_keys(text_blockers(query, self.config.blocking)))

    def _candidates(self, query: TrackFeatures, keys_by_blocker: dict[str, np.ndarray],
                    query_rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`candidates`, given the query rows' bucket keys (:func:`_bucket_keys`). ``query_rows``: the
        query tracks' own rows when they are in the index (a bucket or ISRC block then already counts them),
        None for unsaved tracks (which a batch run would add to each block they share)."""
        blocking = self.config.blocking
        # an unsaved track is placed as batch blocking would place it: as a new last row
        own_rows = np.full(len(query), len(self), dtype=np.int64) if query_rows is None else query_rows
        unsaved = 1 if query_rows is None else 0
        found_query, found_rows = [], []
        for name, keys in keys_by_blocker.items():
            buckets = self._buckets[name]
            query_of_key, starts, sizes = buckets.lookup(keys)
            members = sizes + unsaved  # the bucket as batch blocking would see it, the query in it
            normal = (sizes > 0) & (members <= blocking.max_bucket_size)
            blocker_query = [np.repeat(query_of_key[normal], sizes[normal])]
            blocker_rows = [buckets.rows[concatenated_ranges(starts[normal], sizes[normal])].astype(np.int64)]
            oversized = np.flatnonzero((sizes > 0) & (members > blocking.max_bucket_size))
            for k in oversized.tolist() if self._sort_by_duration[name] else ():
                q, start = int(query_of_key[k]), int(starts[k])  # a popular title: the nearest durations only
                rows = buckets.rows[start:start + int(sizes[k])].astype(np.int64)
                nearest = sorted_neighbourhood(rows, self.features.duration_ms[rows], int(own_rows[q]),
                                               float(query.duration_ms[q]),
                                               window=blocking.oversized_bucket_neighbours)
                blocker_query.append(np.full(len(nearest), q))
                blocker_rows.append(nearest)
            pair_query, pair_rows = np.concatenate(blocker_query), np.concatenate(blocker_rows)
            if self._smeared_only[name]:  # only pairs with a record whose fields may be smeared
                kept = query.smeared[pair_query] | self.features.smeared[pair_rows]
                pair_query, pair_rows = pair_query[kept], pair_rows[kept]
            found_query.append(pair_query)
            found_rows.append(pair_rows)
        with_isrc = np.flatnonzero(query.isrc != "")
        if len(with_isrc):
            starts = np.searchsorted(self._isrc_sorted, query.isrc[with_isrc], side="left")
            sizes = np.searchsorted(self._isrc_sorted, query.isrc[with_isrc], side="right") - starts
            sizes[sizes + unsaved > blocking.max_isrc_block_size] = 0  # an over-shared ISRC is a data error
            found_query.append(np.repeat(with_isrc, sizes))
            found_rows.append(self._isrc_rows[concatenated_ranges(starts, sizes)])
        if not found_rows:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        pairs = np.unique(np.concatenate(found_query).astype(np.int64) * len(self)
                          + np.concatenate(found_rows).astype(np.int64))
        return pairs // len(self), pairs % len(self)

    def candidate_rows(self, query: TrackFeatures) -> np.ndarray:
        """Indexed rows that are candidates of the (one-row) ``query``, ascending."""
        return self.candidates(query)[1]

    def score(self, query: TrackFeatures, rows: np.ndarray, audio: AudioEvidence | None = None, *,
              limit: int | None = None, min_probability: float = 0.0) -> list[Match]:
        """The model's verdict on ``query`` against each of ``rows``, most likely first (at most ``limit``, at
        least ``min_probability``).

        ``audio``, when given, is evidence over the ``len(rows) + 1`` rows of ``rows`` then the query."""
        if len(rows) == 0:
            return []
        pool = self.features.take(rows).concat(query)
        query_row = np.full(len(rows), len(rows), dtype=np.int64)
        levels = comparison_levels(compare_pairs(pool, query_row, np.arange(len(rows)), audio,
                                                 statistics=self.statistics), TRACK_COMPARISONS)
        return self._ranked(rows, self.model.probability(levels), levels, limit, min_probability)

    def find_many(self, queries: TrackFeatures, limits: list[int], min_probabilities: list[float]
                  ) -> list[tuple[list[Match], int]]:
        """Look-ups of several unsaved tracks at once (text and metadata): for query ``q``, its candidates
        ranked (at most ``limits[q]``, at least ``min_probabilities[q]``) and how many were scored."""
        query_of, rows = self.candidates(queries)
        pool = self.features.take(rows).concat(queries)  # the candidates' rows, then the queries'
        levels = comparison_levels(compare_pairs(pool, len(rows) + query_of, np.arange(len(rows)),
                                                 statistics=self.statistics), TRACK_COMPARISONS)
        probability = self.model.probability(levels)
        bounds = np.searchsorted(query_of, np.arange(len(queries) + 1)).tolist()
        return [(self._ranked(rows[low:high], probability[low:high], levels[low:high], limits[q],
                              min_probabilities[q]), high - low)
                for q, (low, high) in enumerate(itertools.pairwise(bounds))]

    def _ranked(self, rows: np.ndarray, probability: np.ndarray, levels: np.ndarray, limit: int | None,
                min_probability: float) -> list[Match]:
        order = np.argsort(-probability, kind="stable")
        order = order[probability[order] >= min_probability][:limit]
        return self._matches(rows[order], probability[order], levels[order])

    def neighbour_rows(self, row: int) -> np.ndarray:
        """Indexed row ``row``'s candidates (int64 rows, ascending): the rows its look-up scores."""
        neighbours = self._scored_neighbours()
        return np.sort(neighbours.target[neighbours.of(row)]).astype(np.int64)

    def rescored_matches(self, row: int, audio: AudioEvidence, *, limit: int | None = None,
                         min_probability: float = 0.0) -> list[Match]:
        """Indexed row ``row``'s candidates scored again with ``audio`` (evidence over
        :meth:`neighbour_rows` then the row itself), most likely first: audio on both sides can change
        the verdicts :attr:`neighbours` holds."""
        return self.score(self.features.take(np.array([row])), self.neighbour_rows(row), audio, limit=limit,
                          min_probability=min_probability)

    def stored_matches(self, row: int, *, limit: int | None = None, min_probability: float = 0.0) -> list[Match]:
        """Indexed row ``row``'s scored candidates from :attr:`neighbours`, most likely first (at most
        ``limit``, at least ``min_probability``)."""
        neighbours = self._scored_neighbours()
        entries = neighbours.of(row)
        probability = neighbours.probability[entries]
        kept = int(np.searchsorted(-probability, -min_probability, side="right"))  # sorted descending
        chosen = slice(entries.start, entries.start + min(kept, len(probability) if limit is None else limit))
        return self._matches(neighbours.target[chosen], neighbours.probability[chosen], neighbours.levels[chosen])

    def _scored_neighbours(self) -> ScoredNeighbours:
        if self.neighbours is None:
            raise RuntimeError("this index answers unsaved tracks only (built with stored_lookups=False)")
        return self.neighbours

    def _matches(self, rows: np.ndarray, probability: np.ndarray, levels: np.ndarray) -> list[Match]:
        """:class:`Match` objects, evidence labelled per comparison, for already ranked candidates."""
        labels, weights = self._evidence
        matches = []
        for row, p, level_row in zip(rows.tolist(), probability.tolist(), levels.tolist(), strict=True):
            evidence, weight = {}, 0.0
            for column, level in enumerate(level_row):
                evidence[TRACK_COMPARISONS[column].name] = labels[column][level]
                weight += weights[column][level]
            matches.append(Match(row, p, weight, evidence))
        return matches


def _evidence_tables(model: FellegiSunterModel) -> tuple[list[dict[int, str]], list[dict[int, float]]]:
    """Per comparison, level → evidence label ``"<level> (<weight>)"`` and level → log₂ weight; the null
    level -1 is ``"null (0.0)"`` and weighs 0 (as in :meth:`FellegiSunterModel.match_weight`)."""
    labels, weights = [], []
    for comparison, level_weights in zip(TRACK_COMPARISONS, model.weights(), strict=True):
        weights.append({-1: 0.0} | {level: float(w) for level, w in enumerate(level_weights)})
        labels.append({-1: "null (0.0)"} | {level: f"{comparison.level_labels[level]} ({w:+.1f})"
                                             for level, w in weights[-1].items() if level >= 0})
    return labels, weights


def _isrc_lookup(features: TrackFeatures) -> tuple[np.ndarray, np.ndarray]:
    """``(isrcs sorted, their rows)`` for binary search."""
    order = np.argsort(features.isrc, kind="stable")
    return features.isrc[order], order
