"""Validation of tables in memory (what gRPC ingest uses) is the validation the Parquet readers apply."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from catalog_er.service.io.files import read_artists, read_engagement, read_tracks
from catalog_er.service.io.validation import (
    ROW_DROPPED,
    LoadedTable,
    validate_artists,
    validate_engagement,
    validate_tracks,
)

MESSY_TRACKS = {
    "track_id": ["t1", "t2", "t1", None, "t4", "5"],
    "title": ["One", "  Two  ", "Again", "No id", "\u200b", "Five"],
    "artist_ids": ["a1; a2", None, "a3", "a4", "", "a5;"],
    "duration_ms": ["215000", "2.15e5", "soon", None, "-1", "90000000"],
    "release_date": ["1999-01-01", None, "", "2001", "2002", "2003"],
}


def _same_result(loaded_in_memory: LoadedTable, loaded_from_file: LoadedTable) -> None:
    """The same rows and the same rejected report, but for the report's ``file`` column."""
    assert loaded_in_memory.table.equals(loaded_from_file.table)
    in_memory = loaded_in_memory.rejected.drop_columns(["file"])
    from_file = loaded_from_file.rejected.drop_columns(["file"])
    assert in_memory.equals(from_file)


def test_tracks_in_memory_and_from_a_file_give_the_same_rows_and_report(tmp_path: Path) -> None:
    raw = pa.table({name: pa.array(values, pa.string()) for name, values in MESSY_TRACKS.items()})
    path = tmp_path / "tracks.parquet"
    pq.write_table(raw, path)
    in_memory = validate_tracks(raw, "batch 1")
    _same_result(in_memory, read_tracks(path))
    assert set(in_memory.rejected["file"].to_pylist()) == {"batch 1"}
    assert in_memory.table["track_id"].to_pylist() == ["t1", "t2", "5"]
    dropped = pc.equal(in_memory.rejected["action"], ROW_DROPPED)
    assert in_memory.rejected.filter(dropped)["row"].to_pylist() == [2, 3, 4]


def test_artists_and_engagement_in_memory_and_from_a_file_agree(tmp_path: Path) -> None:
    artists = pa.table({"artist_id": ["a1", "a1", "a2"], "name": ["Name", "Other", " "],
                        "genres": ["rock; pop", None, "jazz"], "country": ["GB", "", None]})
    engagement = pa.table({"user_id": ["u1", "u2", None, "u3"], "track_id": ["t1", "t9", "t1", "t1"],
                           "plays": ["3", "1", "2", "-4"]})
    pq.write_table(artists, tmp_path / "artists.parquet")
    pq.write_table(engagement, tmp_path / "engagement.parquet")
    known = pa.array(["t1"])
    validated_artists = validate_artists(artists, "artists")
    _same_result(validated_artists, read_artists(tmp_path / "artists.parquet"))
    assert validated_artists.table["artist_id"].to_pylist() == ["a1"]  # a repeated id, a blank name dropped
    assert validated_artists.table["genres"].to_pylist() == [["rock", "pop"]]
    validated_engagement = validate_engagement(engagement, "engagement", known_track_ids=known)
    _same_result(validated_engagement, read_engagement(tmp_path / "engagement.parquet", known_track_ids=known))
    assert validated_engagement.table.to_pylist() == [{"user_id": "u1", "track_id": "t1", "plays": 3}]


def test_ids_with_control_characters_or_nothing_visible_drop_their_row() -> None:
    unfit = ["\x00", "\x00\x01\x02", "a\x00b", "line\nbreak", "tab\there", "\x7f", "\u200b\u200d", "\x85"]
    fit = ["t-1", "Tëst ✓ 7", "a b"]  # text, accents, symbols and inner spaces are ids like any
    tracks = validate_tracks(pa.table({"track_id": unfit + fit, "title": ["T"] * (len(unfit) + len(fit))}), "t")
    assert tracks.table["track_id"].to_pylist() == fit
    report = tracks.rejected.to_pylist()
    assert [r["row"] for r in report] == list(range(len(unfit)))
    assert {(r["field"], r["action"]) for r in report} == {("track_id", ROW_DROPPED)}
    assert report[2]["reason"] == "track_id 'a\\x00b' holds a control character or nothing visible"
    artists = validate_artists(pa.table({"artist_id": ["ok", "a\x1fb"], "name": ["N", "N"]}), "a")
    assert artists.table["artist_id"].to_pylist() == ["ok"]
    engagement = validate_engagement(pa.table({"user_id": ["u\x00", "u", "u"], "track_id": ["t", "t\rt", "t"],
                                               "plays": [1, 2, 3]}), "e")
    assert engagement.table["plays"].to_pylist() == [3]
    assert [r["field"] for r in engagement.rejected.to_pylist()] == ["user_id", "track_id"]
