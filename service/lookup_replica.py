"""Unsaved-track look-ups in a process of their own, with its own copy of the catalog.

An unsaved look-up costs 7–11 ms of interpreter time (validation, repairs, normalization, hashing, scoring),
most of it fixed per call. In the server that time is taken from the one interpreter lock the event loop, the
ingest streams and the stored look-ups share; on a busy server look-ups queued behind one another. The look-up
process answers them on another core: it opens the same SQLite file, keeps its own
:class:`service.live.LiveCatalog` over it (``unsaved_only``: it never writes, and its index scores none of the
catalog's own pairs, so it holds less than the server's and catches up faster), and answers batches the server's
look-up thread sends over a pipe (tracks as proto bytes; answers as ids and matches).

It follows the server's catalog: each batch carries the server's count of announced store changes and of track
models; when the first moved, the process refreshes its snapshot in the background (answering from the last one
meanwhile, as the server does), and when the second moved (a full resolution retrained) it builds a new catalog
in the background and swaps it in. Until it is ready (it builds its index on start: seconds for a large
catalog), or if it dies, the server answers the look-ups itself. It dies with the server (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import logging
import os
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from catalog_er.resolver.config import ResolverConfig
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.child_process import SPAWN, die_with_parent
from catalog_er.service.grpc_errors import RequestError
from catalog_er.service.live import LiveCatalog
from catalog_er.service.store import Store
from catalog_er.service.unsaved_lookups import UnsavedAnswer, UnsavedQuery, find_unsaved_batch

log = logging.getLogger("catalog_er.lookups")

_READY = "ready"


class LookupReplica:
    """The server side of the look-up process (see the module docstring). :meth:`answer` is called from one
    thread at a time (the server's look-up thread)."""

    def __init__(self, catalog: LiveCatalog) -> None:
        """Start the process on ``catalog``'s database file and settings; ``catalog`` answers until it is ready."""
        self._catalog = catalog
        self._pipe, child_end = SPAWN.Pipe(duplex=True)
        self._process = SPAWN.Process(target=_serve_lookups, name="catalog-er-lookups", daemon=True,
                                      args=(catalog.store.path, catalog.config, child_end, os.getpid()))
        self._process.start()
        child_end.close()
        self._state = "starting"
        self._lock = threading.RLock()  # one exchange on the pipe at a time

    @property
    def ready(self) -> bool:
        """Whether the process answers (it has built its catalog and is alive)."""
        with self._lock:
            self._check_started()
            return self._state == _READY

    @property
    def pid(self) -> int | None:
        """The look-up process's id."""
        return self._process.pid

    def answer(self, queries: list[UnsavedQuery]) -> list[UnsavedAnswer | RequestError]:
        """:func:`service.unsaved_lookups.find_unsaved_batch` of ``queries``: in the process when it is ready,
        here otherwise."""
        with self._lock:
            if self.ready:
                try:
                    self._pipe.send((self._catalog.changes_announced(), self._catalog.model_generation,
                                     [(track.SerializeToString(), limit, floor) for track, limit, floor in queries]))
                    return [_decoded(reply) for reply in self._pipe.recv()]
                except (EOFError, OSError) as error:
                    self._gone(f"the look-up process stopped answering ({type(error).__name__}); look-ups of "
                               "unsaved tracks are answered by the server from now on")
        return find_unsaved_batch(self._catalog, queries)

    def stop(self) -> None:
        """Stop the process (the server is shutting down). A batch being answered ends with EOF and is answered
        here; the pipe is closed only once no exchange uses it."""
        self._state = "stopped"
        self._process.kill()
        with self._lock:
            self._pipe.close()
        self._process.join(10)

    def _check_started(self) -> None:
        if self._state != "starting":
            return
        try:
            if self._pipe.poll():
                if self._pipe.recv() == _READY:
                    self._state = _READY
                    log.info("the look-up process answers unsaved-track look-ups", extra={"pid": self._process.pid})
            elif not self._process.is_alive():
                raise EOFError
        except (EOFError, OSError):
            self._gone(f"the look-up process ended while starting (exit code {self._process.exitcode}); look-ups "
                       "of unsaved tracks are answered by the server")

    def _gone(self, message: str) -> None:
        if self._state != "stopped":
            log.warning(message)
        self._state = "gone"


def _decoded(reply: tuple) -> UnsavedAnswer | RequestError:
    if reply[0] == "error":
        return RequestError(reply[1], reply[2])
    return reply[1]


def _encoded(answer: UnsavedAnswer | RequestError) -> tuple:
    if isinstance(answer, RequestError):
        return ("error", answer.field, answer.reason)
    return ("answer", answer)


class _FollowingCatalog:
    """The process's catalog, kept in step with the server's by the counts each batch carries."""

    def __init__(self, db_path: Path, config: ResolverConfig) -> None:
        self._db_path, self._config = db_path, config
        self.catalog = LiveCatalog(Store(db_path), config, unsaved_only=True)
        self._changes: int | None = None
        self._model_generation: int | None = None
        self._catching_up: threading.Thread | None = None

    def follow(self, changes: int, model_generation: int) -> None:
        """Start catching up with the server's catalog in the background when it moved (one catch-up at a time:
        a move seen while one runs is caught up with by the next)."""
        if self._catching_up is not None and self._catching_up.is_alive():
            return
        if self._model_generation is not None and model_generation != self._model_generation:
            work = self._rebuild
        elif changes != self._changes:
            work = self._refresh
        else:
            return
        self._changes, self._model_generation = changes, model_generation
        self._catching_up = threading.Thread(target=work, name="catalog-er-catch-up", daemon=True)
        self._catching_up.start()

    def _refresh(self) -> None:
        self.catalog.mark_stale()
        self.catalog.refresh()

    def _rebuild(self) -> None:
        """A new catalog over the file (its saved model is the one just trained), swapped in once built."""
        old, self.catalog = self.catalog, LiveCatalog(Store(self._db_path), self._config, unsaved_only=True)
        old.store.close()


def _serve_lookups(db_path: Path, config: ResolverConfig, pipe: Connection, parent_pid: int) -> None:
    """The process: build the catalog, say so, then answer batches until the server closes the pipe."""
    die_with_parent(parent_pid)
    following = _FollowingCatalog(db_path, config)
    pipe.send(_READY)
    while True:
        try:
            changes, model_generation, queries = pipe.recv()
        except EOFError:
            return
        following.follow(changes, model_generation)
        answers = find_unsaved_batch(following.catalog, [(pb.Track.FromString(track), limit, floor)
                                                         for track, limit, floor in queries])
        pipe.send([_encoded(answer) for answer in answers])
