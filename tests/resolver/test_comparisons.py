"""Comparisons: every level's label sits with its cut point, definitions are data, and levels follow them."""

from __future__ import annotations

import numpy as np
import pytest

from catalog_er.resolver.artists.comparisons import ARTIST_COMPARISONS
from catalog_er.resolver.comparisons import (
    TRACK_COMPARISONS,
    CategoricalScale,
    Comparison,
    Level,
    NumericScale,
    at_least,
    comparison_levels,
)
from tests.resolver.test_fellegi_sunter import NAMES, _signals


class _Signals:
    """A pair-signal record with just the arrays a test needs."""

    def __init__(self, **arrays: np.ndarray) -> None:
        self.__dict__.update(arrays)

    def __len__(self) -> int:
        return len(next(iter(self.__dict__.values())))


def test_ascending_scale_puts_each_value_in_the_last_level_it_reaches() -> None:
    scale = NumericScale("x", (Level("low"), at_least(0.5), at_least(0.9), at_least(1.0, "exact")))
    values = np.array([0.0, 0.49, 0.5, 0.89, 0.9, 0.999, 1.0, np.nan])
    assert scale.codes(_Signals(x=values)).tolist() == [0, 0, 1, 1, 2, 2, 3, -1]
    assert scale.labels == ("low", ">=0.50", ">=0.90", "exact")


def test_descending_scale_counts_closeness_from_the_small_end() -> None:
    scale = NumericScale("ms", (Level(">15s"), Level("<=15s", 15_000), Level("<=1s", 1_000)), smaller_is_closer=True)
    values = np.array([20_000, 15_000, 14_999, 1_000, 0, np.nan])
    assert scale.codes(_Signals(ms=values)).tolist() == [0, 1, 1, 2, 2, -1]


def test_a_missing_value_can_be_a_level_of_its_own() -> None:
    scale = NumericScale("x", (Level("<0.5"), at_least(0.5)), missing="unknown")
    assert scale.codes(_Signals(x=np.array([np.nan, 0.1, 0.7]))).tolist() == [0, 1, 2]
    assert scale.labels == ("unknown", "<0.5", ">=0.50")


@pytest.mark.parametrize("levels", [
    (Level("a"), at_least(0.9), at_least(0.5)),  # not increasing
    (Level("a"), at_least(0.5), at_least(0.5)),  # repeated
    (at_least(0.1), at_least(0.5)),  # the first level has a cut
])
def test_scales_refuse_disordered_cut_points(levels: tuple[Level, ...]) -> None:
    with pytest.raises(ValueError, match="scale 'x'"):
        NumericScale("x", levels)


def test_joint_levels_combine_both_scales_and_their_labels() -> None:
    joint = Comparison("pair", (CategoricalScale("a", ("no", "yes")),
                                NumericScale("b", (Level("low"), at_least(0.5)), missing="?")),
                       label_format="{0} / {1}", null_when_all_missing=True)
    assert joint.level_labels == ("no / ?", "no / low", "no / >=0.50", "yes / ?", "yes / low", "yes / >=0.50")
    signals = _Signals(a=np.array([0, 1, 1, -1], np.int8), b=np.array([np.nan, 0.7, np.nan, 0.9]))
    assert joint.levels(signals).tolist() == [-1, 5, 3, -1]  # both unknown → null; a null side → null


def test_track_levels_match_their_labels() -> None:
    signals = _signals(4, title=[1.0, 0.96, 0.86, 0.1], artist=[1.0, np.nan, 0.81, 0.2], isrc=[1, -1, 0, 1],
                       duration=[500, 2_000, 16_000, np.nan], version=[1, 0, 1, 1], album=[1, -1, 0, -1],
                       year=[1, 1, -1, -1])
    levels = comparison_levels(signals, TRACK_COMPARISONS)
    labels = [[TRACK_COMPARISONS[c].level_labels[level] if level >= 0 else None for c, level in enumerate(row)]
              for row in levels.tolist()]
    assert [row[NAMES.index("title_artist")] for row in labels] == [
        "title exact / artist exact", None, "title >=0.85 / artist >=0.80", "title <0.70 / artist <0.50"]
    # without a credit on a side, the title alone (a missing credit is no evidence either way)
    assert [row[NAMES.index("title")] for row in labels] == [None, "title >=0.95 (no artist)", None, None]
    assert [row[NAMES.index("album_year")] for row in labels] == [
        "album same / year same", "album null / year same", "album different / year null", None]
    assert [row[NAMES.index("duration")] for row in labels] == ["<=1s", "<=3s", ">15s", None]
    assert [row[NAMES.index("version")] for row in labels] == ["same", "conflict", "same", "same"]


@pytest.mark.parametrize("comparisons", [TRACK_COMPARISONS, ARTIST_COMPARISONS], ids=["tracks", "artists"])
def test_definitions_are_json_data_that_tell_comparisons_apart(comparisons: tuple[Comparison, ...]) -> None:
    import json

    definitions = [c.definition() for c in comparisons]
    assert json.loads(json.dumps(definitions)) == definitions
    assert len({json.dumps(d, sort_keys=True) for d in definitions}) == len(definitions)
    moved = Comparison(comparisons[0].name, comparisons[0].scales[::-1] if len(comparisons[0].scales) == 2
                       else comparisons[0].scales, label_format=comparisons[0].label_format + " ")
    assert moved.definition() != comparisons[0].definition()


def test_fixed_m_must_cover_every_level() -> None:
    with pytest.raises(ValueError, match="2 fixed m for 3 levels"):
        Comparison("x", (CategoricalScale("x", ("a", "b", "c")),), fixed_m=(0.1, 0.9))
    with pytest.raises(ValueError, match="2 default m for 3 levels"):
        Comparison("x", (CategoricalScale("x", ("a", "b", "c")),), default_m=(0.1, 0.9))
