"""The audio benchmark's results as markdown: one side-by-side table, then the per-distortion detail."""

from __future__ import annotations

import math


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None or (isinstance(rate, float) and math.isnan(rate)) else f"{100 * rate:.1f}%"


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _recall_cell(system: dict | None, count: int) -> str:
    if system is None:
        return "n/a"
    return f"{_percent(system['rate'])} ({system['matches']}/{count})"


def _false_cell(system: dict | None, pairs: int) -> str:
    if system is None:
        return "n/a"
    return f"{system['matches']:,} of {pairs:,} ({_percent(system['matches'] / pairs if pairs else math.nan)})"


def main_table(results: dict) -> list[str]:
    """One table: recall per distortion, false matches, speed, index latency and storage, both systems."""
    chroma_on = results["config"]["chromaprint"]
    lines = ["| distortion / measure | catalog-er | Chromaprint (fpcalc + AcoustID rule) |", "| --- | --- | --- |"]
    for name, row in results["recall"].items():
        lines.append(f"| recall: {name} | {_recall_cell(row['catalog_er'], row['count'])} | "
                     f"{_recall_cell(row['chromaprint'], row['count'])} |")
    excerpt = results["excerpt"]
    if excerpt:
        lines.append(f"| recall: 30 s excerpt from 150 s of a 200 s song | "
                     f"{_recall_cell(excerpt['catalog_er'], excerpt['count'])} | "
                     f"{_recall_cell(excerpt['chromaprint'], excerpt['count'])} |")
    pairs = results["false_matches"]["distinct_pairs"]
    lines.append(f"| false matches: distinct recordings, all pairs | "
                 f"{_false_cell(pairs['catalog_er'], pairs['pairs'])} | "
                 f"{_false_cell(pairs['chromaprint'], pairs['pairs'])} |")
    for kind, row in results["false_matches"]["hard_negatives"].items():
        lines.append(f"| false matches: {kind.replace('_', ' ')} vs original | "
                     f"{_false_cell(row['catalog_er'], row['count'])} | "
                     f"{_false_cell(row['chromaprint'], row['count'])} |")
    speed = results["speed"]
    for kind in ("mp3", "wav"):
        ours, peer = speed[kind]["catalog_er"], speed[kind]["chromaprint"]
        peer_cell = (f"{_number(peer['end_to_end_x_realtime'])}× ({_number(peer['without_process_start_x_realtime'])}× "
                     f"without process start)") if peer else "n/a"
        label = "MP3 128 kbps stereo" if kind == "mp3" else "WAV 16-bit stereo"
        lines.append(f"| speed, {label}, decode + fingerprint, 1 core (audio s per CPU s) | "
                     f"{_number(ours['end_to_end_x_realtime'])}× (decode {_number(ours['decode_x_realtime'])}×, "
                     f"fingerprint {_number(ours['fingerprint_x_realtime'])}×) | {peer_cell} |")
    index = results["index"]
    lines.append(f"| index search, {index['tracks']:,} tracks, {index['queries']} distorted queries: median / p95 | "
                 f"{index['median_ms']:.1f} ms / {index['p95_ms']:.1f} ms | n/a (no index in this peer) |")
    lines.append(f"| index search: correct track first | {_percent(index['hit_rate_first_correct'])} | n/a |")
    lines.append(f"| index search: songs not in the index that hit something | "
                 f"{index['unindexed_queries_with_a_hit']} of {index['unindexed_queries']} | n/a |")
    storage = results["storage"]
    chroma_storage = f"{_number(storage['chromaprint_raw_bytes_per_hour'])} (raw, uncompressed)" if chroma_on else "n/a"
    lines.append(f"| storage, fingerprint bytes per hour of audio | {_number(storage['fingerprint_bytes_per_hour'])} "
                 f"(hashes + frames) | {chroma_storage} |")
    lines.append(f"| storage, MinHash signature | {storage['signature_bytes_per_track']} B per track "
                 f"({_number(storage['signature_bytes_per_hour_at_3.5_min_tracks'])} B per hour of 3.5 min tracks) "
                 f"| n/a |")
    return lines


def detail_table(results: dict) -> list[str]:
    """Per distortion: medians of score, share, time scale and offset (ours) and AcoustID score (theirs)."""
    lines = ["| distortion | catalog-er median score | median share | median time scale | median offset s | "
             "Chromaprint median score |", "| --- | --- | --- | --- | --- | --- |"]
    for name, row in results["recall"].items():
        ours, peer = row["catalog_er"], row["chromaprint"]
        lines.append(f"| {name} | {_number(ours['median_score'])} | {ours['median_share']:.3f} | "
                     f"{ours['median_time_scale']:.4f} | {ours['median_offset_seconds']:.2f} | "
                     f"{_number(peer['median_score'], 3) if peer else 'n/a'} |")
    return lines


def negatives_table(results: dict) -> list[str]:
    """How close the negatives came to each system's threshold."""
    lines = ["| negatives | pairs | catalog-er max score / max share | Chromaprint max score | "
             "Chromaprint matches at 0.75 |", "| --- | --- | --- | --- | --- |"]
    rows = {"distinct recordings": results["false_matches"]["distinct_pairs"]}
    rows.update({k.replace("_", " "): v for k, v in results["false_matches"]["hard_negatives"].items()})
    for label, row in rows.items():
        count = row.get("pairs", row.get("count"))
        ours, peer = row["catalog_er"], row["chromaprint"]
        lines.append(f"| {label} | {count:,} | {ours['max_score']} / {ours['max_share']:.3f} | "
                     f"{_number(peer['max_score'], 3) if peer else 'n/a'} | "
                     f"{peer['matches_at_0.75'] if peer else 'n/a'} |")
    return lines


def sweep_table(results: dict) -> list[str]:
    """catalog-er's recall and false matches at higher share thresholds (re-thresholded, exact)."""
    sweep = results.get("threshold_sweep") or []
    if not sweep:
        return []
    kinds = [k for k in sweep[0] if k not in ("min_aligned_share", "recall_all_deliveries", "worst_distortion",
                                               "worst_recall", "distinct_pairs")]
    lines = ["| min aligned share | recall, all deliveries | worst distortion | false: distinct pairs | "
             + " | ".join(f"false: {k.replace('_', ' ')}" for k in kinds) + " |",
             "| --- " * (4 + len(kinds)) + "|"]
    for entry in sweep:
        lines.append(f"| {entry['min_aligned_share']:.2f} | {_percent(entry['recall_all_deliveries'])} | "
                     f"{entry['worst_distortion']} {_percent(entry['worst_recall'])} | {entry['distinct_pairs']} | "
                     + " | ".join(str(entry[k]) for k in kinds) + " |")
    return lines


def markdown(results: dict) -> str:
    """The whole report: a heading line with the setup, the tables, and the notes."""
    config = results["config"]
    header = (f"Audio fingerprint benchmark: {config['recordings']} recordings of {config['song_seconds']:.0f} s "
              f"at 44.1 kHz, {len(results['recall'])} distortions, index of {results['index']['tracks']:,} tracks, "
              f"seed {config['seed']}; {config['cpu_count']} cores, wall {results['run_seconds']['total']:.0f} s, "
              f"CPU {results['cpu_seconds']['total']:.0f} s.")
    parts = [header, "", *main_table(results), "", *detail_table(results), "", *negatives_table(results)]
    sweep = sweep_table(results)
    if sweep:
        parts += ["", "catalog-er at higher MIN_ALIGNED_SHARE values, every other rule of verify unchanged:",
                  "", *sweep]
    if results.get("notes"):
        parts += ["", *[f"- {note}" for note in results["notes"]]]
    return "\n".join(parts) + "\n"
