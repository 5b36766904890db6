"""Signals → calibrated match probability + per-signal evidence (Fellegi–Sunter, as splink does).

Each comparison maps a raw signal to ordered *levels* (null, then from "clearly different" up to
"exact"), so every score explains itself: a pair's log₂ Bayes factor is the sum of one weight per
comparison, ``log₂(m / u)`` of the level it fell in (null levels weigh 0).

* ``m`` — how often a level occurs between two deliveries of one recording —, ``u`` — how often it occurs
  between two different recordings *that blocking made candidates* — and the prior ``λ`` (the share of
  candidate pairs that are duplicates) are estimated by EM on the catalog's own candidate pairs, so no
  labels are needed and the model adapts to each catalog. EM starts from ISRC anchors (pairs sharing a
  valid ISRC vs pairs with two different ones) and falls back to random-pair u where there are none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog_er.resolver.compare import MISSING, PairSignals
from catalog_er.resolver.config import ScoringConfig


@dataclass(frozen=True)
class Comparison:
    """One signal cut into ordered levels; ``levels(signals)`` returns int8 codes (-1 = null).

    ``signals`` is the entity's pair-signal record: :class:`PairSignals` for tracks,
    :class:`resolver.artists.pairs.ArtistPairSignals` for artists."""

    name: str
    level_labels: tuple[str, ...]
    levels: Callable[[Any], np.ndarray]
    fixed_m: tuple[float, ...] | None = None
    """m-probabilities set by definition instead of learned (EM leaves them alone)."""
    monotone_groups: tuple[tuple[int, ...], ...] = ()
    """Runs of levels ordered by strength of agreement, whose weights must not decrease along the run: after
    EM, adjacent levels that violate that are pooled (pool-adjacent-violators). A top level too rare in
    the catalog for EM to see among duplicates ("the two ids share over half their audience") then weighs
    at least as much as the level below instead of nothing."""


def threshold_levels(values: np.ndarray, cut_points: tuple[float, ...]) -> np.ndarray:
    """Level = number of cut points ``values`` reaches; NaN → -1. Cut points ascending."""
    out = np.searchsorted(np.asarray(cut_points), values, side="right").astype(np.int8)
    out[np.isnan(values)] = MISSING
    return out


def _duration_levels(signals: PairSignals) -> np.ndarray:
    # Ascending levels = closer durations: >15 s, ≤15 s, ≤6 s, ≤3 s, ≤1 s.
    delta = signals.duration_delta_ms
    out = np.zeros(len(delta), dtype=np.int8)
    for level, limit in enumerate((15_000, 6_000, 3_000, 1_000), start=1):
        out[delta <= limit] = level
    out[np.isnan(delta)] = MISSING
    return out


_TITLE_LEVELS = ("<0.70", ">=0.70", ">=0.85", ">=0.95", "exact")
_ARTIST_LEVELS = ("null", "<0.50", ">=0.50", ">=0.80", ">=0.95", "exact")


def _title_artist_levels(signals: PairSignals) -> np.ndarray:
    """Joint level of title and artist similarity: ``title_level · 6 + artist_level`` (artist null = 0).

    Title and artist agreement are strongly dependent among different recordings (a same-titled song by
    the same artist is rare, each alone is common), so they form one comparison with a level per
    combination instead of two independent ones whose weights would double count.
    """
    title = threshold_levels(signals.title_similarity.astype(np.float64), (0.70, 0.85, 0.95, 1.0))
    artist = threshold_levels(signals.artist_similarity.astype(np.float64), (0.50, 0.80, 0.95, 1.0)) + 1
    artist[np.isnan(signals.artist_similarity)] = 0
    joint = (title.astype(np.int16) * len(_ARTIST_LEVELS) + artist).astype(np.int8)
    joint[title < 0] = MISSING  # a placeholder title ("Track 07") says nothing, whatever the artist
    return joint


TRACK_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("title_artist",
               tuple(f"title {t} / artist {a}" for t in _TITLE_LEVELS for a in _ARTIST_LEVELS),
               _title_artist_levels),
    Comparison("isrc", ("different", "same"), lambda s: s.isrc_match),
    Comparison("duration", (">15s", "<=15s", "<=6s", "<=3s", "<=1s"), _duration_levels),
    # A live take, remix, instrumental or re-recording is a different recording by definition: the
    # conflict level's m is fixed near zero so that no other agreement can outweigh it.
    Comparison("version", ("conflict", "same"), lambda s: s.version_match, fixed_m=(1e-6, 1.0 - 1e-6)),
    # The recording itself: m is fixed from the fingerprint benchmark (verification misses about 2% of
    # true duplicate deliveries), so EM cannot learn that duplicates often "sound different" from pairs
    # whose metadata agrees but whose audio does not (a live take labelled like the studio cut).
    Comparison("audio", ("different", "same"), lambda s: s.audio_match, fixed_m=(0.02, 0.98)),
    Comparison("album", ("different", "same"), lambda s: s.album_match),
    Comparison("release_year", ("different", "same"), lambda s: s.release_year_match),
)


def comparison_levels(signals: Any, comparisons: tuple[Comparison, ...] = TRACK_COMPARISONS
                      ) -> np.ndarray:
    """``(n_pairs, n_comparisons)`` int8 level matrix (-1 = null)."""
    if len(signals) == 0:
        return np.empty((0, len(comparisons)), dtype=np.int8)
    return np.column_stack([c.levels(signals) for c in comparisons]).astype(np.int8)


@dataclass(frozen=True)
class FellegiSunterModel:
    """Trained parameters. ``m[c]`` and ``u[c]`` are arrays over the levels of comparison ``c``."""

    comparisons: tuple[Comparison, ...]
    m: tuple[np.ndarray, ...]
    u: tuple[np.ndarray, ...]
    prior: float
    """λ: probability that a candidate pair is a duplicate."""
    em_iterations: int

    def weights(self) -> tuple[np.ndarray, ...]:
        """log₂(m/u) per level, per comparison."""
        return tuple(np.log2(m / u) for m, u in zip(self.m, self.u, strict=True))

    def match_weight(self, levels: np.ndarray) -> np.ndarray:
        """``(n_pairs,)`` log₂ Bayes factor of each pair (sum of level weights; null levels add 0)."""
        total = np.zeros(len(levels), dtype=np.float64)
        for column, weights in enumerate(self.weights()):
            level = levels[:, column]
            present = level != MISSING
            total[present] += weights[level[present]]
        return total

    def probability(self, levels: np.ndarray) -> np.ndarray:
        """``(n_pairs,)`` posterior probability that each pair is a duplicate."""
        log_odds = np.log2(self.prior / (1.0 - self.prior)) + self.match_weight(levels)
        return 1.0 / (1.0 + np.exp2(-np.clip(log_odds, -60, 60)))

    def describe(self) -> dict[str, object]:
        """JSON-ready table of m, u and weights per level (written to summary.json)."""
        return {
            "prior": self.prior,
            "em_iterations": self.em_iterations,
            "comparisons": {
                c.name: {
                    label: {"m": float(m[i]), "u": float(u[i]), "weight_log2": float(np.log2(m[i] / u[i]))}
                    for i, label in enumerate(c.level_labels)
                }
                for c, m, u in zip(self.comparisons, self.m, self.u, strict=True)
            },
        }


def model_parameters(model: FellegiSunterModel) -> dict[str, object]:
    """JSON-ready parameters of ``model`` (the comparisons are code: only their names are kept)."""
    return {"comparisons": [c.name for c in model.comparisons], "m": [m.tolist() for m in model.m],
            "u": [u.tolist() for u in model.u], "prior": model.prior, "em_iterations": model.em_iterations}


def model_from_parameters(parameters: dict, comparisons: tuple[Comparison, ...]) -> FellegiSunterModel:
    """The model :func:`model_parameters` saved; ValueError when it was saved for other comparisons."""
    names = [c.name for c in comparisons]
    if parameters.get("comparisons") != names or any(
            len(m) != len(c.level_labels) for m, c in zip(parameters["m"], comparisons, strict=True)):
        raise ValueError(f"saved model is for comparisons {parameters.get('comparisons')}, not {names}")
    return FellegiSunterModel(comparisons, tuple(np.asarray(m, np.float64) for m in parameters["m"]),
                              tuple(np.asarray(u, np.float64) for u in parameters["u"]), float(parameters["prior"]),
                              int(parameters["em_iterations"]))


def _level_distribution(levels: np.ndarray, n_levels: int, weights: np.ndarray, floor: float) -> np.ndarray:
    present = levels != MISSING
    counts = np.bincount(levels[present], weights=weights[present], minlength=n_levels)[:n_levels]
    total = counts.sum()
    distribution = counts / total if total > 0 else np.full(n_levels, 1.0 / n_levels)
    distribution = np.maximum(distribution, floor)
    return distribution / distribution.sum()


def estimate_u(random_levels: np.ndarray, comparisons: tuple[Comparison, ...], floor: float
               ) -> tuple[np.ndarray, ...]:
    """u-probabilities from the level matrix of random (almost surely unrelated) pairs."""
    ones = np.ones(len(random_levels))
    return tuple(
        _level_distribution(random_levels[:, i], len(c.level_labels), ones, floor)
        for i, c in enumerate(comparisons)
    )


VETO_M = 1e-4
"""A level whose fixed m is at or below this is a veto: pairs in it are never duplicates."""


def vetoed(levels: np.ndarray, comparisons: tuple[Comparison, ...] = TRACK_COMPARISONS) -> np.ndarray:
    """``(n_pairs,)`` bool: the pair falls in a veto level of some comparison (see :data:`VETO_M`)."""
    out = np.zeros(len(levels), dtype=bool)
    for column, c in enumerate(comparisons):
        if c.fixed_m is not None:
            veto_levels = [level for level, m in enumerate(c.fixed_m) if m <= VETO_M]
            out |= np.isin(levels[:, column], veto_levels)
    return out


@dataclass(frozen=True)
class Anchor:
    """Candidate pairs whose status one comparison settles: ``same_levels`` of comparison ``name`` are
    duplicates, ``different_levels`` are not (or mostly not). EM holds m on them (see _initial_parameters)."""

    name: str
    same_levels: tuple[int, ...]
    different_levels: tuple[int, ...]
    hold_m: bool = True
    """Hold m at the anchors' level distribution (False: only start EM there), for anchors whose pairs are
    a biased sample of all duplicates."""


ISRC_ANCHOR = Anchor("isrc", same_levels=(1,), different_levels=(0,))
"""Tracks: two deliveries sharing a valid ISRC carry one recording; two different ISRCs, two recordings."""

MIN_ANCHOR_PAIRS = 50
"""ISRC anchors needed (pairs sharing a valid ISRC, and pairs with two different ones) to pin m on them."""


@dataclass(frozen=True)
class _Start:
    """EM starting point: parameters, and which comparisons' m and u EM must leave alone."""

    m: tuple[np.ndarray, ...]
    u: tuple[np.ndarray, ...]
    held_m: frozenset[int]
    held_u: frozenset[int]


def _initial_parameters(candidate_levels: np.ndarray, all_levels: np.ndarray, random_u: tuple[np.ndarray, ...],
                        comparisons: tuple[Comparison, ...], floor: float, anchor: Anchor) -> _Start:
    """Starting point for EM, anchored on ISRC (tracks; other anchors work alike) where the catalog has it.

    Pairs sharing a valid ISRC are duplicates (one recording, one code), so the level distribution of
    every *other* comparison among them is m itself: it is held, and EM only learns u, the prior and
    the ISRC comparison's own m (and m of any comparison too rarely observed among the anchors, e.g.
    audio when few tracks have it). With m pinned, EM cannot drift to another split of the candidates
    (say "same artist" vs "not"), which it does on large catalogs where 97% of candidates differ.
    Without anchors, m starts top-heavy, u starts from random pairs, and EM learns everything.
    Fixed comparisons keep their m; a veto comparison (version) also holds its u, counted over all
    candidates (its veto level holds only non-duplicates); others (audio) learn u by EM.
    """
    names = [c.name for c in comparisons]
    settled = (candidate_levels[:, names.index(anchor.name)] if anchor.name in names
               else np.full(len(candidate_levels), -1))
    same, different = np.isin(settled, anchor.same_levels), np.isin(settled, anchor.different_levels)
    anchored = same.sum() >= MIN_ANCHOR_PAIRS and different.sum() >= MIN_ANCHOR_PAIRS

    def share(levels: np.ndarray, n: int) -> np.ndarray:
        return _level_distribution(levels, n, np.ones(len(levels)), floor)

    m, u, held_m, held_u = [], [], set(), set()
    for i, c in enumerate(comparisons):
        n = len(c.level_labels)
        if c.fixed_m is not None and min(c.fixed_m) <= VETO_M:
            m.append(np.asarray(c.fixed_m, dtype=np.float64))
            u.append(share(all_levels[:, i], n))
            held_m.add(i)
            held_u.add(i)
        elif c.fixed_m is not None:
            m.append(np.asarray(c.fixed_m, dtype=np.float64))
            u.append(share(candidate_levels[different, i], n) if anchored else random_u[i])
            held_m.add(i)
        elif anchored and c.name != anchor.name and (candidate_levels[same, i] >= 0).sum() >= MIN_ANCHOR_PAIRS:
            m.append(share(candidate_levels[same, i], n))
            u.append(share(candidate_levels[different, i], n))
            if anchor.hold_m:
                held_m.add(i)
        else:
            top_heavy = np.full(n, 0.1 / max(n - 1, 1))
            top_heavy[-1] = 0.9
            m.append(top_heavy / top_heavy.sum())
            u.append(random_u[i])
    return _Start(tuple(m), tuple(u), frozenset(held_m), frozenset(held_u))


def train_model(candidate_levels: np.ndarray, random_levels: np.ndarray, config: ScoringConfig,
                comparisons: tuple[Comparison, ...] = TRACK_COMPARISONS, anchor: Anchor = ISRC_ANCHOR
                ) -> FellegiSunterModel:
    """Fit the model on the candidate pairs themselves (a random sample of at most
    ``config.em_sample_pairs`` of them); see :func:`_initial_parameters` for what EM learns.

    u is the level distribution among *non-duplicate candidates*, not among random pairs: blocking
    already selected pairs with similar text, so random-pair u would call every candidate a duplicate.

    Vetoed pairs (conflicting version tags) are left out of training: they are different recordings by
    definition, and most of them agree exactly on title and artist, so counting them would teach u
    that exact title+artist agreement is common among different recordings — true only across versions.
    """
    all_levels = candidate_levels
    candidate_levels = candidate_levels[~vetoed(candidate_levels, comparisons)]
    if len(candidate_levels) > config.em_sample_pairs:
        sample = np.random.default_rng(config.seed).choice(len(candidate_levels), config.em_sample_pairs,
                                                           replace=False)
        candidate_levels = candidate_levels[np.sort(sample)]
    random_u = estimate_u(random_levels, comparisons, config.probability_floor)
    start = _initial_parameters(candidate_levels, all_levels, random_u, comparisons, config.probability_floor,
                                anchor)
    model = FellegiSunterModel(comparisons, start.m, start.u, prior=0.1, em_iterations=0)
    if len(candidate_levels) == 0:
        return model
    for iteration in range(1, config.em_max_iterations + 1):
        posterior = model.probability(candidate_levels)
        prior = float(np.clip(posterior.mean(), 1e-6, 1 - 1e-6))
        m = tuple(
            model.m[i] if i in start.held_m else
            _level_distribution(candidate_levels[:, i], len(c.level_labels), posterior, config.probability_floor)
            for i, c in enumerate(comparisons)
        )
        u = tuple(
            model.u[i] if i in start.held_u else
            _level_distribution(candidate_levels[:, i], len(c.level_labels), 1.0 - posterior,
                                config.probability_floor)
            for i, c in enumerate(comparisons)
        )
        shift = max(float(np.abs(new - old).max()) for new, old in zip(m + u, model.m + model.u, strict=True))
        model = FellegiSunterModel(comparisons, m, u, prior=prior, em_iterations=iteration)
        if shift < config.em_tolerance:
            break
    return _monotone(model)


def _pool_adjacent_violators(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """m re-spread so that log(m/u) is non-decreasing over the levels (Σm unchanged); u is kept."""
    blocks: list[list[int]] = []
    for level in range(len(m)):
        blocks.append([level])
        while len(blocks) > 1 and (m[blocks[-1]].sum() / u[blocks[-1]].sum()
                                   < m[blocks[-2]].sum() / u[blocks[-2]].sum()):
            blocks[-2].extend(blocks.pop())
    pooled = m.copy()
    for block in blocks:
        pooled[block] = m[block].sum() * u[block] / u[block].sum()
    return pooled


def _monotone(model: FellegiSunterModel) -> FellegiSunterModel:
    pooled = []
    for comparison, m, u in zip(model.comparisons, model.m, model.u, strict=True):
        m = m.copy()
        for group in comparison.monotone_groups:
            levels = list(group)
            m[levels] = _pool_adjacent_violators(m[levels], u[levels])
        pooled.append(m)
    return FellegiSunterModel(model.comparisons, tuple(pooled), model.u, model.prior, model.em_iterations)


def random_pairs(n_records: int, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_pairs`` uniformly random pairs of distinct rows (int64 arrays, left < right)."""
    if n_records < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    rng = np.random.default_rng(seed)
    left = rng.integers(0, n_records, size=n_pairs)
    right = rng.integers(0, n_records - 1, size=n_pairs)
    right = np.where(right >= left, right + 1, right)
    return np.minimum(left, right), np.maximum(left, right)
