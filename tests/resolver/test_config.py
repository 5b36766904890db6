"""Configuration: every section checks itself when built, and a mapping from JSON builds the same."""

from __future__ import annotations

import pytest

from catalog_er.resolver.config import (
    ArtistConfig,
    BlockingConfig,
    ClusteringConfig,
    ConfigError,
    ResolverConfig,
    ScoringConfig,
)


def test_config_rejects_out_of_range_values_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"clustering\.merge_threshold"):
        ResolverConfig.from_mapping({"clustering": {"merge_threshold": 1.5}})
    with pytest.raises(ConfigError, match="unknown key"):
        ResolverConfig.from_mapping({"blocking": {"num_perms": 64}})
    with pytest.raises(ConfigError, match="unknown config section"):
        ResolverConfig.from_mapping({"scorer": {}})


@pytest.mark.parametrize(("build", "message"), [
    (lambda: BlockingConfig(num_perm=64.5), r"blocking\.num_perm must be a whole number, got 64\.5"),
    (lambda: BlockingConfig(num_perm=True), r"blocking\.num_perm must be a whole number"),
    (lambda: ClusteringConfig(merge_threshold=5), r"clustering\.merge_threshold must be between 0\.01 and 0\.99"),
    (lambda: ScoringConfig(em_tolerance=float("nan")), r"scoring\.em_tolerance must be between"),
    (lambda: ScoringConfig(seed="1"), r"scoring\.seed must be a whole number, got '1'"),
    (lambda: ArtistConfig(track_feedback=1), r"artists\.track_feedback must be true or false"),
    (lambda: ResolverConfig(blocking=ScoringConfig()), "blocking must be a BlockingConfig"),
    (lambda: ResolverConfig.from_mapping([1]), "a config is an object of sections"),  # type: ignore[arg-type]
    (lambda: ResolverConfig.from_mapping({"blocking": None}),  # type: ignore[dict-item]
     "config section 'blocking' must be an object of settings, got None"),
])
def test_each_section_refuses_bad_values_when_built(build, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build()


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("build", [
    lambda: ClusteringConfig(merge_threshold="x" * 1_000_000),  # type: ignore[arg-type]
    lambda: ClusteringConfig(merge_threshold=_nested(900)),  # type: ignore[arg-type]
    lambda: ClusteringConfig(merge_threshold=10 ** 4000),
    lambda: ResolverConfig.from_mapping({"clustering": {"k" * 100_000: 1}}),
    lambda: ResolverConfig.from_mapping({"clustering": _nested(900)}),  # type: ignore[dict-item]
    lambda: ResolverConfig.from_mapping({f"section{n}": {} for n in range(100_000)}),
])
def test_messages_quote_a_huge_or_deep_value_in_a_few_dozen_characters(build) -> None:
    with pytest.raises(ConfigError) as raised:
        build()
    assert len(str(raised.value)) < 300


def test_a_mapping_builds_the_same_config_as_the_constructors() -> None:
    built = ResolverConfig.from_mapping({"blocking": {"num_perm": 128}, "clustering": {"merge_threshold": 0.6}})
    assert built == ResolverConfig(blocking=BlockingConfig(num_perm=128),
                                   clustering=ClusteringConfig(merge_threshold=0.6))
