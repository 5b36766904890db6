"""Benchmark: catalog-er vs Splink on synthetic catalogs of growing size (``make bench``).

For each size: generate a catalog (seeded, cached), run ``catalog-er resolve`` and the Splink peer each in
its own child process (peak memory = that child's ru_maxrss via ``os.wait4``), evaluate both against the
ground truth with the same code, and write ``OUT/results.json`` and ``OUT/results.md``.

Not collected by pytest (file name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog_er.resolver.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run_child(command: list[str], timeout_seconds: float, log_path: Path) -> dict[str, float | int | bool]:
    """Run ``command``; return wall seconds, peak RSS bytes of that child, exit code, timed-out flag.

    The child's output goes to ``log_path`` (a pipe could fill up and stall it).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
    timed_out = False
    deadline = started + timeout_seconds
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            process.kill()
            timed_out = True
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.2)
    log.close()
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code != 0 and not timed_out:
        print(log_path.read_text()[-3000:], file=sys.stderr)
    return {"seconds": round(time.perf_counter() - started, 2), "peak_rss_bytes": usage.ru_maxrss * 1024,
            "exit_code": exit_code, "timed_out": timed_out}


def splink_as_contract(out: Path) -> tuple[pa.Table, pa.Table]:
    """Splink's clusters and pairs in our proposals/pairs contract, so one evaluator judges both."""
    clusters = pq.read_table(out / "splink_clusters.parquet")
    grouped = clusters.group_by("cluster_id").aggregate([("track_id", "list")])
    grouped = grouped.filter(pc.greater(pc.list_value_length(grouped["track_id_list"]), 1))
    proposals = pa.table({
        "entity_type": pa.array(["track"] * grouped.num_rows, pa.string()),
        "member_ids": grouped["track_id_list"],
    })
    pairs = pq.read_table(out / "splink_pairs.parquet")
    pairs = pairs.filter(pc.greater_equal(pairs["match_probability"], 0.05))
    pairs = pa.table({
        "entity_type": pa.array(["track"] * pairs.num_rows, pa.string()),
        "left_id": pairs["left_id"], "right_id": pairs["right_id"],
        "confidence": pairs["match_probability"],
    })
    return proposals, pairs


def bench_size(n_tracks: int, seed: int, out: Path, *, run_splink: bool, timeout_seconds: float) -> dict:
    """Everything measured for one catalog size."""
    catalog = out / f"n{n_tracks}" / "catalog"
    if not (catalog / "truth_tracks.parquet").is_file():
        subprocess.run([str(BIN / "catalog-er"), "synth", "--out", str(catalog), "--tracks", str(n_tracks),
                        "--seed", str(seed), "-q"], check=True, cwd=ROOT)
    truth = pq.read_table(catalog / "truth_tracks.parquet")
    result: dict[str, object] = {"tracks": n_tracks, "seed": seed}

    ours_dir = out / f"n{n_tracks}" / "catalog_er"
    ours_run = run_child([str(BIN / "catalog-er"), "resolve", "--tracks", str(catalog / "tracks.parquet"),
                          "--out", str(ours_dir), "--keep-candidates", "-q"], timeout_seconds,
                         out / f"n{n_tracks}" / "catalog_er.log")
    if ours_run["exit_code"] == 0:
        summary = json.loads((ours_dir / "summary.json").read_text())
        evaluation = evaluate("track", truth["track_id"], truth["recording_id"],
                              pq.read_table(ours_dir / "proposals.parquet"),
                              pq.read_table(ours_dir / "pairs.parquet"),
                              pq.read_table(ours_dir / "candidates.parquet"))
        result["catalog_er"] = {**ours_run, "stage_seconds": summary["stage_seconds"],
                                "counts": summary["counts"], **_figures(evaluation.to_dict())}
    else:
        result["catalog_er"] = ours_run

    if run_splink:
        splink_dir = out / f"n{n_tracks}" / "splink"
        splink_run = run_child([str(BIN / "python"), "tests/benchmarks/splink_peer.py", "--tracks",
                                str(catalog / "tracks.parquet"), "--out", str(splink_dir), "--seed", str(seed),
                                "--pairs-min-probability", "0.05"],
                               timeout_seconds, out / f"n{n_tracks}" / "splink.log")
        if splink_run["exit_code"] == 0:
            proposals, pairs = splink_as_contract(splink_dir)
            evaluation = evaluate("track", truth["track_id"], truth["recording_id"], proposals, pairs)
            summary = json.loads((splink_dir / "splink_summary.json").read_text())
            result["splink"] = {**splink_run, "phase_seconds": summary.get("seconds"),
                                **_figures(evaluation.to_dict())}
        else:
            result["splink"] = splink_run
    return result


def _figures(evaluation: dict) -> dict:
    keys = ("pairwise_precision", "pairwise_recall", "pairwise_f1", "bcubed_f1", "blocking_recall",
            "candidate_pairs", "expected_calibration_error", "scored_pairs_evaluated")
    return {k: evaluation[k] for k in keys}


def _cell(system: dict | None, key: str, fmt: str) -> str:
    if not system or key not in system or system[key] is None:
        return "—" if not system or not system.get("timed_out") else "timeout"
    return format(system[key], fmt)


def markdown(results: list[dict]) -> str:
    """Side-by-side table of both systems per size, with time and memory ratios."""
    lines = [
        "| tracks | system | pairwise P | pairwise R | F1 | B³ F1 | ECE | blocking recall | candidate pairs "
        "| wall s | peak RSS GB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name in ("catalog_er", "splink"):
            s = r.get(name)
            if s is None:
                continue
            rss = "—" if "peak_rss_bytes" not in s else f"{s['peak_rss_bytes'] / 1e9:.2f}"
            lines.append(
                f"| {r['tracks']:,} | {name.replace('_', '-')} | {_cell(s, 'pairwise_precision', '.4f')} | "
                f"{_cell(s, 'pairwise_recall', '.4f')} | {_cell(s, 'pairwise_f1', '.4f')} | "
                f"{_cell(s, 'bcubed_f1', '.4f')} | {_cell(s, 'expected_calibration_error', '.4f')} | "
                f"{_cell(s, 'blocking_recall', '.4f')} | {_cell(s, 'candidate_pairs', ',')} | "
                f"{_cell(s, 'seconds', '.1f')} | {rss} |"
            )
    lines.append("")
    lines.append("| tracks | catalog-er stage seconds |")
    lines.append("|---:|---|")
    for r in results:
        stages = r.get("catalog_er", {}).get("stage_seconds")
        if stages:
            lines.append(f"| {r['tracks']:,} | " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()) + " |")
    ratios = []
    for r in results:
        ours, peer = r.get("catalog_er", {}), r.get("splink", {})
        if ours.get("pairwise_f1") is not None and peer.get("pairwise_f1") is not None:
            ratios.append(f"- {r['tracks']:,} tracks: Splink takes {peer['seconds'] / ours['seconds']:.2f}× "
                          f"the wall time and {peer['peak_rss_bytes'] / ours['peak_rss_bytes']:.2f}× the peak "
                          f"memory of catalog-er; F1 {ours['pairwise_f1']:.4f} vs {peer['pairwise_f1']:.4f}, "
                          f"ECE {ours['expected_calibration_error']:.4f} vs {peer['expected_calibration_error']:.4f}")
    return "\n".join([*lines, "", *ratios]) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    parser.add_argument("--no-splink", action="store_true", help="skip the Splink peer")
    parser.add_argument("--splink-max-tracks", type=int, default=1_000_000,
                        help="skip Splink above this size")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child run")
    args = parser.parse_args()
    results = []
    for n_tracks in args.sizes:
        print(f"== {n_tracks:,} tracks", flush=True)
        result = bench_size(n_tracks, args.seed, args.out,
                            run_splink=not args.no_splink and n_tracks <= args.splink_max_tracks,
                            timeout_seconds=args.timeout)
        print(json.dumps(result, indent=1), flush=True)
        results.append(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (args.out / "results.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
