"""Reading and validating Parquet catalog dumps: whole-file errors, rejected rows, type conversions."""

from __future__ import annotations

import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog_er.resolver.records import ARTIST_SCHEMA, ENGAGEMENT_SCHEMA, REJECTED_SCHEMA, TRACK_SCHEMA
from catalog_er.service.errors import EmptyInputError, InputFileError, SchemaError
from catalog_er.service.io.files import read_artists, read_engagement, read_tracks
from catalog_er.service.io.parquet import write_rejected, write_table
from catalog_er.service.io.validation import FIELD_DECODED, FIELD_NULLED, ROW_DROPPED, LoadedTable


def write(tmp_path: Path, columns: dict[str, pa.Array | list], name: str = "tracks.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(pa.table(columns), path)
    return path


def rejected_rows(loaded: LoadedTable) -> list[dict]:
    return loaded.rejected.to_pylist()


def only_rejection(loaded: LoadedTable) -> dict:
    rows = rejected_rows(loaded)
    assert len(rows) == 1, rows
    return rows[0]


# ---------------------------------------------------------------------------------------------- files


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.parquet"
    with pytest.raises(InputFileError, match="no such file") as caught:
        read_tracks(path)
    assert str(path) in str(caught.value)
    assert caught.value.path == str(path)


def test_folder_without_data_files(tmp_path: Path) -> None:
    (tmp_path / "_SUCCESS").write_text("")
    with pytest.raises(InputFileError, match="the folder holds no data files") as caught:
        read_tracks(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_non_parquet_bytes(tmp_path: Path) -> None:
    path = tmp_path / "tracks.parquet"
    path.write_text("track_id,title\n1,Hello\n")
    with pytest.raises(InputFileError, match="not a readable Parquet file") as caught:
        read_tracks(path)
    assert str(path) in str(caught.value)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "tracks.parquet"
    path.write_bytes(b"")
    with pytest.raises(InputFileError, match=r"empty \(0 bytes\)"):
        read_tracks(path)


def test_truncated_parquet(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a", "b"], "title": ["x", "y"]})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError) as caught:
        read_tracks(path)
    assert str(path) in str(caught.value)


def test_empty_table(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": pa.array([], pa.string()), "title": pa.array([], pa.string())})
    with pytest.raises(EmptyInputError, match="no rows") as caught:
        read_tracks(path)
    assert str(path) in str(caught.value)


# ---------------------------------------------------------------------------------------------- schema


def test_missing_title_column_names_column_file_and_columns_found(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a"], "name": ["x"]})
    with pytest.raises(SchemaError) as caught:
        read_tracks(path)
    message = str(caught.value)
    assert "'title'" in message
    assert str(path) in message
    assert "'track_id', 'name'" in message


def test_missing_column_hints_at_case(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a"], "Title": ["x"]})
    with pytest.raises(SchemaError, match="found 'Title'; column names are case-sensitive"):
        read_tracks(path)


def test_required_column_of_unusable_type(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a"], "title": [True]})
    with pytest.raises(SchemaError) as caught:
        read_tracks(path)
    message = str(caught.value)
    assert "'title'" in message and "bool" in message and "expected string" in message
    assert str(path) in message


def test_optional_column_of_unusable_type(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a"], "title": ["x"], "duration_ms": [{"minutes": 3}]})
    with pytest.raises(SchemaError, match=r"'duration_ms' has type struct<minutes: int64>.*expected int64"):
        read_tracks(path)


def test_extra_unknown_columns_are_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"track_id": ["a"], "title": ["x"], "mood": [{"happy": True}], "popularity": [0.5]},
    )
    loaded = read_tracks(path)
    assert loaded.table.schema.equals(TRACK_SCHEMA)
    assert loaded.rejected.num_rows == 0


def test_absent_optional_columns_are_typed_nulls(tmp_path: Path) -> None:
    path = write(tmp_path, {"title": ["x", "y"], "track_id": ["a", "b"]})
    loaded = read_tracks(path)
    assert loaded.table.schema.equals(TRACK_SCHEMA)
    assert loaded.table.column_names == TRACK_SCHEMA.names
    for field in TRACK_SCHEMA.names[2:]:
        assert loaded.table[field].null_count == 2
    assert loaded.rejected.schema.equals(REJECTED_SCHEMA)


# ---------------------------------------------------------------------------------------------- rows


def test_null_titles_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a", "b", "c"], "title": ["x", None, "z"]})
    loaded = read_tracks(path)
    assert loaded.table["track_id"].to_pylist() == ["a", "c"]
    entry = only_rejection(loaded)
    assert entry == {
        "file": str(path),
        "row": 1,
        "id": "b",
        "field": "title",
        "reason": "title is null",
        "action": ROW_DROPPED,
    }


def test_blank_titles_and_ids_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a", "b", "  ", None], "title": ["x", " \t ", "y", "z"]})
    loaded = read_tracks(path)
    assert loaded.table["track_id"].to_pylist() == ["a"]
    entries = rejected_rows(loaded)
    assert [(e["row"], e["id"], e["field"], e["reason"]) for e in entries] == [
        (1, "b", "title", "title is blank"),
        (2, None, "track_id", "track_id is blank"),
        (3, None, "track_id", "track_id is null"),
    ]


def test_control_character_titles_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a", "b", "c"], "title": ["\x00\x07", "\u200b \u200b", "ok\x00"]})
    loaded = read_tracks(path)
    assert loaded.table["track_id"].to_pylist() == ["c"]
    reasons = [e["reason"] for e in rejected_rows(loaded)]
    assert reasons == [
        "title '\\x00\\x07' has only control characters",
        "title '\\u200b \\u200b' has only control characters",
    ]


def test_whitespace_is_stripped(tmp_path: Path) -> None:
    path = write(
        tmp_path, {"track_id": [" a "], "title": ["\u00a0Song\t"], "artist": ["  "], "isrc": [" X "]}
    )
    row = read_tracks(path).table.to_pylist()[0]
    assert (row["track_id"], row["title"], row["artist"], row["isrc"]) == ("a", "Song", None, "X")


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a", "b", "a", "a"], "title": ["first", "x", "second", "third"]})
    loaded = read_tracks(path)
    assert loaded.table.to_pydict()["title"] == ["first", "x"]
    entries = rejected_rows(loaded)
    assert [(e["row"], e["id"], e["field"], e["action"]) for e in entries] == [
        (2, "a", "track_id", ROW_DROPPED),
        (3, "a", "track_id", ROW_DROPPED),
    ]
    assert entries[0]["reason"] == "duplicate track_id 'a': first seen at row 0"


def test_duplicate_of_a_dropped_row_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a", "a"], "title": [None, "usable"]})
    loaded = read_tracks(path)
    assert loaded.table["title"].to_pylist() == ["usable"]
    assert only_rejection(loaded)["reason"] == "title is null"


def test_long_titles_are_dropped_with_their_length(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": ["a", "b"], "title": ["x" * 10_000, "y" * 1000]})
    loaded = read_tracks(path)
    assert loaded.table["track_id"].to_pylist() == ["b"]
    entry = only_rejection(loaded)
    assert (entry["row"], entry["id"]) == (0, "a")
    assert entry["reason"] == "title is 10000 characters long (limit 1000)"
    assert read_tracks(path, max_title_chars=20_000).table.num_rows == 2
    with pytest.raises(ValueError, match="max_title_chars"):
        read_tracks(path, max_title_chars=0)


def test_mixed_scripts_are_kept_intact(tmp_path: Path) -> None:
    title = "Привет 世界 こんにちは 안녕하세요 Café Beyoncé Ǆ"
    decomposed = "Cafe\u0301"
    path = write(tmp_path, {"track_id": ["a", "b"], "title": [title, decomposed]})
    loaded = read_tracks(path)
    assert loaded.table["title"].to_pylist() == [title, decomposed]
    assert loaded.rejected.num_rows == 0


# ---------------------------------------------------------------------------------------------- types


def test_integer_and_float_ids_become_text(tmp_path: Path) -> None:
    path = write(tmp_path, {"track_id": pa.array([1, 22, 333], pa.int32()), "title": [1999, 7, 42]})
    loaded = read_tracks(path)
    assert loaded.table.to_pydict()["track_id"] == ["1", "22", "333"]
    assert loaded.table.to_pydict()["title"] == ["1999", "7", "42"]
    path = write(tmp_path, {"track_id": [1.0, 2.5, float("nan")], "title": ["x", "y", "z"]})
    loaded = read_tracks(path)
    assert loaded.table["track_id"].to_pylist() == ["1", "2.5"]
    assert only_rejection(loaded)["reason"] == "track_id is null"


def test_float_durations_with_whole_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"track_id": ["a", "b", "c"], "title": ["x", "y", "z"], "duration_ms": [215000.0, None, 1.5]},
    )
    loaded = read_tracks(path)
    assert loaded.table["duration_ms"].to_pylist() == [215000, None, None]
    entry = only_rejection(loaded)
    where = (entry["row"], entry["id"], entry["field"], entry["action"])
    assert where == (2, "c", "duration_ms", FIELD_NULLED)
    assert entry["reason"] == "duration_ms 1.5 cannot be read as a duration (whole ms, '4:05', '4m 5s')"


def test_string_durations_with_garbage(tmp_path: Path) -> None:
    durations = ["215000", " +1000 ", "2.15e5", "", "3:35", "abc", None, "1e400", "3:75"]
    ids = [str(i) for i in range(len(durations))]
    path = write(tmp_path, {"track_id": ids, "title": ids, "duration_ms": durations})
    loaded = read_tracks(path)
    assert loaded.table.num_rows == len(durations)
    assert loaded.table["duration_ms"].to_pylist() == [215000, 1000, 215000, None, 215000, None, None, None, None]
    entries = rejected_rows(loaded)
    assert [(e["row"], e["field"], e["action"]) for e in entries] == [
        (5, "duration_ms", FIELD_NULLED),
        (7, "duration_ms", FIELD_NULLED),
        (8, "duration_ms", FIELD_NULLED),
    ]
    assert entries[0]["reason"] == "duration_ms 'abc' cannot be read as a duration (whole ms, '4:05', '4m 5s')"
    assert entries[2]["reason"].startswith("duration_ms '3:75' cannot be read as a duration")


def test_out_of_range_durations_are_nulled(tmp_path: Path) -> None:
    durations = [0, -5, 24 * 3_600_000, 24 * 3_600_000 + 1, 200_000]
    ids = [str(i) for i in range(len(durations))]
    loaded = read_tracks(write(tmp_path, {"track_id": ids, "title": ids, "duration_ms": durations}))
    assert loaded.table["duration_ms"].to_pylist() == [None, None, 24 * 3_600_000, None, 200_000]
    entries = rejected_rows(loaded)
    assert [e["row"] for e in entries] == [0, 1, 3]
    assert all(e["action"] == FIELD_NULLED for e in entries)
    assert entries[1]["reason"].startswith("duration_ms -5 is outside 1..86400000 ms")


def test_large_string_and_dictionary_columns(tmp_path: Path) -> None:
    columns = {
        "track_id": pa.array(["a", "b"], pa.large_string()),
        "title": pa.array(["x", "y"]).dictionary_encode(),
        "artist": pa.array(["Band", "Band"]).dictionary_encode(),
        "duration_ms": pa.array([1000, 2000], pa.uint16()),
    }
    loaded = read_tracks(write(tmp_path, columns))
    assert loaded.table.schema.equals(TRACK_SCHEMA)
    assert loaded.table.to_pydict()["title"] == ["x", "y"]
    assert loaded.table.to_pydict()["artist"] == ["Band", "Band"]


def test_artist_ids_as_text_are_split_on_semicolons(tmp_path: Path) -> None:
    columns = {
        "track_id": ["a", "b", "c", "d"],
        "title": ["x"] * 4,
        "artist_ids": ["ar1", "ar1; ar2 ;", " ", None],
    }
    loaded = read_tracks(write(tmp_path, columns))
    assert loaded.table["artist_ids"].to_pylist() == [["ar1"], ["ar1", "ar2"], None, None]


def test_artist_id_lists_are_cleaned_and_converted(tmp_path: Path) -> None:
    columns = {"track_id": ["a", "b", "c"], "title": ["x"] * 3, "artist_ids": [[1, 2], [], None]}
    loaded = read_tracks(write(tmp_path, columns))
    assert loaded.table["artist_ids"].to_pylist() == [["1", "2"], [], None]
    columns["artist_ids"] = [[" p ", "", None], ["q"], None]
    loaded = read_tracks(write(tmp_path, columns))
    assert loaded.table["artist_ids"].to_pylist() == [["p"], ["q"], None]


def test_binary_that_is_not_utf8_is_read_in_its_legacy_encoding(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 are read as the column's likely legacy encoding (Windows-1252 for Western text),
    kept, and reported as decoded; the UTF-8 values of the same column are untouched."""
    columns = {
        "track_id": pa.array([b"a", b"b\xff", b"c"], pa.binary()),
        "title": ["x", "y", "z"],
        "album": pa.array([b"Caf\xe9 del Mar", b"ok", "Caf\u00e9 Tacvba".encode()], pa.binary()),
    }
    loaded = read_tracks(write(tmp_path, columns))
    assert loaded.table["track_id"].to_pylist() == ["a", "b\u00ff", "c"]
    assert loaded.table["album"].to_pylist() == ["Caf\u00e9 del Mar", "ok", "Caf\u00e9 Tacvba"]
    entries = rejected_rows(loaded)
    assert [(e["row"], e["field"], e["action"]) for e in entries] == [
        (0, "album", FIELD_DECODED),
        (1, "track_id", FIELD_DECODED),
    ]
    assert entries[0]["reason"] == "album b'Caf\\xe9 del Mar' is not UTF-8: read as cp1252 'Caf\u00e9 del Mar'"


def test_release_dates_as_dates(tmp_path: Path) -> None:
    columns = {"track_id": ["a"], "title": ["x"], "release_date": [datetime.date(1999, 12, 31)]}
    assert read_tracks(write(tmp_path, columns)).table["release_date"].to_pylist() == ["1999-12-31"]


def test_shown_values_are_truncated(tmp_path: Path) -> None:
    columns = {"track_id": ["a"], "title": ["x"], "duration_ms": ["9" * 5 + "z" * 500]}
    reason = only_rejection(read_tracks(write(tmp_path, columns)))["reason"]
    assert reason.startswith("duration_ms '99999zzz")
    assert len(reason) < 160


# ---------------------------------------------------------------------------------------------- artists


def test_artists_rules(tmp_path: Path) -> None:
    columns = {
        "artist_id": [10, 11, 10, None, 12],
        "name": ["Björk", "  ", "Bjork (dup)", "Nobody", "Sigur Rós"],
        "genres": ["electronic; art pop", None, "x", "y", ""],
        "label": ["ignored"] * 5,
    }
    loaded = read_artists(write(tmp_path, columns, "artists.parquet"))
    assert loaded.table.schema.equals(ARTIST_SCHEMA)
    assert loaded.table.to_pylist() == [
        {"artist_id": "10", "name": "Björk", "genres": ["electronic", "art pop"], "country": None},
        {"artist_id": "12", "name": "Sigur Rós", "genres": None, "country": None},
    ]
    entries = rejected_rows(loaded)
    assert [(e["row"], e["id"], e["field"], e["reason"]) for e in entries] == [
        (1, "11", "name", "name is blank"),
        (2, "10", "artist_id", "duplicate artist_id '10': first seen at row 0"),
        (3, None, "artist_id", "artist_id is null"),
    ]
    assert {e["file"] for e in entries} == {str(tmp_path / "artists.parquet")}


def test_artists_missing_name_column(tmp_path: Path) -> None:
    path = write(tmp_path, {"artist_id": ["a"]}, "artists.parquet")
    with pytest.raises(SchemaError, match="required column 'name' is missing"):
        read_artists(path)


# ---------------------------------------------------------------------------------------------- engagement


def test_engagement_rules(tmp_path: Path) -> None:
    columns = {
        "user_id": ["u1", None, "u3", "u4", "u5", "u6", " u7 "],
        "track_id": ["a", "a", None, "a", "zzz", "b", "b"],
        "plays": pa.array([3, 1, 1, -2, 1, None, 0]),
    }
    path = write(tmp_path, columns, "engagement.parquet")
    loaded = read_engagement(path, known_track_ids=pa.array(["a", "b"]))
    assert loaded.table.schema.equals(ENGAGEMENT_SCHEMA)
    assert loaded.table.to_pylist() == [
        {"user_id": "u1", "track_id": "a", "plays": 3},
        {"user_id": "u7", "track_id": "b", "plays": 0},
    ]
    entries = rejected_rows(loaded)
    assert [(e["row"], e["id"], e["field"], e["reason"]) for e in entries] == [
        (1, "a", "user_id", "user_id is null"),
        (2, None, "track_id", "track_id is null"),
        (3, "a", "plays", "plays -2 is negative"),
        (4, "zzz", "track_id", "track_id 'zzz' is not in the tracks"),
        (5, "b", "plays", "plays is null"),
    ]
    assert all(e["action"] == ROW_DROPPED for e in entries)


def test_engagement_without_known_ids_keeps_every_track(tmp_path: Path) -> None:
    columns = {"user_id": [7], "track_id": ["anything"], "plays": ["12"]}
    loaded = read_engagement(write(tmp_path, columns, "engagement.parquet"))
    assert loaded.table.to_pylist() == [{"user_id": "7", "track_id": "anything", "plays": 12}]


def test_engagement_garbage_plays(tmp_path: Path) -> None:
    columns = {"user_id": ["u", "v"], "track_id": ["a", "b"], "plays": ["many", "2"]}
    loaded = read_engagement(write(tmp_path, columns, "engagement.parquet"))
    assert loaded.table["plays"].to_pylist() == [2]
    entry = only_rejection(loaded)
    assert (entry["row"], entry["id"], entry["action"]) == (0, "a", ROW_DROPPED)
    assert entry["reason"] == "plays 'many' cannot be read as a whole number"


def test_engagement_missing_plays_column(tmp_path: Path) -> None:
    path = write(tmp_path, {"user_id": ["u"], "track_id": ["a"]}, "engagement.parquet")
    with pytest.raises(SchemaError, match="'plays'") as caught:
        read_engagement(path)
    assert str(path) in str(caught.value)


# ---------------------------------------------------------------------------------------------- writing


def test_write_rejected_round_trip(tmp_path: Path) -> None:
    tracks = read_tracks(write(tmp_path, {"track_id": ["a", "a", None], "title": ["x", "y", "z"]}))
    artists = read_artists(write(tmp_path, {"artist_id": ["r"], "name": [None]}, "artists.parquet"))
    out = tmp_path / "out" / "rejected.parquet"
    count = write_rejected([tracks.rejected, artists.rejected], out)
    assert count == 3
    back = pq.read_table(out)
    assert back.schema.equals(REJECTED_SCHEMA)
    assert back.to_pylist() == tracks.rejected.to_pylist() + artists.rejected.to_pylist()
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"


def test_write_rejected_writes_nothing_when_empty(tmp_path: Path) -> None:
    tracks = read_tracks(write(tmp_path, {"track_id": ["a"], "title": ["x"]}))
    out = tmp_path / "rejected.parquet"
    assert write_rejected([tracks.rejected, REJECTED_SCHEMA.empty_table()], out) == 0
    assert not out.exists()


def test_write_table_round_trip(tmp_path: Path) -> None:
    loaded = read_tracks(
        write(tmp_path, {"track_id": ["a", "b"], "title": ["x", "y"], "artist_ids": ["1;2", None]})
    )
    out = tmp_path / "clean.parquet"
    write_table(loaded.table, out)
    assert read_tracks(out).table.equals(loaded.table)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
