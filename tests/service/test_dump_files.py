"""Dumps as people have them: CSV, TSV, JSON Lines, folders and glob patterns of part files, read with the
contract, conversions and rejected report of a single Parquet file; the errors name the file and its format."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from catalog_er.service.errors import EmptyInputError, InputFileError, SchemaError
from catalog_er.service.io.files import read_artists, read_engagement, read_tracks
from catalog_er.service.io.validation import FIELD_DECODED, FIELD_NULLED, ROW_DROPPED, LoadedTable, validate_tracks
from tests.service.test_cli import run_cli

Records = dict[str, list[str]]

MESSY_TRACKS: Records = {  # text only, blanks for missing values: what every format can hold alike
    "track_id": ["t1", "t2", "t1", "", "007", "t5", "t6", "t7"],
    "title": ["One", " Two ", "Again", "No id", "1999", "\u200b", "Six", "Seven, \"quoted\""],
    "artist_ids": ["a1; a2", "", "a3", "a4", "", "a5;", "a6", ""],
    "duration_ms": ["215000", "4:05", "1:02:03", "", "4m 5sec", "-1", "soon", "2.15e5"],
    "release_date": ["1999-01-01", "", "", "2001", "2002", "2003", "96", ""],
}


def write_parquet(path: Path, records: Records) -> Path:
    pq.write_table(pa.table({name: pa.array(values, pa.string()) for name, values in records.items()}), path)
    return path


def write_delimited(path: Path, records: Records, delimiter: str = ",") -> Path:
    table = pa.table({name: pa.array(values, pa.string()) for name, values in records.items()})
    pcsv.write_csv(table, path, write_options=pcsv.WriteOptions(delimiter=delimiter))
    return path


def write_json_lines(path: Path, records: Records) -> Path:
    names = list(records)
    rows = zip(*records.values(), strict=True)
    path.write_text("".join(json.dumps(dict(zip(names, row, strict=True))) + "\n" for row in rows))
    return path


WRITERS = {
    "tracks.parquet": write_parquet,
    "tracks.csv": write_delimited,
    "tracks.tsv": lambda path, records: write_delimited(path, records, "\t"),
    "tracks.jsonl": write_json_lines,
    "tracks.ndjson": write_json_lines,
}


def _report(loaded: LoadedTable) -> list[tuple]:
    return [(r["file"], r["row"], r["id"], r["field"], r["action"]) for r in loaded.rejected.to_pylist()]


def _report_without_files(loaded: LoadedTable) -> pa.Table:
    return loaded.rejected.drop_columns(["file"])


# ---------------------------------------------------------------------------------------------- one file


@pytest.mark.parametrize("name", [name for name in WRITERS if name != "tracks.parquet"])
def test_every_format_gives_the_table_and_report_of_parquet(tmp_path: Path, name: str) -> None:
    parquet = read_tracks(write_parquet(tmp_path / "tracks.parquet", MESSY_TRACKS))
    path = WRITERS[name](tmp_path / name, MESSY_TRACKS)
    loaded = read_tracks(path)
    assert loaded.table.equals(parquet.table)
    assert _report_without_files(loaded).equals(_report_without_files(parquet))
    assert set(loaded.rejected["file"].to_pylist()) == {str(path)}
    assert loaded.table["track_id"].to_pylist() == ["t1", "t2", "007", "t6", "t7"]  # "007" stays text
    assert loaded.table["title"].to_pylist()[2] == "1999"
    assert loaded.table["duration_ms"].to_pylist() == [215000, 245000, 245000, None, 215000]


def test_compressed_text_reads_as_the_plain_file(tmp_path: Path) -> None:
    plain = write_delimited(tmp_path / "tracks.csv", MESSY_TRACKS)
    compressed = tmp_path / "tracks.csv.gz"
    compressed.write_bytes(gzip.compress(plain.read_bytes()))
    assert read_tracks(compressed).table.equals(read_tracks(plain).table)


GOOD_AND_BAD = [  # (track_id, title, duration_ms, artist_ids) per record; None: a record that cannot be read
    ("007", "1999", "4:05", "a1;a2"),
    (None, "No id", "245000", ""),
    ("t2", "Soon", "soon", ""),
    ("007", "Again", "3:00", ""),
    None,
    ("t5", b"caf\xe9", "1:00", ""),
    ("t6", "Six", "4m 5sec", "a3"),
]
"""Rows 1 (no id), 3 (a repeated id) and 4 (malformed) are dropped; row 2's duration is nulled; row 5's title,
not UTF-8, is read as Windows-1252."""


def _delimited_bytes(delimiter: bytes) -> bytes:
    lines = [delimiter.join([b"track_id", b"title", b"duration_ms", b"artist_ids"])]
    for record in GOOD_AND_BAD:
        if record is None:
            lines.append(delimiter.join([b"t4", b"Extra", b"1:00", b"", b"surplus"]))
            continue
        fields = [b"" if v is None else v if isinstance(v, bytes) else v.encode() for v in record]
        lines.append(delimiter.join(fields))
    return b"\n".join(lines) + b"\n"


def _json_lines_bytes() -> bytes:
    lines = []
    for record in GOOD_AND_BAD:
        if record is None:
            lines.append(b'{"track_id": "t4", "title": "Broken"')
            continue
        track_id, title, duration, artist_ids = record
        fields = [] if track_id is None else [b'"track_id": "%s"' % track_id.encode()]
        fields.append(b'"title": "%s"' % (title if isinstance(title, bytes) else title.encode()))
        fields.append(b'"duration_ms": "%s"' % duration.encode())
        if artist_ids:
            fields.append(b'"artist_ids": %s' % json.dumps(artist_ids.split(";")).encode())
        lines.append(b"{" + b", ".join(fields) + b"}")
    return b"\n\n".join(lines) + b"\n"  # blank lines between objects are not rows


@pytest.mark.parametrize(
    ("name", "content", "malformed"),
    [
        ("tracks.csv", _delimited_bytes(b","), "row has 5 fields, expected 4: 't4,Extra,1:00,,surplus'"),
        ("tracks.tsv", _delimited_bytes(b"\t"), "row has 5 fields, expected 4: 't4\\tExtra\\t1:00\\t\\tsurplus'"),
        ("tracks.jsonl", _json_lines_bytes(), "line cannot be read as JSON ("),
    ],
    ids=["csv", "tsv", "jsonl"],
)
def test_good_and_bad_rows_of_each_text_format(tmp_path: Path, name: str, content: bytes, malformed: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    loaded = read_tracks(path)
    rows = loaded.table.select(["track_id", "title", "duration_ms", "artist_ids"]).to_pylist()
    assert rows == [
        {"track_id": "007", "title": "1999", "duration_ms": 245_000, "artist_ids": ["a1", "a2"]},
        {"track_id": "t2", "title": "Soon", "duration_ms": None, "artist_ids": None},
        {"track_id": "t5", "title": "caf\u00e9", "duration_ms": 60_000, "artist_ids": None},
        {"track_id": "t6", "title": "Six", "duration_ms": 245_000, "artist_ids": ["a3"]},
    ]
    file = str(path)
    assert _report(loaded) == [
        (file, 1, None, "track_id", ROW_DROPPED),
        (file, 2, "t2", "duration_ms", FIELD_NULLED),
        (file, 3, "007", "track_id", ROW_DROPPED),
        (file, 4, None, None, ROW_DROPPED),
        (file, 5, "t5", "title", FIELD_DECODED),
    ]
    reasons = loaded.rejected["reason"].to_pylist()
    assert reasons[0] in {"track_id is blank", "track_id is null"}
    assert reasons[1] == "duration_ms 'soon' cannot be read as a duration (whole ms, '4:05', '4m 5s')"
    assert reasons[2] == "duplicate track_id '007': first seen at row 0"
    assert reasons[3].startswith(malformed)
    assert reasons[4] == "title b'caf\\xe9' is not UTF-8: read as cp1252 'caf\u00e9'"


def test_csv_rows_are_records_not_lines(tmp_path: Path) -> None:
    path = tmp_path / "tracks.csv"
    path.write_text('track_id,title\n"a","two\nlines"\n\nb,x,surplus\n"c","say ""hi"", twice"\n')
    loaded = read_tracks(path)
    assert loaded.table["title"].to_pylist() == ["two\nlines", 'say "hi", twice']
    assert [(r["row"], r["action"]) for r in loaded.rejected.to_pylist()] == [(1, ROW_DROPPED)]


def test_json_lines_values_keep_their_types_and_lists_may_be_arrays(tmp_path: Path) -> None:
    path = tmp_path / "tracks.jsonl"
    path.write_text('{"track_id": 7, "title": "x", "artist_ids": [1, 2], "duration_ms": 245000}\n'
                    '{"track_id": "07", "title": 1999, "artist_ids": "b1; b2", "duration_ms": "4:05"}\n'
                    '{"track_id": "8", "title": "y", "mood": {"happy": true}}\n'
                    '{"track_id": "9", "title": "z", "artist_ids": ["a1", 2]}\n')
    loaded = read_tracks(path)
    assert loaded.table.select(["track_id", "title", "artist_ids", "duration_ms"]).to_pylist() == [
        {"track_id": "7", "title": "x", "artist_ids": ["1", "2"], "duration_ms": 245000},
        {"track_id": "07", "title": "1999", "artist_ids": ["b1", "b2"], "duration_ms": 245000},
        {"track_id": "8", "title": "y", "artist_ids": None, "duration_ms": None},
    ]
    entry = loaded.rejected.to_pylist()[0]
    assert (entry["row"], entry["action"]) == (3, ROW_DROPPED)
    assert entry["reason"].startswith("line cannot be read as JSON (Column(/artist_ids/[]) changed from string")


def test_json_lines_with_a_repeated_key_and_every_line_bad(tmp_path: Path) -> None:
    path = tmp_path / "tracks.jsonl"
    path.write_text('{"track_id": "a", "title": "x", "title": "y"}\nnot json\n')
    loaded = read_tracks(path)
    assert loaded.table.num_rows == 0
    assert [(r["row"], r["action"]) for r in loaded.rejected.to_pylist()] == [(0, ROW_DROPPED), (1, ROW_DROPPED)]
    assert "specified twice" in loaded.rejected["reason"][0].as_py()


def test_artists_and_engagement_read_from_csv(tmp_path: Path) -> None:
    artists = tmp_path / "artists.csv"
    artists.write_text("artist_id,name,genres,country\n10,Björk,electronic; art pop,IS\n10,Again,,\n")
    engagement = tmp_path / "engagement.tsv"
    engagement.write_text("user_id\ttrack_id\tplays\nu1\tt1\t3\nu2\tt9\t1\nu3\tt1\tmany\n")
    loaded_artists = read_artists(artists)
    assert loaded_artists.table.to_pylist() == [
        {"artist_id": "10", "name": "Björk", "genres": ["electronic", "art pop"], "country": "IS"}
    ]
    assert _report(loaded_artists) == [(str(artists), 1, "10", "artist_id", ROW_DROPPED)]
    loaded = read_engagement(engagement, known_track_ids=pa.array(["t1"]))
    assert loaded.table.to_pylist() == [{"user_id": "u1", "track_id": "t1", "plays": 3}]
    assert [(r["row"], r["reason"]) for r in loaded.rejected.to_pylist()] == [
        (1, "track_id 't9' is not in the tracks"),
        (2, "plays 'many' cannot be read as a whole number"),
    ]


# ---------------------------------------------------------------------------------------------- part files

FIRST_PART: Records = {"track_id": ["a", "b"], "title": ["x", "y"], "duration_ms": ["1000", "2000"]}
SECOND_PART: Records = {"track_id": ["c", "", "a", "d"], "title": ["z", "no id", "again", "w"],
                        "duration_ms": ["4:05", "1", "2", "abc"]}


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
@pytest.mark.parametrize("form", ["folder", "glob"])
def test_part_files_with_a_bad_row_in_the_second_part(tmp_path: Path, suffix: str, form: str) -> None:
    folder = tmp_path / "tracks"
    folder.mkdir()
    write = {".parquet": write_parquet, ".csv": write_delimited, ".jsonl": write_json_lines}[suffix]
    first = write(folder / f"part-0{suffix}", FIRST_PART)
    second = write(folder / f"part-1{suffix}", SECOND_PART)
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-0.crc").write_bytes(b"\x00")
    loaded = read_tracks(folder if form == "folder" else folder / f"part-*{suffix}")
    assert loaded.table.select(["track_id", "duration_ms"]).to_pylist() == [
        {"track_id": "a", "duration_ms": 1000}, {"track_id": "b", "duration_ms": 2000},
        {"track_id": "c", "duration_ms": 245000}, {"track_id": "d", "duration_ms": None},
    ]
    assert _report(loaded) == [
        (str(second), 1, None, "track_id", ROW_DROPPED),
        (str(second), 2, "a", "track_id", ROW_DROPPED),
        (str(second), 3, "d", "duration_ms", FIELD_NULLED),
    ]
    assert loaded.rejected["reason"][1].as_py() == f"duplicate track_id 'a': first seen at row 0 of {first}"


def test_parts_with_different_column_types_and_columns(tmp_path: Path) -> None:
    pq.write_table(pa.table({"track_id": pa.array([1, 2], pa.int32()), "title": ["x", "y"],
                             "duration_ms": [1000, 2000]}), tmp_path / "part-0.parquet")
    pq.write_table(pa.table({"track_id": ["3"], "title": ["z"], "duration_ms": ["4:05"], "album": ["Al"]}),
                   tmp_path / "part-1.parquet")
    loaded = read_tracks(tmp_path)
    assert loaded.table.select(["track_id", "duration_ms", "album"]).to_pylist() == [
        {"track_id": "1", "duration_ms": 1000, "album": None}, {"track_id": "2", "duration_ms": 2000, "album": None},
        {"track_id": "3", "duration_ms": 245000, "album": "Al"},
    ]


def test_a_malformed_csv_row_in_a_later_part_names_that_part(tmp_path: Path) -> None:
    write_delimited(tmp_path / "tracks-0.csv", FIRST_PART)
    second = tmp_path / "tracks-1.csv"
    second.write_text("track_id,title,duration_ms\nc,z,1\nd,w,2,surplus\ne,v,3\n")
    (tmp_path / "tracks-2.csv").write_bytes(b"")  # an empty part adds no rows
    loaded = read_tracks(tmp_path / "tracks-*.csv")
    assert loaded.table["track_id"].to_pylist() == ["a", "b", "c", "e"]
    assert _report(loaded) == [(str(second), 1, None, None, ROW_DROPPED)]


def test_part_files_must_share_one_format(tmp_path: Path) -> None:
    write_parquet(tmp_path / "part-0.parquet", FIRST_PART)
    write_delimited(tmp_path / "part-1.csv", SECOND_PART)
    with pytest.raises(InputFileError, match="several formats"):
        read_tracks(tmp_path)


def test_a_part_without_a_required_column_is_named(tmp_path: Path) -> None:
    write_parquet(tmp_path / "part-0.parquet", FIRST_PART)
    bad = write_parquet(tmp_path / "part-1.parquet", {"track_id": ["c"], "name": ["z"]})
    with pytest.raises(SchemaError, match=f"{bad} \\(Parquet\\): required column 'title' is missing"):
        read_tracks(tmp_path)


def test_in_memory_validation_is_what_the_readers_apply(tmp_path: Path) -> None:
    raw = pa.table({name: pa.array(values, pa.string()) for name, values in MESSY_TRACKS.items()})
    in_memory = validate_tracks(raw, "batch")
    from_csv = read_tracks(write_delimited(tmp_path / "tracks.csv", MESSY_TRACKS))
    assert from_csv.table.equals(in_memory.table)
    assert _report_without_files(from_csv).equals(_report_without_files(in_memory))


# ---------------------------------------------------------------------------------------------- whole-file errors


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("tracks.csv", b"", InputFileError, "tracks.csv (CSV): the file is empty (0 bytes)"),
        ("tracks.csv", b"track_id,title\n", EmptyInputError, "tracks.csv (CSV): the file has no rows"),
        ("tracks.csv", b"1,Hello\n2,World\n", SchemaError,
         "tracks.csv (CSV): required column 'track_id' is missing; columns found: '1', 'Hello'; the first line"),
        ("tracks.jsonl", b"\n\n", EmptyInputError, "tracks.jsonl (JSON Lines): the file has no rows"),
        ("tracks.json", b'[{"track_id": "a", "title": "x"}]', InputFileError,
         "tracks.json (JSON Lines): holds a JSON array"),
        ("tracks.jsonl", b'{"track_id": "a", "title": true}\n', SchemaError,
         "tracks.jsonl (JSON Lines): column 'title' has type bool"),
        ("tracks.parquet", b"track_id,title\n1,x\n", InputFileError,
         "tracks.parquet (Parquet): not a readable Parquet file"),
        ("tracks.txt", b"track_id,title\n1,x\n", InputFileError, "tracks.txt: cannot tell the format from the name"),
    ],
    ids=["empty csv", "header only", "no header", "blank jsonl", "json array", "bool title", "not parquet",
         "unknown format"],
)
def test_whole_file_errors_name_the_file_and_format(tmp_path: Path, name: str, content: bytes, error: type,
                                                    message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error) as caught:
        read_tracks(path)
    assert str(caught.value).startswith(f"{tmp_path}/{message}")


def test_a_pattern_matching_nothing_and_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="the pattern matches no file"):
        read_tracks(tmp_path / "tracks-*.csv")
    with pytest.raises(InputFileError, match="the folder holds no data files"):
        read_tracks(tmp_path)


# ---------------------------------------------------------------------------------------------- duration text


@pytest.mark.parametrize(
    ("text", "milliseconds"),
    [("4:05", 245_000), ("04:05", 245_000), ("75:30", 4_530_000), ("1:02:03", 3_723_000), ("4:05.5", 245_500),
     ("4m 5sec", 245_000), ("4 min 5 sec", 245_000), ("4m5s", 245_000), ("4 MIN, 5 SECS", 245_000),
     ("4 minutes 5 seconds", 245_000), ("1h 2m 3s", 3_723_000), ("245 sec", 245_000), ("4 min", 240_000),
     ("PT4M5S", 245_000), (" 3:35 ", 215_000), ("245", 245), ("245000", 245_000), ("2.15e5", 215_000)],
)
def test_duration_text_is_read_as_milliseconds(text: str, milliseconds: int) -> None:
    loaded = validate_tracks(pa.table({"track_id": ["a"], "title": ["x"], "duration_ms": [text]}), "batch")
    assert loaded.table["duration_ms"].to_pylist() == [milliseconds]
    assert loaded.rejected.num_rows == 0


@pytest.mark.parametrize("text", ["4:75", "1:75:00", "4:5", "4.5", "four minutes", "pt", "4 parsecs", "1:2:3:4",
                                  "4m 5", "-4:05"])
def test_other_duration_text_is_nulled_with_a_reason(text: str) -> None:
    loaded = validate_tracks(pa.table({"track_id": ["a"], "title": ["x"], "duration_ms": [text]}), "batch")
    assert loaded.table["duration_ms"].to_pylist() == [None]
    assert loaded.rejected.to_pylist()[0]["reason"] == (
        f"duration_ms {text!r} cannot be read as a duration (whole ms, '4:05', '4m 5s')")


# ---------------------------------------------------------------------------------------------- command line


def test_resolve_import_and_show_read_text_dumps(tmp_path: Path) -> None:
    tracks = tmp_path / "tracks.csv"
    tracks.write_bytes(b"track_id,title,artist,duration_ms\n"
                       b"a,Harbour Lights,Nina Vale,3:55\nb,Harbour Lights,Nina Vale,235000\n"
                       b"c,Northern Tides,Ola,4m 5s\nd,broken,row,1,2\ne,Caf\xe9,Ola,1:00\n")
    out = tmp_path / "out"
    done = run_cli("resolve", "--tracks", str(tracks), "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    rejected = pq.read_table(out / "rejected.parquet").to_pylist()
    assert [(r["file"], r["row"], r["action"]) for r in rejected] == [
        (str(tracks), 3, ROW_DROPPED), (str(tracks), 4, FIELD_DECODED)]
    assert json.loads((out / "summary.json").read_text())["counts"]["tracks"] == 4
    shown = run_cli("show", "--out", str(out), "--tracks", str(tracks))
    assert shown.returncode == 0, shown.stderr

    parts = tmp_path / "parts"
    parts.mkdir()
    write_json_lines(parts / "part-0.jsonl", FIRST_PART)
    write_json_lines(parts / "part-1.jsonl", SECOND_PART)
    imported = run_cli("import", "--db", str(tmp_path / "catalog.sqlite"), "--tracks", str(parts), "--rejected",
                       str(tmp_path / "rejected.parquet"))
    assert imported.returncode == 0, imported.stderr
    assert "imported 4 tracks" in imported.stdout
    report = pq.read_table(tmp_path / "rejected.parquet").to_pylist()
    assert {r["file"] for r in report} == {str(parts / "part-1.jsonl")}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("t.csv", b"track_id,name\na,x\n", "t.csv (CSV): required column 'title' is missing"),
        ("t.tsv", b"", "t.tsv (TSV): the file is empty (0 bytes)"),
        ("t.jsonl", b'{"track_id": "a", "title": {"text": "x"}}\n', "t.jsonl (JSON Lines): column 'title' has type"),
        ("t.json", b'[{"track_id": "a", "title": "x"}]\n', "t.json (JSON Lines): holds a JSON array"),
        ("t.dat", b"track_id,title\na,x\n", "t.dat: cannot tell the format from the name"),
        ("t-*.csv", None, "t-*.csv: the pattern matches no file"),
    ],
    ids=["missing column", "empty tsv", "struct title", "json array", "unknown format", "glob matching nothing"],
)
def test_unusable_dumps_exit_2_naming_file_and_format(tmp_path: Path, name: str, content: bytes | None,
                                                      expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    done = run_cli("resolve", "--tracks", str(path), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == 2
    assert f"catalog-er: error: {tmp_path}/{expected}" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_says_what_a_dump_may_be() -> None:
    for command in ("resolve", "import"):
        done = run_cli(command, "--help")
        text = " ".join(done.stdout.split())
        assert "CSV" in text and "JSON Lines" in text and "folder of part files" in text and "glob" in text


def test_each_file_of_a_dump_is_read_in_its_own_legacy_encoding(tmp_path: Path) -> None:
    """A dump gathered from three sources: one writes UTF-8, one Windows-1251 (Cyrillic), one Windows-1252. Every
    value is kept and read as its source wrote it; each one that was not UTF-8 is reported as decoded, naming
    its file and the encoding it was read in."""
    rows = {"utf8.csv": ("utf-8", [("u1", "Группа крови", "Кино"), ("u2", "Déjà Vu", "Beyoncé")]),
            "cyrillic.csv": ("cp1251", [("c1", "Группа крови", "Кино"), ("c2", "Звезда по имени Солнце", "Кино"),
                                        ("c3", "Хочешь", "Земфира"), ("c4", "Blue", "Plain Ascii")]),
            "western.csv": ("cp1252", [("w1", "Déjà Vu", "Beyoncé"), ("w2", "Ágætis byrjun", "Sigur Rós")])}
    folder = tmp_path / "dump"
    folder.mkdir()
    for name, (encoding, records) in rows.items():
        lines = ["track_id,title,artist"] + [",".join(record) for record in records]
        (folder / name).write_bytes("\n".join(lines).encode(encoding) + b"\n")
    loaded = read_tracks(folder)
    read = {r["track_id"]: (r["title"], r["artist"]) for r in loaded.table.to_pylist()}
    assert read == {track_id: (title, artist) for _, records in rows.values() for track_id, title, artist in records}
    decoded = [(Path(r["file"]).name, r["id"], r["field"], r["reason"].rsplit(" read as ", 1)[1].split(" ")[0])
               for r in loaded.rejected.to_pylist()]
    assert all(r["action"] == "field decoded" for r in loaded.rejected.to_pylist())
    fields = ("title", "artist")
    assert sorted(decoded) == sorted(
        [("cyrillic.csv", track_id, field, "cp1251") for track_id in ("c1", "c2", "c3") for field in fields]
        + [("western.csv", track_id, field, "cp1252") for track_id in ("w1", "w2") for field in fields])
