"""Fellegi–Sunter scoring: levels, EM anchored on ISRC, the version veto, config validation."""

from __future__ import annotations

import numpy as np
import pytest

from catalog_er.resolver.compare import PairSignals
from catalog_er.resolver.config import ConfigError, ResolverConfig, ScoringConfig
from catalog_er.resolver.score import TRACK_COMPARISONS, comparison_levels, random_pairs, train_model, vetoed

NAMES = [c.name for c in TRACK_COMPARISONS]


def _signals(n: int, *, title, artist, isrc, duration, version, album=None, year=None, audio=None) -> PairSignals:
    def fill(value, dtype):
        return np.full(n, value, dtype=dtype) if np.isscalar(value) or value is None else np.asarray(value, dtype)

    return PairSignals(
        title_similarity=fill(title, np.float32), artist_similarity=fill(artist, np.float32),
        isrc_match=fill(isrc, np.int8), duration_delta_ms=fill(duration, np.float64),
        version_match=fill(version, np.int8), album_match=fill(-1 if album is None else album, np.int8),
        release_year_match=fill(-1 if year is None else year, np.int8),
        audio_match=fill(-1 if audio is None else audio, np.int8),
    )


def _simulated_candidates(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Levels of 20k simulated candidate pairs, 20% duplicates, signals independent given the class."""
    rng = np.random.default_rng(seed)
    n = 20_000
    is_dup = rng.random(n) < 0.2
    title = np.where(is_dup, rng.choice([1.0, 0.9], n, p=[0.9, 0.1]), rng.choice([1.0, 0.75, 0.4], n))
    artist = np.where(is_dup, rng.choice([1.0, 0.9], n, p=[0.9, 0.1]), rng.choice([1.0, 0.6, 0.2], n))
    isrc = np.where(rng.random(n) < 0.4, -1, np.where(is_dup, (rng.random(n) < 0.8).astype(int), 0))
    duration = np.where(is_dup, rng.uniform(0, 2_000, n), rng.uniform(0, 60_000, n))
    version = np.where(is_dup, 1, (rng.random(n) < 0.7).astype(int))
    signals = _signals(n, title=title, artist=artist, isrc=isrc, duration=duration, version=version,
                       album=rng.integers(0, 2, n), year=rng.integers(0, 2, n))
    return comparison_levels(signals), is_dup


def test_levels_are_ordered_and_null_is_minus_one() -> None:
    signals = _signals(3, title=[1.0, 0.9, 0.1], artist=[1.0, np.nan, 0.1], isrc=[1, -1, 0],
                       duration=[500, np.nan, 90_000], version=[1, 1, 0])
    levels = comparison_levels(signals)
    duration = levels[:, NAMES.index("duration")]
    assert duration.tolist() == [4, -1, 0]
    assert levels[:, NAMES.index("isrc")].tolist() == [1, -1, 0]
    title_artist = levels[:, NAMES.index("title_artist")]
    assert title_artist[0] > title_artist[2]


def test_em_separates_simulated_duplicates_and_is_calibrated() -> None:
    levels, is_dup = _simulated_candidates(seed=1)
    model = train_model(levels, levels[:2_000], ScoringConfig())
    probability = model.probability(levels)
    # the prior is the duplicate share among pairs EM trains on: version-compatible ones (20% + 80%·70%)
    assert model.prior == pytest.approx(0.2 / (0.2 + 0.8 * 0.7), abs=0.02)
    assert ((probability > 0.5) == is_dup).mean() > 0.97
    confident = probability > 0.9
    assert is_dup[confident].mean() > 0.9


def test_version_conflict_vetoes_whatever_else_agrees() -> None:
    levels, _ = _simulated_candidates(seed=2)
    model = train_model(levels, levels[:2_000], ScoringConfig())
    perfect_but_live = comparison_levels(_signals(1, title=1.0, artist=1.0, isrc=-1, duration=100, version=0))
    assert vetoed(perfect_but_live).all()
    assert model.probability(perfect_but_live)[0] < 1e-3
    same_version = comparison_levels(_signals(1, title=1.0, artist=1.0, isrc=-1, duration=100, version=1))
    assert model.probability(same_version)[0] > 0.9


def test_match_weight_is_the_sum_of_level_weights() -> None:
    levels, _ = _simulated_candidates(seed=3)
    model = train_model(levels, levels[:2_000], ScoringConfig())
    row = levels[:1]
    expected = sum(model.weights()[c][row[0, c]] for c in range(len(NAMES)) if row[0, c] >= 0)
    assert model.match_weight(row)[0] == pytest.approx(expected)


def test_random_pairs_are_distinct_and_ordered() -> None:
    left, right = random_pairs(50, 1_000, seed=0)
    assert (left < right).all() and right.max() < 50


def test_config_rejects_out_of_range_values_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"clustering\.merge_threshold"):
        ResolverConfig.from_mapping({"clustering": {"merge_threshold": 1.5}})
    with pytest.raises(ConfigError, match="unknown key"):
        ResolverConfig.from_mapping({"blocking": {"num_perms": 64}})
    with pytest.raises(ConfigError, match="unknown config section"):
        ResolverConfig.from_mapping({"scorer": {}})
