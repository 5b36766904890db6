"""A mixed load on a served catalog: many clients reading and writing at once, with full Resolves among them.

``run(...)`` drives a ``catalog-er serve`` child process (:func:`tests.fuzz.served.serve`) from client threads,
each with its own channel, for a fixed time:

- **look-up clients** (most of them): ``FindDuplicates`` of a stored track or of an unsaved re-delivery, with an
  exponential pause between calls (mean ``think_seconds``: a curator's tool, not a closed loop, which would
  measure only the queue it builds itself);
- **listing clients**: a page of ``ListMergeProposals``, then the next page from its token;
- **reviewers**: accept or reject a whole open proposal (ALREADY_EXISTS when another reviewer got there first);
- **ingesters**: streams of re-deliveries, 200 tracks each, under new ids (the catalog grows) or, with
  ``ingest_pool``, cycling through that many ids per ingester (upserts: the catalog stops growing, so the server's
  memory can be seen to stay flat);
- **a resolver**: a full ``Resolve`` every ``resolve_every_seconds``.

Every call's status and wall time is recorded by second of the run; the resident memory of the server and of its
child processes (the look-up process; a full resolution's process while one runs) is sampled every
second. Afterwards every acknowledged write (ingested track, review) is looked for in the database file.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np

from catalog_er.resolver.synthetic import generate_catalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from tests.fuzz.served import TOKEN, ServedProcess, serve
from tests.messages import track_message
from tests.processes import children_of

EXPECTED_STATUSES = frozenset({"OK", "ALREADY_EXISTS"})
"""What a well-formed call may get under load: a review that lost the race to another reviewer is ALREADY_EXISTS."""
AUTH = (("authorization", f"Bearer {TOKEN}"),)
INGEST_BATCH = 200


@dataclass
class Load:
    """What the clients saw: per call ``(second of the run, kind, status, milliseconds)``; the writes the server
    acknowledged; the server's resident memory and its children's together (MB) by second."""

    calls: list[tuple[int, str, str, float]] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    reviewed: dict[str, str] = field(default_factory=dict)
    memory_mb: list[tuple[int, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started_at: float, origin: float, kind: str, code: str) -> None:
        with self.lock:
            self.calls.append((int(started_at - origin), kind, code, (time.perf_counter() - started_at) * 1000))


def _timed(load: Load, origin: float, kind: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, its status and wall time recorded; None when it failed."""
    started = time.perf_counter()
    try:
        result = call(*args, **kwargs)
    except grpc.RpcError as error:
        load.record(started, origin, kind, error.code().name)
        return None
    load.record(started, origin, kind, "OK")
    return result


def _listed(stub: pb_grpc.CatalogErServiceStub, request: pb.ListMergeProposalsRequest) -> list:
    return list(stub.ListMergeProposals(request, timeout=30))


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # ended meanwhile
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(work: Path, *, seconds: float, tracks: int = 20_000, lookup_clients: int = 24, listing_clients: int = 3,
        reviewers: int = 2, ingesters: int = 2, resolve_every_seconds: float = 240.0, think_seconds: float = 0.1,
        seed: int = 13, ingest_pool: int | None = None) -> tuple[Load, dict]:
    """Serve a ``tracks``-track synthetic catalog, load it for ``seconds``, check the writes. Returns the load and
    ``{"missing_ingested": n, "missing_reviews": n, "server_alive": bool}``."""
    if ingest_pool is not None and ingest_pool < INGEST_BATCH:
        raise ValueError(f"ingest_pool must hold at least one stream's {INGEST_BATCH} ids, got {ingest_pool}")
    catalog = generate_catalog(n_tracks=tracks, seed=seed)
    rows = catalog.tracks.to_pylist()
    load = Load()
    for served in serve(work / "soak.sqlite", log=work / "server.log"):
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks((pb.IngestTracksRequest(track=track_message(r)) for r in rows), metadata=AUTH)
            stub.Resolve(pb.ResolveRequest(full=True), metadata=AUTH, timeout=1800)
        _drive(served, load, rows, seconds=seconds, clients=(lookup_clients, listing_clients, reviewers, ingesters),
               resolve_every_seconds=resolve_every_seconds, think_seconds=think_seconds, seed=seed,
               ingest_pool=ingest_pool)
        alive = served.alive()
    checks = _acknowledged_writes_present(work / "soak.sqlite", load) | {"server_alive": alive}
    return load, checks


def _drive(served: ServedProcess, load: Load, rows: list[dict], *, seconds: float, clients: tuple[int, int, int, int],
           resolve_every_seconds: float, think_seconds: float, seed: int, ingest_pool: int | None) -> None:
    origin = time.perf_counter()
    stop = threading.Event()
    lookup_clients, listing_clients, reviewers, ingesters = clients

    def look_up(k: int) -> None:
        rng = random.Random(seed * 1000 + k)
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            while not stop.wait(rng.expovariate(1.0 / think_seconds)):
                row = rows[rng.randrange(len(rows))]
                if rng.random() < 0.5:
                    kind, request = "lookup stored", pb.FindDuplicatesRequest(track_id=row["track_id"], limit=5)
                else:
                    kind, request = "lookup unsaved", pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(
                        track=track_message(row, track_id="", album=(row["album"] or "") + " (Deluxe)")), limit=5)
                _timed(load, origin, kind, stub.FindDuplicates, request, timeout=30)

    def list_pages(k: int) -> None:
        rng = random.Random(seed * 2000 + k)
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            token = ""
            while not stop.wait(rng.expovariate(1.0 / (10 * think_seconds))):
                page = _timed(load, origin, "list", _listed, stub, pb.ListMergeProposalsRequest(
                    page_size=50, page_token=token))
                token = page[-1].next_page_token if page else ""

    def review(k: int) -> None:
        rng = random.Random(seed * 3000 + k)
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            while not stop.wait(rng.expovariate(1.0 / (20 * think_seconds))):
                page = _timed(load, origin, "list", _listed, stub, pb.ListMergeProposalsRequest(
                    status=pb.PROPOSAL_STATUS_OPEN, page_size=20))
                if not page:
                    continue
                proposal = rng.choice(page).proposal
                decision = rng.choice([pb.DECISION_ACCEPT, pb.DECISION_REJECT])
                done = _timed(load, origin, "review", stub.ReviewMergeProposal, pb.ReviewMergeProposalRequest(
                    proposal_id=proposal.proposal_id, decision=decision, reviewer=f"soak-{k}"),
                    metadata=AUTH, timeout=30)
                if done is not None:
                    with load.lock:
                        load.reviewed[proposal.proposal_id] = "accepted" if decision == pb.DECISION_ACCEPT \
                            else "rejected"

    def ingest(k: int) -> None:
        rng = random.Random(seed * 4000 + k)
        batch_number = 0
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            while not stop.wait(rng.expovariate(1.0 / (50 * think_seconds))):
                batch_number += 1
                ids = [f"soak-{k}-{batch_number}-{i}" for i in range(INGEST_BATCH)] if ingest_pool is None else [
                    f"soak-{k}-{(batch_number * INGEST_BATCH + i) % ingest_pool}" for i in range(INGEST_BATCH)]
                sources = [rows[rng.randrange(len(rows))] for _ in ids]
                stream = [pb.IngestTracksRequest(track=track_message(row, track_id=track_id))
                          for track_id, row in zip(ids, sources, strict=True)]
                done = _timed(load, origin, "ingest", stub.IngestTracks, iter(stream), metadata=AUTH, timeout=60)
                if done is not None:
                    with load.lock:
                        load.ingested.extend(ids)

    def resolve() -> None:
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            while not stop.wait(resolve_every_seconds):
                _timed(load, origin, "resolve", stub.Resolve, pb.ResolveRequest(full=True), metadata=AUTH,
                       timeout=1800)

    workers = ([threading.Thread(target=look_up, args=(k,)) for k in range(lookup_clients)]
               + [threading.Thread(target=list_pages, args=(k,)) for k in range(listing_clients)]
               + [threading.Thread(target=review, args=(k,)) for k in range(reviewers)]
               + [threading.Thread(target=ingest, args=(k,)) for k in range(ingesters)]
               + [threading.Thread(target=resolve)])
    for worker in workers:
        worker.start()
    while time.perf_counter() - origin < seconds and served.alive():
        server = served.process.pid
        load.memory_mb.append((int(time.perf_counter() - origin), _rss_mb(server),
                               sum(_rss_mb(child) for child in children_of(server))))
        time.sleep(1.0)
    stop.set()
    for worker in workers:
        worker.join()


def _acknowledged_writes_present(db: Path, load: Load) -> dict:
    """Look for every acknowledged write in the database file (the server has stopped)."""
    with closing(sqlite3.connect(db)) as connection:
        stored = {row[0] for row in connection.execute("SELECT track_id FROM tracks WHERE track_id LIKE 'soak-%'")}
        reviewed = dict(connection.execute("SELECT proposal_id, status FROM proposals WHERE proposal_id IN "
                                           f"({','.join('?' * len(load.reviewed))})", list(load.reviewed)).fetchall()
                        ) if load.reviewed else {}
    return {"missing_ingested": len(set(load.ingested) - stored),
            "missing_reviews": sum(reviewed.get(p) != status for p, status in load.reviewed.items())}


def _percentiles(milliseconds: list[float]) -> dict[str, float | None]:
    if not milliseconds:
        return {"p50": None, "p99": None}
    return {"p50": round(float(np.median(milliseconds)), 2), "p99": round(float(np.percentile(milliseconds, 99)), 2)}


def summary(load: Load, checks: dict, *, window_seconds: int = 30) -> dict:
    """Statuses by kind, look-up latency (p50/p99 overall and the worst p99 of any ``window_seconds`` window), the
    writes' checks, and the memory of the server and of its children (the maximum in the first, the last and every
    minute of the run)."""
    by_kind: dict[str, dict[str, int]] = {}
    for _, kind, code, _ in load.calls:
        by_kind.setdefault(kind, {}).setdefault(code, 0)
        by_kind[kind][code] += 1
    lookups = np.array([(second, ms) for second, kind, code, ms in load.calls
                        if kind.startswith("lookup") and code == "OK"])
    windows = {}
    if len(lookups):
        for start in range(0, int(lookups[:, 0].max()) + 1, window_seconds):
            inside = lookups[(lookups[:, 0] >= start) & (lookups[:, 0] < start + window_seconds), 1]
            if len(inside):
                windows[start] = round(float(np.percentile(inside, 99)), 1)
    memory = [mb for _, mb, _ in load.memory_mb]
    children = [mb for _, _, mb in load.memory_mb]
    minute = min(60, len(memory))
    return {
        "calls": len(load.calls), "by_kind": by_kind,
        "unexpected": sum(code not in EXPECTED_STATUSES for _, _, code, _ in load.calls),
        "lookup_ms": {"p50": round(float(np.median(lookups[:, 1])), 2) if len(lookups) else None,
                      "p99": round(float(np.percentile(lookups[:, 1], 99)), 2) if len(lookups) else None,
                      "worst_window_p99": max(windows.values(), default=None), "p99_by_window": windows,
                      "by_query": {kind.split()[1]: _percentiles([ms for _, k, code, ms in load.calls
                                                                  if k == kind and code == "OK"])
                                   for kind in ("lookup stored", "lookup unsaved")}},
        "acknowledged": {"ingested_tracks": len(load.ingested), "reviews": len(load.reviewed)},
        **checks,
        "server_rss_mb": {"first_minute_max": round(max(memory[:minute]), 1) if memory else None,
                          "last_minute_max": round(max(memory[-minute:]), 1) if memory else None},
        "children_rss_mb": {"first_minute_max": round(max(children[:minute]), 1) if children else None,
                            "last_minute_max": round(max(children[-minute:]), 1) if children else None},
        "rss_mb_by_minute": [{"minute": k // 60, "server": round(max(memory[k:k + 60]), 1),
                              "children": round(max(children[k:k + 60]), 1)} for k in range(0, len(memory), 60)],
    }
