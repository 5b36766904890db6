"""Every threshold and weight of the resolver, in user units, validated once.

Each default carries a one-line reason. Build a config with ``ResolverConfig()`` or
``ResolverConfig.from_mapping({...})``; invalid values raise :class:`ConfigError` naming the field.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


class ConfigError(ValueError):
    """A configuration value is out of range or of the wrong type."""


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlist, _SHOWN.maxdict = 2, 60, 60, 4, 4


def _shown(value: object) -> str:
    """``value`` for an error message: a repr cut to a few dozen characters and two levels of nesting, whatever
    the value's size or depth."""
    return _SHOWN.repr(value)


def _between(low: float, high: float) -> dict[str, Any]:
    """Field metadata: the value must be a number in ``[low, high]`` (a whole one when the field is an int)."""
    return {"range": (low, high)}


def _flag() -> dict[str, Any]:
    """Field metadata: the value must be true or false."""
    return {"flag": True}


class _Section:
    """Base of the config sections: each checks its own fields when built (see :func:`_between`), so an
    invalid section cannot exist, whichever way it was made."""

    section_name: ClassVar[str]

    def __post_init__(self) -> None:
        for spec in fields(self):  # type: ignore[arg-type]
            value = getattr(self, spec.name)
            name = f"{self.section_name}.{spec.name}"
            if "flag" in spec.metadata:
                if not isinstance(value, bool):
                    raise ConfigError(f"{name} must be true or false, got {_shown(value)}")
                continue
            low, high = spec.metadata["range"]
            whole = spec.type == "int"
            if isinstance(value, bool) or not isinstance(value, int | float) or (whole and not isinstance(value, int)):
                raise ConfigError(f"{name} must be {'a whole number' if whole else 'a number'}, got {_shown(value)}")
            if not (low <= value <= high):  # also refuses NaN
                raise ConfigError(f"{name} must be between {low} and {high}, got {_shown(value)}")


@dataclass(frozen=True)
class BlockingConfig(_Section):
    """Candidate generation: exact ISRC blocks plus MinHash LSH over normalized text shingles."""

    section_name: ClassVar[str] = "blocking"

    num_perm: int = field(default=64, metadata=_between(8, 1_024))
    """MinHash permutations per signature; 64 keeps the signature matrix at 256 bytes a track."""
    text_threshold: float = field(default=0.4, metadata=_between(0.05, 0.95))
    """Jaccard of title+artist character 3-grams at which LSH should find a pair (datasketch picks 16
    bands of 4 rows for 64 permutations): one typo in a title with an artist variant stays above it."""
    title_threshold: float = field(default=0.7, metadata=_between(0.05, 0.95))
    """Jaccard of title-only 3-grams for the second LSH pass, which catches duplicates whose artist
    credit is missing or very different; stricter because titles alone collide more (on the 100k
    benchmark 0.6 instead adds 0.3M candidate pairs for +0.001 blocking recall)."""
    max_bucket_size: int = field(default=50, metadata=_between(2, 100_000))
    """LSH buckets larger than this are not paired exhaustively: they are popular titles like "Intro"
    that would add ~n²/2 useless pairs (see oversized_bucket_neighbours)."""
    artist_title_threshold: float = field(default=0.15, metadata=_between(0.05, 0.95))
    """Jaccard of title-only 3-grams for LSH *inside each credited primary artist*: catches typos in
    short titles ("outri" / "outro") cheaply, since buckets never mix artists."""
    oversized_bucket_neighbours: int = field(default=10, metadata=_between(0, 1_000))
    """In a bucket above max_bucket_size, each track is paired with this many neighbours in duration
    order instead of with all members (sorted-neighbourhood fallback for popular titles)."""
    max_isrc_block_size: int = field(default=200, metadata=_between(2, 100_000))
    """An ISRC shared by more tracks than this is treated as a data error, not evidence."""
    record_threshold: float = field(default=0.4, metadata=_between(0.05, 0.95))
    """Jaccard of two records' words (common words left out) at which the record blocker should pair them: a
    scraped title holding title, artist and album shares about half its words with the clean record."""
    record_common_share: float = field(default=0.01, metadata=_between(0.0001, 1.0))
    """Words held by more than this share of the catalog's records ("music", "feat", "the") are left out of
    the record blocker's signatures: they would put unrelated records in one bucket."""
    length_tolerance_ms: int = field(default=1_000, metadata=_between(0, 60_000))
    """The length blocker pairs a record whose fields may be smeared with records as long as it (within this
    many milliseconds) whose titles start alike: a redelivery keeps its length when its text is mangled, and a
    length written to the second ("3:55") is at most a second off the milliseconds."""
    length_title_chars: int = field(default=3, metadata=_between(1, 20))
    """Leading characters of the core title that the length blocker's records must share."""
    audio_threshold: float = field(default=0.3, metadata=_between(0.05, 0.95))
    """Jaccard of two fingerprints' hash sets at which audio LSH should pair them (re-encodes and gain
    changes keep well above it; noisy copies are left to the inverted index)."""
    seed: int = field(default=1, metadata=_between(0, 2**32 - 1))
    """Seed of the MinHash permutations (datasketch's default), so signatures are reproducible."""


@dataclass(frozen=True)
class ScoringConfig(_Section):
    """Fellegi–Sunter scoring: u from random pairs, m and the prior by EM on candidate pairs."""

    section_name: ClassVar[str] = "scoring"

    random_pairs_for_u: int = field(default=300_000, metadata=_between(1_000, 50_000_000))
    """Random record pairs used to estimate u-probabilities (how often levels agree by chance)."""
    em_sample_pairs: int = field(default=2_000_000, metadata=_between(1_000, 1_000_000_000))
    """EM trains on at most this many candidate pairs, drawn at random: level shares are estimated to
    ±0.001 from two million pairs, and EM time stays flat as the catalog grows."""
    em_max_iterations: int = field(default=60, metadata=_between(1, 10_000))
    """EM usually converges in 10–30 iterations; this is only a safety cap."""
    em_tolerance: float = field(default=1e-6, metadata=_between(0.0, 0.1))
    """Stop when no m-probability moves more than this between iterations."""
    probability_floor: float = field(default=1e-5, metadata=_between(1e-12, 0.01))
    """Smallest m or u kept for any level, so one unseen level cannot force a probability to 0 or 1."""
    pair_output_threshold: float = field(default=0.05, metadata=_between(0.0, 1.0))
    """Pairs at or above this confidence are written to pairs.parquet (the contract says 0.05)."""
    seed: int = field(default=0, metadata=_between(0, 2**32 - 1))
    """Seed for random-pair sampling."""


@dataclass(frozen=True)
class ClusteringConfig(_Section):
    """Pairs → groups: connected components over confident pairs, split by average linkage."""

    section_name: ClassVar[str] = "clustering"

    merge_threshold: float = field(default=0.5, metadata=_between(0.01, 0.99))
    """A pair joins two tracks into a candidate group at this posterior probability or above."""
    max_component_size: int = field(default=2000, metadata=_between(3, 1_000_000))
    """Components larger than this are split by raising the edge threshold before linkage (a true
    duplicate group is a handful of deliveries; thousands means a chain through bad edges)."""


@dataclass(frozen=True)
class ArtistConfig(_Section):
    """Artist resolution: candidates from names, audiences and shared recordings; scoring as for tracks."""

    section_name: ClassVar[str] = "artists"

    name_threshold: float = field(default=0.2, metadata=_between(0.05, 0.95))
    """Jaccard of name-key 3-grams at which name LSH should pair two ids: a transliteration variant
    ("Belye Chaiki" / "Belye Chajki") or two typos in a short name ("Bojul" / "Bujul") stay above it
    (on a 100k-track catalog 0.3 missed 2.6% of split pairs, 0.2 misses 0.5% for 3× the pairs)."""
    coengagement_threshold: float = field(default=0.2, metadata=_between(0.05, 0.95))
    """Jaccard of listener sets at which audience LSH should pair two ids whose names differ."""
    min_listeners: int = field(default=5, metadata=_between(1, 1_000_000))
    """Below this many distinct listeners an id's audience is not compared (the Jaccard of tiny sets is
    noise): the co-engagement signal is null for the pair."""
    min_audience_ratio: float = field(default=0.1, metadata=_between(0.0, 1.0))
    """The Jaccard of two audiences cannot exceed smaller/larger; below this ratio it cannot reach the levels
    that tell a split id from a stranger, so the co-engagement signal is null for the pair."""
    track_feedback: bool = field(default=True, metadata=_flag())
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
        for spec in fields(self):
            if type(getattr(self, spec.name)).__name__ != spec.type:
                raise ConfigError(f"{spec.name} must be a {spec.type}, got {_shown(getattr(self, spec.name))}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Mapping[str, Any]]) -> ResolverConfig:
        """Build from ``{"blocking": {...}, "scoring": {...}, "clustering": {...}, "artists": {...}}``;
        unknown keys fail."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"a config is an object of sections, each an object of settings, got {_shown(values)}")
        sections = {"blocking": BlockingConfig, "scoring": ScoringConfig, "clustering": ClusteringConfig,
                    "artists": ArtistConfig}
        unknown = set(values) - set(sections)
        if unknown:
            raise ConfigError(f"unknown config section(s): {_shown(sorted(map(str, unknown)))}; expected "
                              f"{sorted(sections)}")
        for name, section in values.items():
            if not isinstance(section, Mapping):
                raise ConfigError(f"config section {name!r} must be an object of settings, got {_shown(section)}")
        built = {}
        for name, section_type in sections.items():
            given = dict(values.get(name, {}))
            known = {f.name for f in fields(section_type)}
            extra = set(given) - known
            if extra:
                raise ConfigError(f"unknown key(s) in config section {name!r}: {_shown(sorted(map(str, extra)))}")
            built[name] = section_type(**given)
        return cls(**built)
