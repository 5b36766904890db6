"""Runs the audio benchmark's sections in order and writes ``results.json`` / ``results.md`` (see bench_audio.py)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.pool import Pool
from pathlib import Path

import bench_audio_cache as cache
import bench_audio_quality as quality
import bench_audio_speed as speed
import chromaprint_peer
import numpy as np
from bench_audio_corpus import SONG_SECONDS, distortions, song_seed
from bench_audio_report import markdown

from catalog_er.fingerprint import match

OTHER_SONG_NUMBER = 1_000_000
"""Song numbers from here on are same-key-and-tempo negatives (never indexed)."""
EXCERPT_SONG_NUMBER = 2_000_000
"""and from here on the 200 s songs of the excerpt case."""


def _cpu_seconds() -> float:
    """CPU seconds of this process and every reaped descendant (pool workers, fpcalc), user + system."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class _Sections:
    """Wall and CPU seconds per section: on a shared box wall time varies, CPU time much less."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._started = (time.perf_counter(), _cpu_seconds())

    def close(self, name: str) -> None:
        now = (time.perf_counter(), _cpu_seconds())
        self.wall[name], self.cpu[name] = now[0] - self._started[0], now[1] - self._started[1]
        self._started = now


def _pool_factory(processes: int) -> Callable[[], Pool]:
    """Pools of ``processes`` forked workers."""
    context = multiprocessing.get_context("fork")  # workers inherit module state (pairs) and the env
    return partial(context.Pool, processes)


def _fpcalc_version() -> str:
    completed = subprocess.run(["fpcalc", "-version"], capture_output=True, text=True, check=False)
    return completed.stdout.strip()


def _recordings(args: argparse.Namespace, pool_factory: Callable[[], Pool], speed_dir: Path,
                chromaprint: bool) -> list[quality.RecordingOutcome]:
    """Run every recording job in the pool, in order, printing progress."""
    names = list(distortions())
    tasks = [
        quality.RecordingTask(
            number=number,
            seed=song_seed(args.seed, number),
            other_seed=song_seed(args.seed, OTHER_SONG_NUMBER + number) if number < args.hard_negatives else None,
            query_distortion=names[number % len(names)],
            speed_dir=speed_dir if number < args.speed_files else None,
            chromaprint=chromaprint,
            cache_dir=args.out / "cache",
        )
        for number in range(args.recordings)
    ]
    outcomes = []
    started = time.perf_counter()
    with pool_factory() as pool:
        for outcome in pool.imap(quality.run_recording, tasks, chunksize=1):
            outcomes.append(outcome)
            if len(outcomes) % 25 == 0 or len(outcomes) == len(tasks):
                print(f"  recordings {len(outcomes)}/{len(tasks)} ({time.perf_counter() - started:.0f} s)", flush=True)
    cached = sum(o.from_cache for o in outcomes)
    print(f"  {cached} of {len(outcomes)} recordings' fingerprints came from the cache", flush=True)
    return outcomes


def _match_thresholds() -> dict[str, float]:
    """Every ``MIN_*`` verdict threshold of fingerprint/match.py, as it is now."""
    return {name: getattr(match, name) for name in sorted(dir(match)) if name.startswith("MIN_")}


def _notes(results: dict) -> list[str]:
    """Plain-language observations drawn from the numbers (thresholds and their margins)."""
    rules = ", ".join(f"{name} = {value}" for name, value in results["config"]["match_thresholds"].items())
    notes = [f"catalog-er verdict (fingerprint/match.py): {rules}. Chromaprint verdict: AcoustID "
             f"acoustid_compare2 score > {chromaprint_peer.MATCH_THRESHOLD} with max offset "
             f"{chromaprint_peer.MAX_OFFSET_ITEMS} items; fpcalc fingerprints the first "
             f"{chromaprint_peer.FPCALC_LENGTH_SECONDS} s of a file."]
    worst = min(results["recall"].items(), key=lambda item: item[1]["catalog_er"]["rate"])
    if worst[1]["catalog_er"]["rate"] < 1.0:
        notes.append(f"lowest catalog-er recall: {worst[0]} at {100 * worst[1]['catalog_er']['rate']:.1f}% "
                     f"(median share {worst[1]['catalog_er']['median_share']:.3f}).")
    pairs = results["false_matches"]["distinct_pairs"]["catalog_er"]
    notes.append(f"closest distinct-recording pair for catalog-er: score {pairs['max_score']}, share "
                 f"{pairs['max_share']:.3f} (99.9th percentile score {pairs['p99_9_score']:.1f}).")
    for kind, row in results["false_matches"]["hard_negatives"].items():
        ours = row["catalog_er"]
        notes.append(f"{kind.replace('_', ' ')}: catalog-er median share {ours['median_share']:.3f}, max "
                     f"{ours['max_share']:.3f}, max score {ours['max_score']}.")
    low, high = float(match.TIME_SCALES.min()), float(match.TIME_SCALES.max())
    outside = [s for s in results["false_matches"]["distinct_pairs"]["catalog_er"]["matches_time_scales"]
               if not low - 0.005 <= s <= high + 0.005]
    if outside:
        notes.append(f"{len(outside)} distinct-recording false matches align at a time scale outside the searched "
                     f"{low}–{high} (e.g. {outside[:4]}): the refitted line's slope is not held to that range.")
    errors = {name: row["catalog_er"]["decode_errors"] for name, row in results["recall"].items()
              if row["catalog_er"]["decode_error_count"]}
    if errors:
        notes.append(f"deliveries that failed to decode (counted as misses): {errors}.")
    return notes


def _finite(value: object) -> object:
    """``value`` with every NaN replaced by None, so results.json is strict JSON."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    if isinstance(value, float) and value != value:
        return None
    return value


def run(args: argparse.Namespace) -> int:
    """Every section in order; returns the process exit code."""
    started = time.perf_counter()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    pool_factory = _pool_factory(args.processes)
    chromaprint = not args.no_chromaprint and chromaprint_peer.find_fpcalc() is not None
    if not args.no_chromaprint and not chromaprint:
        print("Chromaprint: fpcalc is not installed (Debian: apt-get install -y libchromaprint-tools); "
              "running catalog-er alone, Chromaprint columns are n/a.", flush=True)
    sections = _Sections()
    speed_dir = Path(tempfile.mkdtemp(prefix="bench_audio_files_"))
    try:
        print(f"[1/5] {args.recordings} recordings × {len(distortions())} distortions", flush=True)
        outcomes = _recordings(args, pool_factory, speed_dir, chromaprint)
        sections.close("recordings")

        print(f"[2/5] false matches: {args.recordings * (args.recordings - 1) // 2:,} pairs; "
              f"{args.excerpts} mid-track excerpts", flush=True)
        fingerprints = [o.fingerprint for o in outcomes]
        chroma_fingerprints = [o.chromaprint for o in outcomes] if chromaprint else None
        pairs = quality.distinct_pairs(pool_factory, fingerprints, chroma_fingerprints)
        with pool_factory() as pool:
            excerpt_rows = pool.map(partial(quality.run_excerpt, chromaprint=chromaprint),
                                    [song_seed(args.seed, EXCERPT_SONG_NUMBER + i) for i in range(args.excerpts)])
        sections.close("false_matches_and_excerpts")

        print(f"[3/5] speed over {args.speed_files} MP3 and {args.speed_files} WAV files, one core", flush=True)
        speed_results = {}
        for kind in ("mp3", "wav"):
            paths = sorted(speed_dir.glob(f"*.{kind}"))
            ours = speed.our_speed(paths)
            peer = speed.chromaprint_speed(paths, ours["audio_seconds"]) if chromaprint else None
            speed_results[kind] = {"catalog_er": ours, "chromaprint": peer}
        sections.close("speed")

        print(f"[4/5] index of {args.index_size:,} tracks", flush=True)
        fillers, filler_info = speed.filler_fingerprints(out / "cache", args.seed, args.recordings, args.index_size,
                                                         pool_factory)
        track_ids = [f"recording-{n}" for n in range(args.recordings)]
        track_ids += [f"filler-{n}" for n in range(args.recordings, args.index_size)]
        queries = [(f"recording-{o.number}", o.query) for o in outcomes if o.query is not None]
        unindexed = [o.unindexed for o in outcomes if o.unindexed is not None]
        index_results = speed.index_search(track_ids, fingerprints + fillers, queries, unindexed)
        index_results.update(filler_info)
        sections.close("index")
    finally:
        shutil.rmtree(speed_dir, ignore_errors=True)

    print("[5/5] storage and report", flush=True)
    all_fingerprints = fingerprints + fillers
    storage = speed.storage(fingerprints, index_results["postings"], sum(f.seconds for f in all_fingerprints))
    sections.close("report")
    sections.wall["total"], sections.cpu["total"] = time.perf_counter() - started, sum(sections.cpu.values())
    results = {
        "config": {
            "recordings": args.recordings, "index_size": args.index_size, "seed": args.seed,
            "hard_negatives": args.hard_negatives, "speed_files": args.speed_files, "excerpts": args.excerpts,
            "processes": args.processes, "cpu_count": os.cpu_count(), "song_seconds": SONG_SECONDS,
            "distortions": list(distortions()), "chromaprint": chromaprint,
            "fpcalc_version": _fpcalc_version() if chromaprint else None,
            "chromaprint_rule": {"threshold": chromaprint_peer.MATCH_THRESHOLD,
                                 "max_offset_items": chromaprint_peer.MAX_OFFSET_ITEMS,
                                 "fpcalc_length_seconds": chromaprint_peer.FPCALC_LENGTH_SECONDS},
            "match_thresholds": _match_thresholds(),
            "python": platform.python_version(), "numpy": np.__version__,
            "source_digests": {"filler": cache.FILLER_DIGEST, "delivery": cache.DELIVERY_DIGEST,
                               "verdict": cache.VERDICT_DIGEST},
        },
        "recall": quality.summarize_rows([row for o in outcomes for row in o.deliveries], chromaprint=chromaprint),
        "excerpt": quality.summarize_rows(excerpt_rows, chromaprint=chromaprint).get("excerpt_150s_of_200s"),
        "false_matches": {
            "distinct_pairs": quality.summarize_pairs(pairs, chromaprint=chromaprint),
            "hard_negatives": quality.summarize_rows([row for o in outcomes for row in o.negatives],
                                                     chromaprint=chromaprint),
        },
        "threshold_sweep": quality.threshold_sweep(
            [row for o in outcomes for row in o.deliveries], [row for o in outcomes for row in o.negatives], pairs,
            current_share=match.MIN_ALIGNED_SHARE),
        "speed": speed_results,
        "index": index_results,
        "storage": storage,
        "recordings_from_cache": sum(o.from_cache for o in outcomes),
        "run_seconds": {name: round(value, 1) for name, value in sections.wall.items()},
        "cpu_seconds": {name: round(value, 1) for name, value in sections.cpu.items()},
    }
    results["notes"] = _notes(results)
    (out / "results.json").write_text(json.dumps(_finite(results), indent=2) + "\n")
    report = markdown(results)
    (out / "results.md").write_text(report)
    print(report)
    return 0
