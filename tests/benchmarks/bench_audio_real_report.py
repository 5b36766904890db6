"""The real-music benchmark's results as markdown: recall by distortion × format, negatives, false matches, cost."""

from __future__ import annotations

from bench_audio_report import _number, _percent


def _cell(summary: dict | None, system: str) -> str:
    if summary is None:
        return ""
    row = summary[system]
    if row is None:
        return "n/a"
    return f"{_percent(row['rate'])} ({row['matches']}/{summary['count']})"


def recall_table(results: dict, system: str) -> list[str]:
    """Rows: distortions; columns: formats; cells: recall (matches/deliveries) of ``system``."""
    formats = list(dict.fromkeys(f for row in results["recall"].values() for f in row))
    lines = ["| distortion | " + " | ".join(formats) + " |", "| --- " * (len(formats) + 1) + "|"]
    for distortion, row in results["recall"].items():
        lines.append(f"| {distortion} | " + " | ".join(_cell(row.get(f), system) for f in formats) + " |")
    return lines


def negatives_table(results: dict) -> list[str]:
    """Hard negatives: how many were matched, and how close they came."""
    lines = ["| negative | pairs | catalog-er matched | max share | max score | Chromaprint matched | "
             "Chromaprint max score |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, row in results["negatives"].items():
        ours, peer = row["catalog_er"], row["chromaprint"]
        lines.append(f"| {label.replace('|', ' in ')} | {row['count']} | {ours['matches']} | "
                     f"{ours['max_share']:.3f} | {ours['max_score']} | {peer['matches'] if peer else 'n/a'} | "
                     f"{_number(peer['max_score'], 3) if peer else 'n/a'} |")
    return lines


def false_match_lines(results: dict) -> list[str]:
    """Pairs of distinct songs, and deliveries against every other song."""
    distinct = results["false_matches"]["distinct_songs"]
    cross = results["false_matches"]["delivery_vs_other_song"]
    ours, peer = distinct["catalog_er"], distinct["chromaprint"]
    peer_cell = f"{peer['matches']} (max score {peer['max_score']:.3f})" if peer else "n/a"
    cross_peer = cross["chromaprint"]["matches"] if cross["chromaprint"] else "n/a"
    lines = ["| false matches | pairs | catalog-er | Chromaprint |", "| --- | --- | --- | --- |",
             f"| distinct songs (shipped files), all pairs | {distinct['pairs']:,} | {ours['matches']} "
             f"(max share {ours['max_share']:.3f}, max score {ours['max_score']}) | {peer_cell} |",
             f"| every delivery vs every other song | {cross['pairs']:,} | {cross['catalog_er']['matches']} "
             f"(max share {cross['catalog_er']['max_share']:.3f}) | {cross_peer} |"]
    if distinct["matched_pairs"]:
        lines += ["", "catalog-er's matched pairs of distinct shipped songs: "
                  f"{'; '.join(f'{a} ~ {b}' for a, b in distinct['matched_pairs'])}."]
    by_pair = cross["catalog_er"].get("by_song_pair", {})
    if by_pair:
        lines += ["", "catalog-er's delivery-vs-other-song matches, deliveries per song pair: "
                  f"{'; '.join(f'{pair}: {count}' for pair, count in by_pair.items())}."]
    return lines


def miss_lines(results: dict) -> list[str]:
    """Which songs each distortion × format missed (catalog-er)."""
    return [f"- {label.replace('|', ' in ')}: {', '.join(songs)}" for label, songs in results.get("misses", {}).items()]


def speed_table(results: dict) -> list[str]:
    """Per format: × real time per CPU second of each step, ours and fpcalc's."""
    lines = ["| format | files | audio min | decode × | fingerprint × | verify × | decode + fingerprint + verify × "
             "| fpcalc × (first 120 s, process start included) |", "| --- " * 8 + "|"]
    for name, row in results["speed"].items():
        lines.append(f"| {name} | {row['files']} | {row['audio_seconds'] / 60:.1f} | "
                     f"{_number(row['decode_x_realtime'])} | {_number(row['fingerprint_x_realtime'])} | "
                     f"{_number(row['verify_x_realtime'])} | {_number(row['end_to_end_x_realtime'])} | "
                     f"{_number(row['fpcalc_x_realtime'])} |")
    return lines


def error_lines(results: dict) -> list[str]:
    """Deliveries that failed to decode (counted as misses), per format with the reason."""
    lines = []
    for name, entry in results["decode_errors"].items():
        reasons = ", ".join(f"{reason} × {count}" for reason, count in entry["reasons"].items())
        example = next(iter(entry["examples"].values()))
        lines.append(f"- {name}: {entry['count']} deliveries failed ({reasons}); e.g. {example}")
    for song_id, message in results["unusable_references"].items():
        lines.append(f"- shipped file of {song_id} unusable: {message}")
    return lines


def markdown(results: dict) -> str:
    """The whole report."""
    config = results["config"]
    header = (f"Real-music audio benchmark: {config['songs']} songs ({config['song_minutes']:.0f} min) and "
              f"{config['stems']} stems from Debian packages {', '.join(config['packages'])}; "
              f"{results['deliveries']} deliveries (plain transcode in {', '.join(config['formats'])}; every "
              f"distortion in {', '.join(config['distortion_formats'])}); {config['cpu_count']} cores, "
              f"{config['processes']} workers, wall {results['run_seconds']:.0f} s, "
              f"CPU {results['cpu_seconds']:.0f} s.")
    if len(config["distortion_formats"]) < len(config["formats"]):
        header += (" Every distortion in every format would cost about 4× the encoding on two cores: "
                   "`--distortion-formats` takes any list of formats.")
    parts = [header, "", "Recall, catalog-er (delivery verified against the shipped file):", "",
             *recall_table(results, "catalog_er")]
    if config["chromaprint"]:
        parts += ["", "Recall, Chromaprint (fpcalc + AcoustID's rule: score > "
                  f"{config['chromaprint_rule']['threshold']}):", "", *recall_table(results, "chromaprint")]
    parts += ["", "Hard negatives (must not match; stems are other recordings of the same song, time-aligned):",
              "", *negatives_table(results), "", *false_match_lines(results), "",
              "Cost per CPU second (audio seconds per CPU second, one worker process):", "", *speed_table(results)]
    misses = miss_lines(results)
    if misses:
        parts += ["", "Deliveries catalog-er missed:", "", *misses]
    errors = error_lines(results)
    if errors:
        parts += ["", "Decoding errors (counted as misses):", "", *errors]
    parts += ["", f"Rebuild the corpus: {config['rebuild']}."]
    return "\n".join(parts) + "\n"
