"""Speed half of the audio benchmark: fingerprinting throughput, index search latency, storage.

Throughput is CPU time of this (single-threaded) process, ``time.process_time``; Chromaprint's is fpcalc's
CPU time as a child process. The index filler songs are rendered at the analysis rate in a process pool and
their fingerprints cached as ``.npz`` chunks (``bench_audio_cache``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from multiprocessing.pool import Pool
from pathlib import Path

import bench_audio_cache as cache
import chromaprint_peer
import numpy as np
from bench_audio_corpus import render, song_seed

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ, decode
from catalog_er.fingerprint.index import FingerprintIndex
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples, signatures

FILLER_CHUNK = 250
"""Filler songs per cache file (and per pool task)."""
REPEATS = 3
"""Each timing is the best of this many passes (as timeit does): the least disturbed by other processes."""
TYPICAL_TRACK_SECONDS = 210.0
"""A typical released track (3.5 min), to express per-track signature bytes per hour of catalog."""


def _best_cpu_seconds(work: Callable[[], object]) -> float:
    """Least CPU time (``time.process_time``) of :data:`REPEATS` runs of ``work``."""
    timings = []
    for _ in range(REPEATS):
        started = time.process_time()
        work()
        timings.append(time.process_time() - started)
    return min(timings)


def our_speed(paths: list[Path]) -> dict[str, float]:
    """Audio seconds per CPU second: decode only, fingerprint only, and both end to end (decode from path)."""
    fingerprint_samples(decode(paths[0]))  # warm caches (filterbank, FFT plans) outside the timing
    decoded = [decode(path) for path in paths]
    decode_cpu = _best_cpu_seconds(lambda: [decode(path) for path in paths])
    fingerprint_cpu = _best_cpu_seconds(lambda: [fingerprint_samples(samples) for samples in decoded])
    end_to_end_cpu = _best_cpu_seconds(lambda: [fingerprint_samples(decode(path)) for path in paths])
    audio_seconds = sum(len(samples) for samples in decoded) / ANALYSIS_RATE_HZ
    return {
        "files": len(paths),
        "audio_seconds": round(audio_seconds, 1),
        "decode_cpu_seconds": round(decode_cpu, 3),
        "fingerprint_cpu_seconds": round(fingerprint_cpu, 3),
        "end_to_end_cpu_seconds": round(end_to_end_cpu, 3),
        "decode_x_realtime": round(audio_seconds / decode_cpu, 1),
        "fingerprint_x_realtime": round(audio_seconds / fingerprint_cpu, 1),
        "end_to_end_x_realtime": round(audio_seconds / end_to_end_cpu, 1),
    }


def chromaprint_speed(paths: list[Path], audio_seconds: float) -> dict[str, float]:
    """fpcalc's audio seconds per CPU second over the same files, with and without its process start."""
    speed = min((chromaprint_peer.measure_speed(paths, audio_seconds) for _ in range(REPEATS)),
                key=lambda measured: measured.cpu_seconds)
    return {
        "files": speed.files,
        "audio_seconds": round(speed.audio_seconds, 1),
        "cpu_seconds": round(speed.cpu_seconds, 3),
        "process_start_cpu_seconds": round(speed.startup_cpu_seconds, 4),
        "end_to_end_x_realtime": round(speed.audio_seconds_per_cpu_second, 1),
        "without_process_start_x_realtime": round(speed.without_startup, 1),
    }


def _filler_chunk(job: tuple[Path, int, int, int]) -> Path:
    """Render and fingerprint filler songs ``first..last-1`` at the analysis rate; save them as one chunk."""
    path, seed, first, last = job
    fingerprints = [fingerprint_samples(render(song_seed(seed, number), rate_hz=ANALYSIS_RATE_HZ))
                    for number in range(first, last)]
    cache.save(path, cache.pack(fingerprints))
    return path


def filler_fingerprints(cache_dir: Path, seed: int, first: int, last: int,
                        pool_factory: Callable[[], Pool]) -> tuple[list[Fingerprint], dict[str, float]]:
    """Fingerprints of filler songs ``first..last-1`` (30 s, rendered at 11025 Hz), from cache where present."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for start in range(first, last, FILLER_CHUNK):
        stop = min(start + FILLER_CHUNK, last)
        jobs.append((cache_dir / f"filler_{cache.FILLER_DIGEST}_s{seed}_{start}-{stop}.npz", seed, start, stop))
    missing = [job for job in jobs if not job[0].exists()]
    started = time.perf_counter()
    if missing:
        with pool_factory() as pool:
            for done, _ in enumerate(pool.imap_unordered(_filler_chunk, missing), start=1):
                print(f"  filler chunks {done}/{len(missing)} rendered", flush=True)
    rendered_seconds = time.perf_counter() - started
    fingerprints = [f for job in jobs for f in cache.unpack(cache.load(job[0]))]
    return fingerprints, {"filler_tracks": last - first, "chunks_rendered": len(missing),
                          "chunks_from_cache": len(jobs) - len(missing),
                          "render_wall_seconds": round(rendered_seconds, 1)}


def index_search(track_ids: list[str], fingerprints: list[Fingerprint], queries: list[tuple[str, Fingerprint]],
                 unindexed: list[Fingerprint]) -> dict[str, float]:
    """Build the index, time ``search`` per query (wall, ms) and score the first hit."""
    started, cpu_started = time.perf_counter(), time.process_time()
    index = FingerprintIndex.build(track_ids, fingerprints)
    build_seconds, build_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    index.search(queries[0][1])  # warm-up
    latencies, first_correct, no_hit = [], 0, 0
    for expected, query in queries:
        started = time.perf_counter()
        hits = index.search(query)
        latencies.append((time.perf_counter() - started) * 1000)
        first_correct += bool(hits) and hits[0].track_id == expected
        no_hit += not hits
    unindexed_hits = sum(bool(index.search(query)) for query in unindexed)
    latency = np.array(latencies)
    return {
        "tracks": len(index),
        "postings": index.postings,
        "build_wall_seconds": round(build_seconds, 2),
        "build_cpu_seconds": round(build_cpu, 2),
        "queries": len(queries),
        "median_ms": round(float(np.median(latency)), 2),
        "p95_ms": round(float(np.percentile(latency, 95)), 2),
        "max_ms": round(float(latency.max()), 2),
        "hit_rate_first_correct": round(first_correct / len(queries), 4),
        "queries_without_hit": no_hit,
        "queries_wrong_first": len(queries) - first_correct - no_hit,
        "unindexed_queries": len(unindexed),
        "unindexed_queries_with_a_hit": unindexed_hits,
    }


def storage(fingerprints: list[Fingerprint], index_postings: int, index_audio_seconds: float) -> dict[str, float]:
    """Bytes per hour of audio: fingerprint (hashes + frames), MinHash signature, index postings, Chromaprint."""
    audio_seconds = sum(f.seconds for f in fingerprints)
    fingerprint_bytes = sum(f.storage_bytes() for f in fingerprints)
    signature = signatures(fingerprints[:1])
    signature_bytes = int(signature.shape[1] * signature.itemsize)
    mean_seconds = audio_seconds / len(fingerprints)
    chromaprint_seconds = min(mean_seconds, chromaprint_peer.FPCALC_LENGTH_SECONDS)
    return {
        "tracks": len(fingerprints),
        "mean_track_seconds": round(mean_seconds, 1),
        "fingerprint_bytes_per_hour": round(fingerprint_bytes / audio_seconds * 3600),
        "hashes_per_second": round(sum(len(f.hashes) for f in fingerprints) / audio_seconds, 1),
        "signature_bytes_per_track": signature_bytes,
        "signature_bytes_per_hour_at_mean_track": round(signature_bytes * 3600 / mean_seconds),
        "signature_bytes_per_hour_at_3.5_min_tracks": round(signature_bytes * 3600 / TYPICAL_TRACK_SECONDS),
        "index_posting_bytes_per_hour": round(index_postings * 8 / index_audio_seconds * 3600),
        "chromaprint_raw_bytes_per_hour": round(4 / chromaprint_peer.ITEM_SECONDS * 3600),
        "chromaprint_raw_bytes_per_track_at_mean_track": round(4 * chromaprint_seconds / chromaprint_peer.ITEM_SECONDS),
    }
