"""Every threshold and weight of the resolver, in user units, validated once.

Each default carries a one-line reason. Build a config with ``ResolverConfig()`` or
``ResolverConfig.from_mapping({...})``; invalid values raise :class:`ConfigError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


class ConfigError(ValueError):
    """A configuration value is out of range or of the wrong type."""


@dataclass(frozen=True)
class BlockingConfig:
    """Candidate generation: exact ISRC blocks plus MinHash LSH over normalized text shingles."""

    num_perm: int = 64
    """MinHash permutations per signature; 64 keeps the signature matrix at 256 bytes a track."""
    text_threshold: float = 0.4
    """Jaccard of title+artist character 3-grams at which LSH should find a pair (datasketch picks 16
    bands of 4 rows for 64 permutations): one typo in a title with an artist variant stays above it."""
    title_threshold: float = 0.7
    """Jaccard of title-only 3-grams for the second LSH pass, which catches duplicates whose artist
    credit is missing or very different; stricter because titles alone collide more (on the 100k
    benchmark 0.6 instead adds 0.3M candidate pairs for +0.001 blocking recall)."""
    max_bucket_size: int = 50
    """LSH buckets larger than this are not paired exhaustively: they are popular titles like "Intro"
    that would add ~n²/2 useless pairs (see oversized_bucket_neighbours)."""
    artist_title_threshold: float = 0.15
    """Jaccard of title-only 3-grams for LSH *inside each credited primary artist*: catches typos in
    short titles ("outri" / "outro") cheaply, since buckets never mix artists."""
    oversized_bucket_neighbours: int = 10
    """In a bucket above max_bucket_size, each track is paired with this many neighbours in duration
    order instead of with all members (sorted-neighbourhood fallback for popular titles)."""
    max_isrc_block_size: int = 200
    """An ISRC shared by more tracks than this is treated as a data error, not evidence."""
    audio_threshold: float = 0.3
    """Jaccard of two fingerprints' hash sets at which audio LSH should pair them (re-encodes and gain
    changes keep well above it; noisy copies are left to the inverted index)."""
    seed: int = 1
    """Seed of the MinHash permutations (datasketch's default), so signatures are reproducible."""


@dataclass(frozen=True)
class ScoringConfig:
    """Fellegi–Sunter scoring: u from random pairs, m and the prior by EM on candidate pairs."""

    random_pairs_for_u: int = 300_000
    """Random record pairs used to estimate u-probabilities (how often levels agree by chance)."""
    em_sample_pairs: int = 2_000_000
    """EM trains on at most this many candidate pairs, drawn at random: level shares are estimated to
    ±0.001 from two million pairs, and EM time stays flat as the catalog grows."""
    em_max_iterations: int = 60
    """EM usually converges in 10–30 iterations; this is only a safety cap."""
    em_tolerance: float = 1e-6
    """Stop when no m-probability moves more than this between iterations."""
    probability_floor: float = 1e-5
    """Smallest m or u kept for any level, so one unseen level cannot force a probability to 0 or 1."""
    pair_output_threshold: float = 0.05
    """Pairs at or above this confidence are written to pairs.parquet (the contract says 0.05)."""
    seed: int = 0
    """Seed for random-pair sampling."""


@dataclass(frozen=True)
class ClusteringConfig:
    """Pairs → groups: connected components over confident pairs, split by average linkage."""

    merge_threshold: float = 0.5
    """A pair joins two tracks into a candidate group at this posterior probability or above."""
    max_component_size: int = 2000
    """Components larger than this are split by raising the edge threshold before linkage (a true
    duplicate group is a handful of deliveries; thousands means a chain through bad edges)."""


@dataclass(frozen=True)
class ArtistConfig:
    """Artist resolution: candidates from names, audiences and shared recordings; scoring as for tracks."""

    name_threshold: float = 0.2
    """Jaccard of name-key 3-grams at which name LSH should pair two ids: a transliteration variant
    ("Belye Chaiki" / "Belye Chajki") or two typos in a short name ("Bojul" / "Bujul") stay above it
    (on a 100k-track catalog 0.3 missed 2.6% of split pairs, 0.2 misses 0.5% for 3× the pairs)."""
    coengagement_threshold: float = 0.2
    """Jaccard of listener sets at which audience LSH should pair two ids whose names differ."""
    min_listeners: int = 5
    """Below this many distinct listeners an id's audience is not compared (the Jaccard of tiny sets is
    noise): the co-engagement signal is null for the pair."""
    min_audience_ratio: float = 0.1
    """The Jaccard of two audiences cannot exceed smaller/larger; below this ratio it cannot reach the levels
    that tell a split id from a stranger, so the co-engagement signal is null for the pair."""
    track_feedback: bool = True
    """Re-score track pairs with the artist clusters: two tracks credited to ids of one resolved artist
    count as the same artist, whatever the spelling (see resolver.artists.feedback)."""


@dataclass(frozen=True)
class ResolverConfig:
    """All settings of a resolution run."""

    blocking: BlockingConfig = BlockingConfig()
    scoring: ScoringConfig = ScoringConfig()
    clustering: ClusteringConfig = ClusteringConfig()
    artists: ArtistConfig = ArtistConfig()

    def __post_init__(self) -> None:
        _check_range("blocking.num_perm", self.blocking.num_perm, 8, 1024)
        _check_range("blocking.text_threshold", self.blocking.text_threshold, 0.05, 0.95)
        _check_range("blocking.title_threshold", self.blocking.title_threshold, 0.05, 0.95)
        _check_range("blocking.max_bucket_size", self.blocking.max_bucket_size, 2, 100_000)
        _check_range("blocking.artist_title_threshold", self.blocking.artist_title_threshold, 0.05, 0.95)
        _check_range("blocking.audio_threshold", self.blocking.audio_threshold, 0.05, 0.95)
        _check_range("blocking.oversized_bucket_neighbours", self.blocking.oversized_bucket_neighbours, 0, 1000)
        _check_range("blocking.max_isrc_block_size", self.blocking.max_isrc_block_size, 2, 100_000)
        _check_range("scoring.random_pairs_for_u", self.scoring.random_pairs_for_u, 1_000, 50_000_000)
        _check_range("scoring.em_sample_pairs", self.scoring.em_sample_pairs, 1_000, 1_000_000_000)
        _check_range("scoring.em_max_iterations", self.scoring.em_max_iterations, 1, 10_000)
        _check_range("scoring.em_tolerance", self.scoring.em_tolerance, 0.0, 0.1)
        _check_range("scoring.probability_floor", self.scoring.probability_floor, 1e-12, 0.01)
        _check_range("scoring.pair_output_threshold", self.scoring.pair_output_threshold, 0.0, 1.0)
        _check_range("clustering.merge_threshold", self.clustering.merge_threshold, 0.01, 0.99)
        _check_range("clustering.max_component_size", self.clustering.max_component_size, 3, 1_000_000)
        _check_range("artists.name_threshold", self.artists.name_threshold, 0.05, 0.95)
        _check_range("artists.coengagement_threshold", self.artists.coengagement_threshold, 0.05, 0.95)
        _check_range("artists.min_listeners", self.artists.min_listeners, 1, 1_000_000)
        _check_range("artists.min_audience_ratio", self.artists.min_audience_ratio, 0.0, 1.0)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Mapping[str, Any]]) -> ResolverConfig:
        """Build from ``{"blocking": {...}, "scoring": {...}, "clustering": {...}, "artists": {...}}``;
        unknown keys fail."""
        sections = {"blocking": BlockingConfig, "scoring": ScoringConfig, "clustering": ClusteringConfig,
                    "artists": ArtistConfig}
        unknown = set(values) - set(sections)
        if unknown:
            raise ConfigError(f"unknown config section(s): {sorted(unknown)}; expected {sorted(sections)}")
        built = {}
        for name, section_type in sections.items():
            given = dict(values.get(name, {}))
            known = {f.name for f in fields(section_type)}
            extra = set(given) - known
            if extra:
                raise ConfigError(f"unknown key(s) in config section {name!r}: {sorted(extra)}")
            built[name] = section_type(**given)
        return cls(**built)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value!r}")
