"""Benchmark: artist resolution on a synthetic catalog (``make bench-artists``).

1. Generate a catalog (default 100k tracks, 1M engagement rows, seed 20261126 — never used while tuning).
2. ``catalog-er resolve`` on tracks alone, then on tracks + artists + engagement, each in its own child
   process (wall time and peak RSS of that child); both evaluated against the ground truth by the same
   code: track F1 with and without artists, artist F1, ECE and the homonym merge rate; the seconds the
   artist stages add (``summary.json`` stage times).
3. Engagement at scale: aggregate ``--engagement-scale`` rows (default 10M, drawn on the same catalog's
   tracks) into listener signatures in this process, timing it and its peak memory.

Writes ``OUT/artists/results.json`` and ``results.md``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from bench_resolve import BIN, run_child

from catalog_er.resolver.artists.engagement import listener_signatures
from catalog_er.resolver.artists.features import link_tracks_to_artists
from catalog_er.resolver.evaluate import evaluate, homonym_merge_rate
from catalog_er.resolver.records import ENGAGEMENT_SCHEMA

ARTIST_STAGES = ("artist features", "artist pairs", "artist model", "artist graph", "score (with artists)",
                 "cluster (with artists)", "propose (with artists)")


def _evaluate_out(catalog: Path, out: Path) -> dict:
    truth_tracks = pq.read_table(catalog / "truth_tracks.parquet")
    proposals, pairs = pq.read_table(out / "proposals.parquet"), pq.read_table(out / "pairs.parquet")
    tracks = evaluate("track", truth_tracks["track_id"], truth_tracks["recording_id"], proposals, pairs)
    result = {"track": tracks.to_dict()}
    if pc.any(pc.equal(proposals["entity_type"], "artist")).as_py():
        truth = pq.read_table(catalog / "truth_artists.parquet")
        candidates = pq.read_table(out / "candidates.parquet") if (out / "candidates.parquet").exists() else None
        result["artist"] = evaluate("artist", truth["artist_id"], truth["entity_id"], proposals, pairs,
                                    candidates).to_dict()
        names = pq.read_table(catalog / "artists.parquet", columns=["artist_id", "name"])
        names = names.take(pc.index_in(truth["artist_id"], value_set=names["artist_id"]))
        merged, total = homonym_merge_rate(truth["artist_id"], names["name"], truth["entity_id"], proposals)
        result["artist"]["homonym_pairs"], result["artist"]["homonym_pairs_merged"] = total, merged
    summary = json.loads((out / "summary.json").read_text())
    result["stage_seconds"] = summary["stage_seconds"]
    return result


def _engagement_at_scale(catalog: Path, rows: int, seed: int) -> dict:
    """Aggregate ``rows`` random (user, track, plays) rows of this catalog into listener signatures."""
    tracks = pq.read_table(catalog / "tracks.parquet", columns=["track_id", "artist_ids"])
    artists = pq.read_table(catalog / "artists.parquet", columns=["artist_id"])
    rng = np.random.default_rng(seed)
    n_users = max(rows // 25, 1)
    user_ids = pa.array([f"u{u:09d}" for u in range(n_users)], pa.string())
    engagement = pa.table({"user_id": user_ids.take(pa.array(rng.integers(0, n_users, rows))),
                           "track_id": tracks["track_id"].take(pa.array(rng.integers(0, tracks.num_rows, rows))),
                           "plays": pa.array(rng.integers(1, 50, rows), pa.int64())}, schema=ENGAGEMENT_SCHEMA)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    links = link_tracks_to_artists(tracks, artists)
    listeners = listener_signatures(engagement, tracks["track_id"], links, artists.num_rows, num_perm=64, seed=1)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rows": rows, "seconds": round(seconds, 2), "rows_used": listeners.rows_used,
            "table_bytes": engagement.nbytes, "peak_rss_bytes": peak, "peak_rss_before_bytes": before}


def _markdown(results: dict) -> str:
    a, b = results["without_artists"], results["with_artists"]
    artist = b["artist"]
    added = sum(b["stage_seconds"].get(stage, 0.0) for stage in ARTIST_STAGES)
    scale = results["engagement_scale"]
    lines = [
        f"Artist benchmark: {results['tracks']:,} tracks, {results['engagement_rows']:,} engagement rows, "
        f"seed {results['seed']}; 2 cores.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| artist pairwise P / R / F1 | {artist['pairwise_precision']:.4f} / {artist['pairwise_recall']:.4f} / "
        f"{artist['pairwise_f1']:.4f} |",
        f"| artist B-cubed F1 | {artist['bcubed_f1']:.4f} |",
        f"| artist ECE (pairs with confidence >= 0.05) | {artist['expected_calibration_error']:.4f} over "
        f"{artist['scored_pairs_evaluated']:,} pairs |",
        f"| artist blocking recall | {artist['blocking_recall']:.4f} over {artist['candidate_pairs']:,} pairs |",
        f"| homonyms merged (same name, different artist) | {artist['homonym_pairs_merged']} of "
        f"{artist['homonym_pairs']} |",
        f"| track pairwise F1 without / with artists | {a['track']['pairwise_f1']:.4f} / "
        f"{b['track']['pairwise_f1']:.4f} |",
        f"| track precision / recall without | {a['track']['pairwise_precision']:.4f} / "
        f"{a['track']['pairwise_recall']:.4f} |",
        f"| track precision / recall with | {b['track']['pairwise_precision']:.4f} / "
        f"{b['track']['pairwise_recall']:.4f} |",
        f"| seconds the artist stages add (sum of their stage times) | {added:.1f} |",
        f"| wall seconds of resolve without / with artists | {results['run_without']['seconds']:.1f} / "
        f"{results['run_with']['seconds']:.1f} |",
        f"| peak RSS without / with artists | {results['run_without']['peak_rss_bytes'] / 1e9:.2f} GB / "
        f"{results['run_with']['peak_rss_bytes'] / 1e9:.2f} GB |",
        f"| {scale['rows']:,} engagement rows → listener signatures | {scale['seconds']:.1f} s, peak RSS "
        f"{scale['peak_rss_bytes'] / 1e9:.2f} GB (table {scale['table_bytes'] / 1e9:.2f} GB) |",
        "",
        "Artist stage seconds: " + ", ".join(f"{stage} {b['stage_seconds'].get(stage, 0.0):.2f}"
                                              for stage in ARTIST_STAGES),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--engagement-rows", type=int, default=1_000_000)
    parser.add_argument("--engagement-scale", type=int, default=10_000_000,
                        help="rows for the aggregation-at-scale measurement (0 skips it)")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    out = args.out / "artists"
    catalog = out / "catalog"
    if not (catalog / "truth_artists.parquet").exists():
        print(f"[1/4] synth {args.tracks:,} tracks, {args.engagement_rows:,} engagement rows", flush=True)
        done = run_child([str(BIN / "catalog-er"), "synth", "--tracks", str(args.tracks), "--seed", str(args.seed),
                          "--engagement-rows", str(args.engagement_rows), "--out", str(catalog), "-q"],
                         3600, out / "logs" / "synth.log")
        if done["exit_code"]:
            return 1
    inputs = ["--tracks", str(catalog / "tracks.parquet")]
    print("[2/4] resolve tracks alone", flush=True)
    run_without = run_child([str(BIN / "catalog-er"), "resolve", *inputs, "--out", str(out / "without"), "-q"],
                            3600, out / "logs" / "without.log")
    print("[3/4] resolve tracks + artists + engagement", flush=True)
    run_with = run_child([str(BIN / "catalog-er"), "resolve", *inputs, "--artists", str(catalog / "artists.parquet"),
                          "--engagement", str(catalog / "engagement.parquet"), "--keep-candidates",
                          "--out", str(out / "with"), "-q"], 3600, out / "logs" / "with.log")
    if run_without["exit_code"] or run_with["exit_code"]:
        return 1
    results = {"tracks": args.tracks, "engagement_rows": args.engagement_rows, "seed": args.seed,
               "run_without": run_without, "run_with": run_with,
               "without_artists": _evaluate_out(catalog, out / "without"),
               "with_artists": _evaluate_out(catalog, out / "with"), "engagement_scale": {}}
    if args.engagement_scale:
        print(f"[4/4] aggregate {args.engagement_scale:,} engagement rows", flush=True)
        results["engagement_scale"] = _engagement_at_scale(catalog, args.engagement_scale, args.seed)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    if results["engagement_scale"]:
        (out / "results.md").write_text(_markdown(results))
        print(_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
