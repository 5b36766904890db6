"""The online path: a warm index of a resolved catalog for one-track look-ups and incremental regrouping.

Same blockers, comparisons and model as the batch pipeline — nothing here matches differently:

- :class:`TrackIndex` keeps, for each LSH blocker of :func:`resolver.blocking.text_blockers`, every track's
  bucket key in every band (salted by band) in one sorted array, so a query's buckets are found by one
  vectorized binary search (no per-track Python objects; 12 bytes per track and band), plus the sorted ISRCs.
- :meth:`TrackIndex.candidates` finds the rows sharing a bucket with each of a batch of query tracks, and
  :meth:`TrackIndex.score` scores a query track against its candidates with the trained model and returns
  them ranked with their evidence (an unsaved track's look-up).
- :attr:`TrackIndex.neighbours` holds every indexed track's scored candidates
  (:class:`resolver.neighbours.ScoredNeighbours`): a stored track's look-up is a slice of it. Built from the
  batch blockers (the pairs a full resolution scores); rows changed later are re-searched with the buckets
  above and their pairs re-scored.
- :func:`regroup` re-clusters a subset of the catalog (the tracks new records can affect) with the trained
  model: blocking, comparison, clustering and proposals exactly as in a full run, on fewer rows.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.resolver.audio_evidence import AudioEvidence
from catalog_er.resolver.blocking import band_keys, candidate_pairs, dedupe_pairs, text_blockers, text_signatures
from catalog_er.resolver.compare import compare_pairs
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.decisions import PairDecisions
from catalog_er.resolver.features import TrackFeatures
from catalog_er.resolver.neighbours import ScoredNeighbours
from catalog_er.resolver.pipeline import ResolveResult, ScoredTracks, group_tracks
from catalog_er.resolver.score import TRACK_COMPARISONS, FellegiSunterModel, comparison_levels
from catalog_er.resolver.stages import StageTimer


@dataclass(frozen=True)
class Match:
    """One scored candidate: its row in the index, probability, log₂ Bayes factor and per-signal evidence."""

    row: int
    probability: float
    match_weight: float
    evidence: dict[str, str]


_BAND_SALT = np.uint64(0xD6E8FEB86659FD93)


def _salted(keys: np.ndarray) -> np.ndarray:
    """``(n, bands)`` bucket keys made distinct across bands (so all bands share one sorted array); -1 stays."""
    bands = np.arange(keys.shape[1], dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        salted = ((keys.view(np.uint64) ^ (bands * _BAND_SALT)) * _BAND_SALT).view(np.int64)
    return np.where(keys == -1, -1, salted)


@dataclass(frozen=True)
class _BandTable:
    """One blocker's buckets over all bands: ``keys`` sorted (band-salted bucket keys of every row in every
    band, rows in no bucket left out) and ``rows`` the row of each key."""

    keys: np.ndarray
    rows: np.ndarray
    sort_by_duration: bool

    @classmethod
    def build(cls, keys: np.ndarray, rows: np.ndarray, sort_by_duration: bool) -> _BandTable:
        """From ``(n, bands)`` bucket keys of the rows ``rows`` (``(n,)``)."""
        flat_keys, flat_rows = _flat_sorted(keys, rows)
        return cls(flat_keys, flat_rows, sort_by_duration)

    def merged(self, keys: np.ndarray, rows: np.ndarray) -> _BandTable:
        """This table with every key of ``rows`` replaced by ``keys`` (``(len(rows), bands)``): the old keys
        of those rows dropped, the new ones merged in (no full re-sort)."""
        keep = ~np.isin(self.rows, rows)
        kept_keys, kept_rows = self.keys[keep], self.rows[keep]
        added_keys, added_rows = _flat_sorted(keys, rows)
        position = np.searchsorted(kept_keys, added_keys, side="right")
        return _BandTable(np.insert(kept_keys, position, added_keys), np.insert(kept_rows, position, added_rows),
                          self.sort_by_duration)


def _flat_sorted(keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band-salted keys of ``(n, bands)`` ``keys`` that are in a bucket, sorted, and their rows (int32)."""
    salted = _salted(keys)
    in_bucket = salted != -1
    flat_keys = salted[in_bucket]
    flat_rows = np.broadcast_to(rows.astype(np.int32)[:, None], salted.shape)[in_bucket]
    order = np.argsort(flat_keys, kind="stable")
    return flat_keys[order], flat_rows[order]


class TrackIndex:
    """Candidates and scores for single tracks against ``features`` (see the module docstring)."""

    def __init__(self, features: TrackFeatures, model: FellegiSunterModel, config: ResolverConfig,
                 scored_pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        """``scored_pairs``: ``(left, right, levels)`` of the batch candidate pairs of ``features`` when a
        resolution has just compared them (otherwise they are found and compared here)."""
        self.features, self.model, self.config = features, model, config
        self._evidence = _evidence_tables(model)
        self._tables = {name: _BandTable.build(keys, np.arange(len(features)), blocker.sort_by_duration)
                        for name, (keys, blocker) in _bucket_keys(features, config).items()}
        self._isrc_sorted, self._isrc_rows = _isrc_lookup(features)
        if scored_pairs is None:
            pairs = candidate_pairs(features, config.blocking)
            scored_pairs = (pairs.left, pairs.right, self._levels(pairs.left, pairs.right))
        self.neighbours = ScoredNeighbours.from_pairs(len(features), *scored_pairs, model)

    def with_rows(self, rows: np.ndarray, features: TrackFeatures) -> TrackIndex:
        """A new index where row ``rows[i]`` holds row ``i`` of ``features``; ``rows`` at or past the end are
        appended (they must be ``len(self), len(self) + 1, …`` in order).

        Only the changed rows are hashed; each band's sorted keys are rebuilt from the old ones by dropping
        the replaced rows and merging the new keys in (no full re-sort); the changed rows' candidates are
        searched and scored, and merged into :attr:`neighbours`."""
        n_old = len(self.features)
        appended = rows >= n_old
        if not np.array_equal(rows[appended], n_old + np.arange(int(appended.sum()))):
            raise ValueError("appended rows must continue the index in order")
        new = object.__new__(TrackIndex)
        replaced = self.features.replace_rows(rows[~appended], features.take(np.flatnonzero(~appended)))
        new.features = replaced.concat(features.take(np.flatnonzero(appended)))
        new.model, new.config, new._evidence = self.model, self.config, self._evidence
        keys = _bucket_keys(features, self.config)
        new._tables = {name: self._tables[name].merged(blocker_keys, rows)
                       for name, (blocker_keys, _) in keys.items()}
        new._isrc_sorted, new._isrc_rows = _isrc_lookup(new.features)
        query, found = new._candidates(features, keys)
        changed, other = rows[query], found
        distinct = changed != other
        left, right = dedupe_pairs(np.minimum(changed, other)[distinct], np.maximum(changed, other)[distinct],
                                   len(new.features))
        new.neighbours = self.neighbours.updated(rows, len(new.features), left, right, new._levels(left, right),
                                                 self.model)
        return new

    def __len__(self) -> int:
        return len(self.features)

    def _levels(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``(len(left), n_comparisons)`` comparison levels of indexed rows' pairs (text and metadata only)."""
        return comparison_levels(compare_pairs(self.features, left, right))

    def candidates(self, query: TrackFeatures) -> tuple[np.ndarray, np.ndarray]:
        """``(query_rows, rows)``, int64: each pair of a row of ``query`` and an indexed row sharing a bucket of
        some blocker or a valid ISRC (each pair once, sorted by query row)."""
        return self._candidates(query, _bucket_keys(query, self.config))

    def _candidates(self, query: TrackFeatures, keys_by_blocker: dict[str, tuple[np.ndarray, object]]
                    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`candidates`, given the query rows' bucket keys (:func:`_bucket_keys`)."""
        blocking = self.config.blocking
        found_query, found_rows = [], []
        for name, (keys, _) in keys_by_blocker.items():
            table = self._tables[name]
            salted = _salted(keys)
            in_bucket = salted != -1
            query_of_key = np.broadcast_to(np.arange(len(query))[:, None], salted.shape)[in_bucket]
            salted = salted[in_bucket]
            lows = np.searchsorted(table.keys, salted, side="left")
            sizes = np.searchsorted(table.keys, salted, side="right") - lows
            normal = (sizes > 0) & (sizes <= blocking.max_bucket_size)
            if normal.any():  # every ordinary bucket at once: concatenated index ranges
                found_query.append(np.repeat(query_of_key[normal], sizes[normal]))
                found_rows.append(table.rows[_ranges(lows[normal], sizes[normal])])
            if not table.sort_by_duration:
                continue
            oversized = sizes > blocking.max_bucket_size
            for q, low, size in zip(query_of_key[oversized].tolist(), lows[oversized].tolist(),
                                    sizes[oversized].tolist(), strict=True):
                rows = table.rows[low:low + size]  # a popular title: the nearest durations only
                distance = np.nan_to_num(np.abs(self.features.duration_ms[rows] - query.duration_ms[q]), nan=np.inf)
                nearest = rows[np.argsort(distance, kind="stable")[: 2 * blocking.oversized_bucket_neighbours]]
                found_query.append(np.full(len(nearest), q))
                found_rows.append(nearest)
        with_isrc = np.flatnonzero(query.isrc != "")
        if len(with_isrc):
            lows = np.searchsorted(self._isrc_sorted, query.isrc[with_isrc], side="left")
            sizes = np.searchsorted(self._isrc_sorted, query.isrc[with_isrc], side="right") - lows
            sizes = np.minimum(sizes, blocking.max_isrc_block_size)
            found_query.append(np.repeat(with_isrc, sizes))
            found_rows.append(self._isrc_rows[_ranges(lows, sizes)])
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
        levels = comparison_levels(compare_pairs(pool, query_row, np.arange(len(rows)), audio))
        return self._ranked(rows, self.model.probability(levels), levels, limit, min_probability)

    def find_many(self, queries: TrackFeatures, limits: list[int], min_probabilities: list[float]
                  ) -> list[tuple[list[Match], int]]:
        """Look-ups of several unsaved tracks at once (text and metadata): for query ``q``, its candidates
        ranked (at most ``limits[q]``, at least ``min_probabilities[q]``) and how many were scored."""
        query_of, rows = self.candidates(queries)
        pool = self.features.take(rows).concat(queries)  # the candidates' rows, then the queries'
        levels = comparison_levels(compare_pairs(pool, len(rows) + query_of, np.arange(len(rows))))
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

    def stored_matches(self, row: int, *, limit: int | None = None, min_probability: float = 0.0) -> list[Match]:
        """Indexed row ``row``'s scored candidates from :attr:`neighbours`, most likely first (at most
        ``limit``, at least ``min_probability``)."""
        entries = self.neighbours.of(row)
        probability = self.neighbours.probability[entries]
        kept = int(np.searchsorted(-probability, -min_probability, side="right"))  # sorted descending
        chosen = slice(entries.start, entries.start + min(kept, len(probability) if limit is None else limit))
        return self._matches(self.neighbours.target[chosen], self.neighbours.probability[chosen],
                             self.neighbours.levels[chosen])

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


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, sizes)])``, vectorized."""
    ramp = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(starts, sizes) + ramp


def _bucket_keys(features: TrackFeatures, config: ResolverConfig) -> dict[str, tuple[np.ndarray, object]]:
    """Per text blocker: ``(n, bands)`` int64 bucket keys of ``features``' rows, and the blocker (blockers over
    the same texts share one MinHash pass)."""
    out, signed = {}, {}
    for name, blocker in text_blockers(features, config.blocking).items():
        if id(blocker.texts) not in signed:
            signed[id(blocker.texts)] = text_signatures(blocker.texts, config.blocking)
        signatures, empty = signed[id(blocker.texts)]
        out[name] = (band_keys(signatures, empty, threshold=blocker.threshold, within=blocker.within), blocker)
    return out


def _isrc_lookup(features: TrackFeatures) -> tuple[np.ndarray, np.ndarray]:
    """``(isrcs sorted, their rows)`` for binary search."""
    order = np.argsort(features.isrc, kind="stable")
    return features.isrc[order], order


def regroup(tracks: pa.Table, features: TrackFeatures, model: FellegiSunterModel, config: ResolverConfig,
            decisions: PairDecisions | None = None) -> ResolveResult:
    """Group ``tracks`` (a subset of a catalog, with its ``features``) with an already trained ``model``."""
    timer = StageTimer(None)
    with timer.stage("blocking"):
        candidates = candidate_pairs(features, config.blocking)
    with timer.stage("compare"):
        signals = compare_pairs(features, candidates.left, candidates.right)
    return group_tracks(ScoredTracks(tracks, features, candidates, signals, model, None), config, timer,
                        decisions=decisions)
