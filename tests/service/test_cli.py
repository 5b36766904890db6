"""The ``catalog-er`` command line, run as a real subprocess on real Parquet files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "catalog_er.service.cli", *args], capture_output=True, text=True,
                          timeout=300)


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
    assert summary["peak_memory_bytes"] > 0
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
    assert run_cli("import", "--db", str(db)).returncode != 0
