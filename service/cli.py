"""``catalog-er`` command line: each subcommand reads files, calls the core, writes files.

Exit codes: 0 success, 2 unusable input (the message names the file, column or value), 1 unexpected error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from catalog_er.fingerprint.audio import InvalidAudioError, probe
from catalog_er.fingerprint.match import verify
from catalog_er.resolver.config import ConfigError, ResolverConfig
from catalog_er.resolver.evaluate import Evaluation, evaluate, homonym_merge_rate
from catalog_er.resolver.pipeline import resolve_catalog
from catalog_er.resolver.synthetic import generate_catalog
from catalog_er.service.audio_evidence import audio_evidence
from catalog_er.service.audio_files import FingerprintCache, fingerprint_file, fingerprint_tracks
from catalog_er.service.errors import CatalogInputError, EmptyInputError, InputFileError
from catalog_er.service.io.parquet import read_artists, read_engagement, read_tracks, write_rejected, write_table
from catalog_er.service.synth_audio import add_audio

log = logging.getLogger("catalog_er")

RESOLVE_STAGES = ("normalize", "blocking", "compare", "train", "score", "cluster", "propose")
ARTIST_STAGES = ("artist features", "artist pairs", "artist model", "artist graph", "score (with artists)",
                 "cluster (with artists)", "propose (with artists)")


def _peak_memory_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _load_config(path: str | None) -> ResolverConfig:
    if path is None:
        return ResolverConfig()
    try:
        values = json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise InputFileError(f"config file {path} does not exist", path=path) from error
    except json.JSONDecodeError as error:
        raise InputFileError(f"config file {path} is not valid JSON: {error}", path=path) from error
    return ResolverConfig.from_mapping(values)


def cmd_resolve(args: argparse.Namespace) -> int:
    """Resolve duplicate tracks (and artists) in Parquet dumps; write proposals, pairs, rejected rows, summary."""
    if args.engagement and not args.artists:
        raise CatalogInputError("--engagement is evidence for artist resolution: give --artists too")
    config = _load_config(args.config)
    out = Path(args.out)
    started = time.perf_counter()
    tracks = read_tracks(args.tracks)
    rejected = [tracks.rejected]
    out.mkdir(parents=True, exist_ok=True)
    (out / "rejected.parquet").unlink(missing_ok=True)  # never leave a stale report from an earlier run
    if tracks.table.num_rows == 0:
        write_rejected(rejected, out / "rejected.parquet")
        raise EmptyInputError(f"{args.tracks}: no usable track rows ({tracks.rejected.num_rows:,} rejected; "
                              f"reasons in {out / 'rejected.parquet'})", path=args.tracks)
    inputs = {"tracks": str(args.tracks)}
    artists = engagement = None
    if args.artists:
        loaded = read_artists(args.artists)
        rejected.append(loaded.rejected)
        artists = loaded.table
        inputs["artists"] = str(args.artists)
    if args.engagement:
        loaded = read_engagement(args.engagement, known_track_ids=tracks.table["track_id"])
        rejected.append(loaded.rejected)
        engagement = loaded.table
        inputs["engagement"] = str(args.engagement)
    audio = None
    with_audio = tracks.table["audio_path"].null_count < tracks.table.num_rows
    if with_audio and not args.no_audio:
        cache = None if args.no_fingerprint_cache else FingerprintCache(out / "fingerprint-cache")
        n_audio = tracks.table.num_rows - tracks.table["audio_path"].null_count
        with tqdm(total=n_audio, desc="fingerprint", unit="file", disable=args.quiet) as bar:
            track_audio = fingerprint_tracks(tracks.table, tracks_file=Path(args.tracks), cache=cache,
                                             on_track=bar.update)
        rejected.append(track_audio.rejected)
        audio = audio_evidence(track_audio.by_row(tracks.table.num_rows), find_candidates=True)
        log.info("fingerprints: %d decoded, %d from cache, %d unusable", track_audio.decoded,
                 track_audio.cached, track_audio.rejected.num_rows)
    stages = RESOLVE_STAGES + (ARTIST_STAGES if artists is not None else ())
    with tqdm(total=len(stages), desc="resolve", unit="stage", disable=args.quiet) as bar:
        def on_stage(name: str) -> None:
            bar.set_postfix_str(name)
            if bar.n < bar.total and name != stages[0]:
                bar.update(1)

        result = resolve_catalog(tracks.table, artists, engagement, config=config, on_stage=on_stage, audio=audio)
        bar.update(bar.total - bar.n)
    write_table(result.proposals(), out / "proposals.parquet")
    write_table(result.pairs(), out / "pairs.parquet")
    candidates_file = out / "candidates.parquet"
    candidates_file.unlink(missing_ok=True)
    if args.keep_candidates:
        write_table(result.candidates(), candidates_file)
    rejected_count = write_rejected(rejected, out / "rejected.parquet")
    counts = {**result.tracks.counts, **(result.artists.counts if result.artists else {}),
              "rejected_rows": rejected_count}
    summary = {
        "inputs": inputs,
        "counts": counts,
        "stage_seconds": result.stage_seconds,
        "total_seconds": round(time.perf_counter() - started, 3),
        "peak_memory_bytes": _peak_memory_bytes(),
        "blocking": {**result.tracks.blocking,
                     **({"artist_pairs_by_blocker": result.artists.blocking} if result.artists else {})},
        "model": result.tracks.model.describe(),
        **({"artist_model": result.artists.model.describe()} if result.artists else {}),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    artist_note = ""
    if result.artists is not None:
        artist_note = (f"; {counts['artists']:,} artists → {counts['artist_candidate_pairs']:,} candidate pairs → "
                       f"{counts['artist_proposals']:,} artist merge proposals covering "
                       f"{counts['artists_in_proposals']:,} artist ids")
    print(f"{counts['tracks']:,} tracks → {counts['candidate_pairs']:,} candidate pairs → "
          f"{counts['proposals']:,} merge proposals covering {counts['tracks_in_proposals']:,} tracks"
          f"{artist_note} ({rejected_count:,} input problems reported) in {summary['total_seconds']:.1f} s; "
          f"outputs in {out}/")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    """Write a seeded synthetic catalog with ground truth."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=args.tracks, desc="synth", unit="track", disable=args.quiet) as bar:
        catalog = generate_catalog(n_tracks=args.tracks, seed=args.seed, engagement_rows=args.engagement_rows,
                                   progress=bar.update)
    audio_note = ""
    if args.audio:
        with tqdm(desc="audio", unit="file", disable=args.quiet) as bar:
            with_audio = add_audio(catalog, out=out, recordings=args.audio, seed=args.seed, on_file=bar.update)
        catalog = with_audio.catalog
        audio_note = (f", {with_audio.files_written:,} audio files for {with_audio.recordings_with_audio:,} "
                      f"recordings under {out / 'audio'}/")
    for name in ("tracks", "artists", "engagement", "truth_tracks", "truth_artists"):
        write_table(getattr(catalog, name), out / f"{name}.parquet")
    print(f"wrote {catalog.tracks.num_rows:,} tracks, {catalog.artists.num_rows:,} artists, "
          f"{catalog.engagement.num_rows:,} engagement rows and ground truth to {out}/ (seed {args.seed})"
          f"{audio_note}")
    return 0


def _read_required(path: Path) -> pa.Table:
    if not path.is_file():
        raise InputFileError(f"{path} does not exist (expected an output of 'catalog-er resolve' or "
                             f"'catalog-er synth')", path=path)
    return pq.read_table(path)


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


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score a resolve output directory against synthetic ground truth."""
    truth_dir, out = Path(args.truth), Path(args.out)
    truth = _read_required(truth_dir / "truth_tracks.parquet")
    candidates_path = out / "candidates.parquet"
    proposals, pairs = _read_required(out / "proposals.parquet"), _read_required(out / "pairs.parquet")
    candidates = pq.read_table(candidates_path) if candidates_path.is_file() else None
    evaluation = evaluate("track", truth["track_id"], truth["recording_id"], proposals, pairs, candidates)
    print(format_evaluation(evaluation))
    report: dict[str, object] = {"track": evaluation.to_dict()}
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
    if args.json:
        print(json.dumps(report))
    return 0


def format_proposal(row: dict[str, object]) -> str:
    """A proposal as a short human-readable block: members, confidence and the strongest pair's signals."""
    evidence = json.loads(str(row["evidence"]))
    lines = [f"{row['proposal_id']}  confidence {row['confidence']:.3f}  keep {row['canonical_id']}  "
             f"merge {', '.join(m for m in row['member_ids'] if m != row['canonical_id'])}"]
    for pair in evidence["pairs"][:3]:
        signals = ", ".join(f"{name} {value}" for name, value in pair["signals"].items())
        lines.append(f"    {pair['left_id']} ~ {pair['right_id']}: {pair['confidence']:.3f}  [{signals}]")
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> int:
    """Print the top proposals of a resolve output with titles and evidence."""
    out = Path(args.out)
    proposals = _read_required(out / "proposals.parquet")
    if args.min_confidence is not None:
        proposals = proposals.filter(pc.greater_equal(proposals["confidence"], args.min_confidence))
    print(f"{proposals.num_rows:,} proposals in {out}/proposals.parquet; showing {min(args.top, proposals.num_rows)}")
    titles = {}
    if args.tracks:
        tracks = pq.read_table(args.tracks, columns=["track_id", "title", "artist"])
        titles = {r["track_id"]: f"{r['title']!s} / {r['artist']!s}" for r in tracks.to_pylist()}
    for row in proposals.slice(0, args.top).to_pylist():
        print(format_proposal(row))
        for member in row["member_ids"]:
            if member in titles:
                print(f"      {member}: {titles[member]}")
    return 0


def cmd_fingerprint(args: argparse.Namespace) -> int:
    """Summarize one audio file's fingerprint, or compare two."""
    try:
        first = fingerprint_file(args.file)
        if args.other is None:
            info = probe(args.file)
            print(f"{args.file}: {info.format} {info.subtype}, {info.channels} ch, {info.rate_hz} Hz, "
                  f"{first.seconds:.1f} s analysed\n  {first.peak_count:,} peaks, {len(first.hashes):,} hashes "
                  f"({first.hashes_per_second:.0f}/s), {first.storage_bytes():,} bytes "
                  f"({first.storage_bytes() / max(first.seconds, 1e-9) * 3600 / 1e6:.1f} MB per hour)")
            return 0
        second = fingerprint_file(args.other)
    except InvalidAudioError as error:
        raise InputFileError(str(error)) from error
    result = verify(first, second)
    verdict = "SAME RECORDING" if result.is_match else "different recordings"
    print(f"{verdict}: score {result.score} aligned hashes ({result.share:.1%} of the shorter), "
          f"offset {result.offset_seconds:+.2f} s, time scale {result.time_scale:.4f}, coverage "
          f"{result.query_coverage:.0%} of {args.file} / {result.reference_coverage:.0%} of {args.other}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the gRPC service on an embedded SQLite database."""
    from catalog_er.service.server import JsonFormatter, ServerSettings, serve_forever

    if bool(args.tls_cert) != bool(args.tls_key):
        raise CatalogInputError("--tls-cert and --tls-key go together")
    for path in (args.tls_cert, args.tls_key):
        if path and not Path(path).is_file():
            raise InputFileError(f"{path}: no such file", path=path)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.getLogger("catalog_er").handlers[:] = [handler]
    logging.getLogger("catalog_er").setLevel(logging.INFO)
    logging.getLogger("catalog_er").propagate = False
    token = args.token or os.environ.get("CATALOG_ER_TOKEN") or None
    settings = ServerSettings(db_path=Path(args.db), port=args.port, host=args.host, token=token,
                              tls_cert=Path(args.tls_cert) if args.tls_cert else None,
                              tls_key=Path(args.tls_key) if args.tls_key else None, metrics_port=args.metrics_port,
                              log_reads=args.log_reads, workers=args.workers)
    return serve_forever(settings, _load_config(args.config))


def cmd_import(args: argparse.Namespace) -> int:
    """Load Parquet dumps into the service database (same contract and rejected report as resolve)."""
    from catalog_er.service.store import Store

    if not (args.tracks or args.artists or args.engagement):
        raise CatalogInputError("give at least one of --tracks, --artists, --engagement")
    store = Store(args.db)
    rejected, counts = [], {"tracks": 0, "artists": 0, "engagement": 0}
    try:
        if args.tracks:
            tracks = read_tracks(args.tracks)
            rejected.append(tracks.rejected)
            for start in range(0, tracks.table.num_rows, 50_000):
                store.upsert_tracks(tracks.table.slice(start, 50_000))
            counts["tracks"] = tracks.table.num_rows
        if args.artists:
            artists = read_artists(args.artists)
            rejected.append(artists.rejected)
            store.upsert_artists(artists.table)
            counts["artists"] = artists.table.num_rows
        if args.engagement:  # plays of any stored track count, whichever import brought it
            engagement = read_engagement(args.engagement, known_track_ids=store.track_ids())
            rejected.append(engagement.rejected)
            for start in range(0, engagement.table.num_rows, 500_000):
                store.upsert_engagement(engagement.table.slice(start, 500_000))
            counts["engagement"] = engagement.table.num_rows
    finally:
        store.close()
    problems = write_rejected(rejected, args.rejected) if args.rejected else sum(t.num_rows for t in rejected)
    print(f"imported {counts['tracks']:,} tracks, {counts['artists']:,} artists, {counts['engagement']:,} engagement "
          f"rows into {args.db} ({problems:,} input problems"
          f"{'; see ' + args.rejected if args.rejected and problems else ''})")
    return 0


def _positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``catalog-er`` argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="catalog-er",
        description="Find duplicate songs in music catalogs and propose merges with calibrated confidence.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log each stage's details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    resolve = sub.add_parser("resolve", help="find duplicates in Parquet catalog dumps",
                             description="Find duplicate tracks (and, with --artists, duplicate artist ids) in "
                                         "Parquet dumps; see README 'Data contract'.")
    resolve.add_argument("--tracks", required=True, metavar="T.parquet", help="tracks dump (track_id, title, ...)")
    resolve.add_argument("--artists", metavar="A.parquet",
                         help="artists dump (artist_id, name, ...): also resolve duplicate artist ids")
    resolve.add_argument("--engagement", metavar="E.parquet",
                         help="engagement dump (user_id, track_id, plays): co-engagement evidence for artists "
                              "(needs --artists)")
    resolve.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    resolve.add_argument("--config", metavar="CONFIG.json",
                         help='thresholds, e.g. {"clustering": {"merge_threshold": 0.6}}; see resolver/config.py')
    resolve.add_argument("--keep-candidates", action="store_true",
                         help="also write candidates.parquet (every candidate pair; for blocking recall)")
    resolve.add_argument("--no-audio", action="store_true", help="ignore audio_path (metadata only)")
    resolve.add_argument("--no-fingerprint-cache", action="store_true",
                         help="decode every audio file again instead of using DIR/fingerprint-cache/")
    resolve.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    resolve.set_defaults(handler=cmd_resolve)

    serve = sub.add_parser("serve", help="run the gRPC service on an embedded SQLite database",
                           description="Serve catalog_er.v1.CatalogErService (see proto/); state lives in --db.")
    serve.add_argument("--db", required=True, metavar="PATH", help="SQLite database file (created if missing)")
    serve.add_argument("--port", type=int, default=50051, help="gRPC port (0 picks a free one; default 50051)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; 0.0.0.0 for all)")
    serve.add_argument("--token", help="bearer token required by mutating calls (or env CATALOG_ER_TOKEN)")
    serve.add_argument("--tls-cert", metavar="CERT.pem", help="serve TLS with this certificate chain")
    serve.add_argument("--tls-key", metavar="KEY.pem", help="private key for --tls-cert")
    serve.add_argument("--metrics-port", type=int, help="serve Prometheus metrics over HTTP on this port")
    serve.add_argument("--config", metavar="CONFIG.json", help="resolver thresholds, as for resolve")
    serve.add_argument("--log-reads", action="store_true",
                       help="also log every successful read call (mutating, failed and slow calls are always "
                            "logged; a line per look-up costs about 0.1 ms of CPU)")
    serve.add_argument("--workers", type=_positive_int, default=4, metavar="N",
                       help="threads for database work, ingest batches and resolutions (default 4); look-ups "
                            "answer from memory on the event loop")
    serve.set_defaults(handler=cmd_serve)

    import_parser = sub.add_parser("import", help="load Parquet dumps into a service database",
                                   description="Upsert tracks, artists and engagement into --db, validated as "
                                               "by resolve; engagement rows may name any track already stored.")
    import_parser.add_argument("--db", required=True, metavar="PATH", help="SQLite database file")
    import_parser.add_argument("--tracks", metavar="T.parquet", help="tracks dump (the resolve contract)")
    import_parser.add_argument("--artists", metavar="A.parquet", help="artists dump")
    import_parser.add_argument("--engagement", metavar="E.parquet",
                               help="engagement dump (user_id, track_id, plays); unknown track ids are rejected")
    import_parser.add_argument("--rejected", metavar="R.parquet", help="write the rejected-row report here")
    import_parser.set_defaults(handler=cmd_import)

    synth = sub.add_parser("synth", help="generate a synthetic catalog with ground truth",
                           description="Write tracks/artists/engagement Parquet plus truth_*.parquet.")
    synth.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    synth.add_argument("--tracks", required=True, type=int, metavar="N", help="number of track rows")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--engagement-rows", type=int, default=None, metavar="N",
                       help="engagement rows (default 5 per track)")
    synth.add_argument("--audio", type=int, default=0, metavar="K",
                       help="give about K recordings synthetic audio files (written under DIR/audio/)")
    synth.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(handler=cmd_synth)

    evaluate_parser = sub.add_parser("evaluate", help="score resolve output against ground truth",
                                     description="Pairwise P/R/F1, B-cubed F1, blocking recall and ECE.")
    evaluate_parser.add_argument("--truth", required=True, metavar="DIR", help="directory written by synth")
    evaluate_parser.add_argument("--out", required=True, metavar="DIR", help="directory written by resolve")
    evaluate_parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    evaluate_parser.set_defaults(handler=cmd_evaluate)

    fingerprint = sub.add_parser("fingerprint", help="fingerprint an audio file, or compare two",
                                 description="WAV, FLAC, OGG/Vorbis, Opus or MP3. One file: a summary; "
                                             "two files: whether they carry the same recording.")
    fingerprint.add_argument("file", help="audio file")
    fingerprint.add_argument("other", nargs="?", default=None, help="second audio file to compare with")
    fingerprint.set_defaults(handler=cmd_fingerprint)

    show = sub.add_parser("show", help="print the top merge proposals with their evidence",
                          description="Print proposals from a resolve output directory, best first.")
    show.add_argument("--out", required=True, metavar="DIR", help="directory written by resolve")
    show.add_argument("--top", type=int, default=10, metavar="N", help="how many proposals (default 10)")
    show.add_argument("--min-confidence", type=float, default=None, metavar="P", help="only at or above P")
    show.add_argument("--tracks", metavar="T.parquet", help="tracks dump, to print each member's title/artist")
    show.set_defaults(handler=cmd_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``catalog-er`` console script."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `catalog-er evaluate ... | head` ends quietly
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.handler(args)
    except (CatalogInputError, ConfigError) as error:
        print(f"catalog-er: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
