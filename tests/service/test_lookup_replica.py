"""The look-up process: answers as the server would, follows ingests and retraining, and its death costs nothing."""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from catalog_er.resolver.synthetic import SyntheticCatalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.server import RunningServer, ServerSettings, start_server
from catalog_er.service.unsaved_lookups import find_unsaved_batch
from tests.fuzz.served import TOKEN, serve
from tests.messages import track_message
from tests.processes import children_of, live_stat

AUTH = (("authorization", f"Bearer {TOKEN}"),)


def _wait_until(condition, what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.05)


@pytest.fixture()
def served(tmp_path: Path, small_catalog: SyntheticCatalog
           ) -> Iterator[tuple[RunningServer, pb_grpc.CatalogErServiceStub]]:
    running = start_server(ServerSettings(db_path=tmp_path / "replica.sqlite", port=0))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks(pb.IngestTracksRequest(track=track_message(r)) for r in small_catalog.tracks.to_pylist())
            stub.Resolve(pb.ResolveRequest(full=True), timeout=300)
            yield running, stub
    finally:
        running.stop(1)


def _unsaved(stub: pb_grpc.CatalogErServiceStub, track: pb.Track) -> list[tuple[str, float]]:
    answer = stub.FindDuplicates(pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=track), limit=5), timeout=30)
    return [(c.id, round(c.confidence, 9)) for c in answer.candidates]


def _here(running: RunningServer, track: pb.Track) -> list[tuple[str, float]]:
    """The same look-up answered by the server's own catalog, in this process."""
    [answer] = find_unsaved_batch(running.catalog, [(track, 5, 0.0)])
    assert not isinstance(answer, Exception)
    return [(track_id, round(match.probability, 9)) for track_id, match in answer[0]]


def test_the_process_answers_as_the_server_and_follows_ingest_and_retraining(
        served: tuple[RunningServer, pb_grpc.CatalogErServiceStub], small_catalog: SyntheticCatalog) -> None:
    running, stub = served
    replica = running.workers.replica
    assert replica is not None
    _wait_until(lambda: replica.ready, "the look-up process is ready")
    rows = small_catalog.tracks.to_pylist()
    for row in rows[:40:4]:
        query = track_message(row, track_id="", album=(row["album"] or "") + " (Deluxe)")
        assert _unsaved(stub, query) == _here(running, query)

    twin = {**rows[7], "track_id": "new-twin", "album": "Another Compilation"}  # a new delivery of rows[7]
    stub.IngestTracks(iter([pb.IngestTracksRequest(track=track_message(twin))]))
    query = track_message(rows[7], track_id="", album="Yet Another Compilation")
    stub.FindDuplicates(pb.FindDuplicatesRequest(track_id="new-twin"))  # the server's snapshot has it now
    _wait_until(lambda: "new-twin" in [i for i, _ in _unsaved(stub, query)], "the process sees the new track")
    assert _unsaved(stub, query) == _here(running, query)

    generation = running.catalog.model_generation
    stub.Resolve(pb.ResolveRequest(full=True), timeout=300)  # retrains: the process builds a new catalog
    assert running.catalog.model_generation == generation + 1
    _wait_until(lambda: _unsaved(stub, query) == _here(running, query), "the process answers under the new model")


def test_a_dead_look_up_process_costs_no_look_up(served: tuple[RunningServer, pb_grpc.CatalogErServiceStub],
                                                   small_catalog: SyntheticCatalog) -> None:
    running, stub = served
    replica = running.workers.replica
    assert replica is not None
    _wait_until(lambda: replica.ready, "the look-up process is ready")
    row = small_catalog.tracks.to_pylist()[3]
    query = track_message(row, track_id="", album="Best Of")
    before = _unsaved(stub, query)
    pid = replica.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    _wait_until(functools.partial(_all_ended, {pid}), "the look-up process is dead")
    assert _unsaved(stub, query) == before == _here(running, query)  # answered by the server itself
    assert not replica.ready
    bad = pb.Track(title="")  # a bad request still gets its status
    with pytest.raises(grpc.RpcError) as caught:
        stub.FindDuplicates(pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=bad)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_the_process_sends_back_a_bad_track_s_error_by_field(
        served: tuple[RunningServer, pb_grpc.CatalogErServiceStub]) -> None:
    running, stub = served
    replica = running.workers.replica
    assert replica is not None
    _wait_until(lambda: replica.ready, "the look-up process is ready")
    with pytest.raises(grpc.RpcError) as caught:
        stub.FindDuplicates(pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=pb.Track(title="x" * 2000))))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "unsaved.track.title" in caught.value.details() and "limit 1000" in caught.value.details()


def _handed_over(stub: pb_grpc.CatalogErServiceStub, query: pb.Track, log_lines: list[str]) -> bool:
    """Look ``query`` up; whether the server has said it hands such look-ups to its process (at the first one)."""
    _unsaved(stub, query)
    return any("look-up process answers" in line for line in log_lines)


def _all_ended(pids: set[int]) -> bool:
    return all(live_stat(pid) is None for pid in pids)


def test_the_served_process_outlives_its_look_up_process(tmp_path: Path, small_catalog: SyntheticCatalog) -> None:
    """``catalog-er serve`` writes to the look-up process's pipe: when that process dies, the write must fail with
    an error the server handles (not SIGPIPE, which the CLI's other commands take as the default)."""
    rows = small_catalog.tracks.to_pylist()[:600]
    for served in serve(tmp_path / "served.sqlite", log=tmp_path / "served.log"):
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks((pb.IngestTracksRequest(track=track_message(r)) for r in rows), metadata=AUTH)
            query = track_message(rows[9], track_id="", album="Greatest Hits")
            _wait_until(functools.partial(_handed_over, stub, query, served.log_lines), "the look-up process is ready")
            before = _unsaved(stub, query)
            children = children_of(served.process.pid)
            assert children, "the look-up process is not a child of the server"
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            _wait_until(functools.partial(_all_ended, children), "the look-up process is dead")
            for _ in range(5):  # the first write to the dead process's pipe fails; the server answers itself
                assert _unsaved(stub, query) == before
            assert served.alive()
            assert any("stopped answering" in line for line in served.log_lines)


def test_a_copy_for_unsaved_look_ups_writes_nothing_scores_no_stored_pairs_and_answers_the_same(
        tmp_path: Path, small_catalog: SyntheticCatalog) -> None:
    from catalog_er.service.live import LiveCatalog
    from catalog_er.service.store import Store
    from catalog_er.service.unsaved_lookups import validated_unsaved

    store = Store(tmp_path / "copy.sqlite")
    store.upsert_tracks(small_catalog.tracks.slice(0, 1_500))
    copy = LiveCatalog(store, unsaved_only=True)  # no resolution yet: it trains a model for itself
    assert store.get_meta("track_model") is None
    assert copy.refresh().index is not None and copy.refresh().index.neighbours is None
    with pytest.raises(RuntimeError, match="unsaved tracks only"):
        copy.find_stored(small_catalog.tracks["track_id"][0].as_py(), 5, 0.0)
    with pytest.raises(RuntimeError, match="unsaved tracks only"):
        copy.resolve(full=True)

    catalog = LiveCatalog(store)  # trains the same model on the same tracks, and saves it
    assert store.get_meta("track_model") is not None
    store.upsert_tracks(small_catalog.tracks.slice(1_500, 300))  # both follow an ingest
    for follower in (copy, catalog):
        follower.mark_stale()
        assert len(follower.refresh().index) == 1_800
    rows = small_catalog.tracks.to_pylist()
    queries = [track_message(row, track_id="", album=(row["album"] or "") + " (Deluxe)") for row in rows[:1_800:90]]
    table, valid, _ = validated_unsaved(queries)
    limits, floors = [5] * len(valid), [0.0] * len(valid)

    def answers(live: LiveCatalog) -> list:
        return [[(i, round(m.probability, 9)) for i, m in found] for found, _ in
                live.find_unsaved_many(table, limits, floors)]

    assert answers(copy) == answers(catalog)
    assert any(answers(catalog))
    store.close()
