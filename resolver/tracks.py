"""The track stages: normalize → block → compare → train (``score_tracks``), then score → cluster → propose
(``group_tracks``, once, or again with the artist clusters as evidence), and ``regroup`` for a subset of a
catalog with a model already trained (the service's incremental resolution).

Each stage's wall time is recorded under its name by the caller's :class:`resolver.stages.StageTimer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from catalog_er.resolver.audio_evidence import AudioEvidence
from catalog_er.resolver.blocking import CandidatePairs, audio_candidate_pairs, candidate_pairs
from catalog_er.resolver.compare import PairSignals, SignalAdjuster, compare_pairs
from catalog_er.resolver.comparisons import ISRC_ANCHOR, TRACK_COMPARISONS, comparison_levels
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.decisions import PairDecisions, with_links
from catalog_er.resolver.features import TrackFeatures, extract_track_features
from catalog_er.resolver.fellegi_sunter import FellegiSunterModel, random_pairs, train_model
from catalog_er.resolver.graph import cluster_pairs
from catalog_er.resolver.propose import PairEvidence, build_proposals, canonical_order
from catalog_er.resolver.record_text import TokenStatistics, tokenize
from catalog_er.resolver.records import candidate_id_table, nullable_bool, pair_rows
from catalog_er.resolver.repair import RepairContext, repair_counts, repair_names
from catalog_er.resolver.stages import StageTimer


@dataclass
class ResolveResult:
    """Outputs of one run: Arrow tables ready to write, plus counts, timings and the trained model."""

    proposals: pa.Table
    pairs: pa.Table
    candidates: pa.Table
    """``entity_type``, ``left_id``, ``right_id`` of every candidate pair (for blocking-recall evaluation)."""
    model: FellegiSunterModel
    labels: np.ndarray
    """``(n_tracks,)`` int64 group of every track row (the artists build on these)."""
    counts: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    blocking: dict[str, dict[str, int]] = field(default_factory=dict)
    repairs: dict[str, object] = field(default_factory=dict)
    """What the repairs changed and learned (:func:`repair_summary`)."""


def pair_table(features: TrackFeatures, left: np.ndarray, right: np.ndarray, probability: np.ndarray,
               match_weight: np.ndarray, signals: PairSignals) -> pa.Table:
    """Track rows of ``pairs.parquet`` (``PAIR_SCHEMA``) for the given pairs."""
    duration = signals.duration_delta_ms
    return pair_rows("track", pa.array(features.track_id[left], pa.string()),
                     pa.array(features.track_id[right], pa.string()), pa.array(probability, pa.float64()),
                     pa.array(match_weight, pa.float64()), {
                         "title_similarity": pa.array(signals.title_similarity, pa.float32()),
                         "artist_similarity": pa.array(signals.artist_similarity, pa.float32(), from_pandas=True),
                         "isrc_match": nullable_bool(signals.isrc_match),
                         "duration_delta_ms": pa.array(np.nan_to_num(duration).astype(np.int64),
                                                       mask=np.isnan(duration)),
                         "version_match": nullable_bool(signals.version_match),
                         "album_match": nullable_bool(signals.album_match),
                         "release_year_match": nullable_bool(signals.release_year_match),
                         "audio_match": nullable_bool(np.minimum(signals.audio_match, 1)),  # aligned at all
                         "record_similarity": pa.array(signals.record_similarity, pa.float32(), from_pandas=True),
                     })


def _subset(signals: PairSignals, keep: np.ndarray) -> PairSignals:
    return PairSignals(**{name: getattr(signals, name)[keep] for name in signals.__dataclass_fields__})


@dataclass
class ScoredTracks:
    """Track resolution up to the trained model: what grouping (once, or again with artists) needs."""

    tracks: pa.Table
    features: TrackFeatures
    candidates: CandidatePairs
    signals: PairSignals
    model: FellegiSunterModel
    audio: AudioEvidence | None
    statistics: TokenStatistics
    """The catalog's word frequencies (whole-record comparison and blocking)."""
    repair_context: RepairContext
    """What the catalog taught the repairs (look-ups of single tracks repair with it too)."""

    def compare(self, left: np.ndarray, right: np.ndarray) -> PairSignals:
        """Signals of any track pairs (for completing groups and explaining proposals)."""
        return compare_pairs(self.features, left, right, self.audio, statistics=self.statistics)


def score_tracks(tracks: pa.Table, *, config: ResolverConfig, timer: StageTimer,
                 audio: AudioEvidence | None = None) -> ScoredTracks:
    """Normalize, block, compare and train on a validated tracks table (``TRACK_SCHEMA``)."""
    with timer.stage("repair"):
        repair_context = RepairContext.learn(tracks)
    with timer.stage("normalize"):
        features = extract_track_features(tracks, context=repair_context)
        statistics = TokenStatistics.learn(tokenize(features.record_text))
    with timer.stage("blocking"):
        extra = {} if audio is None else audio_candidate_pairs(audio, config.blocking)
        candidates = candidate_pairs(features, config=config.blocking, statistics=statistics, extra_blockers=extra)
    with timer.stage("compare"):
        signals = compare_pairs(features, candidates.left, candidates.right, audio, statistics=statistics)
        levels = comparison_levels(signals, TRACK_COMPARISONS)
    with timer.stage("train"):
        random_left, random_right = random_pairs(
            len(features), config.scoring.random_pairs_for_u, config.scoring.seed
        )
        # Audio is not verified on random pairs (costly, and its u is learned by EM on candidates).
        random_levels = comparison_levels(compare_pairs(features, random_left, random_right, statistics=statistics),
                                          TRACK_COMPARISONS)
        model = train_model(levels, random_levels, comparisons=TRACK_COMPARISONS, anchor=ISRC_ANCHOR,
                            config=config.scoring)
    return ScoredTracks(tracks, features, candidates, signals, model, audio, statistics, repair_context)


def group_tracks(scored: ScoredTracks, *, config: ResolverConfig, timer: StageTimer,
                 adjust: SignalAdjuster | None = None, stage_suffix: str = "",
                 decisions: PairDecisions | None = None) -> ResolveResult:
    """Score every candidate pair with the trained model, cluster and propose (``adjust``: see
    :data:`SignalAdjuster`; ``stage_suffix`` names the stages of a second pass; ``decisions``: curators'
    labels that override the model, see :mod:`resolver.decisions`)."""
    features, candidates, model = scored.features, scored.candidates, scored.model
    decisions = decisions or PairDecisions.empty()

    def signals_of(left: np.ndarray, right: np.ndarray, measured: PairSignals | None = None) -> PairSignals:
        signals = measured if measured is not None else scored.compare(left, right)
        return adjust(signals, left, right) if adjust is not None else signals

    with timer.stage("score" + stage_suffix):
        signals = signals_of(candidates.left, candidates.right, scored.signals)
        levels = comparison_levels(signals, TRACK_COMPARISONS)
        match_weight = model.match_weight(levels)
        probability = decisions.apply(features.track_id, candidates.left, candidates.right,
                                      model.probability(levels))

    def score_pairs(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        scored_probability = model.probability(comparison_levels(signals_of(left, right), TRACK_COMPARISONS))
        return decisions.apply(features.track_id, left, right, scored_probability)

    with timer.stage("cluster" + stage_suffix):
        linked_left, linked_right = decisions.must_link(features.track_id)
        edges_left, edges_right, edge_probability = with_links(candidates.left, candidates.right, probability,
                                                                linked_left, linked_right)
        clustering = cluster_pairs(len(features), edges_left, edges_right, edge_probability, score_pairs,
                                   config=config.clustering)
    with timer.stage("propose" + stage_suffix):
        member_levels = comparison_levels(signals_of(clustering.member_left, clustering.member_right),
                                          TRACK_COMPARISONS)
        evidence = PairEvidence(
            comparison_names=tuple(c.name for c in TRACK_COMPARISONS),
            level_labels=tuple(c.level_labels for c in TRACK_COMPARISONS),
            weights=model.weights(),
            levels=member_levels,
        )
        has_isrc = features.isrc != ""  # features keep only valid ISRCs
        proposals = build_proposals(
            "track", features.track_id, clustering.labels, canonical_order(scored.tracks, has_isrc),
            clustering.member_left, clustering.member_right, clustering.member_probability, evidence,
            row_notes=repair_names(features.repairs),
        )
        keep = probability >= config.scoring.pair_output_threshold
        pairs = pair_table(features, candidates.left[keep], candidates.right[keep], probability[keep],
                           match_weight[keep], _subset(signals, keep))
        candidate_table = candidate_id_table("track", features.track_id, candidates.left, candidates.right)
    return ResolveResult(
        proposals=proposals,
        pairs=pairs,
        candidates=candidate_table,
        model=model,
        labels=clustering.labels,
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
        repairs=repair_summary(scored),
    )


def repair_summary(scored: ScoredTracks) -> dict[str, object]:
    """``summary.json``'s ``repairs``: rows changed per repair kind, and what the catalog taught (per source)."""
    repairs = scored.features.repairs
    return {"rows_changed": repair_counts(repairs), "rows_with_any": int((repairs != 0).sum()),
            "learned": scored.repair_context.describe()}


def identity_groups(scored: ScoredTracks, labels: np.ndarray) -> np.ndarray:
    """``(n_tracks,)`` int64: the track groups cut down to what identity evidence holds together.

    Two tracks stay together when they were grouped *and* share a valid ISRC or matched on audio, directly
    or through other members. Artists build on these rather than on the groups themselves: a group that
    only title and artist-name agreement formed ("Tell Me Why" by each of two bands called "Groucir
    Fracho") must not then testify that the two ids are one artist.
    """
    signals, candidates = scored.signals, scored.candidates
    linked = ((signals.isrc_match == 1) | (signals.audio_match >= 1)) & (
        labels[candidates.left] == labels[candidates.right])
    n = len(labels)
    graph = coo_matrix((np.ones(int(linked.sum()), np.int8), (candidates.left[linked], candidates.right[linked])),
                       shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def regroup(tracks: pa.Table, features: TrackFeatures, *, model: FellegiSunterModel, statistics: TokenStatistics,
            repair_context: RepairContext, config: ResolverConfig, decisions: PairDecisions | None = None
            ) -> ResolveResult:
    """Group ``tracks`` (a subset of a catalog, with its ``features``) with an already trained ``model``, the
    whole catalog's word ``statistics`` and ``repair_context``."""
    timer = StageTimer(None)
    with timer.stage("blocking"):
        candidates = candidate_pairs(features, config=config.blocking, statistics=statistics)
    with timer.stage("compare"):
        signals = compare_pairs(features, candidates.left, candidates.right, statistics=statistics)
    return group_tracks(ScoredTracks(tracks, features, candidates, signals, model, None, statistics,
                                     repair_context), config=config, timer=timer, decisions=decisions)
