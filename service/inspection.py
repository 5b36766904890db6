"""Read-outs for people: ``catalog-er evaluate`` and ``show`` (a resolve output directory) and ``fingerprint``
(audio files), printed as text on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog_er.fingerprint.audio import InvalidAudioError, probe
from catalog_er.fingerprint.match import AudioRelation, relation, verify
from catalog_er.resolver.evaluate import Evaluation, evaluate, homonym_merge_rate
from catalog_er.service.audio_files import fingerprint_file
from catalog_er.service.errors import InputFileError
from catalog_er.service.io.files import read_tracks


def _read_required(path: Path) -> pa.Table:
    if not path.is_file():
        raise InputFileError(f"{path} does not exist (expected an output of 'catalog-er resolve' or "
                             f"'catalog-er synth')", path=path)
    return _read_parquet(path)


def _read_parquet(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as error:
        raise InputFileError(f"{path}: not a readable Parquet file ({error})", path=path) from error


def format_evaluation(evaluation: Evaluation) -> str:
    """Human-readable table of one evaluation."""
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.4f}"

    lines = [
        f"{evaluation.entity_type} resolution ({evaluation.entities:,} entities, "
        f"{evaluation.true_pairs:,} true duplicate pairs)",
        f"  pairwise   precision {pct(evaluation.pairwise_precision)}  recall {pct(evaluation.pairwise_recall)}"
        f"  F1 {pct(evaluation.pairwise_f1)}",
        f"  B-cubed    precision {pct(evaluation.bcubed_precision)}  recall {pct(evaluation.bcubed_recall)}"
        f"  F1 {pct(evaluation.bcubed_f1)}",
        f"  blocking   recall {pct(evaluation.blocking_recall)} over "
        f"{'n/a' if evaluation.candidate_pairs is None else f'{evaluation.candidate_pairs:,}'} candidate pairs",
        f"  calibration ECE {evaluation.expected_calibration_error:.4f} over "
        f"{evaluation.scored_pairs_evaluated:,} pairs with confidence >= 0.05",
        "    bin          pairs   mean conf  duplicates",
    ]
    for b in evaluation.calibration:
        lines.append(f"    [{b.low:.1f}, {b.high:.1f})  {b.pairs:>8,}   {b.mean_confidence:.3f}      "
                     f"{b.duplicate_share:.3f}")
    return "\n".join(lines)


def evaluate_output(truth_dir: Path, out: Path, *, print_json: bool = False) -> dict[str, dict[str, Any]]:
    """Score the resolve output in ``out/`` against the ground truth a synth run wrote to ``truth_dir/``.

    Prints the tracks' figures (and the artists', when the output holds artist pairs or proposals, with the
    share of same-name pairs of different artists that were merged), writes them to ``out/evaluation.json``
    and returns them (``{"track": {...}, "artist": {...}}``); ``print_json``: also print them as one JSON line.
    """
    truth = _read_required(truth_dir / "truth_tracks.parquet")
    candidates_path = out / "candidates.parquet"
    proposals, pairs = _read_required(out / "proposals.parquet"), _read_required(out / "pairs.parquet")
    candidates = _read_parquet(candidates_path) if candidates_path.is_file() else None
    evaluation = evaluate("track", truth["track_id"], truth["recording_id"], proposals, pairs, candidates)
    print(format_evaluation(evaluation))
    report: dict[str, dict[str, Any]] = {"track": evaluation.to_dict()}
    if pc.any(pc.equal(pairs["entity_type"], "artist")).as_py() or pc.any(
            pc.equal(proposals["entity_type"], "artist")).as_py():
        truth_artists = _read_required(truth_dir / "truth_artists.parquet")
        artist_evaluation = evaluate("artist", truth_artists["artist_id"], truth_artists["entity_id"], proposals,
                                     pairs, candidates)
        print(format_evaluation(artist_evaluation))
        report["artist"] = artist_evaluation.to_dict()
        names = _read_required(truth_dir / "artists.parquet").select(["artist_id", "name"])
        names = names.take(pc.index_in(truth_artists["artist_id"], value_set=names["artist_id"]))
        merged, total = homonym_merge_rate(truth_artists["artist_id"], names["name"], truth_artists["entity_id"],
                                           proposals)
        print(f"  homonyms   {merged:,} of {total:,} same-name pairs of different artists merged"
              f" ({merged / total if total else 0.0:.2%})")
        report["artist"]["homonym_pairs"] = total
        report["artist"]["homonym_pairs_merged"] = merged
    (out / "evaluation.json").write_text(json.dumps(report, indent=2))
    if print_json:
        print(json.dumps(report))
    return report


def format_proposal(row: dict[str, Any]) -> str:
    """A proposal as a short human-readable block: members, confidence and the strongest pair's signals."""
    evidence = json.loads(str(row["evidence"]))
    lines = [f"{row['proposal_id']}  confidence {row['confidence']:.3f}  keep {row['canonical_id']}  "
             f"merge {', '.join(m for m in row['member_ids'] if m != row['canonical_id'])}"]
    for pair in evidence["pairs"][:3]:
        signals = ", ".join(f"{name} {value}" for name, value in pair["signals"].items())
        lines.append(f"    {pair['left_id']} ~ {pair['right_id']}: {pair['confidence']:.3f}  [{signals}]")
    return "\n".join(lines)


def show_proposals(out: Path, *, top: int = 10, min_confidence: float | None = None,
                   tracks_path: str | Path | None = None) -> None:
    """Print the first ``top`` proposals of ``out/proposals.parquet`` (best first) with at least
    ``min_confidence``, with each member's title / artist when the tracks dump at ``tracks_path`` is given."""
    proposals = _read_required(out / "proposals.parquet")
    if min_confidence is not None:
        proposals = proposals.filter(pc.greater_equal(proposals["confidence"], min_confidence))
    print(f"{proposals.num_rows:,} proposals in {out}/proposals.parquet; showing {min(top, proposals.num_rows)}")
    titles: dict[str, str] = {}
    if tracks_path:
        tracks = read_tracks(tracks_path).table
        titles = {r["track_id"]: f"{r['title']!s} / {r['artist']!s}" for r in tracks.to_pylist()}
    for row in proposals.slice(0, top).to_pylist():
        print(format_proposal(row))
        for member in row["member_ids"]:
            if member in titles:
                print(f"      {member}: {titles[member]}")
    versions_file = out / "versions.parquet"
    if versions_file.is_file():
        versions = pq.read_table(versions_file)
        print(f"\n{versions.num_rows:,} pairs in {versions_file} are other recordings of one song (live, cover, "
              f"re-recording: never merged); showing {min(top, versions.num_rows)}")
        for pair in versions.slice(0, top).to_pylist():
            left, right = pair["left_id"], pair["right_id"]
            print(f"  same work {pair['work_similarity']:.2f}: {left}"
                  f"{' (' + titles[left] + ')' if left in titles else ''} / {right}"
                  f"{' (' + titles[right] + ')' if right in titles else ''}")


_VERDICTS = {AudioRelation.ALIGNED: "SAME RECORDING (an aligned copy)",
             AudioRelation.PARTIAL: "SAME RECORDING (a partial or time-scaled alignment)",
             AudioRelation.NO_ALIGNMENT: "DIFFERENT RECORDINGS (both usable, they do not align)",
             AudioRelation.UNUSABLE: "CANNOT TELL (too little audio in a file to judge)"}


def describe_fingerprints(file: str, other: str | None = None) -> None:
    """Print one audio file's format and fingerprint figures, or (with ``other``) whether the two files carry
    the same recording, with the score, offset, time scale and coverage behind the verdict."""
    try:
        first = fingerprint_file(file)
        if other is None:
            info = probe(file)
            print(f"{file}: {info.subtype} in {info.format} (FFmpeg's codec and container names), "
                  f"{info.channels} ch, {info.rate_hz} Hz, {first.seconds:.1f} s analysed\n"
                  f"  {first.peak_count:,} peaks, {len(first.hashes):,} hashes ({first.hashes_per_second:.0f}/s), "
                  f"{first.storage_bytes():,} bytes "
                  f"({first.storage_bytes() / max(first.seconds, 1e-9) * 3600 / 1e6:.1f} MB per hour)")
            return
        second = fingerprint_file(other)
    except InvalidAudioError as error:
        raise InputFileError(str(error)) from error
    result = verify(first, second)
    verdict = _VERDICTS[relation(first, second, result=result)]
    print(f"{verdict}: score {result.score} aligned hashes ({result.share:.1%} of the shorter), "
          f"offset {result.offset_seconds:+.2f} s, time scale {result.time_scale:.4f}, coverage "
          f"{result.query_coverage:.0%} of {file} / {result.reference_coverage:.0%} of {other}")
