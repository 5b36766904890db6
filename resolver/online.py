"""The online path: a warm index of a resolved catalog for one-track look-ups and incremental regrouping.

Same blockers, comparisons and model as the batch pipeline — nothing here matches differently:

- :class:`TrackIndex` keeps, for each LSH blocker of :func:`resolver.blocking.text_blockers`, every track's
  bucket key in every band (salted by band) in one sorted array, so a query's buckets are found by one
  vectorized binary search (no per-track Python objects; 12 bytes per track and band), plus the sorted ISRCs.
- :meth:`TrackIndex.find` scores a query track against its candidates with the trained model and returns
  them ranked with their evidence.
- :func:`regroup` re-clusters a subset of the catalog (the tracks new records can affect) with the trained
  model: blocking, comparison, clustering and proposals exactly as in a full run, on fewer rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from resolver.audio_evidence import AudioEvidence
from resolver.blocking import band_keys, candidate_pairs, text_blockers, text_signatures
from resolver.compare import compare_pairs
from resolver.config import ResolverConfig
from resolver.decisions import PairDecisions
from resolver.features import TrackFeatures
from resolver.pipeline import ResolveResult, ScoredTracks, group_tracks
from resolver.score import TRACK_COMPARISONS, FellegiSunterModel, comparison_levels
from resolver.stages import StageTimer


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
    threshold: float
    uses_groups: bool
    sort_by_duration: bool


class TrackIndex:
    """Candidates and scores for single tracks against ``features`` (see the module docstring)."""

    def __init__(self, features: TrackFeatures, model: FellegiSunterModel, config: ResolverConfig) -> None:
        self.features, self.model, self.config = features, model, config
        self._tables = {name: _sorted_table(keys, blocker)
                        for name, (keys, blocker) in _bucket_keys(features, config).items()}
        isrc_order = np.argsort(features.isrc, kind="stable")
        self._isrc_sorted, self._isrc_rows = features.isrc[isrc_order], isrc_order

    def with_rows(self, rows: np.ndarray, features: TrackFeatures) -> TrackIndex:
        """A new index where row ``rows[i]`` holds row ``i`` of ``features``; ``rows`` at or past the end are
        appended (they must be ``len(self), len(self) + 1, …`` in order).

        Only the changed rows are hashed; each band's sorted keys are rebuilt from the old ones by dropping
        the replaced rows and merging the new keys in (no full re-sort)."""
        n_old = len(self.features)
        appended = rows >= n_old
        if not np.array_equal(rows[appended], n_old + np.arange(int(appended.sum()))):
            raise ValueError("appended rows must continue the index in order")
        new = object.__new__(TrackIndex)
        replaced = self.features.replace_rows(rows[~appended], features.take(np.flatnonzero(~appended)))
        new.features = replaced.concat(features.take(np.flatnonzero(appended)))
        new.model, new.config = self.model, self.config
        new._tables = {}
        for name, (keys, blocker) in _bucket_keys(features, self.config).items():
            old = self._tables[name]
            keep = ~np.isin(old.rows, rows[~appended])
            kept_keys, kept_rows = old.keys[keep], old.rows[keep]
            salted = _salted(keys)
            in_bucket = salted != -1
            added_keys = salted[in_bucket]
            added_rows = np.broadcast_to(rows[:, None], salted.shape)[in_bucket].astype(np.int32)
            order = np.argsort(added_keys, kind="stable")
            position = np.searchsorted(kept_keys, added_keys[order], side="right")
            new._tables[name] = _BandTable(np.insert(kept_keys, position, added_keys[order]),
                                           np.insert(kept_rows, position, added_rows[order]), blocker.threshold,
                                           blocker.within is not None, blocker.sort_by_duration)
        isrc_order = np.argsort(new.features.isrc, kind="stable")
        new._isrc_sorted, new._isrc_rows = new.features.isrc[isrc_order], isrc_order
        return new

    def __len__(self) -> int:
        return len(self.features)

    def candidate_rows(self, query: TrackFeatures) -> np.ndarray:
        """Rows sharing a bucket of some blocker, or a valid ISRC, with the (one-row) ``query``."""
        blocking = self.config.blocking
        found = []
        for name, (keys, _) in _bucket_keys(query, self.config).items():
            table = self._tables[name]
            salted = _salted(keys)[0]
            salted = salted[salted != -1]
            lows = np.searchsorted(table.keys, salted, side="left")
            highs = np.searchsorted(table.keys, salted, side="right")
            sizes = highs - lows
            normal = (sizes > 0) & (sizes <= blocking.max_bucket_size)
            if normal.any():  # every ordinary bucket at once: concatenated index ranges
                counts = sizes[normal]
                starts = np.repeat(lows[normal], counts)
                ramp = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                found.append(table.rows[starts + ramp].astype(np.int64))
            if not table.sort_by_duration:
                continue
            for low, high in zip(lows[sizes > blocking.max_bucket_size].tolist(),
                                 highs[sizes > blocking.max_bucket_size].tolist(), strict=True):
                rows = table.rows[low:high]  # a popular title: the nearest durations only
                distance = np.abs(self.features.duration_ms[rows] - query.duration_ms[0])
                found.append(rows[np.argsort(np.nan_to_num(distance, nan=np.inf), kind="stable")
                                  [: 2 * blocking.oversized_bucket_neighbours]].astype(np.int64))
        if query.isrc[0]:
            low = np.searchsorted(self._isrc_sorted, query.isrc[0], side="left")
            high = np.searchsorted(self._isrc_sorted, query.isrc[0], side="right")
            found.append(self._isrc_rows[low:high][: blocking.max_isrc_block_size].astype(np.int64))
        return np.unique(np.concatenate(found)) if found else np.empty(0, np.int64)

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
        probability, weight = self.model.probability(levels), self.model.match_weight(levels)
        weights = self.model.weights()
        order = np.argsort(-probability, kind="stable")
        order = order[probability[order] >= min_probability][:limit]
        matches = []
        for k in order.tolist():
            evidence = {}
            for column, comparison in enumerate(TRACK_COMPARISONS):
                level = int(levels[k, column])
                evidence[comparison.name] = ("null (0.0)" if level < 0 else
                                             f"{comparison.level_labels[level]} ({weights[column][level]:+.1f})")
            matches.append(Match(int(rows[k]), float(probability[k]), float(weight[k]), evidence))
        return matches


def _bucket_keys(features: TrackFeatures, config: ResolverConfig) -> dict[str, tuple[np.ndarray, object]]:
    """Per text blocker: ``(n, bands)`` int64 bucket keys of ``features``' rows, and the blocker."""
    out = {}
    for name, blocker in text_blockers(features, config.blocking).items():
        signatures, empty = text_signatures(blocker.texts, config.blocking)
        out[name] = (band_keys(signatures, empty, threshold=blocker.threshold, within=blocker.within), blocker)
    return out


def _sorted_table(keys: np.ndarray, blocker) -> _BandTable:
    salted = _salted(keys)
    in_bucket = salted != -1
    flat_keys = salted[in_bucket]
    flat_rows = np.broadcast_to(np.arange(len(keys), dtype=np.int32)[:, None], salted.shape)[in_bucket]
    order = np.argsort(flat_keys, kind="stable")
    return _BandTable(flat_keys[order], flat_rows[order], blocker.threshold, blocker.within is not None,
                      blocker.sort_by_duration)


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
