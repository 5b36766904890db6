"""``versions.parquet``: a batch run lists other recordings of one song (never merged) and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog_er.fingerprint.synthetic import default_timbre, render_song
from catalog_er.fingerprint.synthetic.distort import encode
from catalog_er.fingerprint.synthetic.score import default_key_and_tempo
from catalog_er.resolver.records import TRACK_SCHEMA

SONG, RATE_HZ, SECONDS = 2, 22050, 45.0
KEY, TEMPO = default_key_and_tempo(SONG)
# track id → (credited artist, the audio's render arguments); every track is titled "Harbour Lights"
TRACKS = {
    "studio": ("Nina Vale", {"seed": SONG}),
    "studio-copy": ("Nina Vale", {"seed": SONG}),
    "live": ("Nina Vale", {"seed": SONG, "performance_seed": 1}),
    "cover": ("Ola Band", {"seed": SONG, "timbre": default_timbre(SONG) + 1, "performance_seed": 2}),
    "namesake": ("Other Act", {"seed": 11, "key": KEY, "tempo_bpm": TEMPO}),  # another song, same title, key, tempo
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("versions")
    rows = []
    for track_id, (artist, render) in TRACKS.items():
        (directory / f"{track_id}.flac").write_bytes(
            encode(render_song(seconds=SECONDS, rate_hz=RATE_HZ, **render), rate_hz=RATE_HZ, format="flac"))
        rows.append({"track_id": track_id, "title": "Harbour Lights", "artist": artist, "duration_ms": 45_000,
                     "audio_path": f"{track_id}.flac"})
    pq.write_table(pa.Table.from_pylist(rows, schema=TRACK_SCHEMA), directory / "tracks.parquet")
    done = subprocess.run([sys.executable, "-m", "catalog_er.service.cli", "resolve", "--tracks",
                           str(directory / "tracks.parquet"), "--out", str(directory / "out"), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return directory / "out"


def test_other_recordings_of_the_song_are_listed_and_never_merged(result: Path) -> None:
    versions = pq.read_table(result / "versions.parquet").to_pylist()
    listed = {frozenset((row["left_id"], row["right_id"])) for row in versions}
    for other in ("live", "cover"):
        assert frozenset(("studio", other)) in listed and frozenset(("studio-copy", other)) in listed
    assert not any("namesake" in pair for pair in listed)  # same title, key and tempo: another song
    assert frozenset(("studio", "studio-copy")) not in listed  # a copy is a duplicate, not another version
    assert all(0.0 <= row["work_similarity"] <= 1.0 for row in versions)
    groups = [set(members) for members in pq.read_table(result / "proposals.parquet")["member_ids"].to_pylist()]
    assert {"studio", "studio-copy"} in groups
    assert not any(len(group & {"studio", "live", "cover", "namesake"}) > 1 and group != {"studio", "studio-copy"}
                   for group in groups)


def test_show_lists_the_other_recordings(result: Path) -> None:
    shown = subprocess.run([sys.executable, "-m", "catalog_er.service.cli", "show", "--out", str(result)],
                           capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "other recordings of one song" in shown.stdout and "same work" in shown.stdout
