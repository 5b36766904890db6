"""Benchmark: the gRPC service as a client sees it (``make bench-service``).

``catalog-er serve`` runs as a child process on a fresh SQLite file; this process is the client:

1. ingest a synthetic catalog (default 100k tracks) over one IngestTracks stream: tracks per second,
   acknowledged = committed;
2. a full Resolve (wall seconds);
3. FindDuplicates from 8 concurrent clients: p50 / p99 latency (ms, client side), for stored tracks, then for
   unsaved ones (metadata of a re-delivery, no id);
4. ingest 100 new deliveries (re-deliveries of stored recordings under new ids), then an incremental
   Resolve: wall seconds, tracks touched;
5. kill -9 in the middle of a second ingest stream, restart: acknowledged records all there, no partial
   batch.

Writes ``OUT/service/results.json`` and ``results.md``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pyarrow.parquet as pq

from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from catalog_er.service.ingest import BATCH_RECORDS
from catalog_er.service.store import Store

BIN = Path(sys.executable).parent


def _serve(db: Path, log: Path) -> tuple[subprocess.Popen, int]:
    err = log.open("w")
    command = [str(BIN / "catalog-er"), "serve", "--db", str(db), "--port", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        err.write(line)
        if '"serving"' in line:
            threading.Thread(target=lambda: [err.write(x) for x in process.stderr], daemon=True).start()
            return process, int(json.loads(line)["address"].rsplit(":", 1)[1])
    raise RuntimeError(f"server did not start; see {log}")


def _track(row: dict) -> pb.Track:
    return pb.Track(track_id=row["track_id"], title=row["title"], artist=row["artist"] or "",
                    artist_ids=row["artist_ids"] or [], album=row["album"] or "", duration_ms=row["duration_ms"] or 0,
                    isrc=row["isrc"] or "", release_date=row["release_date"] or "", label=row["label"] or "")


def _stream(rows: list[dict]) -> Iterator[pb.IngestTracksRequest]:
    for row in rows:
        yield pb.IngestTracksRequest(track=_track(row))


def _stored(track_ids: list[str]) -> list[pb.FindDuplicatesRequest]:
    return [pb.FindDuplicatesRequest(track_id=track_id, limit=5) for track_id in track_ids]


def _unsaved(rows: list[dict]) -> list[pb.FindDuplicatesRequest]:
    """Look-ups of re-deliveries before they are stored: a stored track's metadata with a new album, no id."""
    tracks = [_track({**row, "track_id": "", "album": (row["album"] or "") + " (Deluxe)"}) for row in rows]
    return [pb.FindDuplicatesRequest(unsaved=pb.UnsavedTrack(track=track), limit=5) for track in tracks]


def _latencies(port: int, requests: list[pb.FindDuplicatesRequest], clients: int, per_client: int) -> np.ndarray:
    """Milliseconds per FindDuplicates call, each of ``clients`` threads with its own channel sending
    ``per_client`` requests drawn at random from ``requests``, one after another."""
    results: list[list[float]] = [[] for _ in range(clients)]

    def work(k: int) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            rng = np.random.default_rng(k)
            stub.FindDuplicates(requests[0])  # connect
            for i in rng.integers(0, len(requests), per_client).tolist():
                started = time.perf_counter()
                stub.FindDuplicates(requests[i])
                results[k].append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.array([x for r in results for x in r])


def _summary(latency: np.ndarray) -> dict[str, float]:
    return {"calls": len(latency), "p50": round(float(np.median(latency)), 2),
            "p99": round(float(np.percentile(latency, 99)), 2), "max": round(float(latency.max()), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--queries", type=int, default=500, help="FindDuplicates calls per client")
    args = parser.parse_args(argv)
    out = args.out / "service"
    out.mkdir(parents=True, exist_ok=True)
    catalog = out / "catalog"
    if not (catalog / "tracks.parquet").exists():
        subprocess.run([str(BIN / "catalog-er"), "synth", "--tracks", str(args.tracks), "--seed", str(args.seed),
                        "--out", str(catalog), "-q"], check=True)
    rows = pq.read_table(catalog / "tracks.parquet").to_pylist()
    rng = np.random.default_rng(args.seed)
    extra = rng.choice(len(rows), 100, replace=False)
    base = [r for i, r in enumerate(rows) if i not in set(extra.tolist())]
    new = [{**rows[i], "track_id": f"late-{k:03d}", "album": (rows[i]["album"] or "") + " (Deluxe)"}
           for k, i in enumerate(extra.tolist())]
    db = out / "service.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    results: dict = {"tracks": len(base), "seed": args.seed, "clients": args.clients}
    process, port = _serve(db, out / "serve.log")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            print(f"[1/5] ingest {len(base):,} tracks over one stream", flush=True)
            started = time.perf_counter()
            summary = stub.IngestTracks(_stream(base)).summary
            seconds = time.perf_counter() - started
            results["ingest"] = {"accepted": summary.accepted, "rejected": summary.rejected,
                                 "seconds": round(seconds, 2), "tracks_per_second": round(summary.accepted / seconds)}
            print("[2/5] full Resolve", flush=True)
            started = time.perf_counter()
            full = stub.Resolve(pb.ResolveRequest(full=True), timeout=3600)
            results["full_resolve"] = {"seconds": round(time.perf_counter() - started, 2),
                                       "open_proposals": full.open_proposals}
        print(f"[3/5] FindDuplicates, {args.clients} concurrent clients × {args.queries}", flush=True)
        stored = _stored([r["track_id"] for r in base])
        results["find_duplicates_ms"] = _summary(_latencies(port, stored, args.clients, args.queries))
        unsaved = _unsaved([base[i] for i in rng.choice(len(base), 5_000, replace=False).tolist()])
        results["find_unsaved_ms"] = _summary(_latencies(port, unsaved, args.clients, args.queries))
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            print("[4/5] ingest 100 new deliveries, incremental Resolve", flush=True)
            stub.IngestTracks(_stream(new))
            started = time.perf_counter()
            step = stub.Resolve(pb.ResolveRequest(), timeout=600)
            results["incremental_resolve"] = {"seconds": round(time.perf_counter() - started, 2),
                                              "tracks_touched": step.tracks_touched,
                                              "proposals_changed": step.proposals_changed,
                                              "incremental": step.incremental}
            print("[5/5] kill -9 during an ingest stream, restart", flush=True)

            def doomed() -> Iterator[pb.IngestTracksRequest]:
                for i, row in enumerate(rows[:30_000]):
                    if i == 12_345:
                        process.kill()
                        process.wait()
                    yield pb.IngestTracksRequest(track=_track({**row, "track_id": f"crash-{i:06d}"}))

            try:
                stub.IngestTracks(doomed())
                crash_status = "OK"
            except grpc.RpcError as error:
                crash_status = error.code().name
    finally:
        process.kill()
        process.wait()
    store = Store(db)
    ids = store.tracks()[0]["track_id"].to_pylist()
    store.close()
    crashed = sum(t.startswith("crash-") for t in ids)
    acknowledged = len(base) + len(new)
    results["crash"] = {"client_status": crash_status, "acknowledged_present": sum(
        not t.startswith("crash-") for t in ids) == acknowledged, "unacknowledged_stored": crashed,
        "whole_batches": crashed % BATCH_RECORDS == 0}
    started = time.perf_counter()
    restarted, port = _serve(db, out / "serve-restart.log")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.CatalogErServiceStub(channel)
        found = stub.FindDuplicates(pb.FindDuplicatesRequest(track_id=new[0]["track_id"], limit=3))
    results["crash"]["restart_first_answer_seconds"] = round(time.perf_counter() - started, 2)
    results["crash"]["restart_answers"] = bool(found.candidates)
    results["find_duplicates_one_client_ms"] = _summary(_latencies(port, _stored([r["track_id"] for r in base]),
                                                                   1, 1_000))
    restarted.terminate()
    results["crash"]["graceful_exit_code"] = restarted.wait(timeout=120)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(_markdown(results))
    print(_markdown(results))
    return 0


def _markdown(r: dict) -> str:
    c = r["crash"]
    lines = [
        f"Service benchmark: {r['tracks']:,} tracks, seed {r['seed']}, `catalog-er serve` in a child process on a "
        f"fresh SQLite file; the client in another process; 2 cores.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| ingest over one IngestTracks stream (acknowledged = committed) | {r['ingest']['tracks_per_second']:,} "
        f"tracks/s ({r['ingest']['accepted']:,} in {r['ingest']['seconds']} s) |",
        f"| full Resolve | {r['full_resolve']['seconds']} s ({r['full_resolve']['open_proposals']:,} open proposals) |",
        f"| FindDuplicates of stored tracks, {r['clients']} concurrent clients, {r['find_duplicates_ms']['calls']:,} "
        f"calls: p50 / p99 | {r['find_duplicates_ms']['p50']} ms / {r['find_duplicates_ms']['p99']} ms |",
        f"| FindDuplicates of unsaved tracks (metadata), {r['clients']} concurrent clients, "
        f"{r['find_unsaved_ms']['calls']:,} calls: p50 / p99 | {r['find_unsaved_ms']['p50']} ms / "
        f"{r['find_unsaved_ms']['p99']} ms |",
        f"| incremental Resolve after 100 new deliveries | {r['incremental_resolve']['seconds']} s "
        f"({r['incremental_resolve']['tracks_touched']:,} tracks regrouped) |",
        f"| kill -9 mid-stream: client status / acknowledged records all present / unacknowledged stored "
        f"(whole batches) | {c['client_status']} / {c['acknowledged_present']} / {c['unacknowledged_stored']:,} "
        f"({c['whole_batches']}) |",
        f"| FindDuplicates, one client, 1,000 calls: p50 / p99 | {r['find_duplicates_one_client_ms']['p50']} ms / "
        f"{r['find_duplicates_one_client_ms']['p99']} ms |",
        f"| restart (read the database and the saved model, build the index) to the first FindDuplicates answer | "
        f"{c['restart_first_answer_seconds']} s (then SIGTERM: exit code {c['graceful_exit_code']}) |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
