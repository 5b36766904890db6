"""Benchmark: catalog-er vs Splink on messy multi-source synthetic catalogs (``make bench-messy``, issue 11).

Two catalogs, each generated once (seeded, cached under ``OUT/<name>/catalog``):

* **messy**: ``catalog-er synth --tracks N --sources K --seed S`` — K sources, each with its own habits (artist or
  album in the title, track numbers, placeholders, duration units, date formats, typos, one scraped store from
  K = 4, ...); ``truth_habits.parquet`` says which habit changed which record;
* **scraped-only**: ``catalog-er synth --tracks M --sources J --scraped-sources J`` — every source a scraped
  store (most of its records one text field holding title, artist, album, genre, price, length and date).

On each, ``catalog-er resolve --keep-candidates`` and the Splink peer (``splink_peer.py``, every blocked pair
kept so its blocking recall can be measured too) run in their own child processes (``bench_resolve.run_child``:
wall time and peak RSS), and one evaluator judges both (``catalog_er.resolver.evaluate.evaluate``). Beside the
usual figures: **recall per habit** — for every habit in ``truth_habits``, over the true duplicate pairs where
either record has it: the share found in one proposal and the share among the candidate pairs — and the same per
source. Writes ``OUT/results.json`` and ``OUT/results.md``.

Not collected by pytest (file name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from bench_resolve import BIN, ROOT, markdown, run_child, splink_as_contract

from catalog_er.resolver.evaluate import evaluate, predicted_labels
from catalog_er.resolver.synthetic.profiles import HABITS

SYSTEMS = ("catalog_er", "splink")


@dataclass(frozen=True)
class Catalog:
    """One benchmark catalog: its name (folder under OUT), what to pass to ``catalog-er synth``, a title."""

    name: str
    synth_args: tuple[str, ...]
    title: str


@dataclass(frozen=True)
class Outcome:
    """What one system produced on one catalog, for the per-habit tables: ``(n,)`` cluster label per track
    (catalog order) and the candidate pairs as sorted int64 keys ``min_index * n + max_index``."""

    labels: np.ndarray
    candidate_keys: np.ndarray


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _command_line(command: list[str]) -> str:
    """``command`` as a shell line, with paths under the repository shown relative to it."""
    return shlex.join(_relative(Path(part)) if part.startswith("/") else part for part in command)


def synthesize(catalog: Catalog, directory: Path, seed: int) -> tuple[list[str], str]:
    """Write the catalog into ``directory`` unless it is there; return the command and what synth printed."""
    command = [str(BIN / "catalog-er"), "synth", "--out", str(directory), *catalog.synth_args, "--seed", str(seed),
               "-q"]
    printed = directory / "synth.txt"
    if not (directory / "truth_habits.parquet").is_file() or not printed.is_file():
        done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
        printed.write_text(done.stdout)
    return command, printed.read_text()


def true_pairs(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of rows in the same group: ``(left, right)`` int64 row indices, ``left`` ranked before ``right``
    in the stable group order. ``groups``: ``(n,)`` int64 group code per row."""
    order = np.argsort(groups, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(groups[order]) != 0])
    ends = np.r_[starts[1:], len(groups)]
    group_end = np.repeat(ends, ends - starts)
    partners = group_end - np.arange(len(groups)) - 1  # later rows of the same group, per sorted position
    left_position = np.repeat(np.arange(len(groups)), partners)
    offset = np.arange(len(left_position)) - np.repeat(np.cumsum(partners) - partners, partners)
    return order[left_position], order[left_position + 1 + offset]


def pair_keys(left_ids: pa.ChunkedArray | pa.Array, right_ids: pa.ChunkedArray | pa.Array,
              track_ids: pa.Array) -> np.ndarray:
    """Sorted unique int64 keys ``min_index * n + max_index`` of the pairs (ids not in ``track_ids`` dropped)."""
    n = len(track_ids)
    left = pc.index_in(left_ids, value_set=track_ids).to_numpy(zero_copy_only=False)
    right = pc.index_in(right_ids, value_set=track_ids).to_numpy(zero_copy_only=False)
    known = ~(np.isnan(left.astype(float)) | np.isnan(right.astype(float)))
    left, right = left[known].astype(np.int64), right[known].astype(np.int64)
    return np.unique(np.minimum(left, right) * n + np.maximum(left, right))


def recall_table(outcomes: dict[str, Outcome], left: np.ndarray, right: np.ndarray,
                 rows: dict[str, np.ndarray]) -> list[dict]:
    """Per row set (a habit, a source): records in it, true pairs touching it, and for each system the share of
    those pairs found in one proposal and the share among its candidates. ``rows``: name → ``(n,)`` bool."""
    n = len(next(iter(rows.values())))
    keys = np.minimum(left, right) * n + np.maximum(left, right)
    found = {name: outcome.labels[left] == outcome.labels[right] for name, outcome in outcomes.items()}
    blocked = {name: np.isin(keys, outcome.candidate_keys)
               for name, outcome in outcomes.items()}
    table = []
    for name, member in rows.items():
        touching = member[left] | member[right]
        pairs = int(touching.sum())
        entry: dict[str, object] = {"rows": name, "records": int(member.sum()), "true_pairs": pairs}
        for system in outcomes:
            entry[f"{system}_found"] = float(found[system][touching].mean()) if pairs else None
            entry[f"{system}_in_candidates"] = float(blocked[system][touching].mean()) if pairs else None
        table.append(entry)
    return table


def row_sets(track_ids: pa.Array, sources: pa.Array, truth_habits: pa.Table) -> tuple[dict, dict]:
    """``(per habit, per source)``: name → ``(n,)`` bool over the catalog's rows; the habits present in vocabulary
    order (``HABITS``), then ``(no habit)`` and ``(all)``."""
    n = len(track_ids)
    position = pc.index_in(truth_habits["track_id"], value_set=track_ids).to_numpy(zero_copy_only=False)
    position = position.astype(np.int64)
    habit_names = truth_habits["habit"].to_numpy(zero_copy_only=False)
    habits: dict[str, np.ndarray] = {}
    present = set(habit_names.tolist())
    for habit in [*(h for h in HABITS if h in present), *sorted(present - set(HABITS))]:
        member = np.zeros(n, dtype=bool)
        member[position[habit_names == habit]] = True
        habits[habit] = member
    any_habit = np.zeros(n, dtype=bool)
    any_habit[position] = True
    habits["(no habit)"] = ~any_habit
    habits["(all)"] = np.ones(n, dtype=bool)
    source_values = np.asarray(sources.to_pylist(), dtype=object)
    per_source = {source: source_values == source for source in sorted(set(source_values.tolist()))}
    return habits, per_source


def run_catalog_er(catalog_dir: Path, out: Path, timeout_seconds: float) -> tuple[dict, list[str], tuple | None]:
    """Resolve with catalog-er in a child; return its figures, the command, and (proposals, pairs, candidates)."""
    result_dir = out / "catalog_er"
    command = [str(BIN / "catalog-er"), "resolve", "--tracks", str(catalog_dir / "tracks.parquet"), "--out",
               str(result_dir), "--keep-candidates", "-q"]
    run = run_child(command, timeout_seconds, out / "catalog_er.log")
    if run["exit_code"] != 0:
        return run, command, None
    summary = json.loads((result_dir / "summary.json").read_text())
    tables = tuple(pq.read_table(result_dir / f"{name}.parquet") for name in ("proposals", "pairs", "candidates"))
    return {**run, "stage_seconds": summary["stage_seconds"], "counts": summary["counts"],
            "repairs": summary.get("repairs")}, command, tables


def run_splink(catalog_dir: Path, out: Path, seed: int, timeout_seconds: float
               ) -> tuple[dict, list[str], tuple | None]:
    """Run the Splink peer in a child, keeping every blocked pair; return its figures, the command, and
    (proposals, pairs >= 0.05, candidates = every blocked pair) in our contract."""
    result_dir = out / "splink"
    command = [str(BIN / "python"), str(ROOT / "tests/benchmarks/splink_peer.py"), "--tracks",
               str(catalog_dir / "tracks.parquet"), "--out", str(result_dir), "--seed", str(seed),
               "--pairs-min-probability", "0"]
    run = run_child(command, timeout_seconds, out / "splink.log")
    if run["exit_code"] != 0:
        return run, command, None
    summary = json.loads((result_dir / "splink_summary.json").read_text())
    proposals, pairs = splink_as_contract(result_dir)
    candidates = pq.read_table(result_dir / "splink_pairs.parquet", columns=["left_id", "right_id"])
    return {**run, "phase_seconds": summary.get("seconds"), "preparation": summary.get("preparation")}, command, (
        proposals, pairs, candidates)


def bench_catalog(catalog: Catalog, seed: int, out: Path, *, run_peer: bool, timeout_seconds: float) -> dict:
    """Everything measured on one catalog (a ``bench_resolve.markdown`` row plus the per-habit tables)."""
    work = out / catalog.name
    catalog_dir = work / "catalog"
    synth_command, synth_printed = synthesize(catalog, catalog_dir, seed)
    tracks = pq.read_table(catalog_dir / "tracks.parquet", columns=["track_id", "source"])
    truth = pq.read_table(catalog_dir / "truth_tracks.parquet")
    track_ids = tracks["track_id"].combine_chunks()
    position = pc.index_in(truth["track_id"], value_set=track_ids).to_numpy(zero_copy_only=False).astype(np.int64)
    groups = np.empty(len(track_ids), dtype=np.int64)
    groups[position] = pc.dictionary_encode(truth["recording_id"].combine_chunks()).indices.to_numpy()
    left, right = true_pairs(groups)

    commands = [_command_line(synth_command)]
    result: dict[str, object] = {"catalog": catalog.name, "title": catalog.title, "tracks": len(track_ids),
                                 "seed": seed, "sources": synth_printed.splitlines()[1:], "commands": commands}
    outcomes: dict[str, Outcome] = {}
    runners = {"catalog_er": lambda: run_catalog_er(catalog_dir, work, timeout_seconds)}
    if run_peer:
        runners["splink"] = lambda: run_splink(catalog_dir, work, seed, timeout_seconds)
    for system, runner in runners.items():
        print(f"   {system} ...", flush=True)
        figures, command, tables = runner()
        commands.append(_command_line(command))
        if tables is not None:
            proposals, pairs, candidates = tables
            evaluation = evaluate("track", truth["track_id"], truth["recording_id"], proposals, pairs, candidates)
            figures = {**figures, **evaluation.to_dict()}
            outcomes[system] = Outcome(predicted_labels(track_ids, proposals),
                                       pair_keys(candidates["left_id"], candidates["right_id"], track_ids))
        result[system] = figures
    if outcomes:
        habits, sources = row_sets(track_ids, tracks["source"].combine_chunks(),
                                   pq.read_table(catalog_dir / "truth_habits.parquet"))
        result["recall_per_habit"] = recall_table(outcomes, left, right, habits)
        result["recall_per_source"] = recall_table(outcomes, left, right, sources)
    return result


def _share(value: object) -> str:
    return "—" if value is None else f"{value:.4f}"


def recall_markdown(table: list[dict], label: str) -> str:
    """A recall-per-habit (or per-source) table: both systems' found and in-candidates shares."""
    systems = [s for s in SYSTEMS if table and f"{s}_found" in table[0]]
    names = {"catalog_er": "catalog-er", "splink": "Splink"}
    header = [label, "records", "true pairs touching"]
    for system in systems:
        header += [f"{names[system]} found", f"{names[system]} in candidates"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for entry in table:
        cells = [str(entry["rows"]), f"{entry['records']:,}", f"{entry['true_pairs']:,}"]
        for system in systems:
            cells += [_share(entry[f"{system}_found"]), _share(entry[f"{system}_in_candidates"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def report(results: list[dict], bench_command: str) -> str:
    """results.md: per catalog the side-by-side table, per-habit and per-source recall, and the commands."""
    parts = ["# Messy multi-source catalogs: catalog-er vs Splink (issue 11)", "",
             f"Run: `{bench_command}`. \"found\": share of the true duplicate pairs touching the row set (either "
             "record has the habit / comes from the source) that end up in one proposal; \"in candidates\": share "
             "among the candidate pairs (catalog-er: candidates.parquet; Splink: every pair its blocking rules "
             "scored). Splink's pairs below 0.05 are left out of its ECE, as in `make bench`.", ""]
    for result in results:
        parts += [f"## {result['title']}", "", "Sources (as `catalog-er synth` printed them):", "", "```",
                  *result["sources"], "```", "", markdown([result]).rstrip("\n"), ""]
        if "recall_per_habit" in result:
            parts += ["### Recall per habit", "", recall_markdown(result["recall_per_habit"], "habit"),
                      "### Recall per source", "", recall_markdown(result["recall_per_source"], "source")]
        parts += ["Commands:", "", "```", *result["commands"], "```", ""]
    return "\n".join(parts)


def catalogs(args: argparse.Namespace) -> list[Catalog]:
    """The catalogs the options ask for: messy, then (unless ``--no-scraped``) scraped-only."""
    chosen = [Catalog(f"messy-n{args.tracks}-k{args.sources}-seed{args.seed}",
                      ("--tracks", str(args.tracks), "--sources", str(args.sources)),
                      f"Messy catalog: {args.tracks:,} tracks from {args.sources} sources (seed {args.seed})")]
    if not args.no_scraped:
        k = args.scraped_catalog_sources
        chosen.append(Catalog(f"scraped-n{args.scraped_tracks}-k{k}-seed{args.seed}",
                              ("--tracks", str(args.scraped_tracks), "--sources", str(k), "--scraped-sources", str(k)),
                              f"Scraped-only catalog: {args.scraped_tracks:,} tracks from {k} sources, every one a "
                              f"scraped store (seed {args.seed})"))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000, help="tracks in the messy catalog")
    parser.add_argument("--sources", type=int, default=5, help="sources of the messy catalog")
    parser.add_argument("--scraped-tracks", type=int, default=20_000, help="tracks in the scraped-only catalog")
    parser.add_argument("--scraped-catalog-sources", type=int, default=2,
                        help="sources of the scraped-only catalog (all of them scraped stores)")
    parser.add_argument("--seed", type=int, default=20261126, help="seed of both catalogs and of Splink's sampling")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "messy")
    parser.add_argument("--no-splink", action="store_true", help="skip the Splink peer")
    parser.add_argument("--no-scraped", action="store_true", help="skip the scraped-only catalog")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child run")
    args = parser.parse_args()
    args.out = args.out.resolve()
    results = []
    for catalog in catalogs(args):
        print(f"== {catalog.title}", flush=True)
        result = bench_catalog(catalog, args.seed, args.out, run_peer=not args.no_splink,
                               timeout_seconds=args.timeout)
        print(json.dumps({k: v for k, v in result.items() if not k.startswith("recall_")}, indent=1, default=str),
              flush=True)
        results.append(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    text = report(results, _command_line([str(BIN / "python"), *sys.argv]))
    (args.out / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
