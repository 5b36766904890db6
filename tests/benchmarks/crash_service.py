"""kill -9 rounds on a served catalog (``make crash``): 100 rounds of ingest, full Resolve and review bursts killed
at a random moment; writes ``OUT/crash.json`` with the rounds by kind, the acknowledged writes checked and every
problem found (lost acknowledged writes, a failed integrity check, a server that did not start, a process that
outlived the server)."""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from tests.soak.crash_restart import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out/crash"))
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--tracks", type=int, default=5_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        rounds = run(Path(work), rounds_count=args.rounds, tracks=args.tracks)
    result = {"rounds": args.rounds, "tracks": args.tracks, "by_kind": rounds.by_kind,
              "acknowledged_tracks_checked": len(rounds.acknowledged_tracks),
              "acknowledged_reviews_checked": len(rounds.acknowledged_reviews),
              "ingest_streams_sent": rounds.ingest_batches, "resolves_completed": len(rounds.resolve_seconds),
              "resolve_seconds_median": round(statistics.median(rounds.resolve_seconds), 2) if rounds.resolve_seconds
              else None, "problems": rounds.problems,
              "wall_seconds": round(time.perf_counter() - started, 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "crash.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=1))
    return 0 if not rounds.problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
