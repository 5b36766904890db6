"""The Fellegi–Sunter model: EM anchored on ISRC, the version veto, saving and refusing saved models."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from catalog_er.resolver.compare import PairSignals
from catalog_er.resolver.comparisons import (
    ISRC_ANCHOR,
    TRACK_COMPARISONS,
    Comparison,
    Level,
    NumericScale,
    comparison_levels,
)
from catalog_er.resolver.config import ScoringConfig
from catalog_er.resolver.fellegi_sunter import (
    FellegiSunterModel,
    ModelMismatchError,
    model_from_parameters,
    model_parameters,
    random_pairs,
    train_model,
    vetoed,
)

NAMES = [c.name for c in TRACK_COMPARISONS]


def _signals(n: int, *, title, artist, isrc, duration, version, album=None, year=None, audio=None,
             record=None, restructured=False) -> PairSignals:
    def fill(value, dtype):
        return np.full(n, value, dtype=dtype) if np.isscalar(value) or value is None else np.asarray(value, dtype)

    return PairSignals(
        title_similarity=fill(title, np.float32), artist_similarity=fill(artist, np.float32),
        isrc_match=fill(isrc, np.int8), duration_delta_ms=fill(duration, np.float64),
        version_match=fill(version, np.int8), album_match=fill(-1 if album is None else album, np.int8),
        release_year_match=fill(-1 if year is None else year, np.int8),
        audio_match=fill(-1 if audio is None else audio, np.int8),
        record_similarity=fill(np.nan if record is None else record, np.float32),
        restructured=fill(restructured, bool),
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
    return comparison_levels(signals, TRACK_COMPARISONS), is_dup


def test_levels_are_ordered_and_null_is_minus_one() -> None:
    signals = _signals(3, title=[1.0, 0.9, 0.1], artist=[1.0, np.nan, 0.1], isrc=[1, -1, 0],
                       duration=[500, np.nan, 90_000], version=[1, 1, 0])
    levels = comparison_levels(signals, TRACK_COMPARISONS)
    duration = levels[:, NAMES.index("duration")]
    assert duration.tolist() == [4, -1, 0]
    assert levels[:, NAMES.index("isrc")].tolist() == [1, -1, 0]
    title_artist = levels[:, NAMES.index("title_artist")]
    assert title_artist[0] > title_artist[2]


def _train(levels: np.ndarray) -> FellegiSunterModel:
    return train_model(levels, levels[:2_000], comparisons=TRACK_COMPARISONS, anchor=ISRC_ANCHOR,
                       config=ScoringConfig())


def test_em_separates_simulated_duplicates_and_is_calibrated() -> None:
    levels, is_dup = _simulated_candidates(seed=1)
    model = _train(levels)
    probability = model.probability(levels)
    # the prior is the duplicate share among pairs EM trains on: version-compatible ones (20% + 80%·70%)
    assert model.prior == pytest.approx(0.2 / (0.2 + 0.8 * 0.7), abs=0.02)
    assert ((probability > 0.5) == is_dup).mean() > 0.97
    confident = probability > 0.9
    assert is_dup[confident].mean() > 0.9


def test_version_conflict_vetoes_whatever_else_agrees() -> None:
    levels, _ = _simulated_candidates(seed=2)
    model = _train(levels)
    perfect_but_live = comparison_levels(_signals(1, title=1.0, artist=1.0, isrc=-1, duration=100, version=0),
                                         TRACK_COMPARISONS)
    assert vetoed(perfect_but_live, TRACK_COMPARISONS).all()
    assert model.probability(perfect_but_live)[0] < 1e-3
    same_version = comparison_levels(_signals(1, title=1.0, artist=1.0, isrc=-1, duration=100, version=1),
                                     TRACK_COMPARISONS)
    assert model.probability(same_version)[0] > 0.9


def test_audio_that_does_not_align_outweighs_identical_metadata() -> None:
    model = _train(_simulated_candidates(seed=4)[0])
    everything_agrees = dict(title=1.0, artist=1.0, isrc=1, duration=0, version=1, album=1, year=1)
    levels = comparison_levels(_signals(3, **everything_agrees, audio=[0, 1, 2]), TRACK_COMPARISONS)
    no_alignment, partial, aligned = model.probability(levels)
    assert vetoed(levels, TRACK_COMPARISONS).tolist() == [True, False, False]
    assert no_alignment < 1e-12 < 0.99 < partial <= aligned
    # an aligned copy behind placeholder metadata ("Track 07" by "Various Artists") is still found
    stripped = comparison_levels(_signals(2, title=np.nan, artist=0.1, isrc=-1, duration=np.nan, version=1,
                                          audio=[-1, 2]), TRACK_COMPARISONS)
    unknown, heard = model.probability(stripped)
    assert unknown < 0.5 < heard
    audio = TRACK_COMPARISONS[NAMES.index("audio")]
    assert model.m[NAMES.index("audio")].tolist() == list(audio.fixed_m)  # the verifier's, not learned
    assert model.u[NAMES.index("audio")].tolist() == list(audio.fixed_u)


def test_match_weight_is_the_sum_of_level_weights() -> None:
    levels, _ = _simulated_candidates(seed=3)
    model = _train(levels)
    row = levels[:1]
    expected = sum(model.weights()[c][row[0, c]] for c in range(len(NAMES)) if row[0, c] >= 0)
    assert model.match_weight(row)[0] == pytest.approx(expected)


def test_random_pairs_are_pairs_of_distinct_rows_spread_over_all_rows() -> None:
    left, right = random_pairs(50, 1_000, seed=0)
    assert len(left) == len(right) == 1_000
    assert (left < right).all() and left.min() >= 0 and right.max() < 50
    assert set(np.concatenate([left, right]).tolist()) == set(range(50))
    assert np.array_equal(random_pairs(50, 1_000, seed=0)[0], left)  # seeded
    assert len(random_pairs(1, 10, seed=0)[0]) == 0  # one row has no pair


def test_a_saved_model_loads_back_equal() -> None:
    model = _train(_simulated_candidates(seed=4)[0])
    loaded = model_from_parameters(json.loads(json.dumps(model_parameters(model))), TRACK_COMPARISONS)
    assert loaded.describe() == model.describe()


def _with_duration_cut(cut: float) -> tuple[Comparison, ...]:
    """TRACK_COMPARISONS with the duration comparison's "<=1s" level cut at ``cut`` ms instead."""
    duration = TRACK_COMPARISONS[NAMES.index("duration")]
    scale = duration.scales[0]
    assert isinstance(scale, NumericScale)
    moved = replace(scale, levels=(*scale.levels[:-1], Level("<=1s", cut)))
    return tuple(replace(c, scales=(moved,)) if c is duration else c for c in TRACK_COMPARISONS)


def test_a_model_saved_under_other_cut_points_is_refused_naming_the_change() -> None:
    saved = model_parameters(_train(_simulated_candidates(seed=5)[0]))
    with pytest.raises(ModelMismatchError, match=r"comparison 'duration' changed.*levels\[4\]\[1\] = 1000 \(now 1500"):
        model_from_parameters(saved, _with_duration_cut(1_500))


def test_a_model_saved_without_definitions_is_refused() -> None:
    old_format = {"comparisons": NAMES, "m": [], "u": [], "prior": 0.1, "em_iterations": 3}
    with pytest.raises(ModelMismatchError, match="format 1"):
        model_from_parameters(old_format, TRACK_COMPARISONS)
    renamed = {**model_parameters(_train(_simulated_candidates(seed=6)[0]))}
    renamed["comparisons"] = renamed["comparisons"][::-1]
    with pytest.raises(ModelMismatchError, match="fitted on comparisons"):
        model_from_parameters(renamed, TRACK_COMPARISONS)
