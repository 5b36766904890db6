"""The gRPC service: a real server on 127.0.0.1 (port 0), real clients, a real SQLite file."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import grpc
import numpy as np
import pyarrow as pa
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from catalog_er.fingerprint.synthetic import encode, render_song
from catalog_er.resolver.synthetic import SyntheticCatalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.ingest import BATCH_RECORDS
from catalog_er.service.server import RunningServer, ServerSettings, start_server
from catalog_er.service.servicer import ServiceLimits
from catalog_er.service.store import Store

TOKEN = "s3cret-token"


def _track_message(row: dict) -> pb.Track:
    return pb.Track(track_id=row["track_id"], title=row["title"], artist=row["artist"] or "",
                    artist_ids=row["artist_ids"] or [], album=row["album"] or "",
                    duration_ms=row["duration_ms"] or 0, isrc=row["isrc"] or "",
                    release_date=row["release_date"] or "", label=row["label"] or "")


def _requests(rows: list[dict]) -> Iterator[pb.IngestTracksRequest]:
    for row in rows:
        yield pb.IngestTracksRequest(track=_track_message(row))


def _wav(seconds: float = 12.0, seed: int = 5) -> bytes:
    samples = render_song(seed=seed, seconds=seconds, rate_hz=22_050)
    return encode(samples, rate_hz=22_050, format="wav")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, small_catalog: SyntheticCatalog) -> Iterator[RunningServer]:
    """A server with the small catalog ingested over gRPC (tracks, artists, engagement) and resolved."""
    db = tmp_path_factory.mktemp("service") / "catalog.sqlite"
    running = start_server(ServerSettings(db_path=db, port=0, token=TOKEN,
                                          limits=ServiceLimits(max_audio_bytes=3_000_000)))
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    stub = pb_grpc.CatalogErServiceStub(channel)
    auth = (("authorization", f"Bearer {TOKEN}"),)
    stub.IngestTracks(_requests(small_catalog.tracks.to_pylist()), metadata=auth)
    stub.IngestArtists((pb.IngestArtistsRequest(artist=pb.Artist(
        artist_id=r["artist_id"], name=r["name"], genres=r["genres"] or [], country=r["country"] or ""))
        for r in small_catalog.artists.to_pylist()), metadata=auth)
    stub.IngestEngagement((pb.IngestEngagementRequest(event=pb.EngagementEvent(**r))
                           for r in small_catalog.engagement.to_pylist()), metadata=auth)
    stub.Resolve(pb.ResolveRequest(full=True), metadata=auth)
    channel.close()
    yield running
    running.stop(1)


@pytest.fixture()
def stub(server: RunningServer) -> Iterator[pb_grpc.CatalogErServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield pb_grpc.CatalogErServiceStub(channel)


AUTH = (("authorization", f"Bearer {TOKEN}"),)


def _code(call, *args, **kwargs) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        result = call(*args, **kwargs)
        if hasattr(result, "__iter__") and not isinstance(result, (bytes, str)):
            list(result)
    return caught.value.code()


def test_ingest_keeps_good_records_and_names_the_bad_ones(stub: pb_grpc.CatalogErServiceStub) -> None:
    rows = [pb.Track(track_id="ok-1", title="Fine Song", artist="Someone"),
            pb.Track(track_id="", title="No Id"),
            pb.Track(track_id="ok-2", title="   "),
            pb.Track(track_id="ok-3", title="Another Fine Song", duration_ms=-5),
            pb.Track(track_id="ok-4", title="x" * 2000)]
    summary = stub.IngestTracks(iter(pb.IngestTracksRequest(track=t) for t in rows), metadata=AUTH).summary
    assert summary.accepted == 1 and summary.rejected == 4
    by_index = {r.index: r for r in summary.rejections}
    assert by_index[1].field == "track_id" and by_index[2].field == "title" and by_index[2].id == "ok-2"
    assert by_index[3].field == "duration_ms" and by_index[3].id == "ok-3"  # rejected, not stored with a null
    assert "1000" in by_index[4].reason.replace(",", "")
    events = [pb.EngagementEvent(user_id="u1", track_id="ok-1", plays=3),
              pb.EngagementEvent(user_id="u1", track_id="no-such-track", plays=1),
              pb.EngagementEvent(user_id="u2", track_id="ok-1", plays=-2)]
    summary = stub.IngestEngagement(iter(pb.IngestEngagementRequest(event=e) for e in events), metadata=AUTH).summary
    assert summary.accepted == 1 and {r.field for r in summary.rejections} == {"track_id", "plays"}
    summary = stub.IngestArtists(iter([pb.IngestArtistsRequest(artist=pb.Artist(artist_id="a-x", name="")),
                                       pb.IngestArtistsRequest(artist=pb.Artist(artist_id="a-y", name="Yes"))]),
                                 metadata=AUTH).summary
    assert summary.accepted == 1 and summary.rejections[0].field == "name"


def test_find_duplicates_of_stored_and_unsaved_tracks(stub: pb_grpc.CatalogErServiceStub,
                                                      small_catalog: SyntheticCatalog) -> None:
    proposal = next(iter(stub.ListMergeProposals(pb.ListMergeProposalsRequest(
        entity_type=pb.ENTITY_TYPE_TRACK, min_confidence=0.99, page_size=1)))).proposal
    member, others = proposal.member_ids[0], set(proposal.member_ids[1:])
    found = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=member, limit=5))
    assert found.candidates and found.candidates[0].id in others
    confidences = [c.confidence for c in found.candidates]
    assert confidences == sorted(confidences, reverse=True)
    assert "title_artist" in found.candidates[0].evidence
    row = next(r for r in small_catalog.tracks.to_pylist() if r["track_id"] == member)
    unsaved = pb.UnsavedTrack(track=_track_message({**row, "track_id": ""}))
    found_unsaved = stub.FindDuplicates(pb.FindDuplicatesRequest(unsaved=unsaved, limit=5))
    assert {c.id for c in found_unsaved.candidates} >= {member} | (others & {c.id for c in found.candidates})
    assert _code(stub.FindDuplicates, pb.FindDuplicatesRequest(track_id="missing")) == grpc.StatusCode.NOT_FOUND
    assert _code(stub.FindDuplicates, pb.FindDuplicatesRequest()) == grpc.StatusCode.INVALID_ARGUMENT
    bad = pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=pb.Track(title="")))
    assert _code(stub.FindDuplicates, bad) == grpc.StatusCode.INVALID_ARGUMENT


def test_concurrent_unsaved_look_ups_match_lone_ones_and_a_bad_one_fails_alone(
        stub: pb_grpc.CatalogErServiceStub, small_catalog: SyntheticCatalog) -> None:
    rows = small_catalog.tracks.slice(100, 24).to_pylist()
    requests = [pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=_track_message({**row, "track_id": ""})),
                                         limit=4) for row in rows]
    requests[5] = pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=pb.Track(title="   ")))
    alone = {k: [(c.id, round(c.confidence, 9)) for c in stub.FindDuplicates(r).candidates]
             for k, r in enumerate(requests) if k != 5}
    together: dict[int, object] = {}

    def ask(k: int) -> None:
        try:
            together[k] = [(c.id, round(c.confidence, 9)) for c in stub.FindDuplicates(requests[k]).candidates]
        except grpc.RpcError as error:
            together[k] = error

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    error = together.pop(5)
    assert isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unsaved.track.title" in error.details()
    assert together == alone
    # finds its own stored row first (or tied with the first: a redelivery can agree on everything)
    assert all(alone[k] and (rows[k]["track_id"], alone[k][0][1]) in alone[k] for k in alone)


def test_list_is_filtered_ordered_and_resumable(stub: pb_grpc.CatalogErServiceStub) -> None:
    every = [m.proposal for m in stub.ListMergeProposals(pb.ListMergeProposalsRequest())]
    assert {p.entity_type for p in every} == {pb.ENTITY_TYPE_TRACK, pb.ENTITY_TYPE_ARTIST}
    confidences = [p.confidence for p in every]
    assert confidences == sorted(confidences, reverse=True)
    first = list(stub.ListMergeProposals(pb.ListMergeProposalsRequest(page_size=5)))
    rest = list(stub.ListMergeProposals(pb.ListMergeProposalsRequest(page_token=first[-1].next_page_token)))
    assert [m.proposal.proposal_id for m in first + rest] == [p.proposal_id for p in every]
    artists = [m.proposal for m in stub.ListMergeProposals(pb.ListMergeProposalsRequest(
        entity_type=pb.ENTITY_TYPE_ARTIST, min_confidence=0.5))]
    assert artists and all(p.entity_type == pb.ENTITY_TYPE_ARTIST and p.confidence >= 0.5 for p in artists)
    got = stub.GetMergeProposal(pb.GetMergeProposalRequest(proposal_id=every[0].proposal_id)).proposal
    assert got == every[0] and json.loads(got.evidence_json)["pairs"]
    bad_token = pb.ListMergeProposalsRequest(page_token="not-a-token")
    assert _code(stub.ListMergeProposals, bad_token) == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(stub.GetMergeProposal, pb.GetMergeProposalRequest(proposal_id="x")) == grpc.StatusCode.NOT_FOUND


def test_find_artist_duplicates(stub: pb_grpc.CatalogErServiceStub) -> None:
    proposal = next(iter(stub.ListMergeProposals(pb.ListMergeProposalsRequest(
        entity_type=pb.ENTITY_TYPE_ARTIST, page_size=1)))).proposal
    found = stub.FindArtistDuplicates(pb.FindArtistDuplicatesRequest(artist_id=proposal.member_ids[0], limit=50))
    assert {c.id for c in found.candidates} & set(proposal.member_ids[1:])
    confidences = [c.confidence for c in found.candidates]
    assert confidences == sorted(confidences, reverse=True) and "name_similarity" in found.candidates[0].evidence
    floor = confidences[len(confidences) // 2]
    strict = stub.FindArtistDuplicates(pb.FindArtistDuplicatesRequest(artist_id=proposal.member_ids[0], limit=50,
                                                                      min_confidence=floor))
    assert strict.candidates and [c.id for c in strict.candidates] == [
        c.id for c in found.candidates if c.confidence >= floor]
    missing = pb.FindArtistDuplicatesRequest(artist_id="nobody")
    assert _code(stub.FindArtistDuplicates, missing) == grpc.StatusCode.NOT_FOUND


def test_reviews_bind_later_resolutions_and_export_as_labeled_pairs(stub: pb_grpc.CatalogErServiceStub,
                                                                    small_catalog: SyntheticCatalog) -> None:
    open_tracks = [m.proposal for m in stub.ListMergeProposals(pb.ListMergeProposalsRequest(
        entity_type=pb.ENTITY_TYPE_TRACK, status=pb.PROPOSAL_STATUS_OPEN))]
    rejected, accepted = open_tracks[0], open_tracks[1]
    review = stub.ReviewMergeProposal(pb.ReviewMergeProposalRequest(
        proposal_id=rejected.proposal_id, decision=pb.DECISION_REJECT, reviewer="ann", note="two songs"),
        metadata=AUTH)
    n_rejected = len(rejected.member_ids)
    assert review.proposal.status == pb.PROPOSAL_STATUS_REJECTED
    assert review.pairs_labeled == n_rejected * (n_rejected - 1) // 2  # every member pair
    stub.ReviewMergeProposal(pb.ReviewMergeProposalRequest(
        proposal_id=accepted.proposal_id, decision=pb.DECISION_ACCEPT, reviewer="bob"), metadata=AUTH)
    # a re-delivery of an accepted member: the accepted group must come back whole, with the copy, in a new
    # open proposal (the accepted proposal itself is never changed, so its status would prove nothing)
    member_row = next(r for r in small_catalog.tracks.to_pylist() if r["track_id"] == accepted.member_ids[0])
    stub.IngestTracks(_requests([{**member_row, "track_id": "accepted-copy", "album": "Deluxe Edition"}]),
                      metadata=AUTH)
    stub.Resolve(pb.ResolveRequest(full=True), metadata=AUTH)
    now_open = [m.proposal for m in stub.ListMergeProposals(pb.ListMergeProposalsRequest(
        entity_type=pb.ENTITY_TYPE_TRACK, status=pb.PROPOSAL_STATUS_OPEN))]
    rejected_pairs = {(a, b) for a in rejected.member_ids for b in rejected.member_ids if a < b}
    assert now_open
    for proposal in now_open:  # no open proposal puts a rejected pair together again
        members = set(proposal.member_ids)
        assert not any(a in members and b in members for a, b in rejected_pairs)
    assert any({*accepted.member_ids, "accepted-copy"} <= set(p.member_ids) for p in now_open)
    exported = list(stub.ExportDecisions(pb.ExportDecisionsRequest(entity_type=pb.ENTITY_TYPE_TRACK)))
    labels = {(e.left_id, e.right_id): e.is_duplicate for e in exported}
    assert all(labels[pair] is False for pair in rejected_pairs)
    assert all(labels[(a, b)] is True for a in accepted.member_ids for b in accepted.member_ids if a < b)
    again = pb.ReviewMergeProposalRequest(proposal_id=rejected.proposal_id, decision=pb.DECISION_ACCEPT, reviewer="x")
    assert _code(stub.ReviewMergeProposal, again, metadata=AUTH) == grpc.StatusCode.ALREADY_EXISTS
    bad = pb.ReviewMergeProposalRequest(proposal_id=accepted.proposal_id, decision=pb.DECISION_ACCEPT, reviewer="")
    assert _code(stub.ReviewMergeProposal, bad, metadata=AUTH) == grpc.StatusCode.INVALID_ARGUMENT
    member = pb.ReviewMergeProposalRequest(proposal_id=accepted.proposal_id, decision=pb.DECISION_REJECT,
                                           reviewer="cy", member_id="not-a-member")
    assert _code(stub.ReviewMergeProposal, member, metadata=AUTH) == grpc.StatusCode.INVALID_ARGUMENT


def test_incremental_resolve_touches_only_what_new_tracks_can_change(stub: pb_grpc.CatalogErServiceStub,
                                                                     small_catalog: SyntheticCatalog) -> None:
    original = small_catalog.tracks.to_pylist()[7]
    copy = {**original, "track_id": "redelivered-1", "album": "Deluxe Edition"}
    stub.IngestTracks(_requests([copy]), metadata=AUTH)
    result = stub.Resolve(pb.ResolveRequest(), metadata=AUTH)
    assert result.incremental and 1 <= result.tracks_touched < 100
    found = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id="redelivered-1", limit=3))
    assert found.candidates[0].id == original["track_id"] and found.candidates[0].confidence > 0.9
    grouped = [m.proposal for m in stub.ListMergeProposals(pb.ListMergeProposalsRequest(
        entity_type=pb.ENTITY_TYPE_TRACK, status=pb.PROPOSAL_STATUS_OPEN))]
    assert any({"redelivered-1", original["track_id"]} <= set(p.member_ids) for p in grouped)


def test_upload_audio_stores_a_fingerprint_and_finds_the_copy(stub: pb_grpc.CatalogErServiceStub,
                                                              small_catalog: SyntheticCatalog) -> None:
    track_id = small_catalog.tracks["track_id"][3].as_py()
    data = _wav()

    def chunks() -> Iterator[pb.UploadAudioRequest]:
        yield pb.UploadAudioRequest(header=pb.AudioHeader(track_id=track_id, format=pb.AUDIO_FORMAT_WAV))
        for start in range(0, len(data), 64 * 1024):
            yield pb.UploadAudioRequest(chunk=data[start:start + 64 * 1024])

    receipt = stub.UploadAudio(chunks(), metadata=AUTH)
    assert receipt.track_id == track_id and receipt.hashes > 100 and receipt.bytes_received == len(data)
    query = pb.UnsavedTrack(track=pb.Track(title="Track 07", artist="Various Artists"), audio=data)
    found = stub.FindDuplicates(pb.FindDuplicatesRequest(unsaved=query, limit=3))
    assert found.candidates[0].id == track_id and found.candidates[0].evidence["audio"].startswith("aligned copy")
    no_header = iter([pb.UploadAudioRequest(chunk=b"abc")])
    assert _code(stub.UploadAudio, no_header, metadata=AUTH) == grpc.StatusCode.INVALID_ARGUMENT
    corrupt = iter([pb.UploadAudioRequest(header=pb.AudioHeader(track_id=track_id)),
                    pb.UploadAudioRequest(chunk=b"RIFF" + b"\x00" * 5000)])
    assert _code(stub.UploadAudio, corrupt, metadata=AUTH) == grpc.StatusCode.INVALID_ARGUMENT
    huge = iter([pb.UploadAudioRequest(header=pb.AudioHeader(track_id=track_id))]
                + [pb.UploadAudioRequest(chunk=b"\x00" * 1_000_000)] * 4)
    assert _code(stub.UploadAudio, huge, metadata=AUTH) == grpc.StatusCode.RESOURCE_EXHAUSTED
    unknown = iter([pb.UploadAudioRequest(header=pb.AudioHeader(track_id="nope"))])
    assert _code(stub.UploadAudio, unknown, metadata=AUTH) == grpc.StatusCode.NOT_FOUND


def test_mutating_calls_need_the_token_reads_do_not(stub: pb_grpc.CatalogErServiceStub) -> None:
    one = [pb.IngestTracksRequest(track=pb.Track(track_id="t-auth", title="Auth"))]
    assert _code(stub.IngestTracks, iter(one)) == grpc.StatusCode.UNAUTHENTICATED
    wrong = (("authorization", "Bearer nope"),)
    assert _code(stub.Resolve, pb.ResolveRequest(), metadata=wrong) == grpc.StatusCode.UNAUTHENTICATED
    assert list(stub.ListMergeProposals(pb.ListMergeProposalsRequest(page_size=1)))


def test_health_and_reflection(server: RunningServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "catalog_er.v1.CatalogErService"):
            response = health.Check(health_pb2.HealthCheckRequest(service=service))
            assert response.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        answer = next(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
            list_services="")])))
        names = {s.name for s in answer.list_services_response.service}
        assert {"catalog_er.v1.CatalogErService", "grpc.health.v1.Health"} <= names


def test_concurrent_ingest_and_queries(stub: pb_grpc.CatalogErServiceStub, small_catalog: SyntheticCatalog) -> None:
    errors: list[BaseException] = []
    member = small_catalog.tracks["track_id"][0].as_py()

    def ingest(worker: int) -> None:
        try:
            rows = [pb.IngestTracksRequest(track=pb.Track(track_id=f"c{worker}-{i}", title=f"Song {worker} {i}"))
                    for i in range(300)]
            assert stub.IngestTracks(iter(rows), metadata=AUTH).summary.accepted == 300
        except BaseException as error:
            errors.append(error)

    def query() -> None:
        try:
            for _ in range(20):
                stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=member, limit=3))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=ingest, args=(w,)) for w in range(3)] + [
        threading.Thread(target=query) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors


def test_restart_rebuilds_the_index_from_the_database(tmp_path: Path, small_catalog: SyntheticCatalog) -> None:
    db = tmp_path / "restart.sqlite"
    first = start_server(ServerSettings(db_path=db, port=0))
    rows = small_catalog.tracks.slice(0, 1500).to_pylist()
    with grpc.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        stub = pb_grpc.CatalogErServiceStub(channel)
        stub.IngestTracks(_requests(rows))
        stub.Resolve(pb.ResolveRequest(full=True))
        before = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=rows[0]["track_id"], limit=5))
        proposals = len(list(stub.ListMergeProposals(pb.ListMergeProposalsRequest())))
    first.stop(1)
    second = start_server(ServerSettings(db_path=db, port=0))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{second.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            after = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=rows[0]["track_id"], limit=5))
            assert [c.id for c in after.candidates] == [c.id for c in before.candidates]
            assert len(list(stub.ListMergeProposals(pb.ListMergeProposalsRequest()))) == proposals
    finally:
        second.stop(1)


def test_oversized_messages_are_refused_and_the_server_survives(tmp_path: Path) -> None:
    running = start_server(ServerSettings(db_path=tmp_path / "small.sqlite", port=0, max_message_bytes=4096))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            huge = pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=pb.Track(title="x"), audio=b"\x00" * 10_000))
            assert _code(stub.FindDuplicates, huge) == grpc.StatusCode.RESOURCE_EXHAUSTED
            too_early = pb.FindDuplicatesRequest(track_id="a")
            assert _code(stub.FindDuplicates, too_early) == grpc.StatusCode.NOT_FOUND
            summary = stub.IngestTracks(iter([pb.IngestTracksRequest(track=pb.Track(track_id="a", title="A"))]))
            assert summary.summary.accepted == 1
            assert _code(stub.Resolve, pb.ResolveRequest()) == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        running.stop(1)


def test_audio_is_bounded_by_its_length_and_decoded_a_few_at_a_time(tmp_path: Path) -> None:
    """An hour of near-silence is a few hundred KB of FLAC: the byte limit does not bound its cost, its length
    does. Audio calls beyond the concurrent slots wait their turn and are all answered."""
    limits = ServiceLimits(max_audio_seconds=20.0, max_concurrent_audio=1)
    running = start_server(ServerSettings(db_path=tmp_path / "audio.sqlite", port=0, limits=limits))
    long_but_small = encode(render_song(seed=3, seconds=45.0, rate_hz=8_000) * 0.01, rate_hz=8_000, format="flac")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            request = pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=pb.Track(title="x"), audio=long_but_small))
            with pytest.raises(grpc.RpcError) as refused:
                stub.FindDuplicates(request)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "the limit is 20 s" in refused.value.details()
            stub.IngestTracks(iter([pb.IngestTracksRequest(track=pb.Track(track_id=i, title="A")) for i in "ab"]))
            stub.Resolve(pb.ResolveRequest(full=True))
            within = pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(
                track=pb.Track(title="x"), audio=_wav(seconds=8.0)))
            calls = [stub.FindDuplicates.future(within) for _ in range(5)]
            assert [call.result(timeout=120).pairs_scored >= 0 for call in calls] == [True] * 5
    finally:
        running.stop(1)


def test_look_ups_answer_from_the_last_snapshot_while_the_next_is_built(tmp_path: Path) -> None:
    """After an ingest, look-ups do not wait for the index refresh: they answer from the published snapshot. Only a
    look-up of a track the snapshot does not hold yet waits for it. The catalog's refresh lock, held here by the
    test, stands in for a long refresh."""
    running = start_server(ServerSettings(db_path=tmp_path / "fresh.sqlite", port=0))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            tracks = [pb.Track(track_id=f"t{i}", title=f"Harbour Lights {i}", artist="Nina Vale") for i in range(3)]
            stub.IngestTracks(iter([pb.IngestTracksRequest(track=track) for track in tracks]))
            stub.Resolve(pb.ResolveRequest(full=True))
            with running.catalog._lock:  # a refresh started now cannot finish until the block ends
                stub.IngestTracks(iter([pb.IngestTracksRequest(track=pb.Track(track_id="new", title="Harbour"))]))
                assert not running.catalog.is_current()
                stored = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id="t0", limit=5), timeout=20)
                unsaved = stub.FindDuplicates(pb.FindDuplicatesRequest(
                    unsaved=pb.UnsavedTrack(track=pb.Track(title="Harbour Lights 1", artist="Nina Vale"))), timeout=20)
                waiting = stub.FindDuplicates.future(pb.FindDuplicatesRequest(track_id="new", limit=5), timeout=20)
                assert "new" not in {c.id for c in stored.candidates} | {c.id for c in unsaved.candidates}
                assert not running.catalog.knows("new")
                assert not waiting.done()
            waiting.result(timeout=60)
            assert running.catalog.knows("new") and running.catalog.is_current()
    finally:
        running.stop(1)


def test_service_limits_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="max_concurrent_audio"):
        ServiceLimits(max_concurrent_audio=0)
    with pytest.raises(ValueError, match="max_audio_seconds"):
        ServiceLimits(max_audio_seconds=float("nan"))


def test_store_writes_batches_whole(tmp_path: Path, small_catalog: SyntheticCatalog) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.upsert_tracks(small_catalog.tracks.slice(0, 10))
    bad = small_catalog.tracks.slice(10, 5).to_pylist()
    bad[3]["title"] = None  # violates NOT NULL: the whole batch must roll back
    with pytest.raises(Exception):  # noqa: B017 - sqlite3.IntegrityError
        store.upsert_tracks(pa.Table.from_pylist(bad, schema=small_catalog.tracks.schema.remove_metadata()
                                                 .set(1, pa.field("title", pa.string()))))
    assert store.counts()["tracks"] == 10
    tracks, versions = store.tracks()
    assert tracks["track_id"].to_pylist() == small_catalog.tracks["track_id"][:10].to_pylist()
    assert np.all(versions == versions[0])
    store.close()


def _serve(db: Path) -> tuple[subprocess.Popen, int]:
    """``catalog-er serve`` as a child process on a free port; returns it and the port it logged."""
    process = subprocess.Popen([sys.executable, "-m", "catalog_er.service.cli", "serve", "--db", str(db),
                                "--port", "0"], stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if '"serving"' in line:
            port = int(json.loads(line)["address"].rsplit(":", 1)[1])
            threading.Thread(target=lambda: process.stderr.read(), daemon=True).start()
            return process, port
    raise AssertionError(f"server did not start (exit {process.wait()})")


def _stored_count(db: Path, prefix: str) -> int:
    """Tracks whose id starts with ``prefix`` committed to the server's SQLite file (read-only, from outside)."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as connection:
        return connection.execute("SELECT COUNT(*) FROM tracks WHERE track_id LIKE ?", (prefix + "%",)).fetchone()[0]


def _titled(prefix: str, count: int) -> list[pb.IngestTracksRequest]:
    return [pb.IngestTracksRequest(track=pb.Track(track_id=f"{prefix}-{i:05d}", title=f"{prefix} song number {i}",
                                                  artist="Crash Test Dummies", duration_ms=200_000 + i))
            for i in range(count)]


def test_kill_9_mid_stream_keeps_every_acknowledged_record_and_no_half_batch(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite"
    process, port = _serve(db)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            acknowledged = stub.IngestTracks(iter(_titled("acked", 3_000))).summary.accepted
            assert acknowledged == 3_000

            def doomed() -> Iterator[pb.IngestTracksRequest]:
                for i, request in enumerate(_titled("doomed", 20_000)):
                    if i == 9_000:  # once some of this stream's batches are committed: SIGKILL, the stream open
                        _wait_until(lambda: _stored_count(db, "doomed-") >= BATCH_RECORDS,
                                    what="a batch of the open stream is committed")
                        process.kill()
                        process.wait()
                    yield request

            with pytest.raises(grpc.RpcError) as caught:
                stub.IngestTracks(doomed())
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        process.kill()
        process.wait()
    store = Store(db)
    tracks, _ = store.tracks()
    store.close()
    ids = tracks["track_id"].to_pylist()
    titles = dict(zip(ids, tracks["title"].to_pylist(), strict=True))
    assert all(f"acked-{i:05d}" in titles for i in range(3_000))
    doomed_stored = [t for t in ids if t.startswith("doomed-")]
    assert len(doomed_stored) % BATCH_RECORDS == 0 and BATCH_RECORDS <= len(doomed_stored) < 9_000
    assert all(titles[t] == f"doomed song number {int(t.split('-')[1])}" for t in doomed_stored)
    restarted, port = _serve(db)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
    finally:
        restarted.terminate()
        assert restarted.wait(timeout=60) == 0  # SIGTERM: a graceful stop, exit code 0


def test_generated_stubs_match_the_proto(tmp_path: Path) -> None:
    from catalog_er.service.api.generate import GENERATED, TARGET, generate

    generated = generate(tmp_path)
    assert sorted(path.name for path in generated) == sorted(GENERATED)
    for path in generated:
        assert path.read_text() == (TARGET / path.name).read_text(), f"{path.name} is stale: run make proto"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a test certificate")
def test_tls_serves_secure_clients_only(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    running = start_server(ServerSettings(db_path=tmp_path / "tls.sqlite", port=0, tls_cert=cert, tls_key=key))
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(f"localhost:{running.port}", credentials) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            assert health.Check(health_pb2.HealthCheckRequest()).status == health_pb2.HealthCheckResponse.SERVING
        with grpc.insecure_channel(f"localhost:{running.port}") as channel:
            with pytest.raises(grpc.RpcError) as caught:
                health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        running.stop(1)


def test_healthcheck_command_and_metrics_port(tmp_path: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    running = start_server(ServerSettings(db_path=tmp_path / "m.sqlite", port=0, metrics_port=metrics_port))
    try:
        done = subprocess.run([sys.executable, "-m", "catalog_er.service.healthcheck", "--port", str(running.port)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "serving" in done.stdout
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks(iter([pb.IngestTracksRequest(track=pb.Track(track_id="m1", title="Metric"))]))
        text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
        assert 'catalog_er_requests_total{method="IngestTracks",status="OK"} 1.0' in text
        assert 'catalog_er_ingested_records_total{kind="tracks"} 1.0' in text
        assert "catalog_er_request_seconds_bucket" in text and "catalog_er_index_tracks" in text
    finally:
        running.stop(1)
    down = subprocess.run([sys.executable, "-m", "catalog_er.service.healthcheck", "--port", str(running.port),
                           "--timeout", "1"], capture_output=True, text=True, timeout=60)
    assert down.returncode == 1


def test_deadlines_are_honoured_and_shutdown_finishes_streams_in_flight(tmp_path: Path,
                                                                        small_catalog: SyntheticCatalog) -> None:
    running = start_server(ServerSettings(db_path=tmp_path / "grace.sqlite", port=0))
    rows = small_catalog.tracks.slice(0, 3_000).to_pylist()
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        stub = pb_grpc.CatalogErServiceStub(channel)
        stub.IngestTracks(_requests(rows[:2_000]))
        with pytest.raises(grpc.RpcError) as caught:
            stub.Resolve(pb.ResolveRequest(full=True), timeout=0.001)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        unsaved = pb.UnsavedTrack(track=_track_message({**rows[0], "track_id": ""}))
        found = stub.FindDuplicates(pb.FindDuplicatesRequest(unsaved=unsaved, limit=3))
        assert found.candidates[0].id == rows[0]["track_id"]  # the server still answers, and answers right
        sent, refusing = threading.Event(), threading.Event()

        def held_open() -> Iterator[pb.IngestTracksRequest]:
            for k, request in enumerate(_requests(rows[2_000:])):
                if k == 100:  # the rest is sent only once the stopping server refuses new calls
                    sent.set()
                    assert refusing.wait(60), "the server never refused new calls"
                yield request

        outcome: dict[str, object] = {}
        worker = threading.Thread(target=lambda: outcome.update(summary=stub.IngestTracks(held_open()).summary))
        worker.start()
        assert sent.wait(30)
        stopper = threading.Thread(target=running.stop, args=(30,))  # graceful: no new calls, open streams finish
        stopper.start()
        _wait_until(lambda: _refuses_new_calls(running.port), what="the stopping server refuses new calls")
        refusing.set()
        worker.join(60)
        stopper.join(60)
    assert outcome["summary"].accepted == 1_000
    store = Store(tmp_path / "grace.sqlite")
    assert store.counts()["tracks"] == 3_000
    store.close()


def test_restart_reuses_the_saved_model(tmp_path: Path, small_catalog: SyntheticCatalog) -> None:
    from catalog_er.resolver.config import ResolverConfig
    from catalog_er.resolver.stages import StageTimer
    from catalog_er.resolver.tracks import score_tracks
    from catalog_er.service.live import LiveCatalog

    store = Store(tmp_path / "model.sqlite")
    store.upsert_tracks(small_catalog.tracks.slice(0, 1_000))
    first = LiveCatalog(store)
    first.resolve(full=True)
    trained_on_1000 = first.refresh().index.model.describe()
    store.upsert_tracks(small_catalog.tracks.slice(1_000, 1_000))  # training now would learn other parameters
    retrained = score_tracks(store.tracks()[0], config=ResolverConfig(), timer=StageTimer(None)).model.describe()
    assert retrained != trained_on_1000
    again = LiveCatalog(store)  # a restart: the model comes from the database, not from training
    assert again.refresh().index.model.describe() == trained_on_1000
    assert len(again.refresh().index) == 2_000
    store.close()


def _refuses_new_calls(port: int) -> bool:
    """Whether a new connection's call to the server on ``port`` is refused (UNAVAILABLE)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.RpcError as error:
            return error.code() == grpc.StatusCode.UNAVAILABLE
    return False


def _wait_until(condition, *, what: str, timeout_seconds: float = 120.0) -> None:
    """Poll ``condition()`` until it holds; fail naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


def test_look_ups_answer_while_a_full_resolution_runs(tmp_path: Path, small_catalog: SyntheticCatalog) -> None:
    running = start_server(ServerSettings(db_path=tmp_path / "lanes.sqlite", port=0, workers=2))
    rows = small_catalog.tracks.to_pylist()
    copy = {**rows[5], "track_id": "late-copy", "album": "Deluxe Edition"}  # a re-delivery of a stored track
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks(_requests(rows))
            stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=rows[1]["track_id"]))  # index built
            resolving = stub.Resolve.future(pb.ResolveRequest(full=True))
            # the resolution is running (it holds LiveCatalog's one-resolution-at-a-time lock in a worker thread)
            _wait_until(lambda: running.catalog.is_resolving() or resolving.done(), what="the resolution runs")
            assert not resolving.done(), "the resolution finished before it could be seen running"
            answered_while_resolving = 0
            for row in rows[1:21]:
                stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=row["track_id"], limit=3))
                answered_while_resolving += not resolving.done()
            stub.IngestTracks(_requests([copy]))  # a delivery during the resolution is found at once
            late = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id="late-copy", limit=3))
            late_while_resolving = not resolving.done()
            assert late.candidates[0].id == rows[5]["track_id"] and late.candidates[0].confidence > 0.9
            assert resolving.result(timeout=600).open_proposals > 0
            after = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id="late-copy", limit=3))
            assert after.candidates[0].id == late.candidates[0].id  # same best match under the retrained model
        # every look-up, the ingest and the late look-up were answered before the resolution finished
        assert (answered_while_resolving, late_while_resolving) == (20, True)
    finally:
        running.stop(1)


def test_access_log_has_mutations_and_failures_and_reads_only_on_request(
        tmp_path: Path, small_catalog: SyntheticCatalog, caplog: pytest.LogCaptureFixture) -> None:
    rows = small_catalog.tracks.slice(0, 500).to_pylist()
    caplog.set_level("INFO", logger="catalog_er")
    for log_reads in (False, True):
        caplog.clear()
        running = start_server(ServerSettings(db_path=tmp_path / f"log-{log_reads}.sqlite", port=0,
                                              log_reads=log_reads, slow_call_seconds=3600))
        try:
            with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                stub = pb_grpc.CatalogErServiceStub(channel)
                stub.IngestTracks(_requests(rows), metadata=(("x-request-id", "ingest-1"),))
                stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=rows[0]["track_id"]))
                assert _code(stub.FindDuplicates, pb.FindDuplicatesRequest(track_id="nope")) == \
                    grpc.StatusCode.NOT_FOUND
        finally:
            running.stop(1)  # every call has finished, its log line written
        calls = [(r.method, r.status) for r in caplog.records if r.getMessage() == "call"]
        assert ("IngestTracks", "OK") in calls
        assert ("FindDuplicates", "NOT_FOUND") in calls
        assert (("FindDuplicates", "OK") in calls) == log_reads
        ingest = next(r for r in caplog.records if r.getMessage() == "call" and r.method == "IngestTracks")
        assert ingest.request_id == "ingest-1"
        failed = next(r for r in caplog.records if r.getMessage() == "request failed")
        call = next(r for r in caplog.records if r.getMessage() == "call" and r.status == "NOT_FOUND")
        assert failed.request_id == call.request_id  # one id per call in both lines
