"""``resolve_tracks`` and ``resolve_catalog``: the composition of the stages, nothing else.

Tracks (:mod:`resolver.tracks`): features → candidate pairs → signals → levels → model (u on random pairs, m
and prior by EM) → probabilities → clustering → proposals. With artists (``resolve_catalog``), artist
resolution then builds on the track clusters (:mod:`resolver.artists.pipeline`), and the track pairs are
scored and grouped once more with the artist clusters as evidence (:mod:`resolver.artists.feedback`). Each
stage's wall time is recorded in ``stage_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from catalog_er.resolver.artists.feedback import artist_adjuster
from catalog_er.resolver.artists.pipeline import ArtistResult, resolve_artists
from catalog_er.resolver.audio_evidence import AudioEvidence
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.decisions import PairDecisions
from catalog_er.resolver.stages import StageCallback, StageTimer
from catalog_er.resolver.tracks import ResolveResult, ScoredTracks, group_tracks, identity_groups, score_tracks


def resolve_tracks(tracks: pa.Table, *, config: ResolverConfig | None = None, on_stage: StageCallback | None = None,
                   audio: AudioEvidence | None = None) -> ResolveResult:
    """Find duplicate songs in a validated tracks table (``resolver.records.TRACK_SCHEMA``).

    With ``audio``, pairs found from the recordings join the candidates and every pair whose two tracks
    have audio is compared on it too; tracks without audio resolve exactly as without.
    """
    config = config or ResolverConfig()
    timer = StageTimer(on_stage)
    return group_tracks(score_tracks(tracks, config=config, timer=timer, audio=audio), config=config, timer=timer)


@dataclass
class CatalogResult:
    """Tracks and (when artists were given) artists resolved together; ``tables()`` gives the outputs."""

    tracks: ResolveResult
    artists: ArtistResult | None
    stage_seconds: dict[str, float]
    scored: ScoredTracks | None = None
    """The scored candidate pairs behind ``tracks``, when asked for (the service's online index starts from
    them)."""

    def proposals(self) -> pa.Table:
        """Track then artist proposals (``PROPOSAL_SCHEMA``)."""
        return pa.concat_tables([self.tracks.proposals] + ([self.artists.proposals] if self.artists else []))

    def pairs(self) -> pa.Table:
        """Track then artist pairs (``PAIR_SCHEMA``)."""
        return pa.concat_tables([self.tracks.pairs] + ([self.artists.pairs] if self.artists else []))

    def candidates(self) -> pa.Table:
        """Track then artist candidate pairs (``entity_type``, ``left_id``, ``right_id``)."""
        return pa.concat_tables([self.tracks.candidates] + ([self.artists.candidates] if self.artists else []))


def resolve_catalog(tracks: pa.Table, artists: pa.Table | None = None, engagement: pa.Table | None = None, *,
                    config: ResolverConfig | None = None, on_stage: StageCallback | None = None,
                    audio: AudioEvidence | None = None, track_decisions: PairDecisions | None = None,
                    artist_decisions: PairDecisions | None = None, keep_scored: bool = False) -> CatalogResult:
    """Resolve tracks, then (with ``artists``) artists on the track clusters and co-engagement, then the
    track pairs again with the artist clusters as evidence (unless ``config.artists.track_feedback`` is off).

    ``artists``/``engagement``: validated ``ARTIST_SCHEMA``/``ENGAGEMENT_SCHEMA`` tables;
    ``track_decisions``/``artist_decisions``: curators' labels that bind the result; ``keep_scored``: keep the
    scored candidate pairs in the result (``CatalogResult.scored``; otherwise they are freed with the run).
    """
    config = config or ResolverConfig()
    timer = StageTimer(on_stage)
    scored = score_tracks(tracks, config=config, timer=timer, audio=audio)
    kept = scored if keep_scored else None
    first = group_tracks(scored, config=config, timer=timer, decisions=track_decisions)
    if artists is None:
        return CatalogResult(first, None, timer.seconds, kept)
    artist_result = resolve_artists(artists, tracks, identity_groups(scored, first.labels), engagement,
                                    config=config, timer=timer, decisions=artist_decisions)
    if not config.artists.track_feedback:
        return CatalogResult(first, artist_result, timer.seconds, kept)
    adjust = artist_adjuster(scored.features, artist_result)
    second = group_tracks(scored, config=config, timer=timer, adjust=adjust, stage_suffix=" (with artists)",
                          decisions=track_decisions)
    return CatalogResult(second, artist_result, timer.seconds, kept)
