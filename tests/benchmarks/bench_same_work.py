"""Same-work benchmark: another recording of the same song vs an unrelated song (``make bench-same-work``).

    python tests/benchmarks/bench_same_work.py --out bench-out/same-work [--compositions 200] [--seconds 60]

Synthetic material (:func:`fingerprint.synthetic.render_song`, 11025 Hz, ``--seconds`` long): per composition
the studio original and four other recordings of it,

- ``live take``: same band, ``performance_seed`` — its own micro-timing (±30 ms), tempo drift (±3 %),
  dynamics, room reverb and crowd noise;
- ``cover``: another band (other instruments and drum kit), played live (its own performance);
- ``cover, +2 semitones, ±8 % tempo``: another band, live, transposed up 2 semitones (same mode), tempo x1.08 or
  x0.92 (alternating);
- ``re-recording``: the same band in the studio again at 94 % of the tempo (notes re-rendered, not stretched);

and two unrelated songs written in the original's key and tempo (one studio take by their own band, one live
take). Positives: original vs each other recording. Negatives: every recording of the composition (original
and the four) vs each of the two unrelated songs — same key and tempo, the hard case — and, reported apart,
all pairs of originals of different compositions (any key and tempo).

The threshold is chosen on ``--dev-seed`` compositions (the lowest threshold on a 0.01 grid with precision
>= 0.99 there) and the figures are reported on ``--seed`` compositions, at that threshold and at
:data:`fingerprint.work.SAME_WORK_THRESHOLD`. Cost: work profiles in x real time per CPU second of the
profiling process, and milliseconds per score.

Real material (when the Debian ``fretsonfire-songs-*`` packages are installed): Frets on Fire song folders
hold ``song.ogg`` (the band without the lead guitar) and ``guitar.ogg`` (the lead guitar stem) of the same
take. The full mix is their sum. Same work: backing vs full mix (shares the backing audio), guitar stem vs
backing (the same song, no audio in common). Unrelated: full mixes of different songs, all pairs.

Writes ``OUT/results.json`` and ``OUT/results.md`` and prints the markdown. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402  (after the one-thread settings)

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ, decode  # noqa: E402
from catalog_er.fingerprint.synthetic import default_timbre, render_song  # noqa: E402
from catalog_er.fingerprint.synthetic.score import default_key_and_tempo  # noqa: E402
from catalog_er.fingerprint.work import (  # noqa: E402
    ANALYSIS_SECONDS,
    SAME_WORK_THRESHOLD,
    WorkProfile,
    same_work_score,
    work_profile,
)

VARIANTS = ("live take", "cover", "cover, +2 semitones, ±8 % tempo", "re-recording")
UNRELATED = ("unrelated, studio", "unrelated, live")
REAL_SONGS = Path("/usr/share/games/fretsonfire/data/songs")
CURVE_THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--compositions", type=int, default=200, help="compositions on the report seed")
    parser.add_argument("--dev-compositions", type=int, default=100, help="compositions on the dev seed")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of every rendered recording")
    parser.add_argument("--seed", type=int, default=20261202, help="report seed")
    parser.add_argument("--dev-seed", type=int, default=20261201, help="seed the threshold is chosen on")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--real-songs", type=Path, default=REAL_SONGS, help="Frets on Fire song folders")
    parser.add_argument("--summarise-only", action="store_true",
                        help="re-read the scores in OUT/results.json and rewrite the summaries")
    args = parser.parse_args(argv)
    if args.compositions < 2 or args.dev_compositions < 2:
        parser.error("need at least 2 compositions on each seed")
    return args


def transposed(key: int, semitones: int) -> int:
    """``key`` (0..23, major below 12) moved by ``semitones``, same mode."""
    return (key % 12 + semitones) % 12 + 12 * (key >= 12)


def composition_recordings(seed: int, index: int) -> dict[str, dict[str, object]]:
    """The render_song arguments of every recording of composition ``index`` and its two unrelated songs."""
    rng = np.random.default_rng([seed, index])
    song, other_song, other_song_2 = (int(x) for x in rng.integers(0, 2**31, 3))
    key, tempo = default_key_and_tempo(song)
    timbre = default_timbre(song)
    faster = 1.08 if index % 2 == 0 else 0.92
    return {
        "original": {"seed": song},
        "live take": {"seed": song, "performance_seed": 1},
        "cover": {"seed": song, "timbre": timbre + 1, "performance_seed": 2},
        VARIANTS[2]: {"seed": song, "timbre": timbre + 2, "performance_seed": 3, "key": transposed(key, 2),
                      "tempo_bpm": round(tempo * faster, 1)},
        "re-recording": {"seed": song, "tempo_bpm": round(tempo * 0.94, 1)},
        UNRELATED[0]: {"seed": other_song, "key": key, "tempo_bpm": tempo},
        UNRELATED[1]: {"seed": other_song_2, "key": key, "tempo_bpm": tempo, "performance_seed": 4},
    }


def profile_composition(job: tuple[int, int, float]) -> tuple[dict[str, WorkProfile], float, float]:
    """Render and profile one composition's recordings: (profiles by name, CPU s profiling, audio s profiled)."""
    seed, index, seconds = job
    profiles, cpu, audio = {}, 0.0, 0.0
    for name, arguments in composition_recordings(seed, index).items():
        samples = render_song(seconds=seconds, rate_hz=ANALYSIS_RATE_HZ, **arguments)  # type: ignore[arg-type]
        start = time.process_time()
        profiles[name] = work_profile(samples)
        cpu += time.process_time() - start
        audio += min(seconds, ANALYSIS_SECONDS)
    return profiles, cpu, audio


def warm_up() -> None:
    """Import librosa and compile its numba kernels before anything is timed (a worker's first profile)."""
    work_profile(render_song(seed=0, seconds=5.0, rate_hz=ANALYSIS_RATE_HZ))


def run_seed(seed: int, n: int, seconds: float, processes: int) -> dict[str, object]:
    """Profiles and scores of ``n`` compositions: positives by variant, negatives, cross pairs, cost."""
    with ProcessPoolExecutor(processes, initializer=warm_up) as pool:
        done = list(pool.map(profile_composition, [(seed, i, seconds) for i in range(n)]))
    profiles = [d[0] for d in done]
    cpu, audio = sum(d[1] for d in done), sum(d[2] for d in done)
    start = time.process_time()
    positives = {v: [same_work_score(p["original"], p[v]) for p in profiles] for v in VARIANTS}
    negatives = {
        u: [same_work_score(p[r], p[u]) for p in profiles for r in ("original", *VARIANTS)] for u in UNRELATED
    }
    n_scores = sum(map(len, positives.values())) + sum(map(len, negatives.values()))
    score_ms = (time.process_time() - start) / n_scores * 1000
    cross = [same_work_score(a["original"], b["original"]) for a, b in itertools.combinations(profiles, 2)]
    return {"positives": positives, "negatives": negatives, "cross": cross,
            "profile_x_real_time": audio / cpu, "score_ms": score_ms, "compositions": n}


def precision_recall(positives: np.ndarray, negatives: np.ndarray, threshold: float) -> tuple[float, float, int]:
    """Precision, recall and false positives when scores >= ``threshold`` say "same work"."""
    true_positives = int((positives >= threshold).sum())
    false_positives = int((negatives >= threshold).sum())
    called = true_positives + false_positives
    return (true_positives / called if called else 1.0), true_positives / positives.size, false_positives


def flat(groups: dict[str, list[float]]) -> np.ndarray:
    """All scores of a dict of lists as one array."""
    return np.concatenate([np.asarray(v) for v in groups.values()])


def choose_threshold(result: dict[str, object]) -> float:
    """Lowest threshold on a 0.01 grid whose precision is >= 0.99 (same key and tempo negatives)."""
    positives, negatives = flat(result["positives"]), flat(result["negatives"])  # type: ignore[arg-type]
    for threshold in np.round(np.arange(0.01, 1.001, 0.01), 2):
        if precision_recall(positives, negatives, float(threshold))[0] >= 0.99:
            return float(threshold)
    return 1.0


def summarise(result: dict[str, object], thresholds: dict[str, float]) -> dict[str, object]:
    """Precision/recall at each named threshold, per variant recall, the curve, score quantiles."""
    positives, negatives = flat(result["positives"]), flat(result["negatives"])  # type: ignore[arg-type]
    cross = np.asarray(result["cross"])
    at = {}
    for label, threshold in thresholds.items():
        precision, recall, false_positives = precision_recall(positives, negatives, threshold)
        at[label] = {
            "threshold": threshold, "precision": precision, "recall": recall, "false_positives": false_positives,
            "recall_by_variant": {v: float((np.asarray(s) >= threshold).mean())
                                  for v, s in result["positives"].items()},  # type: ignore[attr-defined]
            "cross_false_positives": int((cross >= threshold).sum()),
        }
    curve = [dict(zip(("threshold", "precision", "recall", "false_positives"),
                      (t, *precision_recall(positives, negatives, t)), strict=True)) for t in CURVE_THRESHOLDS]
    quantiles = {name: [float(q) for q in np.quantile(np.asarray(values), (0.0, 0.05, 0.5, 0.95, 1.0))]
                 for name, values in {**result["positives"], **result["negatives"],  # type: ignore[dict-item]
                                      "unrelated, any key and tempo": result["cross"]}.items()}
    return {"at": at, "curve": curve, "quantiles": quantiles, "n_positives": int(positives.size),
            "n_negatives": int(negatives.size), "n_cross": int(cross.size),
            "profile_x_real_time": result["profile_x_real_time"], "score_ms": result["score_ms"],
            "compositions": result["compositions"]}


def real_material(root: Path) -> dict[str, object] | None:
    """Scores on Frets on Fire stems: backing vs full mix, guitar vs backing, unrelated full mixes."""
    folders = sorted(p.parent for p in root.glob("*/*/song.ogg") if (p.parent / "guitar.ogg").is_file())
    if len(folders) < 2:
        return None
    profiles: dict[str, dict[str, WorkProfile]] = {}
    cpu = audio = 0.0
    for folder in folders:
        backing, guitar = decode(folder / "song.ogg"), decode(folder / "guitar.ogg")
        length = max(backing.size, guitar.size)
        full = np.zeros(length, np.float32)
        full[: backing.size] += backing
        full[: guitar.size] += guitar
        full /= max(1.0, float(np.abs(full).max()))
        start = time.process_time()
        profiles[folder.name] = {"full": work_profile(full), "backing": work_profile(backing),
                                 "guitar": work_profile(guitar)}
        cpu += time.process_time() - start
        audio += 3 * min(length / ANALYSIS_RATE_HZ, ANALYSIS_SECONDS)
    songs = list(profiles)
    rows = {
        "same work: backing (no lead guitar) vs full mix": [
            same_work_score(profiles[s]["backing"], profiles[s]["full"]) for s in songs],
        "same work: guitar stem vs backing (no audio in common)": [
            same_work_score(profiles[s]["guitar"], profiles[s]["backing"]) for s in songs],
        "unrelated: full mix vs full mix, all pairs": [
            same_work_score(profiles[a]["full"], profiles[b]["full"]) for a, b in itertools.combinations(songs, 2)],
        "unrelated: backing vs another song's full mix, all ordered pairs": [
            same_work_score(profiles[a]["backing"], profiles[b]["full"])
            for a, b in itertools.permutations(songs, 2)],
    }
    return {"songs": [str(f.relative_to(root)) for f in folders], "scores": rows,
            "tempo_bpm": {s: profiles[s]["full"].tempo_bpm for s in songs}, "profile_x_real_time": audio / cpu}


def markdown(report: dict[str, object]) -> str:
    """The results as the README's tables."""
    test = report["report"]
    lines = [f"Same-work benchmark: {test['compositions']} compositions on seed {report['seed']} "
             f"({report['seconds']:g} s each, threshold chosen on {report['dev_compositions']} compositions of "
             f"dev seed {report['dev_seed']}).", "",
             f"Positives {test['n_positives']} (original vs another recording); negatives {test['n_negatives']} "
             f"(a recording vs an unrelated song in the same key and tempo); {test['n_cross']} pairs of originals "
             "of different compositions (any key and tempo) counted apart.", "",
             "| threshold | precision | recall | false positives | " + " | ".join(f"recall: {v}" for v in VARIANTS)
             + " | false positives, any key and tempo |",
             "|---|---:|---:|---:|" + "---:|" * len(VARIANTS) + "---:|"]
    for label, row in test["at"].items():
        lines.append(f"| {label} = {row['threshold']:.2f} | {row['precision']:.4f} | {row['recall']:.4f} | "
                     f"{row['false_positives']} | " + " | ".join(f"{row['recall_by_variant'][v]:.4f}" for v in VARIANTS)
                     + f" | {row['cross_false_positives']} of {test['n_cross']} |")
    lines += ["", "Precision–recall curve (report seed):", "", "| threshold | precision | recall | false positives |",
              "|---:|---:|---:|---:|"]
    lines += [f"| {p['threshold']:.2f} | {p['precision']:.4f} | {p['recall']:.4f} | {p['false_positives']} |"
              for p in test["curve"]]
    lines += ["", "Score quantiles (min, 5 %, median, 95 %, max):", "", "| pairs | n | quantiles |", "|---|---:|---|"]
    counts = {**{v: test["compositions"] for v in VARIANTS}, **{u: 5 * test["compositions"] for u in UNRELATED},
              "unrelated, any key and tempo": test["n_cross"]}
    lines += [f"| {name} | {counts[name]} | {', '.join(f'{q:.3f}' for q in qs)} |"
              for name, qs in test["quantiles"].items()]
    lines += ["", f"Cost: work profile {test['profile_x_real_time']:.0f}x real time per CPU second "
              f"(first {ANALYSIS_SECONDS:g} s at most); {test['score_ms']:.1f} ms per score "
              f"({report['seconds']:g} s recordings)."]
    real = report.get("real")
    if real:
        lines += ["", f"Real material (Frets on Fire stems, {len(real['songs'])} songs: "
                  + ", ".join(real["songs"]) + f"; profiles {real['profile_x_real_time']:.0f}x real time per CPU s):",
                  "", "| pairs | n | scores (min, median, max) | called same work |", "|---|---:|---|---:|"]
        for name, scores in real["scores"].items():
            values = np.asarray(scores)
            lines.append(f"| {name} | {values.size} | {values.min():.3f}, {np.median(values):.3f}, "
                         f"{values.max():.3f} | {int((values >= SAME_WORK_THRESHOLD).sum())} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Dev seed → threshold; report seed → figures; real stems if installed; write results."""
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.summarise_only:
        previous = json.loads((args.out / "results.json").read_text())
        dev, test, real = previous["dev_scores"], previous["report_scores"], previous["real"]
        args.seed, args.dev_seed, args.seconds = previous["seed"], previous["dev_seed"], previous["seconds"]
        args.dev_compositions = previous["dev_compositions"]
    else:
        dev = run_seed(args.dev_seed, args.dev_compositions, args.seconds, args.processes)
        test = run_seed(args.seed, args.compositions, args.seconds, args.processes)
        real = real_material(args.real_songs) if args.real_songs.is_dir() else None
    chosen = choose_threshold(dev)
    thresholds = {"chosen on dev": chosen, "SAME_WORK_THRESHOLD": SAME_WORK_THRESHOLD}
    report = {
        "seed": args.seed, "dev_seed": args.dev_seed, "seconds": args.seconds,
        "dev_compositions": args.dev_compositions, "chosen_threshold": chosen,
        "dev": summarise(dev, thresholds), "report": summarise(test, thresholds),
        "real": real, "dev_scores": dev, "report_scores": test,
    }
    (args.out / "results.json").write_text(json.dumps(report, indent=1))
    text = markdown(report)
    (args.out / "results.md").write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
