"""Audio in ``catalog-er resolve``: a synthetic catalog whose deliveries carry real audio files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from catalog_er.resolver.evaluate import evaluate


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "catalog_er.service.cli", *args], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def audio_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("audio_catalog")
    done = run_cli("synth", "--out", str(directory), "--tracks", "1500", "--seed", "8", "--audio", "24", "-q")
    assert done.returncode == 0, done.stderr
    return directory


def _audio_scores(catalog: Path, out: Path) -> tuple[float, float]:
    """Pairwise precision and recall restricted to the tracks that have audio."""
    tracks = pq.read_table(catalog / "tracks.parquet")
    audio_ids = tracks.filter(pc.is_valid(tracks["audio_path"]))["track_id"]
    truth = pq.read_table(catalog / "truth_tracks.parquet")
    truth = truth.filter(pc.is_in(truth["track_id"], value_set=audio_ids))
    members = [[m for m in group if m in set(audio_ids.to_pylist())]
               for group in pq.read_table(out / "proposals.parquet")["member_ids"].to_pylist()]
    proposals = pa.table({"entity_type": ["track"] * len(members), "member_ids": members})
    no_pairs = pa.table({"entity_type": pa.array([], pa.string()), "left_id": pa.array([], pa.string()),
                         "right_id": pa.array([], pa.string()), "confidence": pa.array([], pa.float64())})
    result = evaluate("track", truth["track_id"], truth["recording_id"], proposals, no_pairs)
    return result.pairwise_precision, result.pairwise_recall


def test_audio_finds_what_metadata_missed_and_keeps_precision(audio_catalog: Path, tmp_path: Path) -> None:
    tracks = pq.read_table(audio_catalog / "tracks.parquet")
    assert tracks["audio_path"].null_count < tracks.num_rows
    stripped = pc.sum(pc.starts_with(tracks["title"], "Track ")).as_py()
    assert stripped > 0, "the synthetic catalog hides some deliveries behind placeholder metadata"

    with_audio, without = tmp_path / "with", tmp_path / "without"
    assert run_cli("resolve", "--tracks", str(audio_catalog / "tracks.parquet"), "--out", str(with_audio),
                   "-q").returncode == 0
    assert run_cli("resolve", "--tracks", str(audio_catalog / "tracks.parquet"), "--out", str(without),
                   "--no-audio", "-q").returncode == 0
    precision_audio, recall_audio = _audio_scores(audio_catalog, with_audio)
    precision_metadata, recall_metadata = _audio_scores(audio_catalog, without)
    assert recall_audio > recall_metadata + 0.1
    assert precision_audio >= precision_metadata - 0.02
    pairs = pq.read_table(with_audio / "pairs.parquet")
    assert pairs["audio_match"].null_count < pairs.num_rows


def test_reversed_and_shuffled_copies_under_identical_metadata_stay_apart(audio_catalog: Path,
                                                                          tmp_path: Path) -> None:
    tracks = pq.read_table(audio_catalog / "tracks.parquet").to_pylist()
    recording = {r["track_id"]: r["recording_id"]
                 for r in pq.read_table(audio_catalog / "truth_tracks.parquet").to_pylist()}
    by_metadata: dict[tuple, list[str]] = {}
    for row in tracks:
        if row["audio_path"] is not None:
            by_metadata.setdefault((row["title"], row["artist"], row["album"], row["isrc"], row["duration_ms"]),
                                   []).append(row["track_id"])
    traps = [(a, b) for ids in by_metadata.values() for a in ids for b in ids
             if a < b and recording[a] != recording[b]]
    assert len(traps) >= 2, "the synthetic catalog re-cuts some originals under their exact metadata, ISRC included"
    out = tmp_path / "out"
    assert run_cli("resolve", "--tracks", str(audio_catalog / "tracks.parquet"), "--out", str(out),
                   "-q").returncode == 0
    group = {member: k for k, members in enumerate(pq.read_table(out / "proposals.parquet")["member_ids"].to_pylist())
             for member in members}
    merged = [(a, b) for a, b in traps if a in group and group.get(a) == group.get(b)]
    assert merged == []
    evidence = [json.loads(e) for e in pq.read_table(out / "proposals.parquet")["evidence"].to_pylist()]
    assert any(pair["signals"]["audio"].startswith("aligned copy") for e in evidence for pair in e["pairs"])


def test_rerun_uses_the_fingerprint_cache(audio_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_cli("-v", "resolve", "--tracks", str(audio_catalog / "tracks.parquet"), "--out", str(out), "-q")
    second = run_cli("-v", "resolve", "--tracks", str(audio_catalog / "tracks.parquet"), "--out", str(out), "-q")
    assert first.returncode == second.returncode == 0
    assert "0 from cache" in first.stderr
    assert " 0 decoded" in second.stderr
    assert json.loads((out / "summary.json").read_text())["counts"]["tracks"] == 1500


def test_unusable_audio_is_reported_and_the_track_still_resolves(audio_catalog: Path, tmp_path: Path) -> None:
    tracks = pq.read_table(audio_catalog / "tracks.parquet")
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3 this is not really audio")
    paths = tracks["audio_path"].to_pylist()
    first_audio = next(i for i, p in enumerate(paths) if p is not None)
    paths = [str(audio_catalog / p) if p else None for p in paths]
    paths[first_audio] = str(broken)
    tracks = tracks.set_column(tracks.schema.get_field_index("audio_path"), "audio_path", pa.array(paths))
    pq.write_table(tracks, tmp_path / "tracks.parquet")
    done = run_cli("resolve", "--tracks", str(tmp_path / "tracks.parquet"), "--out", str(tmp_path / "o"), "-q")
    assert done.returncode == 0, done.stderr
    rejected = pq.read_table(tmp_path / "o" / "rejected.parquet").to_pylist()
    assert [r["field"] for r in rejected] == ["audio_path"]
    assert "broken.mp3" in rejected[0]["reason"] and rejected[0]["action"] == "field nulled"


def test_fingerprint_command_summarizes_and_compares(audio_catalog: Path) -> None:
    files = sorted((audio_catalog / "audio").iterdir())
    one = run_cli("fingerprint", str(files[0]))
    assert one.returncode == 0, one.stderr
    assert "hashes" in one.stdout and "per hour" in one.stdout
    two = run_cli("fingerprint", str(files[0]), str(files[0]))
    assert two.returncode == 0 and "SAME RECORDING" in two.stdout
    bad = run_cli("fingerprint", str(audio_catalog / "tracks.parquet"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
