"""Multi-source synthetic catalogs: sources, per-source habits at their shares, their renderings, ground truth."""

from __future__ import annotations

import collections
import datetime
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from rapidfuzz.distance import Levenshtein

from catalog_er.resolver.synthetic import SyntheticCatalog, generate_catalog
from catalog_er.resolver.synthetic.habits import tokenize
from catalog_er.resolver.synthetic.profiles import DURATION_UNITS, HABITS, SourceProfile
from catalog_er.resolver.synthetic.sources import (
    MESSY_TRACK_SCHEMA,
    TRUTH_HABITS_SCHEMA,
    MultiSourceCatalog,
    multi_source_catalog,
)

K = 5
SEED = 1  # a seed whose five sources use every variant family the rendering tests check
TEXT_FIELDS = ("title", "artist", "album", "label")


@pytest.fixture(scope="module")
def messy(small_catalog: SyntheticCatalog) -> MultiSourceCatalog:
    return multi_source_catalog(small_catalog, sources=K, seed=SEED)


@pytest.fixture(scope="module")
def rows(small_catalog: SyntheticCatalog, messy: MultiSourceCatalog) -> list[dict]:
    """One dict per track: ``clean`` and ``messy`` rows, ``recording_id``, ``source``, the set of ``habits``."""
    listed = collections.defaultdict(set)
    for row in messy.truth_habits.to_pylist():
        listed[row["track_id"]].add(row["habit"])
    recordings = small_catalog.truth_tracks["recording_id"].to_pylist()
    return [{"clean": clean, "messy": dirty, "recording_id": recording, "source": dirty["source"],
             "habits": listed[dirty["track_id"]]}
            for clean, dirty, recording in zip(small_catalog.tracks.to_pylist(), messy.tracks.to_pylist(),
                                               recordings, strict=True)]


def _profile(messy: MultiSourceCatalog, name: str) -> SourceProfile:
    return next(profile for profile in messy.profiles if profile.name == name)


# --- independent parsers (deliberately not the module's renderers) ---------------------------------------
def _parse_duration_text(text: str) -> int:
    """``4:05``, ``04:05`` or ``4m 5sec`` → milliseconds."""
    match = re.fullmatch(r"(\d+):(\d\d)|(\d+)m (\d+)sec", text)
    assert match, text
    minutes, seconds = (match[1], match[2]) if match[1] else (match[3], match[4])
    return (int(minutes) * 60 + int(seconds)) * 1000


_DATE_FORMATS = {"year": "%Y", "two_digit": "%y", "apostrophe": "'%y", "month_name": "%B %d , %Y",
                 "day_mon_yy": "%d-%b-%y", "dotted": "%d.%m.%Y"}


def _date_agrees(text: str, clean_iso: str, variant: str) -> bool:
    """Whether ``text`` in the date style ``variant`` says the same year (and month and day, if it has them)."""
    parsed = datetime.datetime.strptime(text, _DATE_FORMATS[variant]).date()
    clean = datetime.date.fromisoformat(clean_iso)
    if variant in ("year", "two_digit", "apostrophe"):
        return parsed.year % 100 == clean.year % 100 and text.lstrip("'") in (str(clean.year), str(clean.year)[2:])
    return (parsed.year % 100, parsed.month, parsed.day) == (clean.year % 100, clean.month, clean.day)


_PRICE = re.compile(r"(?:\$|£|USD)\s?\d+\.\d\d|\d+,\d\d\s?€|\bFree\b")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


# --- contract ----------------------------------------------------------------------------------------------
def test_tables_keep_the_clean_rows_ids_and_other_tables(small_catalog: SyntheticCatalog,
                                                         messy: MultiSourceCatalog) -> None:
    assert messy.tracks.schema.equals(MESSY_TRACK_SCHEMA)
    assert MESSY_TRACK_SCHEMA.field("duration_ms").type == pa.string()
    assert messy.truth_habits.schema.equals(TRUTH_HABITS_SCHEMA)
    assert messy.tracks["track_id"].equals(small_catalog.tracks["track_id"])
    for name in ("artists", "engagement", "truth_tracks", "truth_artists"):
        assert getattr(messy, name).equals(getattr(small_catalog, name)), name
    assert set(messy.tracks["source"].to_pylist()) == {f"src{i}" for i in range(1, K + 1)}
    assert [profile.name for profile in messy.profiles] == [f"src{i}" for i in range(1, K + 1)]
    assert set(messy.truth_habits["habit"].to_pylist()) <= set(HABITS)


def test_same_seed_gives_equal_tables_and_another_seed_differs(small_catalog: SyntheticCatalog,
                                                               messy: MultiSourceCatalog) -> None:
    again = multi_source_catalog(small_catalog, sources=K, seed=SEED)
    assert again.tracks.equals(messy.tracks) and again.truth_habits.equals(messy.truth_habits)
    assert again.profiles == messy.profiles
    other = multi_source_catalog(small_catalog, sources=K, seed=SEED + 1)
    assert not other.tracks.equals(messy.tracks)


def test_the_clean_catalog_is_left_as_the_generator_made_it(small_catalog: SyntheticCatalog,
                                                            messy: MultiSourceCatalog) -> None:
    fresh = generate_catalog(n_tracks=small_catalog.tracks.num_rows, seed=2024)
    assert fresh.tracks.equals(small_catalog.tracks) and fresh.truth_tracks.equals(small_catalog.truth_tracks)


@pytest.mark.parametrize(("sources", "seed", "bad"), [(0, 1, "0"), (-2, 1, "-2"), (True, 1, "True"),
                                                      (2.0, 1, "2.0"), (3, -1, "-1")])
def test_bad_arguments_raise_value_error_naming_the_value(small_catalog: SyntheticCatalog, sources: object,
                                                          seed: int, bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(bad)):
        multi_source_catalog(small_catalog, sources=sources, seed=seed)  # type: ignore[arg-type]


# --- sources -------------------------------------------------------------------------------------------------
def test_a_recording_goes_to_distinct_sources_while_there_are_enough(rows: list[dict]) -> None:
    by_recording = collections.defaultdict(list)
    for row in rows:
        by_recording[row["recording_id"]].append(row["source"])
    spread = [sources for sources in by_recording.values() if len(sources) > 1]
    assert len(spread) > 300
    for sources in spread:
        assert len(set(sources)) == min(len(sources), K), sources


def test_sources_deliver_unequal_shares(rows: list[dict]) -> None:
    counts = collections.Counter(row["source"] for row in rows)
    assert max(counts.values()) > 1.3 * min(counts.values()), counts


@pytest.mark.parametrize("seed", [SEED, 2, 3, 7])
def test_five_sources_differ_and_cover_every_habit(small_catalog: SyntheticCatalog, seed: int) -> None:
    profiles = multi_source_catalog(small_catalog, sources=K, seed=seed).profiles
    units = {profile.duration_unit for profile in profiles}
    assert set(DURATION_UNITS) <= units  # one in seconds, one as m:ss text, one as minutes x 1000
    assert sum("scraped" in profile.habits for profile in profiles) == 1
    assert sum("no_isrc" in profile.habits for profile in profiles) >= 2
    assert {habit for profile in profiles for habit in profile.habits} == set(HABITS)
    tokens = [profile.habits["placeholder"].variant for profile in profiles if "placeholder" in profile.habits]
    assert len(set(tokens)) == len(tokens)
    dates = [profile.habits["year_format"].variant for profile in profiles if "year_format" in profile.habits]
    assert len(set(dates)) == len(dates)
    shares = [setting.share for profile in profiles for name, setting in profile.habits.items() if name != "no_isrc"]
    assert all(0 < share < 1 for share in shares)
    assert len({round(share, 2) for share in shares}) > len(shares) / 2  # varied, not one house share
    assert len({profile.describe() for profile in profiles}) == K


@pytest.mark.parametrize("sources", [1, 2, 3, 4, 5, 6])
def test_any_number_of_sources(sources: int) -> None:
    clean = generate_catalog(n_tracks=1200, seed=sources)
    catalog = multi_source_catalog(clean, sources=sources, seed=sources)
    names = {f"src{i}" for i in range(1, sources + 1)}
    assert set(catalog.tracks["source"].to_pylist()) == names
    assert catalog.tracks.num_rows == 1200
    source_of = dict(zip(catalog.tracks["track_id"].to_pylist(), catalog.tracks["source"].to_pylist(), strict=True))
    assert all(source_of[t] == s for t, s in zip(catalog.truth_habits["track_id"].to_pylist(),
                                                 catalog.truth_habits["source"].to_pylist(), strict=True))
    has = collections.Counter(habit for profile in catalog.profiles for habit in profile.habits)
    assert has["scraped"] == (1 if sources >= 4 else 0)
    assert has["no_isrc"] == (0 if sources == 1 else max(1, round(0.6 * sources)))
    assert all(profile.habits for profile in catalog.profiles)


@pytest.mark.parametrize("sources", [2, 5, 9])
def test_the_default_number_of_scraped_sources_is_the_rule_spelled_out(small_catalog: SyntheticCatalog,
                                                                       sources: int) -> None:
    rule = (sources >= 4) + (sources >= 8)
    default = multi_source_catalog(small_catalog, sources=sources, seed=SEED)
    spelled_out = multi_source_catalog(small_catalog, sources=sources, seed=SEED, scraped_sources=rule)
    assert default.profiles == spelled_out.profiles
    assert default.tracks.equals(spelled_out.tracks) and default.truth_habits.equals(spelled_out.truth_habits)


@pytest.mark.parametrize(("sources", "scraped"), [(2, 2), (3, 1), (5, 0), (1, 1)])
def test_scraped_sources_sets_how_many_sources_are_scraped_stores(small_catalog: SyntheticCatalog, sources: int,
                                                                  scraped: int) -> None:
    catalog = multi_source_catalog(small_catalog, sources=sources, seed=SEED, scraped_sources=scraped)
    stores = {profile.name for profile in catalog.profiles if profile.scraped_style is not None}
    assert len(stores) == scraped == sum("scraped" in profile.habits for profile in catalog.profiles)
    assert all("no_isrc" in profile.habits for profile in catalog.profiles if profile.name in stores)
    scraped_rows = set(_tracks_with_habit(catalog.truth_habits, "scraped"))
    from_stores = [t for t, s in zip(catalog.tracks["track_id"].to_pylist(), catalog.tracks["source"].to_pylist(),
                                     strict=True) if s in stores]
    assert scraped_rows <= set(from_stores)
    if stores:  # a store writes most, not all, of its records in the scraped form (SCRAPED_SHARE)
        assert 0.6 * len(from_stores) < len(scraped_rows) < len(from_stores)


def _tracks_with_habit(truth_habits: pa.Table, habit: str) -> list[str]:
    """The track ids that ``truth_habits`` lists with ``habit``."""
    return [row["track_id"] for row in truth_habits.to_pylist() if row["habit"] == habit]


@pytest.mark.parametrize(("scraped", "bad"), [(3, "3"), (-1, "-1"), (True, "True"), (1.0, "1.0")])
def test_bad_scraped_sources_raise_value_error_naming_the_value(small_catalog: SyntheticCatalog, scraped: object,
                                                                bad: str) -> None:
    with pytest.raises(ValueError, match=f"scraped_sources.*{re.escape(bad)}"):
        multi_source_catalog(small_catalog, sources=2, seed=SEED, scraped_sources=scraped)  # type: ignore[arg-type]


# --- shares --------------------------------------------------------------------------------------------------
def _can_change(habit: str, row: dict) -> bool:
    """Whether ``habit``, drawn for this record, would surely change it (from the clean row alone)."""
    clean, scraped = row["clean"], "scraped" in row["habits"]
    if habit in ("scraped", "typo"):
        return True
    if habit == "truncation":
        return len(clean["title"]) >= 8
    if habit == "no_isrc":
        return clean["isrc"] is not None
    if scraped:
        return False
    if habit in DURATION_UNITS:
        return clean["duration_ms"] is not None and "duration_zero" not in row["habits"]
    return {
        "artist_in_title": clean["artist"] is not None, "album_in_title": clean["album"] is not None,
        "edition_tag": clean["album"] is not None, "year_format": clean["release_date"] is not None,
        "track_number": True, "duration_zero": True, "tokenization": "(" in clean["title"],
        "placeholder": clean["album"] is None,
    }[habit]


def test_each_habit_is_on_its_share_of_the_records_it_can_change(rows: list[dict],
                                                                  messy: MultiSourceCatalog) -> None:
    checked = 0
    for profile in messy.profiles:
        mine = [row for row in rows if row["source"] == profile.name]
        for habit in HABITS:
            share = profile.share(habit)
            eligible = [row for row in mine if _can_change(habit, row)]
            if share == 0:
                assert not any(habit in row["habits"] for row in mine), (profile.name, habit)
                continue
            if len(eligible) < 40:
                continue
            observed = sum(habit in row["habits"] for row in eligible) / len(eligible)
            tolerance = 4 * math.sqrt(share * (1 - share) / len(eligible)) + 0.005
            assert abs(observed - share) <= tolerance, (profile.name, habit, observed, share, len(eligible))
            checked += 1
    assert checked >= 25


# --- renderings ------------------------------------------------------------------------------------------
FIELDS_OF = {  # the columns each habit may change
    "artist_in_title": {"title", "artist", "artist_ids"}, "album_in_title": {"title"}, "track_number": {"title"},
    "placeholder": {"artist", "album", "label", "release_date", "duration_ms"}, "duration_seconds": {"duration_ms"},
    "duration_text": {"duration_ms"}, "duration_minutes": {"duration_ms"}, "duration_zero": {"duration_ms"},
    "year_format": {"release_date"}, "typo": set(TEXT_FIELDS), "truncation": set(TEXT_FIELDS),
    "edition_tag": {"album"}, "tokenization": {"title", "album"}, "no_isrc": {"isrc"},
    "scraped": {"title", "artist", "artist_ids", "album", "duration_ms", "isrc", "release_date", "label"},
}


def test_truth_lists_every_habit_that_changed_a_record(rows: list[dict]) -> None:
    untouched = 0
    for row in rows:
        clean, dirty = row["clean"], row["messy"]
        expected = {**clean, "duration_ms": None if clean["duration_ms"] is None else str(clean["duration_ms"]),
                    "source": row["source"]}
        changed = {name for name, value in dirty.items() if value != expected[name]}
        assert changed <= set().union(*(FIELDS_OF[habit] for habit in row["habits"])), (row, changed)
        assert bool(changed) == bool(row["habits"])
        untouched += not row["habits"]
    assert untouched > 20


def _isolated(rows: list[dict], habit: str, fields: set[str] | tuple[str, ...], *allowed: str) -> list[dict]:
    """Rows with ``habit`` where no other listed habit (bar ``allowed``) may have touched ``fields``."""
    return [row for row in rows if habit in row["habits"]
            and not any(FIELDS_OF[other] & set(fields) for other in row["habits"] - {habit, *allowed})]


def test_a_lone_typo_edits_one_text_field_slightly(rows: list[dict]) -> None:
    typos = _isolated(rows, "typo", TEXT_FIELDS)
    assert len(typos) > 30
    for row in typos:
        changed = [f for f in TEXT_FIELDS if row["messy"][f] != row["clean"][f]]
        assert len(changed) == 1, row
        assert 1 <= Levenshtein.distance(row["messy"][changed[0]], row["clean"][changed[0]]) <= 2


def test_a_lone_truncation_cuts_one_text_field(rows: list[dict]) -> None:
    cut = _isolated(rows, "truncation", TEXT_FIELDS)
    assert len(cut) > 10
    for row in cut:
        changed = [f for f in TEXT_FIELDS if row["messy"][f] != row["clean"][f]]
        assert len(changed) == 1, row
        short, full = row["messy"][changed[0]].rstrip(".\u2026"), row["clean"][changed[0]]
        assert full.startswith(short) and 0 < len(short) < len(full)


def test_artist_in_title_moves_the_artist_into_the_title(rows: list[dict], messy: MultiSourceCatalog) -> None:
    moved = [row for row in rows if "artist_in_title" in row["habits"]]
    assert len(moved) > 100
    for row in moved:
        assert row["messy"]["artist_ids"] is None
        assert row["messy"]["artist"] is None or "placeholder" in row["habits"]
    for row in _isolated(rows, "artist_in_title", {"title"}, "track_number", "album_in_title"):
        separator = _profile(messy, row["source"]).habits["artist_in_title"].variant
        assert row["messy"]["title"].startswith(row["clean"]["artist"] + separator)
        assert row["clean"]["title"] in row["messy"]["title"]


def test_album_in_title_appends_the_album(rows: list[dict]) -> None:
    appended = _isolated(rows, "album_in_title", {"title"}, "track_number", "artist_in_title")
    assert len(appended) > 30
    for row in appended:
        title, album = row["messy"]["title"], row["messy"]["album"]
        assert f"({album})" in title or title.endswith(f" - {album}")
        assert row["clean"]["title"] in title


def test_track_number_prefixes_a_number(rows: list[dict]) -> None:
    numbered = _isolated(rows, "track_number", {"title"})
    assert len(numbered) > 30
    prefix = re.compile(r"(?:\d{3}-|\d{2}\. |Track \d{1,2} - |\d{1,2} - |\d{2} )")
    for row in numbered:
        title = row["messy"]["title"]
        match = prefix.match(title)
        assert match and title[match.end():] == row["clean"]["title"], title


def test_placeholders_fill_every_missing_field(rows: list[dict], messy: MultiSourceCatalog) -> None:
    filled = [row for row in rows if "placeholder" in row["habits"]]
    assert len(filled) > 30
    fields = ("artist", "album", "label", "release_date", "duration_ms")
    for row in filled:
        token = _profile(messy, row["source"]).habits["placeholder"].variant
        assert all(row["messy"][f] is not None for f in fields)
        missing = [f for f in fields if row["clean"][f] is None and not (f == "duration_ms" and "duration_zero"
                                                                          in row["habits"])]
        for f in missing:
            assert row["messy"][f] == token.replace("{Field}", f.title()) or row["messy"][f] == "Unknown", row


def test_duration_habits_parse_back_to_the_clean_duration(rows: list[dict], messy: MultiSourceCatalog) -> None:
    seen = collections.Counter()
    for row in rows:
        text, clean_ms = row["messy"]["duration_ms"], row["clean"]["duration_ms"]
        if "duration_zero" in row["habits"]:
            assert text == "0"
        elif "duration_seconds" in row["habits"]:
            assert abs(int(text) * 1000 - clean_ms) <= 500
        elif "duration_minutes" in row["habits"]:
            assert abs(int(text) * 60 - clean_ms) <= 30
        elif "duration_text" in row["habits"]:
            assert abs(_parse_duration_text(text) - clean_ms) <= 500, text
        elif "scraped" not in row["habits"] and "placeholder" not in row["habits"]:
            assert text == (None if clean_ms is None else str(clean_ms))
            continue
        seen.update(row["habits"] & {"duration_zero", *DURATION_UNITS})
    assert all(seen[habit] > 20 for habit in ("duration_zero", *DURATION_UNITS)), seen


def test_year_formats_say_the_clean_date(rows: list[dict], messy: MultiSourceCatalog) -> None:
    dated = [row for row in rows if "year_format" in row["habits"]]
    assert len(dated) > 100
    for row in dated:
        variant = _profile(messy, row["source"]).habits["year_format"].variant
        assert _date_agrees(row["messy"]["release_date"], row["clean"]["release_date"], variant), row


def test_edition_tags_are_added_or_removed(rows: list[dict]) -> None:
    tagged = _isolated(rows, "edition_tag", {"album"})
    assert len(tagged) > 20
    for row in tagged:
        messy_album, clean_album = row["messy"]["album"], row["clean"]["album"]
        shorter, longer = sorted((messy_album, clean_album), key=len)
        assert messy_album != clean_album and longer.startswith(shorter)
        assert re.search(r"deluxe|special|expanded|edition|remaster|anniversary|bonus", longer[len(shorter):], re.I)


def test_tokenization_moves_spaces_and_punctuation_only(rows: list[dict], messy: MultiSourceCatalog) -> None:
    tokenized = [row for row in _isolated(rows, "tokenization", {"title", "album"})
                 if _profile(messy, row["source"]).habits["tokenization"].variant != "spaced_words"]
    assert len(tokenized) > 20
    for row in tokenized:
        assert row["messy"]["title"] != row["clean"]["title"] or row["messy"]["album"] != row["clean"]["album"]
        assert _words(row["messy"]["title"].replace("'", "")) == _words(row["clean"]["title"].replace("'", ""))


def test_scraped_titles_run_the_fields_together(rows: list[dict], messy: MultiSourceCatalog) -> None:
    scraped = [row for row in rows if "scraped" in row["habits"]]
    assert len(scraped) > 200
    assert all(row["messy"]["artist_ids"] is None and row["messy"]["isrc"] is None for row in scraped)
    plain = [row for row in scraped if not row["habits"] & {"typo", "truncation"}]
    with_artist = [row for row in plain if row["clean"]["artist"]]
    has_artist = sum(set(_words(row["clean"]["artist"])) <= set(_words(row["messy"]["title"])) for row in with_artist)
    has_price = sum(bool(_PRICE.search(row["messy"]["title"])) for row in plain)
    has_title = sum(set(_words(row["clean"]["title"])) <= set(_words(row["messy"]["title"])) for row in plain)
    assert has_artist >= 0.8 * len(with_artist) and has_price >= 0.8 * len(plain) and has_title == len(plain)
    assert len({row["messy"]["title"].split(" ")[0] == row["clean"]["title"].split(" ")[0] for row in plain}) == 2
    fragments = [row for row in plain if row["messy"]["artist"] or row["messy"]["album"]]
    assert 0.1 * len(plain) < len(fragments) < 0.9 * len(plain)


def test_no_isrc_sources_carry_no_isrcs(rows: list[dict], messy: MultiSourceCatalog) -> None:
    for profile in messy.profiles:
        mine = [row for row in rows if row["source"] == profile.name]
        if "no_isrc" in profile.habits:
            assert all(row["messy"]["isrc"] is None for row in mine)
            assert all(("no_isrc" in row["habits"]) == (row["clean"]["isrc"] is not None) for row in mine)
        else:
            assert sum(row["messy"]["isrc"] is not None for row in mine) > 0.5 * len(mine)


# --- the command line ---------------------------------------------------------------------------------------
def _synth(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "catalog_er.service.cli", "synth", "--out", str(out), "--tracks",
                           "400", "--seed", "5", "-q", *args], capture_output=True, text=True, timeout=300)


def test_cli_writes_a_multi_source_catalog_byte_identically(tmp_path: Path) -> None:
    names = ("tracks", "artists", "engagement", "truth_tracks", "truth_artists", "truth_habits")
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        done = _synth(out, "--sources", "4")
        assert done.returncode == 0, done.stderr
        assert "from 4 sources" in done.stdout and "src4" in done.stdout and "scraped" in done.stdout
        assert sorted(p.name for p in out.iterdir()) == sorted(f"{name}.parquet" for name in names)
    for name in names:
        assert (first / f"{name}.parquet").read_bytes() == (second / f"{name}.parquet").read_bytes(), name
    tracks = pq.read_table(first / "tracks.parquet")
    assert tracks.schema.equals(MESSY_TRACK_SCHEMA) and tracks.num_rows == 400
    assert pq.read_table(first / "truth_habits.parquet").num_rows > 400
    resolved = subprocess.run([sys.executable, "-m", "catalog_er.service.cli", "resolve", "--tracks",
                               str(first / "tracks.parquet"), "--out", str(tmp_path / "resolved"), "-q"],
                              capture_output=True, text=True, timeout=300)
    assert resolved.returncode == 0, resolved.stderr


def test_cli_scraped_sources_makes_every_source_a_scraped_store(tmp_path: Path) -> None:
    done = _synth(tmp_path, "--sources", "2", "--scraped-sources", "2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("scraped layout") == 2
    sources = set(pq.read_table(tmp_path / "tracks.parquet")["source"].to_pylist())
    habits = pq.read_table(tmp_path / "truth_habits.parquet").to_pylist()
    assert {row["source"] for row in habits if row["habit"] == "scraped"} == sources == {"src1", "src2"}


def test_cli_without_sources_writes_the_clean_generator_tables(tmp_path: Path) -> None:
    done = _synth(tmp_path, "--sources", "0")
    assert done.returncode == 0, done.stderr
    clean = generate_catalog(n_tracks=400, seed=5)
    for name in ("tracks", "artists", "engagement", "truth_tracks", "truth_artists"):
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(getattr(clean, name)), name
    assert not (tmp_path / "truth_habits.parquet").exists()


def test_cli_writes_tracks_as_csv_with_a_header_and_text_cells(tmp_path: Path) -> None:
    done = _synth(tmp_path, "--sources", "3", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "tracks.parquet").exists() and (tmp_path / "truth_habits.parquet").is_file()
    header = (tmp_path / "tracks.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.replace('"', "").split(",") == MESSY_TRACK_SCHEMA.names
    text = pa_csv.read_csv(tmp_path / "tracks.csv", convert_options=pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in MESSY_TRACK_SCHEMA.names}, null_values=[""],
        strings_can_be_null=True))  # pyarrow's default null values would read the placeholders "N/A", "NULL" as null
    parquet_dir = tmp_path / "parquet"
    assert _synth(parquet_dir, "--sources", "3").returncode == 0
    expected = pq.read_table(parquet_dir / "tracks.parquet")
    assert text["track_id"].equals(expected["track_id"]) and text["duration_ms"].equals(expected["duration_ms"])
    joined = [None if ids is None else ";".join(ids) for ids in expected["artist_ids"].to_pylist()]
    assert text["artist_ids"].to_pylist() == joined


def test_tokenization_variants_keep_numbers_whole() -> None:
    text = "Harbour Lights (feat. Ola) Pop, Music $ 1.29 3:55 Vol. 2 & Co"
    rnd = random.Random(0)
    assert tokenize(rnd, text, "spaced") == "Harbour Lights ( feat . Ola ) Pop , Music $ 1.29 3:55 Vol . 2 & Co"
    assert tokenize(rnd, text, "stripped") == "Harbour Lights feat Ola Pop Music $ 1.29 3:55 Vol 2 Co"
    expanded = tokenize(rnd, text, "spaced_words")
    assert "$ 1.29 3:55" in expanded and "( " in expanded and " )" in expanded
    with pytest.raises(ValueError, match="'squashed'"):
        tokenize(rnd, text, "squashed")
