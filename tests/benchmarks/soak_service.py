"""Soak: 32 clients on a served catalog for 10 minutes, mixed reads and writes and full Resolves (``make soak``).

Runs :func:`tests.soak.mixed_load.run` (24 look-up clients, 3 listing, 2 reviewers, 2 ingesters and a full Resolve
every 4 minutes, on a 20,000-track synthetic catalog) and writes ``OUT/soak.json``: statuses by kind, look-up
latency (client side, ms: overall, by query kind, and the worst p99 of any 30 s window), acknowledged writes
missing afterwards, and the resident memory of the server and of its child processes (the maximum in every minute).
Not collected by pytest; the fast part is ``tests/soak/test_soak.py``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tests.soak.mixed_load import run, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out/soak"))
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--tracks", type=int, default=20_000)
    parser.add_argument("--resolve-every", type=float, default=240.0, help="seconds between full Resolves")
    parser.add_argument("--think-seconds", type=float, default=0.1,
                        help="mean pause between a look-up client's calls (exponential)")
    parser.add_argument("--ingest-pool", type=int, default=None,
                        help="ingesters upsert into this many ids each (the catalog stops growing); default: new ids")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        load, checks = run(Path(work), seconds=args.seconds, tracks=args.tracks, think_seconds=args.think_seconds,
                           resolve_every_seconds=args.resolve_every, ingest_pool=args.ingest_pool)
    result = summary(load, checks) | {"seconds": args.seconds, "tracks": args.tracks, "clients": 32,
                                      "think_seconds": args.think_seconds, "resolve_every_seconds": args.resolve_every,
                                      "ingest_pool": args.ingest_pool}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "soak.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "lookup_ms"} | {
        "lookup_ms": {k: v for k, v in result["lookup_ms"].items() if k != "p99_by_window"}}, indent=1))
    return 0 if result["unexpected"] == 0 and not result["missing_ingested"] and not result["missing_reviews"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
