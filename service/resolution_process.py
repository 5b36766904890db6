"""A full resolution in a child process, so the server's look-ups keep their interpreter and their CPU.

A full resolution is seconds to minutes of CPU, much of it Python. Run on a thread of the server it holds the
interpreter lock against the event loop: under load, look-ups slowed from a few milliseconds to hundreds while
it ran. :class:`ResolutionProcess` runs it in a fresh interpreter (``spawn``: no fork of a threaded gRPC
server) at the lowest CPU priority (``nice`` 19: on a busy machine the server's requests get the cores first),
which sends back the result and the warm index built from it. The next child is started ahead, so a resolution
does not wait for an interpreter to start and import; each child runs one resolution and exits, returning its
memory. Everything passed is Arrow tables and numpy arrays, so it costs the server tens of milliseconds
(about 30 MB and 25 ms at 20,000 tracks).

The child only computes: the server keeps every database write. When the server dies (even ``kill -9``) the
child is killed with it (Linux ``PR_SET_PDEATHSIG``); when the child dies, the resolution fails with
:class:`ResolutionProcessError` and the server goes on unchanged.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pyarrow as pa

from catalog_er.resolver.comparisons import TRACK_COMPARISONS, comparison_levels
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.decisions import PairDecisions
from catalog_er.resolver.fellegi_sunter import FellegiSunterModel
from catalog_er.resolver.online import TrackIndex
from catalog_er.resolver.pipeline import resolve_catalog
from catalog_er.service.child_process import SPAWN, die_with_parent

CHILD_NICENESS = 19
"""How much the child lowers its CPU priority (the most ``nice`` allows)."""


class ResolutionProcessError(RuntimeError):
    """The child process died or could not be started (the catalog is left as it was)."""


@dataclass(frozen=True)
class FullResolutionInput:
    """What a full resolution reads: validated ``TRACK_SCHEMA`` tracks in store order, the artists and the
    engagement (None when the store holds no artists), curators' decisions, and the resolver's settings."""

    tracks: pa.Table
    artists: pa.Table | None
    engagement: pa.Table | None
    track_decisions: PairDecisions
    artist_decisions: PairDecisions
    config: ResolverConfig


@dataclass(frozen=True)
class FullResolutionOutput:
    """A full resolution's result: the retrained track model, the index of ``tracks`` under it (rows in the
    input's order), the track proposals, and the artist proposals and scored artist pairs (None without
    artists)."""

    model: FellegiSunterModel
    index: TrackIndex
    track_proposals: pa.Table
    artist_proposals: pa.Table | None
    artist_pairs: pa.Table | None


def resolve_full(work: FullResolutionInput) -> FullResolutionOutput:
    """Resolve ``work`` here, in this process (what the child runs; also usable directly)."""
    result = resolve_catalog(work.tracks, work.artists, work.engagement, config=work.config,
                             track_decisions=work.track_decisions, artist_decisions=work.artist_decisions,
                             keep_scored=True)
    scored = result.scored  # the index starts from the pairs just compared (no second blocking pass)
    assert scored is not None  # resolve_catalog(keep_scored=True)
    scored_pairs = (scored.candidates.left, scored.candidates.right,
                    comparison_levels(scored.signals, TRACK_COMPARISONS))
    index = TrackIndex(scored.features, result.tracks.model, work.config, scored_pairs,
                       repair_context=scored.repair_context, statistics=scored.statistics)
    artists = result.artists
    return FullResolutionOutput(result.tracks.model, index, result.tracks.proposals,
                                None if artists is None else artists.proposals,
                                None if artists is None else artists.pairs)


class _Child:
    """A started child process waiting on its pipe for the one resolution it will run."""

    def __init__(self) -> None:
        self.pipe, child_end = SPAWN.Pipe(duplex=True)
        self.process = SPAWN.Process(target=_child_main, args=(child_end, os.getpid()), name="catalog-er-resolve",
                                     daemon=True)
        self.process.start()
        child_end.close()  # the child holds the only other end: its death ends recv() with EOFError

    def kill(self) -> None:
        """Kill the process (a resolution waiting on the pipe then gets EOF; its caller closes the pipe)."""
        self.process.kill()


class ResolutionProcess:
    """Runs :func:`resolve_full` in a child process, one at a time; :meth:`stop` kills a running one.

    A spare child is started ahead (its interpreter and imports ready, about a second of CPU at low priority), so
    a resolution does not wait for one; each child runs one resolution and exits, returning its memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: _Child | None = None
        self._stopped = False
        self._spare: _Child | None = _Child()

    @property
    def running_pid(self) -> int | None:
        """The process id of the child running a resolution now, if any."""
        running = self._running
        return None if running is None else running.process.pid

    def resolve(self, work: FullResolutionInput) -> FullResolutionOutput:
        """:func:`resolve_full` of ``work`` in a child process (blocks until it is done: call it off the event
        loop). Exceptions the resolution raises (``NotReadyError``, ``ValueError``…) are raised here.

        Raises:
            ResolutionProcessError: the child died (killed, out of memory) or the server is stopping.
        """
        with self._lock:
            if self._stopped:
                raise ResolutionProcessError("the server is stopping: resolution refused")
            child, self._spare = self._spare or _Child(), None
            self._running = child
        try:
            child.pipe.send(work)
            outcome = child.pipe.recv()
        except (EOFError, OSError):
            child.process.join()
            raise ResolutionProcessError(f"the resolution process ended without a result (exit code "
                                         f"{child.process.exitcode}; killed, or out of memory?)") from None
        finally:
            child.pipe.close()
            with self._lock:
                self._running = None
                if not self._stopped:
                    self._spare = _Child()
        child.process.join()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        """Kill a running child and the spare, and refuse new resolutions (the server is shutting down)."""
        with self._lock:
            self._stopped = True
            spare, self._spare = self._spare, None
            killed = [child for child in (self._running, spare) if child is not None]
            for child in killed:
                child.kill()
        for child in killed:
            child.process.join(10)
        if spare is not None:
            spare.pipe.close()


def _child_main(pipe: Connection, parent_pid: int) -> None:
    """The child: die with the parent (``parent_pid``), yield the CPU to it, wait for the work, resolve, send the
    result or the exception."""
    die_with_parent(parent_pid)
    os.nice(CHILD_NICENESS)
    try:
        work = pipe.recv()
    except EOFError:  # the server stopped before it had work for this child
        return
    try:
        outcome: FullResolutionOutput | BaseException = resolve_full(work)
    except Exception as error:  # sent to the parent, which raises it where the resolution was asked for
        outcome = error
    try:
        pipe.send(outcome)
    except Exception as error:  # e.g. an exception that does not pickle: say what it was
        pipe.send(RuntimeError(f"resolution failed: {type(error).__name__}: {error}"))
    pipe.close()
