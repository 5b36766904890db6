"""The gRPC servicer (``grpc.aio``): proto messages ↔ records, then the live catalog. No matching logic here.

Look-ups of stored tracks in the in-memory index run on the event loop; look-ups of unsaved tracks go to a
:class:`service.batching.MicroBatcher` (answered on its thread, or by the server's look-up process); anything
that touches the database or computes for long runs in the worker pool (:meth:`CatalogErServicer._blocking`), so
it never stalls the loop.
Ingest streams become raw tables column by column, derived from the record schemas (``resolver.records``;
each proto field bears its column's name), and are then validated and committed batch by batch by
``service.ingest``: a bad record is a rejection in the summary, never a failed call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import pyarrow as pa
from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from catalog_er.fingerprint.audio import AudioInfo, AudioLimits, decode, probe
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples
from catalog_er.resolver.limits import MAX_ID_CHARS, MAX_NOTE_CHARS, MAX_REVIEWER_CHARS
from catalog_er.resolver.online import Match
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.batching import MicroBatcher
from catalog_er.service.grpc_errors import AlreadyExistsError, DeadlinePassedError, RequestError, TooLargeError
from catalog_er.service.ingest import RecordStream, ingest
from catalog_er.service.io.validation import (
    LoadedTable,
    show_value,
    too_long,
    validate_artists,
    validate_engagement,
    validate_tracks,
)
from catalog_er.service.live import LiveCatalog, NotFoundError
from catalog_er.service.page_tokens import page_token, parse_page_token
from catalog_er.service.proto_rows import artist_rows, engagement_rows, track_rows
from catalog_er.service.record_tables import ARTISTS, TRACKS
from catalog_er.service.store import ACCEPTED, OPEN, REJECTED, SUPERSEDED, AlreadyDecidedError, StoredProposal
from catalog_er.service.unsaved_lookups import UnsavedAnswer, UnsavedQuery, find_unsaved_batch, validated_unsaved

_ENTITY = {pb.ENTITY_TYPE_TRACK: "track", pb.ENTITY_TYPE_ARTIST: "artist"}
_ENTITY_ENUM = {name: value for value, name in _ENTITY.items()}
_STATUS = {pb.PROPOSAL_STATUS_OPEN: OPEN, pb.PROPOSAL_STATUS_ACCEPTED: ACCEPTED,
           pb.PROPOSAL_STATUS_REJECTED: REJECTED, pb.PROPOSAL_STATUS_SUPERSEDED: SUPERSEDED}
_STATUS_ENUM = {name: value for value, name in _STATUS.items()}

log = logging.getLogger("catalog_er.service")


def _filter(enum: EnumTypeWrapper, names: dict[int, str], value: int, field: str) -> str | None:
    """The stored name (from ``names``) that a request's ``field`` of type ``enum`` filters by; None (no filter)
    for 0, the UNSPECIFIED value. proto3 hands on numbers it does not know, so a number that is none of the
    enum's is a RequestError, never "no filter"."""
    if value == 0:
        return None
    if value not in names:
        known = ", ".join(f"{enum.Name(number)} ({number})" for number in sorted(names))
        raise RequestError(field, f"{value} is none of the {enum.DESCRIPTOR.name} values: give {known} or 0 (any)")
    return names[value]


_DECLARED_AUDIO: dict[int, Callable[[AudioInfo], bool]] = {
    pb.AUDIO_FORMAT_WAV: lambda info: info.format == "wav",
    pb.AUDIO_FORMAT_FLAC: lambda info: info.subtype == "flac",
    pb.AUDIO_FORMAT_OGG_VORBIS: lambda info: (info.format, info.subtype) == ("ogg", "vorbis"),
    pb.AUDIO_FORMAT_OPUS: lambda info: (info.format, info.subtype) == ("ogg", "opus"),
    pb.AUDIO_FORMAT_MP3: lambda info: info.subtype == "mp3",
}
"""Whether probed audio (FFmpeg's container and codec names) is what an ``AudioHeader.format`` declares."""


def _check_declared_format(declared: int, data: bytes) -> None:
    """RequestError on ``header.format`` when ``data`` is not in the ``declared`` format (UNSPECIFIED: any)."""
    if declared == pb.AUDIO_FORMAT_UNSPECIFIED:
        return
    info = probe(data)
    if not _DECLARED_AUDIO[declared](info):
        raise RequestError("header.format", f"is {pb.AudioFormat.Name(declared)} but the bytes are "
                           f"{info.format} ({info.subtype})")


@dataclass(frozen=True)
class ServiceLimits:
    """Sizes a request may not exceed (RESOURCE_EXHAUSTED beyond them; audio over ``max_audio_seconds`` is
    INVALID_ARGUMENT, reason ``too_long``), and how many audio files are decoded at once.

    Attributes:
        max_audio_bytes: largest audio file a call may send (UploadAudio, FindDuplicates), in bytes.
        max_audio_seconds: longest audio a call may send, in seconds (checked on the header, then while decoding):
            the cost of a call is its audio's length, not its byte size (an hour of silence is 0.5 MB of FLAC).
        max_concurrent_audio: audio files decoded and fingerprinted at once; further audio calls wait their turn
            without holding a worker thread, so look-ups without audio keep being answered. Each holds about
            140 KB of memory per second of audio while it runs (~0.25 GB for 30 minutes).
        max_page_size: largest page of ListMergeProposals.
        max_candidates: largest ``limit`` of FindDuplicates.
    """

    max_audio_bytes: int = 64 * 1024 * 1024
    max_audio_seconds: float = 1800.0
    max_concurrent_audio: int = 2
    max_page_size: int = 10_000
    max_candidates: int = 1_000

    def __post_init__(self) -> None:
        for name in ("max_audio_bytes", "max_concurrent_audio", "max_page_size", "max_candidates"):
            if getattr(self, name) < 1:
                raise ValueError(f"ServiceLimits.{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.max_audio_seconds > 0:
            raise ValueError(f"ServiceLimits.max_audio_seconds must be > 0, got {self.max_audio_seconds!r}")


_Result = TypeVar("_Result")


def _proposal_message(proposal: StoredProposal) -> pb.MergeProposal:
    return pb.MergeProposal(proposal_id=proposal.proposal_id, entity_type=_ENTITY_ENUM[proposal.entity_type],
                            canonical_id=proposal.canonical_id, member_ids=proposal.member_ids,
                            confidence=proposal.confidence, evidence_json=proposal.evidence,
                            status=_STATUS_ENUM[proposal.status])


def _log_failed_refresh(refresh: asyncio.Future) -> None:
    """A background refresh that failed is logged (the next look-up starts another); readers keep the old snapshot."""
    if not refresh.cancelled() and refresh.exception() is not None:
        log.error("refreshing the catalog snapshot failed", exc_info=refresh.exception())


def _bounded(field: str, value: str, limit: int) -> str:
    """``value`` of request field ``field``, which may hold at most ``limit`` characters (``resolver.limits``);
    INVALID_ARGUMENT naming the field, its length and the limit when it holds more."""
    if len(value) > limit:
        raise RequestError(field, too_long(field, len(value), limit))
    return value


class CatalogErServicer(pb_grpc.CatalogErServiceServicer):
    """Every RPC of ``catalog_er.v1.CatalogErService`` (see the proto for the contract)."""

    def __init__(self, catalog: LiveCatalog, executor: Executor, lookup_executor: Executor,
                 limits: ServiceLimits | None = None, on_ingest: Callable[[str, int], None] | None = None,
                 answer_unsaved: Callable[[list[UnsavedQuery]], list[UnsavedAnswer | RequestError]] | None = None
                 ) -> None:
        """``executor``: the worker pool (database, resolution, audio); ``lookup_executor``: one thread for
        unsaved-track look-ups (:class:`service.batching.MicroBatcher`), which ``answer_unsaved`` answers
        (:func:`service.unsaved_lookups.find_unsaved_batch` on ``catalog`` by default; the server passes its
        look-up process, :class:`service.lookup_replica.LookupReplica`)."""
        self.catalog, self.store, self._executor = catalog, catalog.store, executor
        self.limits = limits or ServiceLimits()
        self._on_ingest = on_ingest or (lambda kind, count: None)
        self.unsaved_lookups = MicroBatcher(answer_unsaved or functools.partial(find_unsaved_batch, catalog),
                                            lookup_executor)
        """Unsaved-track look-ups (metadata only) that wait together are answered in one pass, off the loop."""
        self._refreshing: asyncio.Future | None = None
        """The snapshot refresh running in the worker pool, if any (:meth:`_refreshed_for`)."""
        self._audio_slots = asyncio.Semaphore(self.limits.max_concurrent_audio)
        self._audio_limits = AudioLimits(max_bytes=self.limits.max_audio_bytes,
                                         max_seconds=self.limits.max_audio_seconds)

    async def _blocking(self, function: Callable[..., _Result], *args: Any, **kwargs: Any) -> _Result:
        """``function(*args, **kwargs)`` in the worker pool (database, resolution, audio: not on the loop)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor,
                                                                functools.partial(function, *args, **kwargs))

    async def _refreshed_for(self, track_id: str | None) -> None:
        """Start bringing the catalog's snapshot up to date when the store changed, without waiting for it: reads
        answer from the last published snapshot while the next one is built (one refresh at a time). Only a
        look-up of a stored track the snapshot does not hold yet (ingested since), or one before anything was
        indexed, waits for the refresh."""
        if self.catalog.is_current():
            return
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self._blocking(self.catalog.refresh))
            self._refreshing.add_done_callback(_log_failed_refresh)
        if self.catalog.indexed_tracks() == 0 or (track_id is not None and not self.catalog.knows(track_id)):
            await asyncio.shield(self._refreshing)

    async def _with_audio(self, data: bytes, then: Callable[[Fingerprint], _Result]) -> _Result:
        """``then(fingerprint of data)`` in the worker pool, once one of the ``max_concurrent_audio`` slots is free.

        Raises:
            InvalidAudioError: ``data`` is not usable audio within the service's limits.
        """
        def fingerprint_then() -> _Result:
            return then(fingerprint_samples(decode(data, limits=self._audio_limits)))

        async with self._audio_slots:
            return await self._blocking(fingerprint_then)

    # --- ingest ---------------------------------------------------------------------------------------------
    async def _ingest(self, stream: RecordStream, requests: AsyncIterator, kind: str) -> pb.IngestSummary:
        """Store an ingest stream's records (see ``service.ingest``); ``kind`` labels the ingest metric."""
        def write(records: pa.Table) -> int:
            version = stream.write(records)
            self._on_ingest(kind, records.num_rows)
            return version

        summary = await ingest(dataclasses.replace(stream, write=write), requests, self._blocking)
        if summary.accepted:
            self.catalog.mark_stale()
        return summary

    async def IngestTracks(self, request_iterator, context):
        stream = RecordStream("track", track_rows, lambda t: validate_tracks(t, "IngestTracks"),
                              self.store.upsert_tracks, "track_id",
                              functools.partial(self.store.stored_versions, TRACKS))
        return pb.IngestTracksResponse(summary=await self._ingest(stream, request_iterator, "tracks"))

    async def IngestArtists(self, request_iterator, context):
        stream = RecordStream("artist", artist_rows, lambda t: validate_artists(t, "IngestArtists"),
                              self.store.upsert_artists, "artist_id",
                              functools.partial(self.store.stored_versions, ARTISTS))
        return pb.IngestArtistsResponse(summary=await self._ingest(stream, request_iterator, "artists"))

    async def IngestEngagement(self, request_iterator, context):
        def validate(table: pa.Table) -> LoadedTable:
            known = list(self.store.existing_track_ids(set(table["track_id"].drop_null().to_pylist())))
            return validate_engagement(table, "IngestEngagement", known_track_ids=pa.array(known, pa.string()))

        stream = RecordStream("event", engagement_rows, validate, self.store.upsert_engagement)
        return pb.IngestEngagementResponse(summary=await self._ingest(stream, request_iterator, "engagement"))

    async def UploadAudio(self, request_iterator, context):
        header, chunks, size = None, [], 0
        async for request in request_iterator:
            part = request.WhichOneof("part")
            if header is None:
                if part != "header":
                    raise RequestError("header", "the first message of an UploadAudio stream must be the header")
                header = request.header
                if not _bounded("header.track_id", header.track_id, MAX_ID_CHARS):
                    raise RequestError("header.track_id", "is required")
                if header.format not in pb.AudioFormat.values():
                    raise RequestError("header.format", f"{header.format} is not an AudioFormat")
                if not await self._blocking(self.store.existing_track_ids, [header.track_id]):
                    raise NotFoundError(f"track_id {show_value(header.track_id)} is not stored")
                continue
            if part != "chunk":
                raise RequestError("header", "only the first message may be a header")
            size += len(request.chunk)
            if size > self.limits.max_audio_bytes:
                raise TooLargeError("chunk", f"audio exceeds {self.limits.max_audio_bytes:,} bytes")
            chunks.append(request.chunk)
        if header is None:
            raise RequestError("header", "the stream was empty")
        data = b"".join(chunks)
        if not data:
            raise RequestError("chunk", "no audio bytes were sent")

        await self._blocking(_check_declared_format, header.format, data)

        def store(fingerprint: Fingerprint) -> Fingerprint:
            self.store.put_fingerprint(header.track_id, fingerprint)
            return fingerprint

        fingerprint = await self._with_audio(data, store)
        self.catalog.mark_stale()
        return pb.UploadAudioResponse(track_id=header.track_id, seconds=fingerprint.seconds,
                                      hashes=len(fingerprint.hashes), bytes_received=size)

    # --- look-ups ---------------------------------------------------------------------------------------------
    def _limit(self, limit: int) -> int:
        if limit < 0:
            raise RequestError("limit", f"{limit} is negative")
        if limit > self.limits.max_candidates:
            raise TooLargeError("limit", f"{limit} exceeds {self.limits.max_candidates}")
        return limit or 10

    @staticmethod
    def _confidence(value: float, field: str = "min_confidence") -> float:
        if not 0.0 <= value <= 1.0:
            raise RequestError(field, f"{value} is outside [0, 1]")
        return value

    async def FindDuplicates(self, request, context):
        limit, floor = self._limit(request.limit), self._confidence(request.min_confidence)
        query = request.WhichOneof("query")
        _bounded("track_id", request.track_id, MAX_ID_CHARS)
        await self._refreshed_for(request.track_id if query == "track_id" else None)
        if query == "track_id" and not self.catalog.verifies_audio(request.track_id):
            matches, scored = self.catalog.find_stored(request.track_id, limit, floor)  # in memory: on the loop
        elif query == "track_id":  # audio verification of the candidates: milliseconds, off the loop
            matches, scored = await self._blocking(self.catalog.find_stored, request.track_id, limit, floor)
        elif query == "unsaved" and not request.unsaved.audio:
            matches, scored = await self.unsaved_lookups.submit((request.unsaved.track, limit, floor))
        elif query == "unsaved":
            if len(request.unsaved.audio) > self.limits.max_audio_bytes:
                raise TooLargeError("unsaved.audio", f"exceeds {self.limits.max_audio_bytes:,} bytes")
            track, _, errors = validated_unsaved([request.unsaved.track])
            if errors:
                raise errors[0]

            def find_with_audio(fingerprint: Fingerprint) -> tuple[list[tuple[str, Match]], int]:
                return self.catalog.find_unsaved(track, fingerprint, limit, floor)

            matches, scored = await self._with_audio(request.unsaved.audio, find_with_audio)
        else:
            raise RequestError("query", "give track_id or unsaved")
        return pb.FindDuplicatesResponse(candidates=[
            pb.DuplicateCandidate(id=track_id, confidence=m.probability, match_weight=m.match_weight,
                                  evidence=m.evidence) for track_id, m in matches], pairs_scored=scored)

    async def FindArtistDuplicates(self, request, context):
        limit, floor = self._limit(request.limit), self._confidence(request.min_confidence)
        if not _bounded("artist_id", request.artist_id, MAX_ID_CHARS):
            raise RequestError("artist_id", "is required")
        if not await self._blocking(self.store.has_artist, request.artist_id):
            raise NotFoundError(f"artist_id {show_value(request.artist_id)} is not stored")
        pairs = await self._blocking(self.store.artist_pairs, request.artist_id, floor, limit)
        return pb.FindArtistDuplicatesResponse(candidates=[  # the store returns at most ``limit``, best first
            pb.DuplicateCandidate(id=other, confidence=confidence, match_weight=weight, evidence=signals)
            for other, confidence, weight, signals in pairs])

    # --- resolution and proposals --------------------------------------------------------------------------------
    async def Resolve(self, request, context):
        _check_deadline(context)
        stats = await self._blocking(self.catalog.resolve, full=request.full)
        return pb.ResolveResponse(incremental=stats.incremental, tracks_touched=stats.tracks_touched,
                                  open_proposals=stats.open_proposals, proposals_changed=stats.proposals_changed,
                                  seconds=stats.seconds)

    async def ListMergeProposals(self, request, context):
        if request.page_size < 0 or request.page_size > self.limits.max_page_size:
            raise RequestError("page_size", f"{request.page_size} is outside 0..{self.limits.max_page_size}")
        after = parse_page_token(request.page_token)
        proposals = await self._blocking(
            self.store.list_proposals, entity_type=_filter(pb.EntityType, _ENTITY, request.entity_type, "entity_type"),
            min_confidence=self._confidence(request.min_confidence),
            status=_filter(pb.ProposalStatus, _STATUS, request.status, "status"),
            after=after, limit=request.page_size or None)
        for proposal in proposals:
            token = page_token(proposal.confidence, proposal.proposal_id)
            yield pb.ListMergeProposalsResponse(proposal=_proposal_message(proposal), next_page_token=token)

    async def GetMergeProposal(self, request, context):
        proposal = await self._blocking(self._proposal, request.proposal_id)
        return pb.GetMergeProposalResponse(proposal=_proposal_message(proposal))

    def _proposal(self, proposal_id: str) -> StoredProposal:
        if not _bounded("proposal_id", proposal_id, MAX_ID_CHARS):
            raise RequestError("proposal_id", "is required")
        proposal = self.store.proposal(proposal_id)
        if proposal is None:
            raise NotFoundError(f"proposal_id {show_value(proposal_id)} does not exist")
        return proposal

    async def ReviewMergeProposal(self, request, context):
        return await self._blocking(self._review, request)

    def _review(self, request: pb.ReviewMergeProposalRequest) -> pb.ReviewMergeProposalResponse:
        _bounded("member_id", request.member_id, MAX_ID_CHARS)
        _bounded("reviewer", request.reviewer, MAX_REVIEWER_CHARS)
        _bounded("note", request.note, MAX_NOTE_CHARS)
        proposal = self._proposal(request.proposal_id)
        if request.decision not in (pb.DECISION_ACCEPT, pb.DECISION_REJECT):
            raise RequestError("decision", "must be DECISION_ACCEPT or DECISION_REJECT")
        if not request.reviewer.strip():
            raise RequestError("reviewer", "is required")
        if request.member_id and request.member_id not in proposal.member_ids:
            raise RequestError("member_id",
                               f"{show_value(request.member_id)} is not a member of {proposal.proposal_id}")
        decision = ACCEPTED if request.decision == pb.DECISION_ACCEPT else REJECTED
        try:
            updated, labeled = self.store.record_review(proposal, decision, request.member_id,
                                                        request.reviewer.strip(), request.note)
        except AlreadyDecidedError as error:
            raise AlreadyExistsError("proposal_id", f"{error}; review one member to change part of it") from error
        return pb.ReviewMergeProposalResponse(proposal=_proposal_message(updated), pairs_labeled=labeled)

    async def ExportDecisions(self, request, context):
        entity_type = _filter(pb.EntityType, _ENTITY, request.entity_type, "entity_type")
        for pair in await self._blocking(self.store.labeled_pairs, entity_type):
            yield pb.ExportDecisionsResponse(entity_type=_ENTITY_ENUM[pair.entity_type], left_id=pair.left_id,
                                             right_id=pair.right_id, is_duplicate=pair.is_duplicate,
                                             reviewer=pair.reviewer, note=_shorter_note(pair.note),
                                             proposal_id=pair.proposal_id,
                                             decided_at=pair.decided_at)


def _shorter_note(note: str) -> str:
    """A stored note within ``MAX_NOTE_CHARS`` (a database written before the limit may hold longer ones, which
    would make an exported decision too large for a client's default 4 MB receive limit)."""
    return note if len(note) <= MAX_NOTE_CHARS else note[: MAX_NOTE_CHARS - 1] + "…"


def _check_deadline(context: grpc.aio.ServicerContext) -> None:
    """Do not start costly work for a caller whose deadline has already passed."""
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        raise DeadlinePassedError("the call's deadline passed before the work started")
