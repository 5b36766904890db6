"""The Fellegi–Sunter model: comparison levels → calibrated match probability, trained by EM without labels.

A pair's log₂ Bayes factor is the sum of one weight per comparison, ``log₂(m / u)`` of the level it fell in
(null levels weigh 0), as splink does; the comparisons themselves are defined in :mod:`resolver.comparisons`.

* ``m`` — how often a level occurs between two deliveries of one recording —, ``u`` — how often it occurs
  between two different recordings *that blocking made candidates* — and the prior ``λ`` (the share of
  candidate pairs that are duplicates) are estimated by EM on the catalog's own candidate pairs, so no
  labels are needed and the model adapts to each catalog. EM starts from anchors (for tracks, pairs sharing
  a valid ISRC vs pairs with two different ones) and falls back to random-pair u where there are none.
* A model is saved with the definitions of the comparisons it was fitted on (:func:`model_parameters`);
  loading it under other definitions — a cut point or a label moved in the code — is refused
  (:class:`ModelMismatchError`), never silently reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from catalog_er.resolver.compare import MISSING
from catalog_er.resolver.comparisons import Anchor, Comparison
from catalog_er.resolver.config import ScoringConfig

MODEL_FORMAT = 2
"""Version of the saved parameters (2: saved with the comparison definitions)."""


class ModelMismatchError(ValueError):
    """Saved model parameters that do not fit the comparisons the code defines now."""


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
        """``(n_pairs,)`` posterior probability that each pair is a duplicate; a pair in a veto level (see
        :func:`vetoed`) gets the lowest probability whatever its other levels add (2⁻⁶⁰)."""
        log_odds = np.log2(self.prior / (1.0 - self.prior)) + self.match_weight(levels)
        log_odds[vetoed(levels, self.comparisons)] = -np.inf
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


def model_parameters(model: FellegiSunterModel) -> dict[str, Any]:
    """JSON-ready parameters of ``model``, with the definition of every comparison it was fitted on."""
    return {"format": MODEL_FORMAT, "comparisons": [c.definition() for c in model.comparisons],
            "m": [m.tolist() for m in model.m], "u": [u.tolist() for u in model.u], "prior": model.prior,
            "em_iterations": model.em_iterations}


def model_from_parameters(parameters: Any, comparisons: Sequence[Comparison]) -> FellegiSunterModel:
    """The model :func:`model_parameters` saved, for ``comparisons`` as the code defines them now.

    Raises :class:`ModelMismatchError`, saying what differs, when the parameters were saved by another format
    or fitted on other comparisons (another name, scale, cut point, label, fixed m …)."""
    if not isinstance(parameters, dict) or parameters.get("format") != MODEL_FORMAT:
        found = parameters.get("format", 1) if isinstance(parameters, dict) else type(parameters).__name__
        raise ModelMismatchError(f"the saved model has format {found!r}, this version reads format {MODEL_FORMAT} "
                                 "(models saved with their comparison definitions)")
    saved = parameters.get("comparisons")
    current = [c.definition() for c in comparisons]
    if not isinstance(saved, list) or [d.get("name") for d in saved if isinstance(d, dict)] != [
            d["name"] for d in current]:
        names = [d.get("name") for d in saved if isinstance(d, dict)] if isinstance(saved, list) else saved
        raise ModelMismatchError(f"the saved model was fitted on comparisons {names}, the code defines "
                                 f"{[d['name'] for d in current]}")
    for before, now in zip(saved, current, strict=True):
        if before != now:
            raise ModelMismatchError(f"comparison {now['name']!r} changed since the model was saved: saved "
                                     f"{_first_difference(before, now)}")
    try:
        m = tuple(np.asarray(values, np.float64) for values in parameters["m"])
        u = tuple(np.asarray(values, np.float64) for values in parameters["u"])
        prior, iterations = float(parameters["prior"]), int(parameters["em_iterations"])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelMismatchError(f"the saved model's parameters are unreadable ({error!r})") from error
    for comparison, m_levels, u_levels in zip(comparisons, m, u, strict=True):
        n = len(comparison.level_labels)
        if m_levels.shape != (n,) or u_levels.shape != (n,):
            raise ModelMismatchError(f"comparison {comparison.name!r} has {n} levels, the saved model "
                                     f"{m_levels.shape[0] if m_levels.ndim else 0}")
    return FellegiSunterModel(tuple(comparisons), m, u, prior, iterations)


def _first_difference(before: Any, now: Any, path: str = "") -> str:
    """Where two JSON-like values first differ, as ``"<path>: <before> (now <now>)"``."""
    if isinstance(before, dict) and isinstance(now, dict):
        for key in sorted(set(before) | set(now), key=str):
            if before.get(key) != now.get(key):
                return _first_difference(before.get(key), now.get(key), f"{path}.{key}" if path else str(key))
    if isinstance(before, list) and isinstance(now, list) and len(before) == len(now):
        for k, (a, b) in enumerate(zip(before, now, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{k}]")
    return f"{path or 'definition'} = {before!r} (now {now!r})"


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


def vetoed(levels: np.ndarray, comparisons: Sequence[Comparison]) -> np.ndarray:
    """``(n_pairs,)`` bool: the pair falls in a veto level of some comparison (see :data:`VETO_M`)."""
    out = np.zeros(len(levels), dtype=bool)
    for column, c in enumerate(comparisons):
        if c.fixed_m is not None:
            veto_levels = [level for level, m in enumerate(c.fixed_m) if m <= VETO_M]
            out |= np.isin(levels[:, column], veto_levels)
    return out


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
    Too few anchors: the anchor's ``fallback`` is tried. Without anchors, m starts top-heavy, u starts from
    random pairs, and EM learns everything — but a comparison with a catalog-independent ``default_m`` (the
    length) keeps it, as it does under an anchor that only starts EM (``hold_m`` False): there EM learned the
    length's m too, and on scraped stores folded "same artist, another song" (lengths far apart) into the match
    class (prior 0.86, F1 0.19 on a dev catalog; 0.90 with the length held).
    Fixed comparisons keep their m and fixed u their u (audio: both are the verifier's); a veto comparison without
    fixed u (version) also holds its u, counted over all candidates (its veto level holds only non-duplicates).
    """
    names = [c.name for c in comparisons]
    settled = (candidate_levels[:, names.index(anchor.name)] if anchor.name in names
               else np.full(len(candidate_levels), -1))
    same, different = np.isin(settled, anchor.same_levels), np.isin(settled, anchor.different_levels)
    anchored = same.sum() >= MIN_ANCHOR_PAIRS and different.sum() >= MIN_ANCHOR_PAIRS
    if not anchored and anchor.fallback is not None:
        return _initial_parameters(candidate_levels, all_levels, random_u, comparisons, floor, anchor.fallback)

    def share(levels: np.ndarray, n: int) -> np.ndarray:
        return _level_distribution(levels, n, np.ones(len(levels)), floor)

    m, u, held_m, held_u = [], [], set(), set()
    for i, c in enumerate(comparisons):
        n = len(c.level_labels)
        if c.fixed_m is not None and c.fixed_u is not None:
            m.append(np.asarray(c.fixed_m, dtype=np.float64))
            u.append(np.asarray(c.fixed_u, dtype=np.float64))
            held_m.add(i)
            held_u.add(i)
        elif c.fixed_m is not None and min(c.fixed_m) <= VETO_M:
            m.append(np.asarray(c.fixed_m, dtype=np.float64))
            u.append(share(all_levels[:, i], n))
            held_m.add(i)
            held_u.add(i)
        elif c.fixed_m is not None:
            m.append(np.asarray(c.fixed_m, dtype=np.float64))
            u.append(share(candidate_levels[different, i], n) if anchored else random_u[i])
            held_m.add(i)
        elif (anchored and c.name != anchor.name and (candidate_levels[same, i] >= 0).sum() >= MIN_ANCHOR_PAIRS
              and (anchor.hold_m or c.default_m is None)):
            m.append(share(candidate_levels[same, i], n))
            u.append(share(candidate_levels[different, i], n))
            if anchor.hold_m and c.hold_m:
                held_m.add(i)
        elif c.default_m is not None:  # nothing observes it: the catalog-independent m, held
            m.append(np.asarray(c.default_m, dtype=np.float64))
            u.append(random_u[i])
            held_m.add(i)
        else:
            top_heavy = np.full(n, 0.1 / max(n - 1, 1))
            top_heavy[-1] = 0.9
            m.append(top_heavy / top_heavy.sum())
            u.append(random_u[i])
    return _Start(tuple(m), tuple(u), frozenset(held_m), frozenset(held_u))


def train_model(candidate_levels: np.ndarray, random_levels: np.ndarray, *, comparisons: tuple[Comparison, ...],
                anchor: Anchor, config: ScoringConfig) -> FellegiSunterModel:
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
