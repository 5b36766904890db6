"""Measures the real-music benchmark (see bench_audio_real.py) and writes ``results.json`` / ``results.md``.

Two passes over a forked process pool. Pass 1 fingerprints every corpus file as shipped (the references).
Pass 2, one job per song: make each delivery (``bench_audio_real_deliveries``), decode and fingerprint it
from its file, verify it against the song's reference and against every other song's reference, and run
fpcalc on it. CPU time is ``time.process_time`` inside the worker around each step; fpcalc's is the
worker's ``RUSAGE_CHILDREN`` around its run. libmpg123 prints resync warnings for some MP3s straight to
the process's stderr (C level): workers send their stderr to ``OUT/worker-stderr.log``.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.pool import Pool
from pathlib import Path

import chromaprint_peer
import numpy as np
from bench_audio_quality import PairRow, distinct_pairs, summarize_pairs, summarize_rows
from bench_audio_real_deliveries import DISTORTIONS, FORMATS, HARD_NEGATIVES, PLAIN, Deliveries, DeliveryError
from bench_audio_real_report import markdown
from bench_audio_run import _cpu_seconds, _finite, _fpcalc_version, _match_thresholds
from real_music import Song, build_corpus, install_command

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ, InvalidAudioError, decode
from catalog_er.fingerprint.match import MatchResult, verify
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples

_EMPTY_CHROMA = np.empty(0, np.uint32)


@dataclass
class Measured:
    """One file decoded, fingerprinted and fpcalc'ed, with the CPU seconds of each step."""

    fingerprint: Fingerprint | None
    chromaprint: np.ndarray | None
    error: str = ""
    message: str = ""
    audio_seconds: float = math.nan
    decode_cpu: float = math.nan
    fingerprint_cpu: float = math.nan
    fpcalc_cpu: float = math.nan


@dataclass
class DeliveryOutcome:
    """A delivery's verdicts: against its song (``row``) and against every other song (``cross_*``)."""

    song_id: str
    distortion: str
    format: str
    row: PairRow
    message: str
    audio_seconds: float
    decode_cpu: float
    fingerprint_cpu: float
    verify_cpu: float
    fpcalc_cpu: float
    from_cache: bool
    cross_pairs: int = 0
    cross_matches: list[str] = field(default_factory=list)
    cross_max_share: float = 0.0
    cross_chromaprint_matches: list[str] = field(default_factory=list)


def _measure(path: Path | str, *, chromaprint: bool) -> Measured:
    """Decode + fingerprint ``path`` through our code and fpcalc it, timing each step."""
    started = time.process_time()
    try:
        samples = decode(path)
    except InvalidAudioError as failure:
        measured = Measured(None, None, failure.reason, str(failure))
    else:
        decoded = time.process_time()
        fingerprint = fingerprint_samples(samples)
        measured = Measured(fingerprint, None, audio_seconds=len(samples) / ANALYSIS_RATE_HZ,
                            decode_cpu=decoded - started, fingerprint_cpu=time.process_time() - decoded)
    if chromaprint:
        before = chromaprint_peer.children_cpu_seconds()
        try:
            measured.chromaprint = chromaprint_peer.fpcalc_raw(path)
        except chromaprint_peer.FpcalcError:
            measured.chromaprint = _EMPTY_CHROMA
        measured.fpcalc_cpu = chromaprint_peer.children_cpu_seconds() - before
    return measured


def _row(label: str, result: MatchResult | None, chroma_score: float, error: str) -> PairRow:
    if result is None:
        return PairRow(label, False, 0, 0.0, math.nan, math.nan, chromaprint_score=chroma_score, error=error)
    return PairRow(label, result.is_match, result.score, result.share, result.time_scale, result.offset_seconds,
                   result.query_coverage, result.reference_coverage, result.distinctiveness, chroma_score)


def _chroma_score(query: np.ndarray | None, reference: np.ndarray | None) -> float:
    if query is None or reference is None:
        return math.nan
    return chromaprint_peer.compare(query, reference)


_REFERENCES: dict[str, Measured] = {}
"""song_id → the shipped file measured (pass 1), inherited by the forked pass-2 workers."""


def _quiet_stderr(log: Path) -> None:
    """Pool initializer: send this worker's C-level stderr (libmpg123 warnings) to ``log``."""
    descriptor = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(descriptor, 2)
    os.close(descriptor)


def _pool_factory(processes: int, log: Path) -> Callable[[], Pool]:
    context = multiprocessing.get_context("fork")  # workers inherit _REFERENCES and the one-thread env
    return partial(context.Pool, processes, initializer=_quiet_stderr, initargs=(log,))


def _reference(song: Song, chromaprint: bool) -> Measured:
    return _measure(song.path, chromaprint=chromaprint)


@dataclass(frozen=True)
class SongTask:
    """Pass-2 job: the song, the (distortion, format) pairs to deliver, where deliveries are cached."""

    song: Song
    plan: tuple[tuple[str, str], ...]
    cache_dir: Path
    chromaprint: bool


def _deliver(task: SongTask, deliveries: Deliveries, distortion: str, format_name: str,
             reference: Measured) -> DeliveryOutcome:
    fmt = FORMATS[format_name]
    recipe = DISTORTIONS.get(distortion) or HARD_NEGATIVES[distortion]
    label = f"{distortion}|{format_name}"
    try:
        path, from_cache = deliveries.path(task.song, recipe, fmt)
    except DeliveryError as failure:
        row = _row(label, None, math.nan, "ffmpeg_failed")
        return DeliveryOutcome(task.song.song_id, distortion, format_name, row, str(failure), *[math.nan] * 5,
                               from_cache=False)
    try:
        measured = _measure(path, chromaprint=task.chromaprint)
    finally:
        deliveries.release(path, fmt)
    result, verify_cpu = None, math.nan
    if measured.fingerprint is not None and reference.fingerprint is not None:
        started = time.process_time()
        result = verify(measured.fingerprint, reference.fingerprint)
        verify_cpu = time.process_time() - started
    row = _row(label, result, _chroma_score(measured.chromaprint, reference.chromaprint), measured.error)
    outcome = DeliveryOutcome(task.song.song_id, distortion, format_name, row, measured.message,
                              measured.audio_seconds, measured.decode_cpu, measured.fingerprint_cpu, verify_cpu,
                              measured.fpcalc_cpu, from_cache)
    for other_id, other in _REFERENCES.items():
        if other_id == task.song.song_id or other.fingerprint is None or measured.fingerprint is None:
            continue
        outcome.cross_pairs += 1
        cross = verify(measured.fingerprint, other.fingerprint)
        outcome.cross_max_share = max(outcome.cross_max_share, cross.share)
        if cross.is_match:
            outcome.cross_matches.append(other_id)
        if chromaprint_peer.is_match(_chroma_score(measured.chromaprint, other.chromaprint)):
            outcome.cross_chromaprint_matches.append(other_id)
    return outcome


def _run_song(task: SongTask) -> list[DeliveryOutcome]:
    """Every delivery of one song (pass 2)."""
    reference = _REFERENCES[task.song.song_id]
    with tempfile.TemporaryDirectory(prefix="bench_audio_real_") as scratch:
        deliveries = Deliveries(task.cache_dir, Path(scratch))
        return [_deliver(task, deliveries, distortion, format_name, reference)
                for distortion, format_name in task.plan]


def _plan(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """Every format for the plain transcode, every distortion and hard negative in the distortion formats."""
    plan = [(PLAIN.name, f) for f in args.formats]
    plan += [(d, f) for d in args.distortions if d != PLAIN.name for f in args.distortion_formats]
    plan += [(d, args.distortion_formats[0]) for d in HARD_NEGATIVES]
    return tuple(plan)


def _speed(outcomes: list[DeliveryOutcome], references: dict[str, Measured], songs: list[Song]) -> dict[str, dict]:
    """Per format (plain transcodes; ``shipped`` = the corpus files): CPU seconds and × real time."""
    groups: dict[str, list[tuple[float, float, float, float, float]]] = {}
    for song in songs:
        ref = references[song.song_id]
        if ref.fingerprint is not None:
            groups.setdefault("shipped (Ogg Vorbis / MP3)", []).append(
                (ref.audio_seconds, ref.decode_cpu, ref.fingerprint_cpu, math.nan, ref.fpcalc_cpu))
    for o in outcomes:
        if o.distortion == PLAIN.name and not o.row.error:
            groups.setdefault(o.format, []).append(
                (o.audio_seconds, o.decode_cpu, o.fingerprint_cpu, o.verify_cpu, o.fpcalc_cpu))
    speed = {}
    for name, rows in groups.items():
        audio, decode_cpu, fingerprint_cpu, verify_cpu, fpcalc_cpu = (np.array(column) for column in zip(*rows,
                                                                                                           strict=True))
        seconds = float(audio.sum())
        ours = float(decode_cpu.sum() + fingerprint_cpu.sum() + np.nansum(verify_cpu))
        fpcalc_seconds = float(np.minimum(audio, chromaprint_peer.FPCALC_LENGTH_SECONDS).sum())
        fpcalc_total = float(np.nansum(fpcalc_cpu))

        def ratio(numerator: float, denominator: float) -> float:
            return round(numerator / denominator, 1) if denominator > 0 else math.nan

        speed[name] = {
            "files": len(rows), "audio_seconds": round(seconds, 1),
            "decode_cpu_seconds": round(float(decode_cpu.sum()), 3),
            "fingerprint_cpu_seconds": round(float(fingerprint_cpu.sum()), 3),
            "verify_cpu_seconds": round(float(np.nansum(verify_cpu)), 3),
            "decode_x_realtime": ratio(seconds, float(decode_cpu.sum())),
            "fingerprint_x_realtime": ratio(seconds, float(fingerprint_cpu.sum())),
            "verify_x_realtime": ratio(seconds, float(np.nansum(verify_cpu))),
            "end_to_end_x_realtime": ratio(seconds, ours),
            "fpcalc_audio_seconds": round(fpcalc_seconds, 1), "fpcalc_cpu_seconds": round(fpcalc_total, 3),
            "fpcalc_x_realtime": ratio(fpcalc_seconds, fpcalc_total),
        }
    return speed


def _decode_errors(outcomes: list[DeliveryOutcome]) -> dict[str, dict]:
    """Per format: failed deliveries, counted by reason, with one message per reason."""
    errors: dict[str, dict] = {}
    for o in outcomes:
        if o.row.error:
            entry = errors.setdefault(o.format, {"count": 0, "reasons": {}, "examples": {}})
            entry["count"] += 1
            entry["reasons"][o.row.error] = entry["reasons"].get(o.row.error, 0) + 1
            entry["examples"].setdefault(o.row.error, o.message[:300])
    return errors


def _recall(outcomes: list[DeliveryOutcome], chromaprint: bool) -> dict[str, dict[str, dict]]:
    """``{distortion: {format: summary}}`` for the distortions that keep the recording."""
    rows = [o.row for o in outcomes if o.distortion in DISTORTIONS]
    table: dict[str, dict[str, dict]] = {}
    for label, summary in summarize_rows(rows, chromaprint=chromaprint).items():
        distortion, format_name = label.split("|")
        table.setdefault(distortion, {})[format_name] = summary
    return table


def _cross(outcomes: list[DeliveryOutcome], chromaprint: bool) -> dict:
    """Deliveries (hard negatives included) verified against every other song's shipped file."""
    pairs = sum(o.cross_pairs for o in outcomes)
    ours = [(o.song_id, o.distortion, o.format, other) for o in outcomes for other in o.cross_matches]
    peer = [(o.song_id, o.distortion, o.format, other) for o in outcomes for other in o.cross_chromaprint_matches]

    def by_song_pair(matches: list[tuple[str, str, str, str]]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for song, _, _, other in matches:
            counts[f"{song} ~ {other}"] = counts.get(f"{song} ~ {other}", 0) + 1
        return counts

    return {"pairs": pairs, "catalog_er": {"matches": len(ours), "examples": ours[:20],
                                           "by_song_pair": by_song_pair(ours),
                                           "max_share": max((o.cross_max_share for o in outcomes), default=0.0)},
            "chromaprint": {"matches": len(peer), "examples": peer[:20], "by_song_pair": by_song_pair(peer)}
            if chromaprint else None}


def _misses(outcomes: list[DeliveryOutcome]) -> dict[str, list[str]]:
    """``{"distortion|format": [song ids]}`` of the deliveries catalog-er did not verify (decode errors included)."""
    misses: dict[str, list[str]] = {}
    for o in outcomes:
        if o.distortion in DISTORTIONS and not o.row.is_match:
            misses.setdefault(o.row.label, []).append(o.song_id)
    return misses


def _named_pair_matches(pairs: dict[str, np.ndarray], ids: list[str], key: str, matched: Callable) -> list[list[str]]:
    first, second = np.triu_indices(len(ids), 1)  # distinct_pairs' order: i, then every j > i
    return [[ids[i], ids[j]] for i, j, value in zip(first, second, pairs[key], strict=True) if matched(value)]


def _stems(stems: list[Song], references: dict[str, Measured], chromaprint: bool) -> list[PairRow]:
    rows = []
    for stem in stems:
        query, reference = references[stem.song_id], references[stem.mix_id]
        result = None
        if query.fingerprint is not None and reference.fingerprint is not None:
            result = verify(query.fingerprint, reference.fingerprint)
        rows.append(_row("stem_vs_mix", result, _chroma_score(query.chromaprint, reference.chromaprint),
                         query.error or reference.error))
    return rows


def run(args: argparse.Namespace) -> int:
    """Build the corpus, run both passes, summarize, write and print the report."""
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    chromaprint = not args.no_chromaprint and chromaprint_peer.find_fpcalc() is not None
    if not args.no_chromaprint and not chromaprint:
        print("Chromaprint: fpcalc is not installed (apt-get install -y libchromaprint-tools); columns are n/a.")
    corpus = build_corpus()
    songs = [s for s in corpus if s.kind == "song"]
    songs = songs[: args.songs] if args.songs else songs
    chosen = {s.song_id for s in songs}
    stems = [s for s in corpus if s.kind == "stem" and s.mix_id in chosen]
    pool_factory = _pool_factory(args.processes, out / "worker-stderr.log")
    plan = _plan(args)
    print(f"[1/3] {len(songs)} songs and {len(stems)} stems ({sum(s.seconds for s in songs) / 60:.0f} min of "
          f"songs) fingerprinted as shipped", flush=True)
    with pool_factory() as pool:
        measured = pool.map(partial(_reference, chromaprint=chromaprint), songs + stems, chunksize=1)
    references = {s.song_id: m for s, m in zip(songs + stems, measured, strict=True)}
    _REFERENCES.clear()
    _REFERENCES.update({s.song_id: references[s.song_id] for s in songs})
    unusable = {s.song_id: references[s.song_id].message for s in songs + stems if references[s.song_id].error}

    print(f"[2/3] {len(plan)} deliveries per song × {len(songs)} songs", flush=True)
    tasks = [SongTask(s, plan, out / "cache", chromaprint) for s in songs]
    outcomes: list[DeliveryOutcome] = []
    pass_started = time.perf_counter()
    with pool_factory() as pool:
        for done, song_outcomes in enumerate(pool.imap(_run_song, tasks, chunksize=1), start=1):
            outcomes += song_outcomes
            print(f"  songs {done}/{len(tasks)} ({time.perf_counter() - pass_started:.0f} s)", flush=True)

    print("[3/3] pairs of distinct songs and report", flush=True)
    ids = [s.song_id for s in songs if references[s.song_id].fingerprint is not None]
    pairs = distinct_pairs(pool_factory, [references[i].fingerprint for i in ids],
                           [references[i].chromaprint for i in ids] if chromaprint else None)
    negatives = [o.row for o in outcomes if o.distortion in HARD_NEGATIVES] + _stems(stems, references, chromaprint)
    results = {
        "config": {
            "songs": len(songs), "stems": len(stems), "song_minutes": round(sum(s.seconds for s in songs) / 60, 1),
            "formats": args.formats, "distortion_formats": args.distortion_formats,
            "distortions": args.distortions, "hard_negatives": list(HARD_NEGATIVES),
            "deliveries_per_song": len(plan), "processes": args.processes, "cpu_count": os.cpu_count(),
            "chromaprint": chromaprint, "fpcalc_version": _fpcalc_version() if chromaprint else None,
            "chromaprint_rule": {"threshold": chromaprint_peer.MATCH_THRESHOLD,
                                 "max_offset_items": chromaprint_peer.MAX_OFFSET_ITEMS,
                                 "fpcalc_length_seconds": chromaprint_peer.FPCALC_LENGTH_SECONDS},
            "match_thresholds": _match_thresholds(), "python": platform.python_version(), "numpy": np.__version__,
            "packages": sorted({s.package for s in songs + stems}),
            "rebuild": f"{' '.join(install_command())}; python tests/benchmarks/real_music.py "
                       "(both are what make bench-audio-real runs first)",
        },
        "corpus": [{"song_id": s.song_id, "kind": s.kind, "package": s.package, "path": s.path,
                    "licence": s.licence, "seconds": s.seconds} for s in songs + stems],
        "unusable_references": unusable,
        "recall": _recall(outcomes, chromaprint),
        "negatives": summarize_rows(negatives, chromaprint=chromaprint),
        "false_matches": {
            "distinct_songs": {**summarize_pairs(pairs, chromaprint=chromaprint),
                               "matched_pairs": _named_pair_matches(pairs, ids, "is_match", bool),
                               "chromaprint_matched_pairs": _named_pair_matches(
                                   pairs, ids, "chromaprint_score", chromaprint_peer.is_match) if chromaprint else []},
            "delivery_vs_other_song": _cross(outcomes, chromaprint),
        },
        "misses": _misses(outcomes),
        "decode_errors": _decode_errors(outcomes),
        "speed": _speed(outcomes, references, songs),
        "deliveries_from_cache": sum(o.from_cache for o in outcomes),
        "deliveries": len(outcomes),
        "run_seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(_cpu_seconds() - cpu_started, 1),
    }
    (out / "results.json").write_text(json.dumps(_finite(results), indent=2) + "\n")
    report = markdown(results)
    (out / "results.md").write_text(report)
    print(report)
    return 0
