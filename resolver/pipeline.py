"""``resolve_tracks``: composition of the stages, nothing else.

features → candidate pairs → signals → levels → model (u on random pairs, m and prior by EM) →
probabilities → clustering → proposals. Each stage's wall time is recorded in ``stats``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from resolver.audio_evidence import AudioEvidence
from resolver.blocking import audio_candidate_pairs, candidate_pairs
from resolver.compare import PairSignals, compare_pairs
from resolver.config import ResolverConfig
from resolver.features import TrackFeatures, extract_track_features
from resolver.graph import cluster_pairs
from resolver.propose import PairEvidence, build_proposals, canonical_order
from resolver.score import TRACK_COMPARISONS, FellegiSunterModel, comparison_levels, random_pairs, train_model

StageCallback = Callable[[str], None]
"""Called with a stage name when that stage starts (the CLI shows it as progress)."""

TRACK_PAIR_SCHEMA = pa.schema(
    [
        pa.field("entity_type", pa.string(), nullable=False),
        pa.field("left_id", pa.string(), nullable=False),
        pa.field("right_id", pa.string(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("match_weight", pa.float64(), nullable=False),
        pa.field("title_similarity", pa.float32()),
        pa.field("artist_similarity", pa.float32()),
        pa.field("isrc_match", pa.bool_()),
        pa.field("duration_delta_ms", pa.int64()),
        pa.field("version_match", pa.bool_()),
        pa.field("album_match", pa.bool_()),
        pa.field("release_year_match", pa.bool_()),
        pa.field("audio_match", pa.bool_()),
    ]
)
"""``pairs.parquet`` for tracks: one column per signal; null where a side lacks the value."""


@dataclass
class ResolveResult:
    """Outputs of one run: Arrow tables ready to write, plus counts, timings and the trained model."""

    proposals: pa.Table
    pairs: pa.Table
    candidates: pa.Table
    """``left_id``, ``right_id`` of every candidate pair (for blocking-recall evaluation)."""
    model: FellegiSunterModel
    counts: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    blocking: dict[str, dict[str, int]] = field(default_factory=dict)


class _StageTimer:
    def __init__(self, on_stage: StageCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self._on_stage = on_stage

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._on_stage is not None:
            self._on_stage(name)
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)


def _nullable_bool(codes: np.ndarray) -> pa.Array:
    return pa.array(codes == 1, mask=codes < 0)


def pair_table(features: TrackFeatures, left: np.ndarray, right: np.ndarray, probability: np.ndarray,
               match_weight: np.ndarray, signals: PairSignals) -> pa.Table:
    """Rows of ``pairs.parquet`` (``TRACK_PAIR_SCHEMA``) for the given pairs."""
    duration = signals.duration_delta_ms
    return pa.Table.from_arrays(
        [
            pa.array(np.full(len(left), "track", dtype=object), pa.string()),
            pa.array(features.track_id[left], pa.string()),
            pa.array(features.track_id[right], pa.string()),
            pa.array(probability, pa.float64()),
            pa.array(match_weight, pa.float64()),
            pa.array(signals.title_similarity, pa.float32()),
            pa.array(signals.artist_similarity, pa.float32(), from_pandas=True),
            _nullable_bool(signals.isrc_match),
            pa.array(np.nan_to_num(duration).astype(np.int64), mask=np.isnan(duration)),
            _nullable_bool(signals.version_match),
            _nullable_bool(signals.album_match),
            _nullable_bool(signals.release_year_match),
            _nullable_bool(signals.audio_match),
        ],
        schema=TRACK_PAIR_SCHEMA,
    )


def _subset(signals: PairSignals, keep: np.ndarray) -> PairSignals:
    return PairSignals(**{name: getattr(signals, name)[keep] for name in signals.__dataclass_fields__})


def resolve_tracks(tracks: pa.Table, config: ResolverConfig | None = None,
                   on_stage: StageCallback | None = None, audio: AudioEvidence | None = None) -> ResolveResult:
    """Find duplicate songs in a validated tracks table (``resolver.records.TRACK_SCHEMA``).

    With ``audio``, pairs found from the recordings join the candidates and every pair whose two tracks
    have audio is compared on it too; tracks without audio resolve exactly as without.
    """
    config = config or ResolverConfig()
    timer = _StageTimer(on_stage)
    with timer.stage("normalize"):
        features = extract_track_features(tracks)
    with timer.stage("blocking"):
        extra = {} if audio is None else audio_candidate_pairs(audio, config.blocking)
        candidates = candidate_pairs(features, config.blocking, extra_blockers=extra)
    with timer.stage("compare"):
        signals = compare_pairs(features, candidates.left, candidates.right, audio)
        levels = comparison_levels(signals)
    with timer.stage("train"):
        random_left, random_right = random_pairs(
            len(features), config.scoring.random_pairs_for_u, config.scoring.seed
        )
        # Audio is not verified on random pairs (costly, and its u is learned by EM on candidates).
        random_levels = comparison_levels(compare_pairs(features, random_left, random_right))
        model = train_model(levels, random_levels, config.scoring)
    with timer.stage("score"):
        match_weight = model.match_weight(levels)
        probability = model.probability(levels)

    def score_pairs(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return model.probability(comparison_levels(compare_pairs(features, left, right, audio)))

    with timer.stage("cluster"):
        clustering = cluster_pairs(len(features), candidates.left, candidates.right, probability,
                                   score_pairs, config.clustering)
    with timer.stage("propose"):
        member_levels = comparison_levels(compare_pairs(features, clustering.member_left,
                                                        clustering.member_right, audio))
        evidence = PairEvidence(
            comparison_names=tuple(c.name for c in TRACK_COMPARISONS),
            level_labels=tuple(c.level_labels for c in TRACK_COMPARISONS),
            weights=model.weights(),
            levels=member_levels,
        )
        has_isrc = features.isrc != ""  # features keep only valid ISRCs
        proposals = build_proposals(
            "track", features.track_id, clustering.labels, canonical_order(tracks, has_isrc),
            clustering.member_left, clustering.member_right, clustering.member_probability, evidence,
        )
        keep = probability >= config.scoring.pair_output_threshold
        pairs = pair_table(features, candidates.left[keep], candidates.right[keep], probability[keep],
                           match_weight[keep], _subset(signals, keep))
        candidate_table = pa.table({
            "left_id": pa.array(features.track_id[candidates.left], pa.string()),
            "right_id": pa.array(features.track_id[candidates.right], pa.string()),
        })
    return ResolveResult(
        proposals=proposals,
        pairs=pairs,
        candidates=candidate_table,
        model=model,
        counts={
            "tracks": len(features),
            "candidate_pairs": len(candidates),
            "pairs_scored": len(candidates),
            "pairs_written": pairs.num_rows,
            "proposals": proposals.num_rows,
            "tracks_in_proposals": int(pc.sum(pc.list_value_length(proposals["member_ids"])).as_py() or 0),
            "components_split": clustering.split_components,
        },
        stage_seconds=timer.seconds,
        blocking={"pairs_by_blocker": candidates.pairs_by_blocker,
                  "skipped_buckets": candidates.skipped_buckets},
    )
