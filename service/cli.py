"""``catalog-er`` command line: the argument parser and the dispatch to each command's module.

Arguments only: each command's work lives in its own module (``service.batch`` for ``resolve``,
``service.synth``, ``service.inspection`` for ``evaluate``/``show``/``fingerprint``, ``service.store_import``,
``service.server``), imported when the command runs, so this module and ``--help`` load the standard library
alone (``tests/service/test_cli.py`` checks it). Paths are checked while parsing: an ``--out`` that is a file or a
``--db`` that is a directory stops the run before any work.

Every option that takes a path goes through :func:`_path` (no NUL, at most ``MAX_PATH_BYTES``), so no path
reaches the file system that it would refuse with a traceback; an ``OSError`` naming a file still ends as a
message. Exit codes: 0 success, 2 unusable input or settings (the message names the file, column, value or
variable), 1 unexpected error.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalog_er.resolver.config import ConfigError
from catalog_er.service.errors import CatalogInputError, path_problem, shown

DISTRIBUTION = "catalog-er"
"""The installed distribution whose version ``--version`` prints."""
DEFAULT_PORT = 50051
DEFAULT_HOST = "127.0.0.1"
PORT_VARIABLE, HOST_VARIABLE, TOKEN_VARIABLE = "CATALOG_ER_PORT", "CATALOG_ER_HOST", "CATALOG_ER_TOKEN"
TOKEN_FILE_VARIABLE = "CATALOG_ER_TOKEN_FILE"
TLS_CERT_VARIABLE, TLS_KEY_VARIABLE = "CATALOG_ER_TLS_CERT", "CATALOG_ER_TLS_KEY"
"""``serve`` takes these from the environment when the flag is not given (the container's health check reads
the same ones); an empty variable counts as unset, except ``CATALOG_ER_TOKEN``, where it is refused (an empty
token must never mean "no authentication")."""
DUMP_FORMS = ("Each dump is a Parquet, CSV, TSV or JSON Lines file (.parquet, .csv, .tsv, .jsonl or .ndjson; text "
              "files may be .gz), a folder of part files of one format, or a glob pattern in quotes such as "
              "'parts/*.parquet'; CSV needs a header line. See README 'Data contract'.")
"""What ``--tracks``, ``--artists`` and ``--engagement`` accept (``service.io.files`` reads them)."""


# ------------------------------------------------------------------------------------------- argument types


def _positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _count(text: str) -> int:
    """An argparse type: an integer of at least 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; expected a count of 0 or more")
    return value


def _port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return value


def _path(text: str) -> str:
    """An argparse type: a path the file system can take (see ``service.errors.path_problem``)."""
    problem = path_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a usable path: {problem}")
    return text


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (``.`` or ``/`` at worst)."""
    return next(candidate for candidate in (path, *path.parents) if candidate.exists())


def _creatable(text: str, path: Path) -> None:
    """Refuse ``path`` when a file stands where one of its missing parent directories would be created."""
    existing = _nearest_existing(path)
    if existing != path and not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text} cannot be created: {existing} is a file, not a directory")


def _output_directory(text: str) -> Path:
    """An argparse type: a directory to write into, existing or not; never an existing file."""
    path = Path(_path(text))
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a directory (give a directory for the outputs)")
    _creatable(text, path)
    existing = _nearest_existing(path)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text} cannot be written: {existing} is not writable")
    return path


def _output_file(text: str) -> str:
    """An argparse type: a file to write or open for writing, existing or not; never a directory."""
    path = Path(_path(text))
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory, not a file")
    _creatable(text, path.parent)
    return text


class _VersionAction(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version(DISTRIBUTION)
        except PackageNotFoundError:
            parser.exit(2, f"{parser.prog}: error: the {DISTRIBUTION} distribution is not installed\n")
        print(f"{parser.prog} {installed}")
        parser.exit()


# ------------------------------------------------------------------------------------------- environment


def _environment(name: str) -> str | None:
    """The variable's value, or None when it is unset or empty."""
    return os.environ.get(name) or None


def _environment_port() -> int:
    text = _environment(PORT_VARIABLE)
    if text is None:
        return DEFAULT_PORT
    try:
        return _port_number(text)
    except argparse.ArgumentTypeError as error:
        raise CatalogInputError(f"environment variable {PORT_VARIABLE}: {error}") from None


# ------------------------------------------------------------------------------------------- dispatch


def _run_resolve(args: argparse.Namespace) -> int:
    if args.engagement and not args.artists:
        raise CatalogInputError("--engagement is evidence for artist resolution: give --artists too")
    from catalog_er.service.batch import run_batch
    from catalog_er.service.config_file import load_config

    run_batch(args.tracks, out=args.out, artists_path=args.artists, engagement_path=args.engagement,
              config=load_config(args.config), keep_candidates=args.keep_candidates, use_audio=not args.no_audio,
              fingerprint_cache=not args.no_fingerprint_cache, show_progress=not args.quiet)
    return 0


def _run_synth(args: argparse.Namespace) -> int:
    if args.scraped_sources is not None and args.scraped_sources > args.sources:
        allowed = (f"give between 0 and {args.sources} scraped sources" if args.sources
                   else "scraped stores are some of the --sources K, so give --sources too")
        raise CatalogInputError(f"--scraped-sources {args.scraped_sources} is more than --sources {args.sources}; "
                                f"{allowed}")
    from catalog_er.service.synth import write_synthetic_catalog

    write_synthetic_catalog(args.out, tracks=args.tracks, seed=args.seed, engagement_rows=args.engagement_rows,
                            audio_recordings=args.audio, sources=args.sources, scraped_sources=args.scraped_sources,
                            tracks_format=args.format, show_progress=not args.quiet)
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    from catalog_er.service.inspection import evaluate_output

    evaluate_output(Path(args.truth), Path(args.out), print_json=args.json)
    return 0


def _run_show(args: argparse.Namespace) -> int:
    from catalog_er.service.inspection import show_proposals

    show_proposals(Path(args.out), top=args.top, min_confidence=args.min_confidence, tracks_path=args.tracks)
    return 0


def _run_fingerprint(args: argparse.Namespace) -> int:
    from catalog_er.service.inspection import describe_fingerprints

    describe_fingerprints(args.file, args.other)
    return 0


def _run_import(args: argparse.Namespace) -> int:
    if not (args.tracks or args.artists or args.engagement):
        raise CatalogInputError("give at least one of --tracks, --artists, --engagement")
    from catalog_er.service.store_import import import_dumps

    import_dumps(args.db, tracks_path=args.tracks, artists_path=args.artists, engagement_path=args.engagement,
                 rejected_path=args.rejected)
    return 0


def _environment_path(name: str) -> str | None:
    """The path in the variable ``name`` (None when unset or empty); refused like a path option's."""
    text = _environment(name)
    if text is not None and (problem := path_problem(text)) is not None:
        raise CatalogInputError(f"environment variable {name}: {shown(text)} is not a usable path: {problem}")
    return text


def _token(args: argparse.Namespace) -> str | None:
    """The bearer token from ``--token``, ``--token-file``, ``$CATALOG_ER_TOKEN`` or ``$CATALOG_ER_TOKEN_FILE``
    (a flag before a variable; two sources of one rank are refused); None when none is given. An empty or
    unsendable token, or a token file other users can read, raises ``SettingsError``."""
    from catalog_er.service.security import check_token, read_token_file  # the standard library alone

    if args.token is not None and args.token_file is not None:
        raise CatalogInputError("give --token or --token-file, not both")
    if args.token is not None:
        check_token(args.token, "--token")
        return args.token
    token_file = args.token_file
    if token_file is None:
        token_file = _environment_path(TOKEN_FILE_VARIABLE)
        if token_file is not None and TOKEN_VARIABLE in os.environ:
            raise CatalogInputError(f"${TOKEN_VARIABLE} and ${TOKEN_FILE_VARIABLE} are both set: keep one")
    if token_file is not None:
        return read_token_file(Path(token_file))
    if TOKEN_VARIABLE in os.environ:
        check_token(os.environ[TOKEN_VARIABLE], f"${TOKEN_VARIABLE}")
        return os.environ[TOKEN_VARIABLE]
    return None


def _run_serve(args: argparse.Namespace) -> int:
    port = args.port if args.port is not None else _environment_port()
    host = args.host or _environment(HOST_VARIABLE) or DEFAULT_HOST
    tls_cert = args.tls_cert or _environment_path(TLS_CERT_VARIABLE)
    tls_key = args.tls_key or _environment_path(TLS_KEY_VARIABLE)
    if bool(tls_cert) != bool(tls_key):
        given = "a certificate without a key" if tls_cert else "a key without a certificate"
        raise CatalogInputError(f"--tls-cert and --tls-key go together (or ${TLS_CERT_VARIABLE} and "
                                f"${TLS_KEY_VARIABLE}); got {given}")
    from catalog_er.service.config_file import load_config
    from catalog_er.service.security import Exposure, check_tls_files

    # Settings and files are checked before the server's libraries load: a refusal comes in a fraction of a second.
    token = _token(args)
    Exposure(host=host, token=token, tls=tls_cert is not None, token_for_reads=args.token_for_reads,
             metrics_port=args.metrics_port, metrics_host=args.metrics_host, insecure=args.insecure)
    if tls_cert and tls_key:
        check_tls_files(Path(tls_cert), Path(tls_key))
    config = load_config(args.config)
    from catalog_er.service.server import JsonFormatter, ServerSettings, serve_forever

    settings = ServerSettings(db_path=Path(args.db), port=port, host=host, token=token,
                              token_for_reads=args.token_for_reads, tls_cert=Path(tls_cert) if tls_cert else None,
                              tls_key=Path(tls_key) if tls_key else None, metrics_port=args.metrics_port,
                              metrics_host=args.metrics_host, insecure=args.insecure, log_reads=args.log_reads,
                              workers=args.workers, lookup_process=not args.no_lookup_process)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.getLogger("catalog_er").handlers[:] = [handler]
    logging.getLogger("catalog_er").setLevel(logging.INFO)
    logging.getLogger("catalog_er").propagate = False
    return serve_forever(settings, config)


# ------------------------------------------------------------------------------------------- the parser


def build_parser() -> argparse.ArgumentParser:
    """The ``catalog-er`` argument parser with all subcommands (each sets ``handler``, its dispatch function)."""
    parser = argparse.ArgumentParser(
        prog="catalog-er",
        description="Find duplicate songs in music catalogs and propose merges with calibrated confidence.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print the installed version and exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each stage's details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    resolve = sub.add_parser("resolve", help="find duplicates in catalog dumps (Parquet, CSV, JSON Lines)",
                             description="Find duplicate tracks (and, with --artists, duplicate artist ids) in "
                                         f"catalog dumps. {DUMP_FORMS}")
    resolve.add_argument("--tracks", required=True, type=_path, metavar="TRACKS",
                         help="tracks dump (track_id, title, ...)")
    resolve.add_argument("--artists", type=_path, metavar="ARTISTS",
                         help="artists dump (artist_id, name, ...): also resolve duplicate artist ids")
    resolve.add_argument("--engagement", type=_path, metavar="ENGAGEMENT",
                         help="engagement dump (user_id, track_id, plays): co-engagement evidence for artists "
                              "(needs --artists)")
    resolve.add_argument("--out", required=True, type=_output_directory, metavar="DIR",
                         help="output directory (created if missing)")
    resolve.add_argument("--config", type=_path, metavar="CONFIG.json",
                         help='thresholds, e.g. {"clustering": {"merge_threshold": 0.6}}; see resolver/config.py')
    resolve.add_argument("--keep-candidates", action="store_true",
                         help="also write candidates.parquet (every candidate pair; for blocking recall)")
    resolve.add_argument("--no-audio", action="store_true", help="ignore audio_path (metadata only)")
    resolve.add_argument("--no-fingerprint-cache", action="store_true",
                         help="decode every audio file again instead of using DIR/fingerprint-cache/")
    resolve.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    resolve.set_defaults(handler=_run_resolve)

    serve = sub.add_parser("serve", help="run the gRPC service on an embedded SQLite database",
                           description="Serve catalog_er.v1.CatalogErService (see proto/); state lives in --db. "
                                       "--port, --host, --token/--token-file, --tls-cert and --tls-key not given "
                                       "are taken from the CATALOG_ER_* environment variables named below (empty "
                                       f"counts as unset, except ${TOKEN_VARIABLE}, where it is refused). Beyond "
                                       "the loopback, serve with a token and TLS: a --host other than 127.0.0.1, "
                                       "::1 or localhost with neither is refused unless --insecure is given.")
    serve.add_argument("--db", required=True, type=_output_file, metavar="PATH",
                       help="SQLite database file (created if missing)")
    serve.add_argument("--port", type=_port_number, default=None,
                       help=f"gRPC port (0 picks a free one; default ${PORT_VARIABLE}, else {DEFAULT_PORT})")
    serve.add_argument("--host", default=None,
                       help=f"address to bind (default ${HOST_VARIABLE}, else {DEFAULT_HOST}; 0.0.0.0 for all, "
                            "which needs a token or TLS, or --insecure)")
    serve.add_argument("--token-file", type=_path, metavar="PATH",
                       help="read the bearer token from this file (surrounding whitespace dropped); it must not "
                            f"be readable by other users (chmod 600); default ${TOKEN_FILE_VARIABLE}")
    serve.add_argument("--token", metavar="TOKEN",
                       help=f"the bearer token itself (default ${TOKEN_VARIABLE}); on the command line it shows in "
                            f"`ps` and shell history: prefer ${TOKEN_VARIABLE} or --token-file. Mutating calls "
                            "need 'authorization: Bearer TOKEN'; an empty token is refused")
    serve.add_argument("--token-for-reads", action="store_true",
                       help="require the token on read calls too (look-ups, listings, exports); health checks and "
                            "reflection stay open. Without it anyone who reaches the port can read the catalog")
    serve.add_argument("--tls-cert", type=_path, metavar="CERT.pem",
                       help=f"serve TLS with this certificate chain (default ${TLS_CERT_VARIABLE})")
    serve.add_argument("--tls-key", type=_path, metavar="KEY.pem",
                       help=f"unencrypted private key for --tls-cert (default ${TLS_KEY_VARIABLE})")
    serve.add_argument("--metrics-port", type=_port_number, metavar="PORT",
                       help="serve Prometheus metrics over HTTP on this port")
    serve.add_argument("--metrics-host", default=DEFAULT_HOST, metavar="HOST",
                       help=f"address of the metrics port (default {DEFAULT_HOST}); metrics are plain HTTP with no "
                            "authentication, so another address needs --insecure")
    serve.add_argument("--insecure", action="store_true",
                       help="allow listeners beyond the loopback that nobody authenticates: --host without a token "
                            "or TLS, or --metrics-host (logged as a warning)")
    serve.add_argument("--config", type=_path, metavar="CONFIG.json", help="resolver thresholds, as for resolve")
    serve.add_argument("--log-reads", action="store_true",
                       help="also log every successful read call (mutating, failed and slow calls are always "
                            "logged; a line per look-up costs about 0.1 ms of CPU)")
    serve.add_argument("--workers", type=_positive_int, default=4, metavar="N",
                       help="threads for database work, ingest batches and incremental resolutions (default 4); "
                            "stored-track look-ups answer from memory on the event loop")
    serve.add_argument("--no-lookup-process", action="store_true",
                       help="answer unsaved-track look-ups in the server process (by default a second process "
                            "with its own copy of the catalog answers them on another core: more memory, "
                            "faster look-ups under load)")
    serve.set_defaults(handler=_run_serve)

    import_parser = sub.add_parser("import", help="load catalog dumps into a service database",
                                   description="Upsert tracks, artists and engagement into --db, validated as "
                                               "by resolve; engagement rows may name any track already stored. "
                                               f"{DUMP_FORMS}")
    import_parser.add_argument("--db", required=True, type=_output_file, metavar="PATH", help="SQLite database file")
    import_parser.add_argument("--tracks", type=_path, metavar="TRACKS", help="tracks dump (the resolve contract)")
    import_parser.add_argument("--artists", type=_path, metavar="ARTISTS", help="artists dump")
    import_parser.add_argument("--engagement", type=_path, metavar="ENGAGEMENT",
                               help="engagement dump (user_id, track_id, plays); unknown track ids are rejected")
    import_parser.add_argument("--rejected", type=_output_file, metavar="R.parquet",
                               help="write the rejected-row report here")
    import_parser.set_defaults(handler=_run_import)

    synth = sub.add_parser("synth", help="generate a synthetic catalog with ground truth",
                           description="Write tracks/artists/engagement Parquet plus truth_*.parquet (and "
                                       "truth_habits.parquet with --sources).")
    synth.add_argument("--out", required=True, type=_output_directory, metavar="DIR",
                       help="output directory (created if missing)")
    synth.add_argument("--tracks", required=True, type=_positive_int, metavar="N", help="number of track rows")
    synth.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    synth.add_argument("--engagement-rows", type=_count, default=None, metavar="N",
                       help="engagement rows (default 5 per track)")
    synth.add_argument("--audio", type=_count, default=0, metavar="K",
                       help="give about K recordings synthetic audio files (written under DIR/audio/)")
    synth.add_argument("--sources", type=_count, default=0, metavar="K",
                       help="deliver the tracks through K sources, each with its own habits (artist or album in "
                            "the title, track numbers, placeholders, duration units, date formats, the scraped "
                            "form, typos, ...; one scraped source from K=4), and write truth_habits.parquet; "
                            "0 (default): the clean catalog")
    synth.add_argument("--scraped-sources", type=_count, default=None, metavar="S",
                       help="how many of the --sources K are scraped stores, which write most records as one text "
                            "field (title, artist, album, genre, price, length and date run together); 0 to K "
                            "(default: one from K=4, two from K=8)")
    synth.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                       help="file format of the tracks table: tracks.parquet (default) or tracks.csv")
    synth.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(handler=_run_synth)

    evaluate_parser = sub.add_parser("evaluate", help="score resolve output against ground truth",
                                     description="Pairwise P/R/F1, B-cubed F1, blocking recall and ECE.")
    evaluate_parser.add_argument("--truth", required=True, type=_path, metavar="DIR", help="directory written by synth")
    evaluate_parser.add_argument("--out", required=True, type=_path, metavar="DIR", help="directory written by resolve")
    evaluate_parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    evaluate_parser.set_defaults(handler=_run_evaluate)

    fingerprint = sub.add_parser("fingerprint", help="fingerprint an audio file, or compare two",
                                 description="Any format FFmpeg reads (WAV, AIFF, FLAC, ALAC, MP3, AAC/M4A, Ogg "
                                             "Vorbis, Opus, WMA). One file: a summary; two files: whether they carry "
                                             "the same recording.")
    fingerprint.add_argument("file", type=_path, help="audio file")
    fingerprint.add_argument("other", nargs="?", default=None, type=_path, help="second audio file to compare with")
    fingerprint.set_defaults(handler=_run_fingerprint)

    show = sub.add_parser("show", help="print the top merge proposals with their evidence",
                          description="Print proposals from a resolve output directory, best first.")
    show.add_argument("--out", required=True, type=_path, metavar="DIR", help="directory written by resolve")
    show.add_argument("--top", type=_count, default=10, metavar="N", help="how many proposals (default 10)")
    show.add_argument("--min-confidence", type=float, default=None, metavar="P", help="only at or above P")
    show.add_argument("--tracks", type=_path, metavar="TRACKS",
                      help="tracks dump (file, folder or glob, as for resolve), to print each member's title/artist")
    show.set_defaults(handler=_run_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``catalog-er`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # `catalog-er evaluate ... | head` ends quietly; but a server writing to a pipe whose reader died (its look-up
    # process) must get an error it handles, not a signal that kills it
    previous = signal.signal(signal.SIGPIPE, signal.SIG_IGN if args.handler is _run_serve else signal.SIG_DFL)
    try:
        return args.handler(args)
    except (CatalogInputError, ConfigError) as error:
        print(f"catalog-er: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.filename is None:
            raise
        print(f"catalog-er: error: {shown(str(error.filename), 200)}: {error.strerror or error}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGPIPE, previous)


if __name__ == "__main__":
    sys.exit(main())
