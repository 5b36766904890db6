"""Every text field bounded (``resolver.limits``): over-long values are refused with their field, length and limit,
the good records beside them kept; values in messages are cut short. Through the validation the dump readers and
the service share, through a real ``catalog-er`` subprocess, and through a real gRPC server and channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog_er.resolver.limits import (
    MAX_CODE_CHARS,
    MAX_CREDIT_CHARS,
    MAX_FIELD_CHARS,
    MAX_ID_CHARS,
    MAX_LIST_ITEMS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_PATH_CHARS,
    MAX_REVIEWER_CHARS,
)
from catalog_er.resolver.records import TRACK_SCHEMA, service_schema
from catalog_er.resolver.synthetic import generate_catalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.grpc_errors import MAX_STATUS_MESSAGE_CHARS
from catalog_er.service.io.validation import MAX_SHOWN_CHARS, validate_artists, validate_engagement, validate_tracks
from catalog_er.service.server import RunningServer, ServerSettings, start_server
from catalog_er.service.store import Store
from tests.service.test_cli import run_cli

TOKEN = "limits-token"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
Code = grpc.StatusCode

TRACK_TEXT_FIELDS = ("track_id", "title", "artist", "album", "isrc", "release_date", "label", "source", "audio_path")


def _track(**values: object) -> dict:
    return {"track_id": "t-plain", "title": "Harbour Lights", "artist": "Nina Vale", "album": "Northern Tides",
            "isrc": "USRC17607839", "release_date": "2008-03-17", "label": "Blue Note", "source": "shop",
            "audio_path": "audio/harbour.flac", "artist_ids": ["a1"], **values}


def _rejections(loaded) -> dict[str, dict]:
    return {row["field"]: row for row in loaded.rejected.to_pylist()}


def test_the_limits_are_the_documented_ones() -> None:
    assert (MAX_ID_CHARS, MAX_NAME_CHARS, MAX_CREDIT_CHARS, MAX_CODE_CHARS, MAX_PATH_CHARS, MAX_LIST_ITEMS,
            MAX_REVIEWER_CHARS, MAX_NOTE_CHARS) == (512, 1_000, 2_000, 64, 4_096, 256, 256, 65_536)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n### Limits\n")[1].split("\n## ")[0]
    for name, value in (("MAX_ID_CHARS", "512"), ("MAX_NAME_CHARS", "1,000"), ("MAX_CREDIT_CHARS", "2,000"),
                        ("MAX_CODE_CHARS", "64"), ("MAX_PATH_CHARS", "4,096"), ("MAX_LIST_ITEMS", "256"),
                        ("MAX_NOTE_CHARS", "65,536"), ("MAX_COMPARED_CHARS", "1,000")):
        row = next(line for line in section.splitlines() if f"`{name}`" in line)
        assert f"| {value}" in row or f"/ {value}" in row, name


@pytest.mark.parametrize("field", TRACK_TEXT_FIELDS)
def test_a_track_text_over_its_limit_drops_the_row_and_no_other(field: str) -> None:
    limit = MAX_FIELD_CHARS[field]
    rows = [_track(**{"track_id": "t-long", field: "x" * (limit + 1)}),
            _track(**{"track_id": "t-at-limit", field: "y" * limit}),
            _track(track_id="t-long", title="Same id, kept: the first one was dropped")]
    loaded = validate_tracks(pa.Table.from_pylist(rows), "tracks.parquet")
    assert loaded.table["title"].to_pylist()[-1] == "Same id, kept: the first one was dropped"
    assert loaded.table.num_rows == 2 and "y" * limit in loaded.table[field].to_pylist()
    entry = _rejections(loaded)[field]
    assert (entry["row"], entry["action"]) == (0, "row dropped")
    assert entry["reason"] == f"{field} is {limit + 1} characters long (limit {limit})"


@pytest.mark.parametrize("field", ["album", "artist_ids"])
def test_one_short_record_and_a_slice_of_a_longer_table_are_measured_right(field: str) -> None:
    """A table whose text fits in a field's limit altogether is accepted without measuring each value: one record
    at the limit passes and one character more does not; a slice is measured by its own rows, not by the long
    values of the table it was cut from."""
    limit = MAX_FIELD_CHARS[field]

    def value(characters: int) -> object:
        return ["a" * characters] if field == "artist_ids" else "a" * characters

    for characters, kept in ((limit, 1), (limit + 1, 0)):
        loaded = validate_tracks(pa.Table.from_pylist([_track(**{field: value(characters)})]), "one.parquet")
        assert loaded.table.num_rows == kept
    table = pa.Table.from_pylist([_track(track_id="long", **{field: value(limit * 3)}),
                                  _track(track_id="short", **{field: value(3)})])
    assert validate_tracks(table.slice(1), "slice.parquet").table["track_id"].to_pylist() == ["short"]
    assert validate_tracks(table.slice(0, 1), "slice.parquet").table.num_rows == 0


def test_lengths_count_characters_after_stripping() -> None:
    rows = [_track(track_id="t1", album=" " * 5_000 + "é" * MAX_NAME_CHARS + " " * 5_000)]
    assert validate_tracks(pa.Table.from_pylist(rows), "tracks.csv").table["album"].to_pylist() == ["é" * 1_000]


def test_lists_are_bounded_in_items_and_in_each_item() -> None:
    rows = [_track(track_id="many", artist_ids=[f"a{k}" for k in range(MAX_LIST_ITEMS + 1)]),
            _track(track_id="long", artist_ids=["a1", "b" * (MAX_ID_CHARS + 1)]),
            _track(track_id="text", artist_ids=";".join(["a"] * (MAX_LIST_ITEMS + 1))),
            _track(track_id="fine", artist_ids=[f"a{k}" for k in range(MAX_LIST_ITEMS)])]
    table = pa.Table.from_pylist(rows[:2] + rows[3:])
    loaded = validate_tracks(table, "tracks.parquet")
    assert loaded.table["track_id"].to_pylist() == ["fine"]
    reasons = [row["reason"] for row in loaded.rejected.to_pylist()]
    assert reasons == [f"artist_ids has {MAX_LIST_ITEMS + 1} items (limit {MAX_LIST_ITEMS})",
                       f"artist_ids holds an item {MAX_ID_CHARS + 1} characters long (limit {MAX_ID_CHARS})"]
    as_text = validate_tracks(pa.Table.from_pylist([rows[2]]), "tracks.csv")
    assert as_text.table.num_rows == 0 and "257 items" in as_text.rejected["reason"][0].as_py()


def test_artist_and_engagement_texts_are_bounded() -> None:
    artists = pa.Table.from_pylist(
        [{"artist_id": "a1", "name": "Nina Vale", "genres": ["pop"], "country": "x" * (MAX_CODE_CHARS + 1)},
         {"artist_id": "a2", "name": "n" * (MAX_NAME_CHARS + 1)},
         {"artist_id": "a3", "name": "Ola", "genres": ["g" * (MAX_NAME_CHARS + 1)]},
         {"artist_id": "a4", "name": "Tony Walker", "genres": ["jazz"], "country": "GB"}])
    loaded = validate_artists(artists, "artists.parquet")
    assert loaded.table["artist_id"].to_pylist() == ["a4"]
    assert sorted(_rejections(loaded)) == ["country", "genres", "name"]
    engagement = pa.Table.from_pylist([{"user_id": "u" * (MAX_ID_CHARS + 1), "track_id": "t1", "plays": 3},
                                       {"user_id": "u1", "track_id": "t1", "plays": 2}])
    loaded = validate_engagement(engagement, "engagement.parquet")
    assert loaded.table["user_id"].to_pylist() == ["u1"]
    assert _rejections(loaded)["user_id"]["reason"] == "user_id is 513 characters long (limit 512)"


def test_the_report_names_an_over_long_id_cut_short() -> None:
    loaded = validate_tracks(pa.Table.from_pylist([_track(track_id="t" * 1_000_000)]), "tracks.parquet")
    entry = loaded.rejected.to_pylist()[0]
    assert entry["id"] == "t" * MAX_SHOWN_CHARS + "…"
    assert entry["reason"] == "track_id is 1000000 characters long (limit 512)"


# --- the command line --------------------------------------------------------------------------------------------

def test_resolve_reports_hostile_rows_and_resolves_the_rest(tmp_path: Path) -> None:
    """A dump with an album of 100,000 brackets (a hang before), a track id and a date of a million characters
    (88 GiB asked for before): those rows in the rejected report, every other row resolved."""
    rows = generate_catalog(n_tracks=300, seed=3).tracks.to_pylist()
    rows[0]["album"] = "(" * 100_000
    rows[1]["track_id"] = "t" * 1_000_000
    rows[2]["release_date"] = "x" * 1_000_000
    pq.write_table(pa.Table.from_pylist(rows, schema=TRACK_SCHEMA), tmp_path / "tracks.parquet")
    done = run_cli("resolve", "-q", "--tracks", str(tmp_path / "tracks.parquet"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    report = pq.read_table(tmp_path / "out" / "rejected.parquet").to_pylist()
    assert [(r["row"], r["field"], r["reason"]) for r in report] == [
        (0, "album", "album is 100000 characters long (limit 1000)"),
        (1, "track_id", "track_id is 1000000 characters long (limit 512)"),
        (2, "release_date", "release_date is 1000000 characters long (limit 64)")]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["counts"]["tracks"] == 297 and pq.read_table(tmp_path / "out" / "proposals.parquet").num_rows > 10


# --- the service -----------------------------------------------------------------------------------------------

LONG_DATE_TRACK = "t-long-date"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server on a database that an older version filled: 400 synthetic tracks and one whose release date has
    a million characters (stored before there were limits)."""
    db = tmp_path_factory.mktemp("limits") / "catalog.sqlite"
    tracks = generate_catalog(n_tracks=400, seed=5).tracks.to_pylist()
    tracks.append({**tracks[0], "track_id": LONG_DATE_TRACK, "release_date": "x" * 1_000_000})
    store = Store(db)
    store.upsert_tracks(pa.Table.from_pylist(tracks, schema=TRACK_SCHEMA).select(service_schema(TRACK_SCHEMA).names))
    store.close()
    running = start_server(ServerSettings(db_path=db, port=0, token=TOKEN))
    yield running
    running.stop(1)


@pytest.fixture(scope="module")
def resolved(server: RunningServer) -> pb.ResolveResponse:
    """The first full Resolve of the server's catalog (the million-character date included)."""
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        return pb_grpc.CatalogErServiceStub(channel).Resolve(pb.ResolveRequest(full=True), metadata=AUTH)


@pytest.fixture()
def stub(server: RunningServer) -> Iterator[pb_grpc.CatalogErServiceStub]:
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield pb_grpc.CatalogErServiceStub(channel)


def _error(call, *args, **kwargs) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        result = call(*args, **kwargs)
        if hasattr(result, "__iter__"):
            list(result)
    return caught.value


def test_a_stored_million_character_date_does_not_break_a_full_resolve(stub: pb_grpc.CatalogErServiceStub,
                                                                       resolved: pb.ResolveResponse) -> None:
    assert resolved.open_proposals > 10 and not resolved.incremental
    found = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=LONG_DATE_TRACK, limit=5))
    assert found.pairs_scored >= 1


def test_ingest_refuses_over_long_values_and_keeps_the_good_records(stub: pb_grpc.CatalogErServiceStub) -> None:
    tracks = [pb.Track(track_id="ok-1", title="Fine Song", artist="Someone"),
              pb.Track(track_id="x" * 10_000, title="Long Id"),
              pb.Track(track_id="bad-album", title="Song", album="(" * 20_000),
              pb.Track(track_id="bad-date", title="Song", release_date="x" * 1_000_000),
              pb.Track(track_id="bad-ids", title="Song", artist_ids=["a"] * 300),
              pb.Track(track_id="bad-credit", title="Song", artist="\ufdfa" * 500_000),
              pb.Track(track_id="ok-2", title="Another Fine Song", artist="\ufdfa" * MAX_CREDIT_CHARS)]
    summary = stub.IngestTracks(iter(pb.IngestTracksRequest(track=t) for t in tracks), metadata=AUTH).summary
    assert summary.accepted == 2
    assert [(r.index, r.field, r.reason) for r in summary.rejections] == [
        (1, "track_id", "track_id is 10000 characters long (limit 512)"),
        (2, "album", "album is 20000 characters long (limit 1000)"),
        (3, "release_date", "release_date is 1000000 characters long (limit 64)"),
        (4, "artist_ids", "artist_ids has 300 items (limit 256)"),
        (5, "artist", "artist is 500000 characters long (limit 2000)")]
    assert summary.rejections[0].id == "x" * MAX_SHOWN_CHARS + "…"
    artists = [pb.Artist(artist_id="a-ok", name="Nina Vale"), pb.Artist(artist_id="a-bad", name="n" * 1_001)]
    summary = stub.IngestArtists(iter(pb.IngestArtistsRequest(artist=a) for a in artists), metadata=AUTH).summary
    assert (summary.accepted, summary.rejections[0].field) == (1, "name")
    events = [pb.EngagementEvent(user_id="u" * 513, track_id="ok-1", plays=1)]
    summary = stub.IngestEngagement(iter(pb.IngestEngagementRequest(event=e) for e in events), metadata=AUTH).summary
    assert (summary.accepted, summary.rejections[0].field) == (0, "user_id")


def test_an_unsaved_track_over_a_limit_is_invalid_and_one_at_the_limit_is_answered(
        stub: pb_grpc.CatalogErServiceStub) -> None:
    """The album of 20,000 brackets that blocked the server for 24 s: refused at once; 1,000 brackets (the
    limit) and a credit of 2,000 U+FDFA (36,000 letters folded): answered."""
    def unsaved(**fields: str) -> pb.FindDuplicatesRequest:
        return pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=pb.Track(**{"title": "Hey Sailor", **fields})))

    error = _error(stub.FindDuplicates, unsaved(album="(" * 20_000))
    assert error.code() == Code.INVALID_ARGUMENT
    assert error.details() == "unsaved.track.album: album is 20000 characters long (limit 1000)"
    error = _error(stub.FindDuplicates, unsaved(artist="\ufdfa" * 500_000))
    assert (error.code(), error.details()) == (
        Code.INVALID_ARGUMENT, "unsaved.track.artist: artist is 500000 characters long (limit 2000)")
    stub.FindDuplicates(unsaved(album="(" * MAX_NAME_CHARS, artist="\ufdfa" * MAX_CREDIT_CHARS), timeout=60)
    stub.FindDuplicates(unsaved(title=" - ".join(["(Live"] * 120), label="[" * MAX_NAME_CHARS), timeout=60)


@pytest.mark.parametrize("length", [10_000, 200_000])
def test_over_long_ids_get_invalid_argument_not_a_header_overflow(stub: pb_grpc.CatalogErServiceStub,
                                                                   length: int) -> None:
    """Over 9 KB a message that quoted the whole value no longer fit a response header: clients saw
    RESOURCE_EXHAUSTED. Now every such id is refused, naming its length, in a short message."""
    value = "i" * length
    calls = {
        "track_id": (stub.FindDuplicates, pb.FindDuplicatesRequest(track_id=value)),
        "artist_id": (stub.FindArtistDuplicates, pb.FindArtistDuplicatesRequest(artist_id=value)),
        "proposal_id": (stub.GetMergeProposal, pb.GetMergeProposalRequest(proposal_id=value)),
        "header.track_id": (stub.UploadAudio, iter([pb.UploadAudioRequest(header=pb.AudioHeader(track_id=value))])),
    }
    for field, (call, request) in calls.items():
        error = _error(call, request, metadata=AUTH)
        assert error.code() == Code.INVALID_ARGUMENT, field
        assert error.details() == f"{field}: {field} is {length} characters long (limit {MAX_ID_CHARS})"
    error = _error(stub.ListMergeProposals, pb.ListMergeProposalsRequest(page_token=value))
    assert error.code() == Code.INVALID_ARGUMENT and error.details().startswith("page_token: is ")


def test_values_in_messages_are_cut_short(stub: pb_grpc.CatalogErServiceStub) -> None:
    """Unknown ids within the limit: NOT_FOUND, the id quoted to MAX_SHOWN_CHARS characters."""
    value = "q" * MAX_ID_CHARS
    for call, request in ((stub.FindDuplicates, pb.FindDuplicatesRequest(track_id=value)),
                          (stub.GetMergeProposal, pb.GetMergeProposalRequest(proposal_id=value)),
                          (stub.FindArtistDuplicates, pb.FindArtistDuplicatesRequest(artist_id=value))):
        error = _error(call, request)
        assert error.code() == Code.NOT_FOUND
        assert "q" * MAX_SHOWN_CHARS + "'…" in error.details() and len(error.details()) < 200
    error = _error(stub.UploadAudio, iter([pb.UploadAudioRequest(header=pb.AudioHeader(track_id=value))]),
                   metadata=AUTH)
    assert error.code() == Code.NOT_FOUND and len(error.details()) < 200
    assert MAX_STATUS_MESSAGE_CHARS * 4 < 8 * 1024  # any message, even of 4-byte characters, fits a header


def test_reviews_are_bounded_and_a_note_at_the_limit_exports_to_a_default_client(
        stub: pb_grpc.CatalogErServiceStub, resolved: pb.ResolveResponse) -> None:
    proposal = next(iter(stub.ListMergeProposals(pb.ListMergeProposalsRequest(
        entity_type=pb.ENTITY_TYPE_TRACK, status=pb.PROPOSAL_STATUS_OPEN, page_size=1)))).proposal

    def review(**fields: str) -> pb.ReviewMergeProposalRequest:
        return pb.ReviewMergeProposalRequest(proposal_id=proposal.proposal_id, decision=pb.DECISION_ACCEPT,
                                             **{"reviewer": "curator@example.org", **fields})

    for field, value, limit in (("reviewer", "r" * 257, MAX_REVIEWER_CHARS), ("note", "n" * 65_537, MAX_NOTE_CHARS),
                                ("member_id", "m" * 513, MAX_ID_CHARS)):
        error = _error(stub.ReviewMergeProposal, review(**{field: value}), metadata=AUTH)
        assert (error.code(), error.details()) == (
            Code.INVALID_ARGUMENT, f"{field}: {field} is {len(value)} characters long (limit {limit})")
    note = "\U0001f3b5" * MAX_NOTE_CHARS  # 256 KB of UTF-8
    stub.ReviewMergeProposal(review(note=note), metadata=AUTH)
    exported = [pair for pair in stub.ExportDecisions(pb.ExportDecisionsRequest())
                if pair.proposal_id == proposal.proposal_id]
    assert exported and all(pair.note == note for pair in exported)
    assert np.all([len(pair.SerializeToString()) < 4 * 1024 * 1024 for pair in exported])
