"""The SQLite store keeps the record columns declared in ``resolver.records``, and so does gRPC ingest.

The tables written here are built from the schemas themselves (one value per column, by type), so a column
added to a declaration is covered by every test below with no edit to them.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import grpc
import pyarrow as pa
import pytest

from catalog_er.resolver.records import ARTIST_SCHEMA, ENGAGEMENT_SCHEMA, TRACK_SCHEMA, service_schema
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.server import ServerSettings, start_server
from catalog_er.service.store import Store


def filled_value(field: pa.Field, row: int) -> object:
    """A usable, non-default value of ``field`` for row ``row`` (distinct per row and column)."""
    if pa.types.is_string(field.type):
        return f"{field.name} {row}"
    if pa.types.is_integer(field.type):
        return 200_000 + row  # a plausible duration and a plausible play count
    if pa.types.is_list(field.type) and pa.types.is_string(field.type.value_type):
        return [f"{field.name} {row} a", f"{field.name} {row} b"]
    raise AssertionError(f"no test value for column {field.name!r} of type {field.type}: add one here")


def filled_table(schema: pa.Schema, rows: int) -> pa.Table:
    """``rows`` rows of ``schema`` with every column filled."""
    return pa.Table.from_pylist([{field.name: filled_value(field, row) for field in schema} for row in range(rows)],
                                schema=schema)


def as_service_keeps_it(table: pa.Table) -> pa.Table:
    """``table`` with the columns the service does not keep (batch-only ones) nulled."""
    kept = service_schema(table.schema).names
    return pa.Table.from_arrays([table[field.name] if field.name in kept else pa.nulls(table.num_rows, field.type)
                                 for field in table.schema], schema=table.schema)


def test_every_stored_column_round_trips(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    tracks, artists, engagement = (filled_table(schema, 3) for schema in (TRACK_SCHEMA, ARTIST_SCHEMA,
                                                                          ENGAGEMENT_SCHEMA))
    version = store.upsert_tracks(tracks)
    store.upsert_artists(artists)
    store.upsert_engagement(engagement)
    stored_tracks, versions = store.tracks()
    assert stored_tracks.equals(as_service_keeps_it(tracks))
    assert versions.tolist() == [version] * 3
    assert store.artists().equals(as_service_keeps_it(artists))
    assert store.engagement().equals(as_service_keeps_it(engagement))
    assert stored_tracks["audio_path"].null_count == 3  # batch-only: the service never keeps an audio path
    store.close()


def test_file_layout_follows_the_schemas(tmp_path: Path) -> None:
    """One SQLite column per stored column, same name, NOT NULL where the field is not nullable; lists as
    JSON text (the layout databases written before the columns were derived have)."""
    path = tmp_path / "s.sqlite"
    store = Store(path)
    store.upsert_tracks(filled_table(TRACK_SCHEMA, 1))
    store.close()
    with closing(sqlite3.connect(path)) as db:
        for table, schema, versioned in (("tracks", TRACK_SCHEMA, True), ("artists", ARTIST_SCHEMA, True),
                                         ("engagement", ENGAGEMENT_SCHEMA, False)):
            info = {row[1]: (row[2], bool(row[3])) for row in db.execute(f"PRAGMA table_info({table})")}
            expected = {field.name: ("INTEGER" if pa.types.is_integer(field.type) else "TEXT", not field.nullable)
                        for field in service_schema(schema)}
            if versioned:
                expected["version"] = ("INTEGER", True)
            assert info == expected, table
        (artist_ids,) = db.execute("SELECT artist_ids FROM tracks").fetchone()
    assert json.loads(artist_ids) == filled_value(TRACK_SCHEMA.field("artist_ids"), 0)


_DDL_BEFORE_DERIVED_LAYOUT = """
CREATE TABLE tracks (
    track_id TEXT PRIMARY KEY, title TEXT NOT NULL, artist TEXT, artist_ids TEXT, album TEXT,
    duration_ms INTEGER, isrc TEXT, release_date TEXT, label TEXT, version INTEGER NOT NULL);
CREATE TABLE artists (
    artist_id TEXT PRIMARY KEY, name TEXT NOT NULL, genres TEXT, country TEXT, version INTEGER NOT NULL);
CREATE TABLE engagement (
    user_id TEXT NOT NULL, track_id TEXT NOT NULL, plays INTEGER NOT NULL, PRIMARY KEY (user_id, track_id));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO tracks VALUES ('t1', 'One', 'A', '["a1", "a2"]', NULL, 180000, NULL, '1999-01-01', NULL, 1);
INSERT INTO tracks VALUES ('t2', 'Two', NULL, NULL, 'Album', NULL, 'USRC17607839', NULL, 'Label', 1);
INSERT INTO artists VALUES ('a1', 'Artist One', '["rock"]', 'GB', 2);
INSERT INTO engagement VALUES ('u1', 't1', 4);
INSERT INTO engagement VALUES ('u2', 't2', 0);
INSERT INTO meta VALUES ('version', '3');
"""


def test_a_database_written_before_the_derived_layout_is_read_and_updated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(_DDL_BEFORE_DERIVED_LAYOUT)
    store = Store(path)
    tracks, versions = store.tracks()
    assert tracks.schema == TRACK_SCHEMA and versions.tolist() == [1, 1]
    assert tracks["source"].null_count == 2  # declared since: the column is added, empty for stored rows
    assert tracks.drop_columns(["audio_path", "source"]).to_pylist() == [
        {"track_id": "t1", "title": "One", "artist": "A", "artist_ids": ["a1", "a2"], "album": None,
         "duration_ms": 180000, "isrc": None, "release_date": "1999-01-01", "label": None},
        {"track_id": "t2", "title": "Two", "artist": None, "artist_ids": None, "album": "Album",
         "duration_ms": None, "isrc": "USRC17607839", "release_date": None, "label": "Label"}]
    assert store.artists().to_pylist() == [{"artist_id": "a1", "name": "Artist One", "genres": ["rock"],
                                            "country": "GB"}]
    assert store.engagement().to_pylist() == [{"user_id": "u1", "track_id": "t1", "plays": 4},
                                              {"user_id": "u2", "track_id": "t2", "plays": 0}]
    update = pa.Table.from_pylist([{"track_id": "t3", "title": "Three"}, {"track_id": "t1", "title": "One (new)"}],
                                  schema=TRACK_SCHEMA)
    version = store.upsert_tracks(update)
    assert version == 4  # the stored counter goes on
    tracks, versions = store.tracks()
    assert tracks["track_id"].to_pylist() == ["t1", "t2", "t3"]  # an update keeps its first-ingest place
    assert tracks["title"].to_pylist() == ["One (new)", "Two", "Three"]
    assert tracks["artist_ids"].to_pylist()[0] is None  # an update replaces every column
    assert versions.tolist() == [4, 1, 4]
    assert store.tracks(since_version=1)[0]["track_id"].to_pylist() == ["t1", "t3"]
    store.upsert_engagement(pa.Table.from_pylist([{"user_id": "u1", "track_id": "t1", "plays": 9}],
                                                 schema=ENGAGEMENT_SCHEMA))
    assert store.engagement()["plays"].to_pylist() == [9, 0]  # one row per user and track
    store.close()


def test_grpc_ingest_stores_every_column_a_client_sends(tmp_path: Path) -> None:
    """Each proto field is the schema column of the same name: a message with every field set is stored
    whole; proto3 defaults ("", 0, no elements) are missing values, except in a required count."""
    db = tmp_path / "ingest.sqlite"
    tracks, artists = filled_table(service_schema(TRACK_SCHEMA), 2), filled_table(service_schema(ARTIST_SCHEMA), 2)
    engagement = filled_table(service_schema(ENGAGEMENT_SCHEMA), 2).set_column(
        ENGAGEMENT_SCHEMA.get_field_index("track_id"), ENGAGEMENT_SCHEMA.field("track_id"), tracks["track_id"])
    running = start_server(ServerSettings(db_path=db, port=0))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            sent_tracks = [pb.Track(**row) for row in tracks.to_pylist()] + [pb.Track(track_id="bare", title="Bare")]
            assert stub.IngestTracks(pb.IngestTracksRequest(track=t) for t in sent_tracks).summary.accepted == 3
            assert stub.IngestArtists(pb.IngestArtistsRequest(artist=pb.Artist(**row))
                                      for row in artists.to_pylist()).summary.accepted == 2
            events = [pb.EngagementEvent(**row) for row in engagement.to_pylist()]
            events.append(pb.EngagementEvent(user_id="listener", track_id="bare", plays=0))
            assert stub.IngestEngagement(pb.IngestEngagementRequest(event=e) for e in events).summary.accepted == 3
    finally:
        running.stop(1)
    store = Store(db)
    stored_tracks, _ = store.tracks()
    bare = {field.name: None for field in TRACK_SCHEMA} | {"track_id": "bare", "title": "Bare"}
    expected_tracks = pa.concat_tables([as_service_keeps_it(filled_table(TRACK_SCHEMA, 2)),
                                        pa.Table.from_pylist([bare], schema=TRACK_SCHEMA)])
    assert stored_tracks.equals(expected_tracks)
    assert store.artists().equals(as_service_keeps_it(filled_table(ARTIST_SCHEMA, 2)))
    stored_engagement = store.engagement()
    assert stored_engagement.slice(0, 2).equals(engagement)
    assert stored_engagement.slice(2).to_pylist() == [{"user_id": "listener", "track_id": "bare", "plays": 0}]
    store.close()


@pytest.mark.parametrize("schema", [TRACK_SCHEMA, ARTIST_SCHEMA, ENGAGEMENT_SCHEMA], ids=["tracks", "artists",
                                                                                        "engagement"])
def test_every_column_the_service_keeps_is_a_proto_field(schema: pa.Schema) -> None:
    """The proto messages carry exactly the columns the service keeps, under the same names."""
    message = {"track_id": pb.Track, "artist_id": pb.Artist, "user_id": pb.EngagementEvent}[schema.names[0]]
    assert [field.name for field in message.DESCRIPTOR.fields] == service_schema(schema).names


def test_replacing_proposals_finds_their_members_by_index(tmp_path: Path) -> None:
    """Each replaced proposal's members are deleted through an index on proposal_id, not a scan of every member
    (a scan per proposal held the store lock for seconds at 20k tracks); a database made before gets it on open."""
    path = tmp_path / "catalog.sqlite"
    Store(path).close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("DROP INDEX proposal_members_by_proposal")
        db.commit()
    Store(path).close()
    with closing(sqlite3.connect(path)) as db:
        plan = " ".join(row[-1] for row in db.execute(
            "EXPLAIN QUERY PLAN DELETE FROM proposal_members WHERE proposal_id = ?", ("p1",)))
    assert "proposal_members_by_proposal" in plan, plan
