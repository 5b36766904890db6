"""kill -9 at random points of ingest, Resolve and review bursts; restart; check nothing acknowledged was lost.

Each round starts ``catalog-er serve`` on the same SQLite file, sets one kind of work going from a client thread
(ingest streams of re-deliveries, full Resolves — whose track and artist results are committed one after the
other — or bursts of reviews), kills the server with SIGKILL after a random delay, and then checks the file:
``PRAGMA integrity_check`` is ``ok``, every write the server acknowledged before it died is there (ingested track
ids; reviews as decided), no process the server started outlives it (a full resolution runs in a child), and the
next round's server starts on it.

So that the hundredth round tests what the first did, ingest upserts into a fixed pool of ids (the catalog stops
growing, and a Resolve keeps taking about as long), a Resolve round's kill falls anywhere up to one and a half
times the last completed Resolve (its commits included), and a review round with nothing open to review first
ingests a few re-deliveries and resolves, so that there is.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from catalog_er.resolver.synthetic import generate_catalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from tests.fuzz.served import TOKEN, ServedProcess, serve
from tests.messages import track_message
from tests.processes import children_of, outlived

AUTH = (("authorization", f"Bearer {TOKEN}"),)
INGEST_BATCH = 300
KINDS = ("ingest", "resolve", "review")


@dataclass
class Rounds:
    """What happened: rounds run by kind, acknowledged writes, and every problem found (empty when all held)."""

    by_kind: dict[str, int] = field(default_factory=dict)
    acknowledged_tracks: set[str] = field(default_factory=set)
    acknowledged_reviews: dict[str, str] = field(default_factory=dict)
    resolve_seconds: list[float] = field(default_factory=list)
    """Wall time of every full Resolve that completed."""
    ingest_batches: int = 0
    problems: list[str] = field(default_factory=list)


def _ingest(stub: pb_grpc.CatalogErServiceStub, rows: list[dict], rounds: Rounds, id_pool: int,
            rng: random.Random) -> None:
    """One stream of re-deliveries of random catalog rows, upserted into the next ids of the pool."""
    start = rounds.ingest_batches * INGEST_BATCH
    rounds.ingest_batches += 1
    ids = [f"crash-{(start + i) % id_pool}" for i in range(INGEST_BATCH)]
    stream = [pb.IngestTracksRequest(track=track_message(rows[rng.randrange(len(rows))], track_id=i)) for i in ids]
    stub.IngestTracks(iter(stream), metadata=AUTH, timeout=60)
    rounds.acknowledged_tracks.update(ids)


def _resolve(stub: pb_grpc.CatalogErServiceStub, rounds: Rounds) -> None:
    started = time.perf_counter()
    stub.Resolve(pb.ResolveRequest(full=True), metadata=AUTH, timeout=300)
    rounds.resolve_seconds.append(time.perf_counter() - started)


def _work(served: ServedProcess, kind: str, rows: list[dict], rounds: Rounds, stop: threading.Event,
          rng: random.Random, id_pool: int) -> None:
    """Keep doing ``kind`` of work until the server dies, recording what it acknowledged."""
    with served.channel() as channel:
        stub = pb_grpc.CatalogErServiceStub(channel)
        while not stop.is_set():
            try:
                if kind == "ingest":
                    _ingest(stub, rows, rounds, id_pool, rng)
                elif kind == "resolve":
                    _resolve(stub, rounds)
                else:
                    page = list(stub.ListMergeProposals(pb.ListMergeProposalsRequest(
                        status=pb.PROPOSAL_STATUS_OPEN, page_size=10), timeout=30))
                    if not page:  # everything was reviewed: new deliveries, and a resolution to propose them
                        _ingest(stub, rows, rounds, id_pool, rng)
                        _resolve(stub, rounds)
                    for message in page:
                        decision = rng.choice([pb.DECISION_ACCEPT, pb.DECISION_REJECT])
                        stub.ReviewMergeProposal(pb.ReviewMergeProposalRequest(
                            proposal_id=message.proposal.proposal_id, decision=decision, reviewer="crash"),
                            metadata=AUTH, timeout=30)
                        rounds.acknowledged_reviews[message.proposal.proposal_id] = (
                            "accepted" if decision == pb.DECISION_ACCEPT else "rejected")
            except grpc.RpcError:
                return  # the server was killed (or refused: ALREADY_EXISTS is not an acknowledgement)


def _check(db: Path, rounds: Rounds, number: int) -> None:
    with closing(sqlite3.connect(db)) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            rounds.problems.append(f"round {number}: integrity_check says {integrity}")
        stored = {r[0] for r in connection.execute("SELECT track_id FROM tracks WHERE track_id LIKE 'crash-%'")}
        statuses = dict(connection.execute("SELECT proposal_id, status FROM proposals").fetchall())
    lost = rounds.acknowledged_tracks - stored
    if lost:
        rounds.problems.append(f"round {number}: {len(lost)} acknowledged tracks lost, e.g. {sorted(lost)[:3]}")
    changed = [p for p, status in rounds.acknowledged_reviews.items() if statuses.get(p) != status]
    if changed:
        rounds.problems.append(f"round {number}: {len(changed)} acknowledged reviews lost, e.g. {changed[:3]}")


def _kill_delay(kind: str, rounds: Rounds, rng: random.Random, max_delay_seconds: float) -> float:
    """Seconds before the kill: up to ``max_delay_seconds``, or for a Resolve round up to 1.5 times the last
    completed Resolve when that is longer (so that kills land in its commits too)."""
    longest = max_delay_seconds
    if kind == "resolve" and rounds.resolve_seconds:
        longest = max(longest, 1.5 * rounds.resolve_seconds[-1])
    return rng.uniform(0.05, longest)


def run(work: Path, *, rounds_count: int, tracks: int = 2_000, seed: int = 21, max_delay_seconds: float = 4.0,
        id_pool: int = 3_000) -> Rounds:
    """``rounds_count`` kill -9 rounds on one database (the first round's server ingests ``tracks`` and resolves);
    ingest rounds upsert into ``id_pool`` ids."""
    rng = random.Random(seed)
    rows = generate_catalog(n_tracks=tracks, seed=seed).tracks.to_pylist()
    db, rounds = work / "crash.sqlite", Rounds()
    for served in serve(db, log=work / "setup.log"):
        with served.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            stub.IngestTracks((pb.IngestTracksRequest(track=track_message(r)) for r in rows), metadata=AUTH)
            _resolve(stub, rounds)
    for number in range(rounds_count):
        kind = KINDS[number % len(KINDS)]
        rounds.by_kind[kind] = rounds.by_kind.get(kind, 0) + 1
        try:
            for served in serve(db, log=work / f"round{number}.log"):
                stop = threading.Event()
                worker = threading.Thread(target=_work, args=(served, kind, rows, rounds, stop, rng, id_pool))
                worker.start()
                stop.wait(_kill_delay(kind, rounds, rng, max_delay_seconds))
                children = children_of(served.process.pid)
                served.process.kill()
                served.process.wait(30)
                orphans = outlived(children)
                if orphans:
                    rounds.problems.append(f"round {number}: processes {sorted(orphans)} outlived the server")
                stop.set()
                worker.join(120)
        except RuntimeError as error:  # serve() could not start the server on the file
            rounds.problems.append(f"round {number}: the server did not start: {error}")
            break
        _check(db, rounds, number)
        print(f"round {number + 1}/{rounds_count} ({kind}): {len(rounds.acknowledged_tracks)} track ids, "
              f"{len(rounds.acknowledged_reviews)} reviews and {len(rounds.resolve_seconds)} Resolves acknowledged "
              f"so far, {len(rounds.problems)} problems",
              file=sys.stderr, flush=True)
    return rounds
