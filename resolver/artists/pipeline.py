"""``resolve_artists``: artist resolution on top of the track clusters — composition only.

features and track links → listener signatures (co-engagement) and shared recordings (track clusters) →
candidate pairs (names, audiences, shared recordings) → signals → levels → Fellegi–Sunter model (EM on the
candidates, u from random artist pairs) → probabilities → correlation clustering in a networkx graph →
proposals and pairs in the same contract as tracks (``entity_type = "artist"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.artists.comparisons import ARTIST_COMPARISONS, SHARED_RECORDING_ANCHOR
from catalog_er.resolver.artists.engagement import ListenerSignatures, listener_signatures
from catalog_er.resolver.artists.features import (
    ArtistFeatures,
    TrackArtistLinks,
    extract_artist_features,
    link_tracks_to_artists,
)
from catalog_er.resolver.artists.pairs import (
    ArtistPairSignals,
    SharedRecordings,
    artist_candidate_pairs,
    compare_artist_pairs,
    shared_recordings,
)
from catalog_er.resolver.comparisons import comparison_levels
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.decisions import PairDecisions, with_links
from catalog_er.resolver.fellegi_sunter import FellegiSunterModel, random_pairs, train_model
from catalog_er.resolver.graph import cluster_pairs
from catalog_er.resolver.propose import PairEvidence, build_proposals, sorted_rank
from catalog_er.resolver.records import ENGAGEMENT_SCHEMA, candidate_id_table, nullable_bool, pair_rows
from catalog_er.resolver.stages import StageTimer

ARTIST_CANONICAL_RULE = "most tracks credited as primary artist, then genres and country filled, then smallest id"


@dataclass
class ArtistResult:
    """Artist outputs (``PROPOSAL_SCHEMA`` / ``PAIR_SCHEMA`` rows with ``entity_type = "artist"``) and what
    the track feedback needs: the clusters, the links and every scored candidate pair."""

    proposals: pa.Table
    pairs: pa.Table
    candidates: pa.Table
    model: FellegiSunterModel
    labels: np.ndarray
    """``(n_artists,)`` int64 cluster of every artist, in ``artist_id`` order (the rows ``links`` index)."""
    links: TrackArtistLinks
    candidate_left: np.ndarray
    candidate_right: np.ndarray
    candidate_probability: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)
    blocking: dict[str, int] = field(default_factory=dict)


def _canonical_rank(features: ArtistFeatures, links: TrackArtistLinks) -> np.ndarray:
    primary_tracks = np.bincount(links.artist_row[links.primary], minlength=len(features))
    filled = (features.genres != "").astype(np.int64) + (features.country != "").astype(np.int64)
    return sorted_rank([-primary_tracks, -filled, pa.array(features.artist_id, pa.string())])


def _artist_pair_table(features: ArtistFeatures, left: np.ndarray, right: np.ndarray, probability: np.ndarray,
                       match_weight: np.ndarray, signals: ArtistPairSignals) -> pa.Table:
    return pair_rows("artist", pa.array(features.artist_id[left], pa.string()),
                     pa.array(features.artist_id[right], pa.string()), pa.array(probability, pa.float64()),
                     pa.array(match_weight, pa.float64()), {
                         "name_similarity": pa.array(signals.name_similarity, pa.float32(), from_pandas=True),
                         "shared_recordings": pa.array(signals.shared_recordings, pa.float32(), from_pandas=True),
                         "coengagement_jaccard": pa.array(signals.coengagement, pa.float32(), from_pandas=True),
                         "genre_match": nullable_bool(signals.genre_match),
                         "country_match": nullable_bool(signals.country_match),
                     })


def _take(signals: ArtistPairSignals, keep: np.ndarray) -> ArtistPairSignals:
    return ArtistPairSignals(**{name: getattr(signals, name)[keep] for name in signals.__dataclass_fields__})


def resolve_artists(artists: pa.Table, tracks: pa.Table, track_labels: np.ndarray, engagement: pa.Table | None, *,
                    config: ResolverConfig, timer: StageTimer, decisions: PairDecisions | None = None
                    ) -> ArtistResult:
    """Find duplicate artist ids (see the module docstring).

    Args:
        artists: validated ``ARTIST_SCHEMA`` table.
        tracks: the validated ``TRACK_SCHEMA`` table that was resolved; ``artist_ids`` links the two.
        track_labels: ``(n_tracks,)`` int64 recording group of every track row (see
            :func:`resolver.tracks.identity_groups`).
        engagement: validated ``ENGAGEMENT_SCHEMA`` table, or None (co-engagement is then null everywhere).
        decisions: curators' labels on artist pairs, binding (see :mod:`resolver.decisions`).
    """
    decisions = decisions or PairDecisions.empty()
    settings, blocking = config.artists, config.blocking
    artists = artists.sort_by("artist_id")  # row order must not matter (random pairs, tie-breaks)
    with timer.stage("artist features"):
        features = extract_artist_features(artists)
        links = link_tracks_to_artists(tracks, artists)
        listeners: ListenerSignatures = listener_signatures(
            engagement if engagement is not None else ENGAGEMENT_SCHEMA.empty_table(), tracks["track_id"], links,
            len(features), num_perm=blocking.num_perm, seed=blocking.seed)
        shared: SharedRecordings = shared_recordings(links, track_labels, len(features))
    with timer.stage("artist pairs"):
        candidates = artist_candidate_pairs(features, listeners, shared, blocking, settings)
        signals = compare_artist_pairs(features, listeners, shared, candidates.left, candidates.right, settings)
        levels = comparison_levels(signals, ARTIST_COMPARISONS)
    with timer.stage("artist model"):
        random_left, random_right = random_pairs(len(features), min(config.scoring.random_pairs_for_u,
                                                                    len(features) * 50), config.scoring.seed)
        random_levels = comparison_levels(
            compare_artist_pairs(features, listeners, shared, random_left, random_right, settings), ARTIST_COMPARISONS)
        model = train_model(levels, random_levels, comparisons=ARTIST_COMPARISONS, anchor=SHARED_RECORDING_ANCHOR,
                            config=config.scoring)
        match_weight = model.match_weight(levels)
        probability = decisions.apply(features.artist_id, candidates.left, candidates.right,
                                      model.probability(levels))

    def score_pairs(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        pair_signals = compare_artist_pairs(features, listeners, shared, left, right, settings)
        scored = model.probability(comparison_levels(pair_signals, ARTIST_COMPARISONS))
        return decisions.apply(features.artist_id, left, right, scored)

    with timer.stage("artist graph"):
        linked_left, linked_right = decisions.must_link(features.artist_id)
        edges_left, edges_right, edge_probability = with_links(candidates.left, candidates.right, probability,
                                                                linked_left, linked_right)
        clustering = cluster_pairs(len(features), edges_left, edges_right, edge_probability, score_pairs,
                                   config=config.clustering, method="correlation")
        member_signals = compare_artist_pairs(features, listeners, shared, clustering.member_left,
                                              clustering.member_right, settings)
        evidence = PairEvidence(
            comparison_names=tuple(c.name for c in ARTIST_COMPARISONS),
            level_labels=tuple(c.level_labels for c in ARTIST_COMPARISONS),
            weights=model.weights(),
            levels=comparison_levels(member_signals, ARTIST_COMPARISONS),
        )
        proposals = build_proposals("artist", features.artist_id, clustering.labels, _canonical_rank(features, links),
                                    clustering.member_left, clustering.member_right, clustering.member_probability,
                                    evidence, canonical_rule=ARTIST_CANONICAL_RULE)
        keep = probability >= config.scoring.pair_output_threshold
        pairs = _artist_pair_table(features, candidates.left[keep], candidates.right[keep], probability[keep],
                                   match_weight[keep], _take(signals, keep))
    return ArtistResult(
        proposals=proposals,
        pairs=pairs,
        candidates=candidate_id_table("artist", features.artist_id, candidates.left, candidates.right),
        model=model,
        labels=clustering.labels,
        links=links,
        candidate_left=candidates.left,
        candidate_right=candidates.right,
        candidate_probability=probability,
        counts={
            "artists": len(features),
            "artist_candidate_pairs": len(candidates),
            "artist_pairs_written": pairs.num_rows,
            "artist_proposals": proposals.num_rows,
            "artists_in_proposals": int(pc.sum(pc.list_value_length(proposals["member_ids"])).as_py() or 0),
            "artist_components_split": clustering.split_components,
            "engagement_rows_used": listeners.rows_used,
            "artists_with_listeners": int((listeners.listeners > 0).sum()),
            "credited_ids_not_in_artists": links.unknown_ids,
        },
        blocking=candidates.pairs_by_blocker,
    )
