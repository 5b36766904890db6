"""The ``catalog-er`` command line, run as a real subprocess on real Parquet files."""

from __future__ import annotations

import importlib.metadata
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog_er.resolver.repair import REPAIR_KINDS


def _environment(**variables: str) -> dict[str, str]:
    """Ours without any CATALOG_ER_* variable, plus ``variables``."""
    return {name: value for name, value in os.environ.items() if not name.startswith("CATALOG_ER_")} | variables


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``catalog-er ARGS`` in a child process, with only the CATALOG_ER_* variables in ``env``."""
    return subprocess.run([sys.executable, "-m", "catalog_er.service.cli", *args], capture_output=True, text=True,
                          timeout=300, env=_environment(**(env or {})))


def test_resolve_then_evaluate_then_show(catalog_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    resolved = run_cli("resolve", "--tracks", str(catalog_dir / "tracks.parquet"), "--out", str(out),
                       "--keep-candidates", "-q")
    assert resolved.returncode == 0, resolved.stderr
    assert "merge proposals" in resolved.stdout
    for name in ("proposals.parquet", "pairs.parquet", "candidates.parquet", "summary.json"):
        assert (out / name).is_file()
    assert not (out / "rejected.parquet").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["tracks"] == 4_000
    assert summary["peak_memory_bytes"] > 50_000_000  # a Python process with numpy and pyarrow, in bytes not KiB
    assert set(summary["stage_seconds"]) >= {"normalize", "blocking", "compare", "train", "cluster"}

    evaluated = run_cli("evaluate", "--truth", str(catalog_dir), "--out", str(out))
    assert evaluated.returncode == 0, evaluated.stderr
    assert "pairwise" in evaluated.stdout and "ECE" in evaluated.stdout
    report = json.loads((out / "evaluation.json").read_text())
    assert report["track"]["pairwise_f1"] > 0.9
    assert report["track"]["blocking_recall"] > 0.97

    shown = run_cli("show", "--out", str(out), "--top", "2", "--tracks", str(catalog_dir / "tracks.parquet"))
    assert shown.returncode == 0, shown.stderr
    assert "confidence" in shown.stdout and "keep" in shown.stdout


def test_synth_writes_every_table(tmp_path: Path) -> None:
    done = run_cli("synth", "--out", str(tmp_path), "--tracks", "300", "--seed", "3", "-q")
    assert done.returncode == 0, done.stderr
    assert pq.read_table(tmp_path / "tracks.parquet").num_rows == 300
    for name in ("artists", "engagement", "truth_tracks", "truth_artists"):
        assert (tmp_path / f"{name}.parquet").is_file()


@pytest.mark.parametrize(("sources", "scraped", "expected"), [
    ("2", "3", "--scraped-sources 3 is more than --sources 2; give between 0 and 2"),
    ("0", "1", "--scraped-sources 1 is more than --sources 0; scraped stores are some of the --sources K"),
    ("2", "-1", "-1 is negative"),
])
def test_synth_scraped_sources_beyond_sources_is_exit_2(tmp_path: Path, sources: str, scraped: str,
                                                        expected: str) -> None:
    done = run_cli("synth", "--out", str(tmp_path), "--tracks", "50", "--sources", sources, "--scraped-sources",
                   scraped, "-q")
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "tracks.parquet").exists()


def _write(path: Path, columns: dict) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


@pytest.mark.parametrize(
    ("make_input", "expected"),
    [
        (lambda d: d / "absent.parquet", "absent.parquet"),
        (lambda d: (d / "notes.parquet").write_text("not parquet at all") and d / "notes.parquet", "Parquet"),
        (lambda d: _write(d / "t.parquet", {"track_id": ["a"], "name": ["x"]}), "title"),
        (lambda d: _write(d / "t.parquet", {"track_id": pa.array([], pa.string()),
                                           "title": pa.array([], pa.string())}), "no rows"),
        (lambda d: _write(d / "t.parquet", {"track_id": ["a", "b"], "title": [None, "  "]}), "no usable"),
    ],
    ids=["missing file", "not parquet", "missing title column", "empty table", "all titles null"],
)
def test_unusable_input_is_a_clear_error_with_exit_code_2(tmp_path: Path, make_input, expected: str) -> None:
    path = make_input(tmp_path)
    done = run_cli("resolve", "--tracks", str(path), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_rows_go_to_the_rejected_report_and_good_rows_resolve(tmp_path: Path) -> None:
    tracks = _write(tmp_path / "tracks.parquet", {
        "track_id": ["a", "b", "a", "c", "d", "e", "f"],
        "title": ["Кино — Группа крови", "Кино - Группа крови", "dup id", None, "x" * 10_000,
                  "夜に駆ける", "夜に駆ける (Live)"],
        "artist": ["Кино", "Kino", "x", "y", "z", "YOASOBI", "YOASOBI"],
        "duration_ms": ["285000", "285500", "1", "2", "3", "261000", "abc"],
    })
    out = tmp_path / "out"
    done = run_cli("resolve", "--tracks", str(tracks), "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    rejected = pq.read_table(out / "rejected.parquet").to_pylist()
    reasons = {(r["row"], r["action"]): r["reason"] for r in rejected}
    assert (2, "row dropped") in reasons and "duplicate" in reasons[(2, "row dropped")]
    assert (3, "row dropped") in reasons
    assert (4, "row dropped") in reasons and "10000" in reasons[(4, "row dropped")].replace(",", "")
    assert (6, "field nulled") in reasons and "abc" in reasons[(6, "field nulled")]
    assert all(r["file"] == str(tracks) for r in rejected)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["tracks"] == 4
    assert summary["counts"]["rejected_rows"] == len(rejected)


def test_bad_config_is_a_clear_error(tmp_path: Path, catalog_dir: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"clustering": {"merge_threshold": 7}}))
    done = run_cli("resolve", "--tracks", str(catalog_dir / "tracks.parquet"), "--out", str(tmp_path / "o"),
                   "--config", str(config), "-q")
    assert done.returncode == 2
    assert "merge_threshold" in done.stderr and "7" in done.stderr


def test_help_lists_every_command() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for command in ("resolve", "synth", "evaluate", "show"):
        assert command in done.stdout


def test_resolve_with_artists_reports_bad_engagement_rows_and_proposes_artists(catalog_dir: Path,
                                                                               tmp_path: Path) -> None:
    engagement = pq.read_table(catalog_dir / "engagement.parquet")
    engagement = engagement.cast(pa.schema([field.with_nullable(True) for field in engagement.schema]))
    bad = pa.table({"user_id": ["u-bad-1", "u-bad-2", None],
                    "track_id": ["no-such-track", engagement["track_id"][0].as_py(), engagement["track_id"][1].as_py()],
                    "plays": pa.array([3, -4, 1], pa.int64())})
    engagement_file = tmp_path / "engagement.parquet"
    pq.write_table(pa.concat_tables([engagement, bad.cast(engagement.schema)]), engagement_file)
    out = tmp_path / "out"
    done = run_cli("resolve", "--tracks", str(catalog_dir / "tracks.parquet"), "--artists",
                   str(catalog_dir / "artists.parquet"), "--engagement", str(engagement_file), "--out", str(out),
                   "-q")
    assert done.returncode == 0, done.stderr
    assert "artist merge proposals" in done.stdout
    rejected = pq.read_table(out / "rejected.parquet").to_pylist()
    first_bad_row = engagement.num_rows
    by_row = {r["row"]: r for r in rejected if r["file"] == str(engagement_file)}
    assert "no-such-track" in by_row[first_bad_row]["reason"] and by_row[first_bad_row]["field"] == "track_id"
    assert "-4" in by_row[first_bad_row + 1]["reason"] and by_row[first_bad_row + 1]["field"] == "plays"
    assert by_row[first_bad_row + 2]["field"] == "user_id"
    proposals = pq.read_table(out / "proposals.parquet")
    assert set(proposals["entity_type"].to_pylist()) == {"track", "artist"}
    summary = json.loads((out / "summary.json").read_text())
    assert len(by_row) == 3 and summary["counts"]["rejected_rows"] == len(rejected)
    # every good row whose track credits a known artist counts (tracks without artist_ids do not)
    assert 0.95 * engagement.num_rows < summary["counts"]["engagement_rows_used"] <= engagement.num_rows
    evaluated = run_cli("evaluate", "--truth", str(catalog_dir), "--out", str(out))
    assert evaluated.returncode == 0, evaluated.stderr
    assert "artist resolution" in evaluated.stdout and "homonyms" in evaluated.stdout


def test_engagement_without_artists_is_refused(catalog_dir: Path, tmp_path: Path) -> None:
    done = run_cli("resolve", "--tracks", str(catalog_dir / "tracks.parquet"), "--engagement",
                   str(catalog_dir / "engagement.parquet"), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == 2 and "--artists" in done.stderr


def test_import_checks_engagement_against_every_stored_track(catalog_dir: Path, tmp_path: Path) -> None:
    from catalog_er.service.store import Store

    db = tmp_path / "service.sqlite"
    first = run_cli("import", "--db", str(db), "--tracks", str(catalog_dir / "tracks.parquet"),
                    "--artists", str(catalog_dir / "artists.parquet"))
    assert first.returncode == 0, first.stderr
    engagement = pq.read_table(catalog_dir / "engagement.parquet").slice(0, 200)
    unknown = pa.table({"user_id": ["u-x"], "track_id": ["no-such-track"], "plays": pa.array([3], pa.int64())})
    later = tmp_path / "later-engagement.parquet"
    pq.write_table(pa.concat_tables([engagement.select(["user_id", "track_id", "plays"]).cast(unknown.schema),
                                     unknown]), later)
    second = run_cli("import", "--db", str(db), "--engagement", str(later), "--rejected",
                     str(tmp_path / "rejected.parquet"))
    assert second.returncode == 0, second.stderr
    rejected = pq.read_table(tmp_path / "rejected.parquet").to_pylist()
    assert [(r["row"], r["field"]) for r in rejected] == [(200, "track_id")]
    store = Store(db)
    assert store.counts()["engagement"] == engagement.num_rows
    store.close()
    nothing = run_cli("import", "--db", str(db))
    assert nothing.returncode == 2 and "give at least one of" in nothing.stderr
    assert "Traceback" not in nothing.stderr



def test_import_exits_2_when_every_row_of_a_dump_was_rejected(tmp_path: Path) -> None:
    from catalog_er.service.store import Store

    good, bad = tmp_path / "good.csv", tmp_path / "bad-artists.csv"
    good.write_text("track_id,title\nt1,One\n")
    bad.write_text("artist_id,name\n,No Id\na\x01,Control\na2,\n")
    db, report = tmp_path / "service.sqlite", tmp_path / "rejected.parquet"
    done = run_cli("import", "--db", str(db), "--tracks", str(good), "--artists", str(bad), "--rejected", str(report))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{bad}: no usable artist rows (3 rejected; reasons in {report})" in done.stderr
    assert [r["field"] for r in pq.read_table(report).to_pylist()] == ["artist_id", "artist_id", "name"]
    store = Store(db)
    assert (store.counts()["tracks"], store.counts()["artists"]) == (1, 0)  # the dump before it stays imported
    store.close()
    (tmp_path / "bad-tracks.csv").write_text("track_id,title\n,x\n")
    unreported = run_cli("import", "--db", str(db), "--tracks", str(tmp_path / "bad-tracks.csv"))
    assert unreported.returncode == 2 and "give --rejected R.parquet to see why" in unreported.stderr


HEAVY_LIBRARIES = ("numpy", "pyarrow", "scipy", "av", "soxr", "grpc", "google", "rapidfuzz", "datasketch",
                   "networkx", "tqdm", "prometheus_client", "librosa", "numba")
"""What the command handlers need and argument parsing must not load (each costs tens to hundreds of ms)."""
COMMANDS = ("resolve", "serve", "import", "synth", "evaluate", "fingerprint", "show")


@pytest.mark.parametrize("args", [("--help",), ("--version",), *((command, "--help") for command in COMMANDS)],
                         ids=lambda args: " ".join(args))
def test_help_and_version_load_no_heavy_library(args: tuple[str, ...]) -> None:
    as_console_script = "import sys; from catalog_er.service.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", as_console_script, *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "catalog_er.service.cli" in imported  # the report is the one we think it is
    heavy = sorted(name for name in imported if name.split(".")[0] in HEAVY_LIBRARIES)
    assert heavy == []


def test_version_is_the_installed_distribution_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"catalog-er {importlib.metadata.version('catalog-er')}\n"


@pytest.mark.parametrize("command", [("resolve", "--tracks", "t.parquet", "-q"), ("synth", "--tracks", "10", "-q")],
                         ids=["resolve", "synth"])
def test_out_naming_a_file_is_exit_2_naming_the_path(tmp_path: Path, command: tuple[str, ...]) -> None:
    a_file = tmp_path / "summary.txt"
    a_file.write_text("not a directory")
    for out in (a_file, a_file / "below"):
        done = run_cli(*command, "--out", str(out))
        assert done.returncode == 2
        assert str(a_file) in done.stderr and "not a directory" in done.stderr
        assert "Traceback" not in done.stderr
    assert a_file.read_text() == "not a directory"


@pytest.mark.parametrize("command", [("import", "--tracks", "t.parquet"), ("serve",)], ids=["import", "serve"])
def test_db_naming_a_directory_is_exit_2_naming_the_path(tmp_path: Path, command: tuple[str, ...]) -> None:
    done = run_cli(*command, "--db", str(tmp_path))
    assert done.returncode == 2
    assert f"{tmp_path} is a directory" in done.stderr and "Traceback" not in done.stderr


def test_show_with_a_missing_tracks_dump_is_exit_2(catalog_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("resolve", "--tracks", str(catalog_dir / "tracks.parquet"), "--out", str(out), "-q").returncode == 0
    done = run_cli("show", "--out", str(out), "--tracks", str(tmp_path / "absent.parquet"))
    assert done.returncode == 2
    assert "absent.parquet" in done.stderr and "Traceback" not in done.stderr


def test_serve_help_names_the_environment_variables() -> None:
    done = run_cli("serve", "--help")
    assert done.returncode == 0
    for variable in ("CATALOG_ER_PORT", "CATALOG_ER_HOST", "CATALOG_ER_TOKEN", "CATALOG_ER_TLS_CERT",
                     "CATALOG_ER_TLS_KEY"):
        assert f"${variable}" in done.stdout


@pytest.mark.parametrize("port", ["http", "70000", "-1"])
def test_serve_refuses_a_bad_port_variable_with_exit_2(tmp_path: Path, port: str) -> None:
    done = run_cli("serve", "--db", str(tmp_path / "s.sqlite"), env={"CATALOG_ER_PORT": port})
    assert done.returncode == 2
    assert "CATALOG_ER_PORT" in done.stderr and repr(port) in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "s.sqlite").exists()


def test_serve_needs_both_tls_variables(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("-----BEGIN CERTIFICATE-----")
    done = run_cli("serve", "--db", str(tmp_path / "s.sqlite"),
                   env={"CATALOG_ER_TLS_CERT": str(cert), "CATALOG_ER_TLS_KEY": ""})
    assert done.returncode == 2
    assert "CATALOG_ER_TLS_KEY" in done.stderr and "Traceback" not in done.stderr


def test_serve_takes_port_and_host_from_the_environment(tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-m", "catalog_er.service.cli", "serve", "--db",
                                str(tmp_path / "s.sqlite")], stderr=subprocess.PIPE, text=True,
                               env=_environment(CATALOG_ER_PORT="0", CATALOG_ER_HOST="localhost"))
    try:
        assert process.stderr is not None
        serving = next((json.loads(line) for line in process.stderr if '"serving"' in line), None)
        assert serving is not None, f"server did not start (exit {process.poll()})"
        host, port = serving["address"].rsplit(":", 1)
        assert host == "localhost" and int(port) not in (0, 50051)  # the variable's 0 asks for any free port
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


# --- a multi-source messy catalog through the CLI (issue 11) ---------------------------------------------------------

MESSY_ARGUMENTS = ("--tracks", "3000", "--sources", "5", "--seed", "4")


@dataclass(frozen=True)
class MessyRuns:
    """One messy catalog written by ``synth`` as Parquet and as CSV, resolved twice from Parquet and once from CSV."""

    catalog: Path
    first: Path
    second: Path
    from_csv: Path


def _resolved(tracks: Path, out: Path) -> Path:
    done = run_cli("resolve", "--tracks", str(tracks), "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def messy_runs(tmp_path_factory: pytest.TempPathFactory) -> MessyRuns:
    root = tmp_path_factory.mktemp("messy")
    for directory, file_format in (("parquet", "parquet"), ("csv", "csv")):
        done = run_cli("synth", "--out", str(root / directory), *MESSY_ARGUMENTS, "--format", file_format, "-q")
        assert done.returncode == 0, done.stderr
    catalog = root / "parquet"
    return MessyRuns(catalog, _resolved(catalog / "tracks.parquet", root / "first"),
                     _resolved(catalog / "tracks.parquet", root / "second"),
                     _resolved(root / "csv" / "tracks.csv", root / "from-csv"))


def _scraped_sources(catalog: Path) -> tuple[set[str], set[str]]:
    """``(sources, scraped sources)`` of a synthetic catalog: a source is scraped when most of its records are."""
    tracks = pq.read_table(catalog / "tracks.parquet", columns=["track_id", "source"]).to_pylist()
    habits = pq.read_table(catalog / "truth_habits.parquet").to_pylist()
    scraped = {row["track_id"] for row in habits if row["habit"] == "scraped"}
    rows: dict[str, list[bool]] = {}
    for row in tracks:
        rows.setdefault(row["source"], []).append(row["track_id"] in scraped)
    return set(rows), {source for source, flags in rows.items() if sum(flags) > len(flags) / 2}


def test_resolving_a_messy_catalog_twice_writes_identical_files(messy_runs: MessyRuns) -> None:
    for name in ("proposals.parquet", "pairs.parquet"):
        assert (messy_runs.first / name).read_bytes() == (messy_runs.second / name).read_bytes(), name


def test_csv_input_gives_the_same_proposals_as_parquet(messy_runs: MessyRuns) -> None:
    assert (messy_runs.catalog.parent / "csv" / "tracks.csv").is_file()
    for name in ("proposals.parquet", "pairs.parquet"):
        parquet, csv = pq.read_table(messy_runs.first / name), pq.read_table(messy_runs.from_csv / name)
        assert parquet.num_rows > 0 and parquet.equals(csv), name


def test_the_summary_counts_repairs_and_what_each_source_taught(messy_runs: MessyRuns) -> None:
    summary = json.loads((messy_runs.first / "summary.json").read_text())
    repairs = summary["repairs"]
    assert list(repairs["rows_changed"]) == list(REPAIR_KINDS)
    assert all(isinstance(count, int) and 0 <= count <= 3_000 for count in repairs["rows_changed"].values())
    assert max(repairs["rows_changed"].values()) <= repairs["rows_with_any"] <= 3_000
    assert repairs["rows_changed"]["scraped_fields"] > 300
    sources, scraped = _scraped_sources(messy_runs.catalog)
    learned = repairs["learned"]["sources"]
    assert set(learned) == sources and len(sources) == 5
    assert scraped and {source for source, habits in learned.items() if habits["scraped"]} == scraped
    assert summary["blocking"]["pairs_by_blocker"]["record_lsh"] > 0
    assert summary["blocking"]["pairs_by_blocker"]["length"] > 0
    csv_summary = json.loads((messy_runs.from_csv / "summary.json").read_text())
    assert csv_summary["repairs"] == repairs


def test_proposals_name_the_repairs_of_their_members(messy_runs: MessyRuns) -> None:
    proposals = pq.read_table(messy_runs.first / "proposals.parquet")
    tracks = pq.read_table(messy_runs.catalog / "tracks.parquet", columns=["track_id", "source"]).to_pylist()
    source_of = {row["track_id"]: row["source"] for row in tracks}
    _, scraped = _scraped_sources(messy_runs.catalog)
    named = 0
    for members, evidence in zip(proposals["member_ids"].to_pylist(), proposals["evidence"].to_pylist(), strict=True):
        notes = json.loads(evidence).get("repairs", {})
        assert set(notes) <= set(members)
        assert all(kinds and set(kinds) <= set(REPAIR_KINDS) for kinds in notes.values())
        named += any("scraped_fields" in kinds and source_of[member] in scraped for member, kinds in notes.items())
    assert named > 50, "scraped records are merged, and their proposals say they were repaired"


def test_a_malformed_csv_row_with_bytes_not_utf8_is_a_dropped_row_and_the_rest_is_read(tmp_path: Path) -> None:
    """pyarrow cannot hand such a row to the invalid-row handler (it decodes the text first and fails the read;
    found by tests/fuzz/test_fuzz_cli.py): the file is read again as Latin-1 and each value's bytes taken back, so
    the malformed row is a dropped row and the others are read as any file is (legacy text decoded)."""
    from catalog_er.service.io.files import read_tracks

    dump = tmp_path / "tracks.csv"
    dump.write_bytes(b"track_id,title\n1,Caf\xe9 del Mar\n2,a,b,\x8c\n3,fine\n")
    imported = run_cli("import", "--db", str(tmp_path / "c.sqlite"), "--tracks", str(dump))
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 tracks" in imported.stdout
    assert "Traceback" not in imported.stderr and "Exception ignored" not in imported.stderr
    loaded = read_tracks(dump)
    assert loaded.table.select(["track_id", "title"]).to_pylist() == [
        {"track_id": "1", "title": "Caf\u00e9 del Mar"}, {"track_id": "3", "title": "fine"}]
    assert [(r["row"], r["action"]) for r in loaded.rejected.to_pylist()] == [(0, "field decoded"), (1, "row dropped")]
    assert loaded.rejected["reason"][1].as_py().startswith("row has 4 fields, expected 2")


def test_a_json_lines_key_that_is_not_utf8_is_an_error_naming_the_file(tmp_path: Path) -> None:
    """Found by tests/fuzz/test_fuzz_cli.py: pyarrow reads the key but cannot name it (UnicodeDecodeError)."""
    dump = tmp_path / "tracks.jsonl"
    dump.write_bytes(b'{"\x80":"","track_id":"1","title":"A"}\n')
    imported = run_cli("import", "--db", str(tmp_path / "c.sqlite"), "--tracks", str(dump))
    assert imported.returncode == 2
    assert "tracks.jsonl" in imported.stderr and "not valid UTF-8" in imported.stderr
    assert "Traceback" not in imported.stderr
