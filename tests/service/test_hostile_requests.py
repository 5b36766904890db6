"""Requests a careless or hostile client sends get the right status, and no good record is lost: a real server on
127.0.0.1 (port 0) with a real SQLite file, real channels sending raw bytes where the stubs would not."""

from __future__ import annotations

import base64
import logging
import math
import sqlite3
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import grpc
import pyarrow.compute as pc
import pytest
from grpc_health.v1 import health_pb2

from catalog_er.fingerprint.synthetic import encode, render_song
from catalog_er.resolver.synthetic import generate_catalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.ingest import BATCH_RECORDS, MAX_LISTED_REJECTION_BYTES, MAX_LISTED_REJECTIONS
from catalog_er.service.page_tokens import MAX_PAGE_TOKEN_CHARS, TOKEN_FORMAT, page_token, parse_page_token
from catalog_er.service.server import SERVICE_NAME, RunningServer, ServerSettings, start_server
from tests.messages import track_message

TOKEN = "hostile-test-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
Code = grpc.StatusCode


@dataclass
class Client:
    """A channel to the server, with the generated stub and raw-bytes calls."""

    server: RunningServer
    channel: grpc.Channel
    stub: pb_grpc.CatalogErServiceStub

    def raw(self, method: str, request: bytes | Iterator[bytes], service: str = SERVICE_NAME) -> bytes | list[bytes]:
        """Call ``method`` with undecoded request bytes (a stream of them for a streaming request) and return
        the undecoded response (a list of them for a streaming response)."""
        kind = _KINDS[method]
        call = getattr(self.channel, kind)(f"/{service}/{method}", request_serializer=None,
                                           response_deserializer=None)
        result = call(request, metadata=AUTH, timeout=60)
        return list(result) if kind.endswith("_stream") else result

    def stored_track_ids(self, ids: list[str]) -> set[str]:
        return self.server.catalog.store.existing_track_ids(ids)


_KINDS = {"IngestTracks": "stream_unary", "IngestArtists": "stream_unary", "IngestEngagement": "stream_unary",
          "UploadAudio": "stream_unary", "FindDuplicates": "unary_unary", "FindArtistDuplicates": "unary_unary",
          "Resolve": "unary_unary", "ListMergeProposals": "unary_stream", "GetMergeProposal": "unary_unary",
          "ReviewMergeProposal": "unary_unary", "ExportDecisions": "unary_stream", "Check": "unary_unary"}
"""Every RPC of the service (and the health check) by its streaming kind."""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    running = start_server(ServerSettings(db_path=tmp_path_factory.mktemp("hostile") / "catalog.sqlite", port=0,
                                          token=TOKEN))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Client(running, channel, pb_grpc.CatalogErServiceStub(channel))
    finally:
        running.stop(1)


def _failure(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(*args, **kwargs)
    return caught.value


def _tracks(prefix: str, count: int) -> list[bytes]:
    return [pb.IngestTracksRequest(track=pb.Track(track_id=f"{prefix}{k}", title=f"Song {k}")).SerializeToString()
            for k in range(count)]


CORRUPT = b"\xff\xff\xff\xff"
"""Not protobuf: a field tag whose varint never ends."""


def _bad_utf8(message: bytes, text: str) -> bytes:
    """``message`` with the string field value ``text`` replaced by as many bytes that are not UTF-8."""
    assert message.count(text.encode()) == 1
    return message.replace(text.encode(), b"\xff" * len(text.encode()))


# --- undecodable requests ----------------------------------------------------------------------------------


WITH_TEXT = {"UploadAudio": pb.UploadAudioRequest(header=pb.AudioHeader(track_id="abc")),
             "FindDuplicates": pb.FindDuplicatesRequest(track_id="abc"),
             "FindArtistDuplicates": pb.FindArtistDuplicatesRequest(artist_id="abc"),
             "ListMergeProposals": pb.ListMergeProposalsRequest(page_token="abc"),
             "GetMergeProposal": pb.GetMergeProposalRequest(proposal_id="abc"),
             "ReviewMergeProposal": pb.ReviewMergeProposalRequest(proposal_id="abc", reviewer="r"),
             "Check": health_pb2.HealthCheckRequest(service="abc")}
"""A request with a string field holding "abc", for each method but the ingest streams that has one."""

UNDECODABLE = [(method, CORRUPT) for method in sorted(set(_KINDS) - {"IngestTracks", "IngestArtists",
                                                                        "IngestEngagement"})] + [
    (method, _bad_utf8(message.SerializeToString(), "abc")) for method, message in sorted(WITH_TEXT.items())]


@pytest.mark.parametrize(("method", "request_bytes"), UNDECODABLE)
def test_an_undecodable_request_is_invalid_argument_with_an_access_log_line(
        client: Client, method: str, request_bytes: bytes, caplog: pytest.LogCaptureFixture) -> None:
    request = request_bytes
    service = "grpc.health.v1.Health" if method == "Check" else SERVICE_NAME
    caplog.set_level(logging.INFO, logger="catalog_er")
    sent = iter([request]) if method == "UploadAudio" else request
    failure = _failure(client.raw, method, sent, service=service)
    assert failure.code() == Code.INVALID_ARGUMENT, failure.details()
    assert failure.details().startswith("request")
    assert "cannot be decoded" in failure.details() and "Traceback" not in failure.details()
    assert list(client.stub.ExportDecisions(pb.ExportDecisionsRequest())) == []  # the server answers on
    logged = [r for r in caplog.records if r.getMessage() == "call" and r.method == method]
    assert [r.status for r in logged] == ["INVALID_ARGUMENT"]


def test_an_undecodable_message_mid_stream_is_a_rejection_and_the_records_around_it_are_kept(client: Client) -> None:
    before = _tracks("around-a", BATCH_RECORDS + 5)  # a whole batch and a few more before the bad ones
    after = _tracks("around-b", 3)
    bad_title = _bad_utf8(pb.IngestTracksRequest(track=pb.Track(track_id="x", title="bad title")).SerializeToString(),
                          "bad title")
    answer = client.raw("IngestTracks", iter([*before, bad_title, CORRUPT, *after]))
    summary = pb.IngestTracksResponse.FromString(answer).summary
    assert (summary.accepted, summary.rejected) == (len(before) + len(after), 2)
    assert [(r.index, r.field) for r in summary.rejections] == [(len(before), "request"), (len(before) + 1, "request")]
    assert "String field had bad UTF-8" in summary.rejections[0].reason
    wanted = [f"around-a{k}" for k in range(len(before))] + [f"around-b{k}" for k in range(len(after))]
    assert client.stored_track_ids(wanted) == set(wanted)


def test_an_undecodable_upload_chunk_ends_the_upload_naming_its_position(client: Client) -> None:
    client.stub.IngestTracks(iter([pb.IngestTracksRequest(track=pb.Track(track_id="upload-1", title="S"))]),
                             metadata=AUTH)
    header = pb.UploadAudioRequest(header=pb.AudioHeader(track_id="upload-1")).SerializeToString()
    chunk = pb.UploadAudioRequest(chunk=b"RIFF").SerializeToString()
    failure = _failure(client.raw, "UploadAudio", iter([header, chunk, CORRUPT]))
    assert failure.code() == Code.INVALID_ARGUMENT and failure.details().startswith("request[2]: ")


def test_a_token_check_comes_before_decoding(client: Client) -> None:
    call = client.channel.unary_unary(f"/{SERVICE_NAME}/Resolve", request_serializer=None, response_deserializer=None)
    assert _failure(call, CORRUPT, timeout=30).code() == Code.UNAUTHENTICATED


# --- page tokens ------------------------------------------------------------------------------------------


def _raw_token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


HOSTILE_TOKENS = {
    "deeply_nested": "[" * 100_000,
    "over_the_length_limit": "A" * (MAX_PAGE_TOKEN_CHARS + 4),
    "nested_within_the_limit": "[" * 200,
    "the_old_json_tokens": '[0.9, "track-0123456789abcdef"]',
    "not_base64": "not-a-token!",
    "base64_padding_only": "====",
    "too_short": _raw_token(bytes([TOKEN_FORMAT]) + b"\x00" * 8),
    "another_format": _raw_token(b"\x02" + struct.pack(">d", 0.5) + b"track-1"),
    "nan_confidence": _raw_token(bytes([TOKEN_FORMAT]) + struct.pack(">d", math.nan) + b"track-1"),
    "confidence_over_one": _raw_token(bytes([TOKEN_FORMAT]) + struct.pack(">d", 7.0) + b"track-1"),
    "id_not_utf8": _raw_token(bytes([TOKEN_FORMAT]) + struct.pack(">d", 0.5) + b"\xff\xfe"),
}


@pytest.mark.parametrize("case", list(HOSTILE_TOKENS))
def test_a_page_token_the_service_did_not_issue_is_invalid_argument(client: Client, case: str) -> None:
    request = pb.ListMergeProposalsRequest(page_token=HOSTILE_TOKENS[case])
    failure = _failure(lambda: list(client.stub.ListMergeProposals(request, timeout=30)))
    assert failure.code() == Code.INVALID_ARGUMENT, failure.details()
    assert failure.details().startswith("page_token: ") and len(failure.details()) < 200


def test_issued_page_tokens_round_trip_and_resume_a_listing(client: Client) -> None:
    for confidence, proposal_id in [(0.0, "track-1"), (1.0, "artist-ffff"), (0.1 + 0.2, "é-✓")]:
        token = page_token(confidence, proposal_id)
        assert parse_page_token(token) == (confidence, proposal_id) and len(token) <= MAX_PAGE_TOKEN_CHARS
    assert parse_page_token("") is None
    resumed = client.stub.ListMergeProposals(pb.ListMergeProposalsRequest(page_token=page_token(0.5, "track-1")))
    assert list(resumed) == []  # a well-formed token past the (empty) listing's end


# --- summaries of many rejections ---------------------------------------------------------------------------


def test_a_summary_lists_the_first_rejections_and_counts_the_rest(client: Client) -> None:
    bad, good = 5 * MAX_LISTED_REJECTIONS, 10
    requests = [pb.IngestTracksRequest(track=pb.Track(track_id=f"many-bad-{k}")) for k in range(bad)]  # no title
    requests[1234:1234] = [pb.IngestTracksRequest(track=pb.Track(track_id=f"many-good-{k}", title="S"))
                           for k in range(good)]
    summary = client.stub.IngestTracks(iter(requests), metadata=AUTH, timeout=120).summary
    assert (summary.accepted, summary.rejected) == (good, bad)
    assert len(summary.rejections) == MAX_LISTED_REJECTIONS
    assert summary.unlisted_rejections == bad - MAX_LISTED_REJECTIONS
    assert [r.index for r in summary.rejections] == list(range(MAX_LISTED_REJECTIONS))  # the first ones, in order


def test_a_summary_of_rejections_with_huge_values_stays_small(client: Client) -> None:
    """Rejected records with 200,000-character ids: the summary stays under the listing's byte limit (a client's
    default 4 MB receive limit would refuse it otherwise) and lists a prefix of the rejections."""
    count = 30
    requests = iter(pb.IngestTracksRequest(track=pb.Track(track_id=f"{k:03d}" + "x" * 200_000)) for k in range(count))
    summary = client.stub.IngestTracks(requests, metadata=AUTH, timeout=120).summary
    assert summary.rejected == count and summary.accepted == 0
    assert len(summary.rejections) + summary.unlisted_rejections == count
    assert [r.index for r in summary.rejections] == list(range(len(summary.rejections)))
    assert summary.ByteSize() <= MAX_LISTED_REJECTION_BYTES + 100


# --- enums ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "request_message", "field"), [
    ("ExportDecisions", pb.ExportDecisionsRequest(entity_type=99), "entity_type"),
    ("ListMergeProposals", pb.ListMergeProposalsRequest(entity_type=99), "entity_type"),
    ("ListMergeProposals", pb.ListMergeProposalsRequest(status=-1), "status"),
    ("ListMergeProposals", pb.ListMergeProposalsRequest(status=5), "status"),
])
def test_an_enum_number_the_proto_does_not_define_is_invalid_argument_not_all(
        client: Client, call: str, request_message, field: str) -> None:
    failure = _failure(lambda: list(getattr(client.stub, call)(request_message, timeout=30)))
    assert failure.code() == Code.INVALID_ARGUMENT
    assert failure.details().startswith(f"{field}: ") and "or 0 (any)" in failure.details()


def _wav() -> bytes:
    return encode(render_song(seed=3, seconds=6.0, rate_hz=22_050), rate_hz=22_050, format="wav")


def _upload(client: Client, track_id: str, audio_format: int, data: bytes) -> pb.UploadAudioResponse:
    client.stub.IngestTracks(iter([pb.IngestTracksRequest(track=pb.Track(track_id=track_id, title="Sung"))]),
                             metadata=AUTH)
    requests = [pb.UploadAudioRequest(header=pb.AudioHeader(track_id=track_id, format=audio_format)),
                pb.UploadAudioRequest(chunk=data)]
    return client.stub.UploadAudio(iter(requests), metadata=AUTH, timeout=60)


def test_the_declared_audio_format_is_checked_against_the_bytes(client: Client) -> None:
    wav = _wav()
    assert _upload(client, "audio-wav", pb.AUDIO_FORMAT_WAV, wav).hashes > 0
    assert _upload(client, "audio-any", pb.AUDIO_FORMAT_UNSPECIFIED, wav).hashes > 0
    failure = _failure(_upload, client, "audio-flac", pb.AUDIO_FORMAT_FLAC, wav)
    assert failure.code() == Code.INVALID_ARGUMENT
    assert failure.details() == "header.format: is AUDIO_FORMAT_FLAC but the bytes are wav (pcm_s16le)"
    failure = _failure(_upload, client, "audio-99", 99, wav)
    assert (failure.code(), failure.details()) == (Code.INVALID_ARGUMENT, "header.format: 99 is not an AudioFormat")


# --- what an ingest stream stores -----------------------------------------------------------------------------


def _ingest_tracks(client: Client, tracks: list[pb.Track]) -> pb.IngestSummary:
    return client.stub.IngestTracks(iter(pb.IngestTracksRequest(track=t) for t in tracks), metadata=AUTH,
                                    timeout=120).summary


def test_ids_of_control_characters_are_rejected(client: Client) -> None:
    ids = ["\x00", "\x00\x01\x1f", "ctl-ok", "ctl\nid"]
    summary = _ingest_tracks(client, [pb.Track(track_id=track_id, title="S") for track_id in ids])
    assert (summary.accepted, summary.rejected) == (1, 3)
    assert [(r.index, r.field) for r in summary.rejections] == [(0, "track_id"), (1, "track_id"), (3, "track_id")]
    assert client.stored_track_ids(ids) == {"ctl-ok"}


def test_out_of_range_durations_reject_the_record_and_are_listed(client: Client) -> None:
    tracks = [pb.Track(track_id="dur-negative", title="S", duration_ms=-5),
              pb.Track(track_id="dur-ok", title="S", duration_ms=215_000),
              pb.Track(track_id="dur-huge", title="S", duration_ms=10**12),
              pb.Track(track_id="dur-unknown", title="S", duration_ms=0)]  # 0 is "unknown" in proto3
    summary = _ingest_tracks(client, tracks)
    assert (summary.accepted, summary.rejected) == (2, 2)
    assert [(r.index, r.id, r.field) for r in summary.rejections] == [(0, "dur-negative", "duration_ms"),
                                                                       (2, "dur-huge", "duration_ms")]
    assert summary.rejections[1].reason == "duration_ms 1000000000000 is outside 1..86400000 ms (24 h)"
    assert client.stored_track_ids([t.track_id for t in tracks]) == {"dur-ok", "dur-unknown"}


def _title_of(client: Client, track_id: str) -> str:
    tracks, _ = client.server.catalog.store.tracks()
    return tracks.filter(pc.equal(tracks["track_id"], track_id))["title"][0].as_py()


def test_a_later_copy_of_an_id_in_the_same_stream_is_a_duplicate_in_any_batch(client: Client) -> None:
    tracks = [pb.Track(track_id=f"dup-{k}", title="first") for k in range(BATCH_RECORDS + 10)]
    tracks += [pb.Track(track_id="dup-3", title="same batch"),  # in the second batch, copy of the first
               pb.Track(track_id=f"dup-{BATCH_RECORDS + 1}", title="second batch")]  # copy within the second
    summary = _ingest_tracks(client, tracks)
    assert (summary.accepted, summary.rejected) == (BATCH_RECORDS + 10, 2)
    assert [(r.index, r.id) for r in summary.rejections] == [(BATCH_RECORDS + 10, "dup-3"),
                                                             (BATCH_RECORDS + 11, f"dup-{BATCH_RECORDS + 1}")]
    assert summary.rejections[0].reason == "duplicate track_id 'dup-3': stored earlier in this stream (the first " \
                                           "copy is kept)"
    assert summary.rejections[1].reason.startswith(f"duplicate track_id 'dup-{BATCH_RECORDS + 1}': first seen at")
    assert _title_of(client, "dup-3") == "first" and _title_of(client, f"dup-{BATCH_RECORDS + 1}") == "first"
    replaced = _ingest_tracks(client, [pb.Track(track_id="dup-3", title="a new stream")])  # an upsert
    assert (replaced.accepted, replaced.rejected) == (1, 0) and _title_of(client, "dup-3") == "a new stream"


def test_a_later_copy_of_an_artist_in_the_same_stream_is_a_duplicate(client: Client) -> None:
    artists = [pb.Artist(artist_id=f"art-{k}", name="First") for k in range(BATCH_RECORDS)]
    artists.append(pb.Artist(artist_id="art-0", name="Second"))
    requests = iter(pb.IngestArtistsRequest(artist=a) for a in artists)
    summary = client.stub.IngestArtists(requests, metadata=AUTH, timeout=120).summary
    assert (summary.accepted, summary.rejected) == (BATCH_RECORDS, 1)
    assert (summary.rejections[0].index, summary.rejections[0].field) == (BATCH_RECORDS, "artist_id")
    stored = client.server.catalog.store.artists()
    assert stored.filter(pc.equal(stored["artist_id"], "art-0"))["name"].to_pylist() == ["First"]


# --- concurrent reviews -----------------------------------------------------------------------------------------


def _review_at_once(stub: pb_grpc.CatalogErServiceStub, proposal_id: str) -> dict[int, str]:
    """ACCEPT and REJECT of the whole proposal from two threads released together: each decision's outcome."""
    barrier = threading.Barrier(2)

    def review(decision: int) -> str:
        barrier.wait(timeout=30)
        try:
            stub.ReviewMergeProposal(pb.ReviewMergeProposalRequest(proposal_id=proposal_id, decision=decision,
                                                                   reviewer=f"curator-{decision}"), timeout=60)
        except grpc.RpcError as error:
            return error.code().name
        return "OK"

    with ThreadPoolExecutor(max_workers=2) as pool:
        decisions = (pb.DECISION_ACCEPT, pb.DECISION_REJECT)
        return dict(zip(decisions, pool.map(review, decisions), strict=True))


def test_of_two_concurrent_whole_reviews_exactly_one_is_acknowledged(tmp_path: Path) -> None:
    catalog = generate_catalog(n_tracks=600, seed=11)
    db = tmp_path / "reviews.sqlite"
    running = start_server(ServerSettings(db_path=db, port=0, workers=4))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks(iter(pb.IngestTracksRequest(track=track_message(r)) for r in catalog.tracks.to_pylist()))
            stub.Resolve(pb.ResolveRequest(full=True), timeout=300)
            proposals = [m.proposal.proposal_id for m in stub.ListMergeProposals(
                pb.ListMergeProposalsRequest(status=pb.PROPOSAL_STATUS_OPEN, page_size=20))]
            assert len(proposals) == 20
            outcomes = {proposal_id: _review_at_once(stub, proposal_id) for proposal_id in proposals}
            statuses = {proposal_id: stub.GetMergeProposal(pb.GetMergeProposalRequest(proposal_id=proposal_id)
                                                           ).proposal.status for proposal_id in proposals}
    finally:
        running.stop(1)
    won = {pb.DECISION_ACCEPT: pb.PROPOSAL_STATUS_ACCEPTED, pb.DECISION_REJECT: pb.PROPOSAL_STATUS_REJECTED}
    with closing(sqlite3.connect(db)) as database:
        for proposal_id, outcome in outcomes.items():
            assert sorted(outcome.values()) == ["ALREADY_EXISTS", "OK"], (proposal_id, outcome)
            (winner,) = [decision for decision, code in outcome.items() if code == "OK"]
            assert statuses[proposal_id] == won[winner]  # the stored status is the acknowledged decision
            reviews = database.execute("SELECT reviewer FROM reviews WHERE proposal_id = ?", (proposal_id,)).fetchall()
            assert reviews == [(f"curator-{winner}",)]  # and the other review left no trace
