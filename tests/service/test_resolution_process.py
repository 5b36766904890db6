"""A full resolution in a child process: same result as here, errors come back, a dead child fails one call only,
and the child never outlives the server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pyarrow as pa
import pytest

from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.decisions import PairDecisions
from catalog_er.resolver.fellegi_sunter import model_parameters
from catalog_er.resolver.synthetic import SyntheticCatalog, generate_catalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.resolution_process import (
    FullResolutionInput,
    ResolutionProcess,
    ResolutionProcessError,
    resolve_full,
)
from catalog_er.service.server import ServerSettings, start_server
from tests.messages import track_message

NO_DECISIONS = PairDecisions(np.array([], object), np.array([], object), np.array([], bool))


def _work(catalog: SyntheticCatalog, tracks: pa.Table | None = None) -> FullResolutionInput:
    return FullResolutionInput(catalog.tracks if tracks is None else tracks, catalog.artists, catalog.engagement,
                               NO_DECISIONS, NO_DECISIONS, ResolverConfig())


@pytest.fixture(scope="module")
def catalog() -> SyntheticCatalog:
    return generate_catalog(n_tracks=1_500, seed=31)


def _running_child(resolution: ResolutionProcess, seconds: float = 60.0) -> int:
    """The pid of ``resolution``'s child once it has been handed a resolution."""
    deadline = time.monotonic() + seconds
    while (pid := resolution.running_pid) is None:
        assert time.monotonic() < deadline, "no resolution was handed to a child"
        time.sleep(0.002)
    return pid


def test_the_child_resolves_exactly_as_a_resolution_here(catalog: SyntheticCatalog) -> None:
    here = resolve_full(_work(catalog))
    resolution = ResolutionProcess()
    there = resolution.resolve(_work(catalog))
    assert there.track_proposals.num_rows > 0 and there.track_proposals.equals(here.track_proposals)
    assert there.artist_proposals is not None and there.artist_proposals.equals(here.artist_proposals)
    assert model_parameters(there.model) == model_parameters(here.model)
    assert len(there.index) == catalog.tracks.num_rows
    some = np.arange(0, catalog.tracks.num_rows, 97)
    for row in some.tolist():  # the warm index built there answers look-ups as one built here
        assert [(m.row, m.probability) for m in there.index.stored_matches(row)] == [
            (m.row, m.probability) for m in here.index.stored_matches(row)]
    assert resolution.running_pid is None  # the one that answered has ended
    resolution.stop()


def test_an_error_in_the_child_is_raised_to_the_caller_as_itself(catalog: SyntheticCatalog) -> None:
    broken = catalog.tracks.drop_columns(["title"])
    with pytest.raises(Exception) as here:
        resolve_full(_work(catalog, broken))
    with pytest.raises(type(here.value)) as there:
        ResolutionProcess().resolve(_work(catalog, broken))
    assert str(there.value) == str(here.value)


def test_stop_kills_a_running_resolution_and_refuses_the_next(catalog: SyntheticCatalog) -> None:
    resolution = ResolutionProcess()
    failures: list[BaseException] = []

    def resolve() -> None:
        try:
            resolution.resolve(_work(catalog))
        except BaseException as error:  # recorded for the assertion below
            failures.append(error)

    worker = threading.Thread(target=resolve)
    worker.start()
    pid = _running_child(resolution)
    resolution.stop()
    worker.join(30)
    assert len(failures) == 1 and isinstance(failures[0], ResolutionProcessError)
    assert not _running(pid)
    with pytest.raises(ResolutionProcessError, match="stopping"):
        resolution.resolve(_work(catalog))


def test_a_resolution_whose_process_dies_fails_unavailable_and_the_server_goes_on(
        tmp_path: Path, catalog: SyntheticCatalog) -> None:
    running = start_server(ServerSettings(db_path=tmp_path / "child.sqlite", port=0))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks(iter(pb.IngestTracksRequest(track=track_message(r)) for r in catalog.tracks.to_pylist()))
            outcome: list[object] = []
            caller = threading.Thread(target=lambda: outcome.append(_status_of(stub.Resolve, pb.ResolveRequest(
                full=True), timeout=120)))
            caller.start()
            os.kill(_running_child(running.workers.resolution), signal.SIGKILL)
            caller.join(120)
            assert outcome == [grpc.StatusCode.UNAVAILABLE]
            some = catalog.tracks["track_id"][0].as_py()
            assert stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=some), timeout=30) is not None
            assert stub.ListMergeProposals(pb.ListMergeProposalsRequest(page_size=1), timeout=30) is not None
            done = stub.Resolve(pb.ResolveRequest(full=True), timeout=120)
            assert not done.incremental and done.tracks_touched == catalog.tracks.num_rows and done.open_proposals > 0
    finally:
        running.stop(1)


def _status_of(call, *args, **kwargs) -> grpc.StatusCode:
    try:
        call(*args, **kwargs)
    except grpc.RpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_dies_with_a_killed_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import multiprocessing, threading, time
        import numpy as np
        from catalog_er.resolver.config import ResolverConfig
        from catalog_er.resolver.decisions import PairDecisions
        from catalog_er.resolver.synthetic import generate_catalog
        from catalog_er.service.resolution_process import FullResolutionInput, ResolutionProcess

        none = PairDecisions(np.array([], object), np.array([], object), np.array([], bool))
        catalog = generate_catalog(n_tracks=30_000, seed=3)
        work = FullResolutionInput(catalog.tracks, None, None, none, none, ResolverConfig())
        threading.Thread(target=ResolutionProcess().resolve, args=(work,), daemon=True).start()
        while not multiprocessing.active_children():
            time.sleep(0.01)
        print(multiprocessing.active_children()[0].pid, flush=True)
        time.sleep(600)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        time.sleep(0.5)  # past the child's start, into its work
        parent.kill()
        parent.wait(30)
        deadline = time.monotonic() + 10
        while _running(child_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child_pid), "the resolution process outlived its killed parent"
    finally:
        parent.kill()


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
