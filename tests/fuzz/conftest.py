"""One served catalog for the fuzz tests: a small synthetic catalog ingested, resolved, and given audio."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_er.fingerprint.synthetic import encode, render_song
from catalog_er.resolver.synthetic import SyntheticCatalog
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.api import catalog_er_pb2_grpc as pb_grpc
from tests.fuzz.served import TOKEN, ServedProcess, serve

REPORT_VARIABLE = "CATALOG_ER_FUZZ_REPORT"
"""Where to write the JSON report of every call (``make fuzz`` sets it); nothing is written when unset."""


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, small_catalog: SyntheticCatalog) -> Iterator[ServedProcess]:
    work = tmp_path_factory.mktemp("fuzz")
    for running in serve(work / "catalog.sqlite", log=work / "server.log"):
        auth = (("authorization", f"Bearer {TOKEN}"),)
        with running.channel() as channel:
            stub = pb_grpc.CatalogErServiceStub(channel)
            rows = small_catalog.tracks.to_pylist()[:400]
            stub.IngestTracks((pb.IngestTracksRequest(track=pb.Track(
                track_id=r["track_id"], title=r["title"] or "", artist=r["artist"] or "", album=r["album"] or "",
                duration_ms=r["duration_ms"] or 0, isrc=r["isrc"] or "")) for r in rows), metadata=auth)
            stub.Resolve(pb.ResolveRequest(full=True), metadata=auth)
            running.stored_track_ids = [r["track_id"] for r in rows]
            for k, r in enumerate(rows[:3]):
                audio = encode(render_song(seed=k, seconds=8.0, rate_hz=8_000), rate_hz=8_000, format="flac")
                stub.UploadAudio(iter([pb.UploadAudioRequest(header=pb.AudioHeader(track_id=r["track_id"])),
                                       pb.UploadAudioRequest(chunk=audio)]), metadata=auth)
        yield running
        report = os.environ.get(REPORT_VARIABLE)
        if report:
            write_report(running, Path(report))


def write_report(running: ServedProcess, path: Path) -> None:
    """Counts by method and status, the slowest calls, wall-time quantiles and the server's peak memory."""
    outcomes = running.outcomes
    by_method: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        codes = by_method.setdefault(outcome.method, {})
        codes[outcome.code] = codes.get(outcome.code, 0) + 1
    seconds = sorted(o.seconds for o in outcomes)

    def quantile(q: float) -> float:
        return seconds[min(len(seconds) - 1, int(q * len(seconds)))] if seconds else 0.0

    slowest = sorted(outcomes, key=lambda o: -o.seconds)[:15]
    reasons: dict[str, dict[str, int]] = {}  # what the refusals said, first 60 characters, by method
    for outcome in outcomes:
        said = reasons.setdefault(outcome.method, {})
        said[outcome.details[:60]] = said.get(outcome.details[:60], 0) + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "calls": len(outcomes),
        "by_method": by_method,
        "internal_or_unknown": sum(o.code in ("INTERNAL", "UNKNOWN") for o in outcomes),
        "deadline_exceeded": sum(o.code == "DEADLINE_EXCEEDED" for o in outcomes),
        "seconds": {"p50": quantile(0.5), "p99": quantile(0.99), "max": quantile(1.0)},
        "over_one_second": sum(s > 1.0 for s in seconds),
        "over_one_second_except_resolve": sum(o.seconds > 1.0 and o.method != "Resolve" for o in outcomes),
        "slowest": [vars(o) for o in slowest],
        "reasons": {method: dict(sorted(said.items(), key=lambda kv: -kv[1])[:12]) for method, said in reasons.items()},
        "server_alive": running.alive(),
        "server_peak_memory_mb": round(running.peak_memory_bytes() / 2**20, 1) if running.alive() else None,
        "lookup_process_peak_memory_mb": round(running.children_peak_memory_bytes() / 2**20, 1)
        if running.alive() else None,
    }, indent=2))
