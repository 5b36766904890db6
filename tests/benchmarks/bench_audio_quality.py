"""Quality half of the audio benchmark: recall per distortion and false matches, ours beside Chromaprint.

One job per recording (run in a process pool). The expensive half — render the song, write its WAV
delivery (the reference) and every distorted delivery, decode each from its bytes through the real decode
path and fingerprint it, and run ``fpcalc`` on the same files — is cached per recording (see
``bench_audio_cache``). The verdicts — ``verify(delivery, original)`` and AcoustID's comparison — are
always computed live. Jobs also render the hard negatives (live re-render, cover, same key and tempo) and
write the files the speed section times.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.pool import Pool
from pathlib import Path

import bench_audio_cache as cache
import chromaprint_peer
import numpy as np
from bench_audio_corpus import (
    HARD_NEGATIVE_KINDS,
    SONG_RATE_HZ,
    delivery_bytes,
    distortions,
    file_suffix,
    fingerprint_delivery,
    hard_negatives,
    mp3_bytes,
    render,
    wav_bytes,
)

from catalog_er.fingerprint.audio import InvalidAudioError
from catalog_er.fingerprint.match import verify
from catalog_er.fingerprint.signature import Fingerprint

EXCERPT_SONG_SECONDS = 200.0
EXCERPT_START_SECONDS = 150.0
EXCERPT_SECONDS = 30.0
_EMPTY = Fingerprint(np.empty(0, np.uint32), np.empty(0, np.int32), 0.0, 0)


@dataclass(frozen=True)
class RecordingTask:
    """What one job does. ``other_seed`` set: also the hard negatives (its song is the same-key one)."""

    number: int
    seed: int
    other_seed: int | None
    query_distortion: str | None
    speed_dir: Path | None
    chromaprint: bool
    cache_dir: Path


@dataclass(frozen=True)
class PairRow:
    """One (query, reference) verdict from both systems; ``error`` names a delivery that failed to decode."""

    label: str
    is_match: bool
    score: int
    share: float
    time_scale: float
    offset_seconds: float
    query_coverage: float = math.nan
    reference_coverage: float = math.nan
    distinctiveness: float = math.nan
    chromaprint_score: float = math.nan
    error: str = ""


@dataclass
class RecordingOutcome:
    """A job's results: the reference fingerprints of both systems and the rows of every comparison."""

    number: int
    fingerprint: Fingerprint
    chromaprint: np.ndarray | None
    from_cache: bool
    deliveries: list[PairRow] = field(default_factory=list)
    negatives: list[PairRow] = field(default_factory=list)
    query: Fingerprint | None = None
    unindexed: Fingerprint | None = None


def _fpcalc_bytes(data: bytes, directory: str, stem: str) -> np.ndarray:
    """fpcalc's raw fingerprint of a delivered file; empty when fpcalc fails on it (scored 0, a miss)."""
    path = Path(directory) / f"{stem}{file_suffix(data)}"
    path.write_bytes(data)
    try:
        return chromaprint_peer.fpcalc_raw(path)
    except chromaprint_peer.FpcalcError:
        return np.empty(0, np.uint32)
    finally:
        path.unlink()


def _fingerprint_files(files: Iterator[tuple[str, bytes]], chromaprint: bool) -> dict[str, np.ndarray]:
    """Fingerprint every ``(label, file bytes)`` with both systems; the arrays a cache file holds."""
    labels, errors, prints, raws = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="bench_audio_") as directory:
        for label, data in files:
            try:
                fingerprint, error = fingerprint_delivery(data), ""
            except InvalidAudioError as failure:
                fingerprint, error = _EMPTY, failure.reason
            labels.append(label)
            errors.append(error)
            prints.append(fingerprint)
            raws.append(_fpcalc_bytes(data, directory, label) if chromaprint else np.empty(0, np.uint32))
    return {"labels": np.array(labels), "errors": np.array(errors), **cache.pack(prints),
            "chromaprint": np.concatenate(raws), "chromaprint_counts": np.array([len(r) for r in raws], np.int64)}


def _recording_files(task: RecordingTask) -> Iterator[tuple[str, bytes]]:
    """The original's WAV, every distorted delivery, then the hard negatives' WAVs (generated lazily)."""
    samples = render(task.seed)
    yield "original", wav_bytes(samples, SONG_RATE_HZ)
    for index, (name, distort) in enumerate(distortions().items()):
        delivered, rate_hz = distort(samples, SONG_RATE_HZ, task.seed * 64 + index)
        yield name, delivery_bytes(delivered, rate_hz)
    if task.other_seed is not None:
        for negative in hard_negatives(task.seed, task.other_seed):
            yield negative.kind, wav_bytes(negative.samples, SONG_RATE_HZ)


def _verdict(label: str, query: Fingerprint, error: str, reference: Fingerprint, chroma_query: np.ndarray | None,
             chroma_reference: np.ndarray | None) -> PairRow:
    """Both systems' verdict on one delivery against the reference recording."""
    chroma_score = math.nan
    if chroma_query is not None and chroma_reference is not None:
        chroma_score = chromaprint_peer.compare(chroma_query, chroma_reference)
    if error:
        return PairRow(label, False, 0, 0.0, math.nan, math.nan, chromaprint_score=chroma_score, error=error)
    result = verify(query, reference)
    return PairRow(label, result.is_match, result.score, result.share, result.time_scale, result.offset_seconds,
                   result.query_coverage, result.reference_coverage,
                   getattr(result, "distinctiveness", math.nan), chroma_score)


def _cache_path(task: RecordingTask) -> Path:
    negatives = f"_o{task.other_seed}" if task.other_seed is not None else ""
    chroma = "_c" if task.chromaprint else ""
    return task.cache_dir / f"recording_{cache.DELIVERY_DIGEST}_s{task.seed}{negatives}{chroma}.npz"


def _write_speed_files(task: RecordingTask, directory: Path) -> None:
    """The recording as a 128 kbps stereo MP3 and a 16-bit stereo WAV, for the speed section."""
    samples = render(task.seed)
    stereo = np.stack([samples, np.roll(samples, 7) * 0.9], axis=1)  # not identical channels
    (directory / f"{task.number:04d}.mp3").write_bytes(mp3_bytes(stereo, SONG_RATE_HZ, bitrate_kbps=128))
    (directory / f"{task.number:04d}.wav").write_bytes(wav_bytes(stereo, SONG_RATE_HZ))


def run_recording(task: RecordingTask) -> RecordingOutcome:
    """Everything measured on one recording (see the module docstring)."""
    path = _cache_path(task)
    from_cache = path.exists()
    if from_cache:
        arrays = cache.load(path)
    else:
        arrays = _fingerprint_files(_recording_files(task), task.chromaprint)
        cache.save(path, arrays)
    if task.speed_dir is not None:
        _write_speed_files(task, task.speed_dir)
    labels, errors = [str(v) for v in arrays["labels"]], [str(v) for v in arrays["errors"]]
    prints = cache.unpack(arrays)
    raws = np.split(arrays["chromaprint"], np.cumsum(arrays["chromaprint_counts"])[:-1])
    chroma = raws if task.chromaprint else [None] * len(labels)
    outcome = RecordingOutcome(task.number, prints[0], chroma[0], from_cache)
    for label, error, query, raw in zip(labels[1:], errors[1:], prints[1:], chroma[1:], strict=True):
        row = _verdict(label, query, error, outcome.fingerprint, raw, outcome.chromaprint)
        (outcome.negatives if label in HARD_NEGATIVE_KINDS else outcome.deliveries).append(row)
        if not error and label == task.query_distortion:
            outcome.query = query
        if not error and label == "same_key_and_tempo":
            outcome.unindexed = query
    return outcome


def run_excerpt(seed: int, chromaprint: bool) -> PairRow:
    """A 30 s excerpt from 150 s into a 200 s song, matched against the whole song by both systems."""
    samples = render(seed, seconds=EXCERPT_SONG_SECONDS)
    start = int(EXCERPT_START_SECONDS * SONG_RATE_HZ)
    excerpt = samples[start:start + int(EXCERPT_SECONDS * SONG_RATE_HZ)]
    files = iter([("full", wav_bytes(samples, SONG_RATE_HZ)), ("excerpt", wav_bytes(excerpt, SONG_RATE_HZ))])
    arrays = _fingerprint_files(files, chromaprint)
    full, part = cache.unpack(arrays)
    errors = [str(v) for v in arrays["errors"]]
    if errors[0]:
        raise InvalidAudioError(errors[0], f"the 200 s reference song {seed} failed to decode: {errors[0]}")
    raws = np.split(arrays["chromaprint"], np.cumsum(arrays["chromaprint_counts"])[:-1])
    chroma = raws if chromaprint else [None, None]
    return _verdict("excerpt_150s_of_200s", part, errors[1], full, chroma[1], chroma[0])


_PAIR_STATE: dict[str, list] = {}


def _pairs_of_row(i: int) -> tuple[np.ndarray, ...]:
    """Recording ``i`` against every later one: (is_match, score, share, time scale) ours, AcoustID's score."""
    fingerprints, chroma = _PAIR_STATE["fingerprints"], _PAIR_STATE["chromaprint"]
    later = range(i + 1, len(fingerprints))
    results = [verify(fingerprints[i], fingerprints[j]) for j in later]
    chroma_scores = [chromaprint_peer.compare(chroma[i], chroma[j]) for j in later] if chroma else []
    return (np.array([r.is_match for r in results], bool), np.array([r.score for r in results], np.int64),
            np.array([r.share for r in results]), np.array([r.time_scale for r in results]),
            np.array(chroma_scores, np.float64))


def distinct_pairs(pool_factory: Callable[[], Pool], fingerprints: list[Fingerprint],
                   chroma: list[np.ndarray] | None) -> dict[str, np.ndarray]:
    """All ``n·(n−1)/2`` pairs of distinct recordings, verified by both systems in a forked pool."""
    _PAIR_STATE["fingerprints"], _PAIR_STATE["chromaprint"] = fingerprints, chroma
    with pool_factory() as pool:
        rows = pool.map(_pairs_of_row, range(len(fingerprints)), chunksize=4)
    _PAIR_STATE.clear()
    return {name: np.concatenate([row[k] for row in rows])
            for k, name in enumerate(("is_match", "score", "share", "time_scale", "chromaprint_score"))}


def _median(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.median(finite)) if finite else math.nan


def summarize_rows(rows: list[PairRow], *, chromaprint: bool) -> dict[str, dict]:
    """Rows grouped by label: counts, match rate and medians for both systems."""
    summary: dict[str, dict] = {}
    for label in dict.fromkeys(row.label for row in rows):
        group = [row for row in rows if row.label == label]
        ours = {
            "matches": sum(row.is_match for row in group),
            "rate": sum(row.is_match for row in group) / len(group),
            "median_score": _median([row.score for row in group]),
            "median_share": _median([row.share for row in group]),
            "max_score": max(row.score for row in group),
            "max_share": max(row.share for row in group),
            "median_time_scale": _median([row.time_scale for row in group]),
            "median_offset_seconds": _median([row.offset_seconds for row in group]),
            "median_query_coverage": _median([row.query_coverage for row in group]),
            "median_distinctiveness": _median([row.distinctiveness for row in group]),
            "decode_errors": sorted({row.error for row in group if row.error}),
            "decode_error_count": sum(bool(row.error) for row in group),
        }
        peer = None
        if chromaprint:
            scores = [row.chromaprint_score for row in group]
            peer = {
                "matches": sum(chromaprint_peer.is_match(s) for s in scores),
                "rate": sum(chromaprint_peer.is_match(s) for s in scores) / len(group),
                "median_score": _median(scores),
                "max_score": max(scores),
                "matches_at_0.75": sum(s > 0.75 for s in scores),
            }
        summary[label] = {"count": len(group), "catalog_er": ours, "chromaprint": peer}
    return summary


def summarize_pairs(pairs: dict[str, np.ndarray], *, chromaprint: bool) -> dict:
    """False matches among all pairs of distinct recordings, with how close the worst pair came."""
    count = len(pairs["is_match"])
    ours = {
        "matches": int(pairs["is_match"].sum()),
        "max_score": int(pairs["score"].max()) if count else 0,
        "max_share": float(pairs["share"].max()) if count else 0.0,
        "p99_9_score": float(np.percentile(pairs["score"], 99.9)) if count else 0.0,
        "matches_time_scales": sorted(round(float(s), 4) for s in pairs["time_scale"][pairs["is_match"]]),
    }
    peer = None
    if chromaprint:
        scores = pairs["chromaprint_score"]
        peer = {
            "matches": int(sum(chromaprint_peer.is_match(s) for s in scores)),
            "matches_at_0.75": int((scores > 0.75).sum()),
            "max_score": float(scores.max()) if count else 0.0,
            "p99_9_score": float(np.percentile(scores, 99.9)) if count else 0.0,
        }
    return {"pairs": count, "catalog_er": ours, "chromaprint": peer}


SWEEP_SHARES = (0.012, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10)


def threshold_sweep(deliveries: list[PairRow], negatives: list[PairRow], pairs: dict[str, np.ndarray],
                    *, current_share: float) -> list[dict]:
    """What a higher ``MIN_ALIGNED_SHARE`` would give, every other rule of ``verify`` unchanged.

    Exact, not simulated: raising the share threshold only turns matches with a lower share into
    non-matches, so a verdict at ``share_threshold >= current_share`` is ``is_match and share >= threshold``.
    """
    sweep = []
    labels = list(dict.fromkeys(r.label for r in deliveries))
    kinds = list(dict.fromkeys(r.label for r in negatives))
    for threshold in (t for t in SWEEP_SHARES if t >= current_share - 1e-12):
        def passes(rows: list[PairRow], threshold: float = threshold) -> int:
            return sum(row.is_match and row.share >= threshold for row in rows)
        per_distortion = {label: passes([r for r in deliveries if r.label == label]) /
                          sum(r.label == label for r in deliveries) for label in labels}
        worst = min(per_distortion, key=per_distortion.get)
        entry = {"min_aligned_share": threshold, "recall_all_deliveries": passes(deliveries) / len(deliveries),
                 "worst_distortion": worst, "worst_recall": per_distortion[worst],
                 "distinct_pairs": int((pairs["is_match"] & (pairs["share"] >= threshold)).sum())}
        for kind in kinds:
            entry[kind] = passes([r for r in negatives if r.label == kind])
        sweep.append(entry)
    return sweep
