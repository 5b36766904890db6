"""Repair, then compare: each repair kind on the habits it undoes and on the look-alikes it must leave alone."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from catalog_er.resolver.normalize import qualifier_kind
from catalog_er.resolver.records import TRACK_SCHEMA
from catalog_er.resolver.repair import REPAIR_KINDS, RepairContext, RepairedTracks, repair_tracks
from catalog_er.resolver.repair_context import album_key_column, name_key_column
from catalog_er.resolver.repair_fields import parse_duration_text, parse_release_date
from catalog_er.resolver.repair_scraped import find_fields
from catalog_er.resolver.repair_titles import album_key, name_key, numbered_title

FIELDS = ("title", "artist", "album", "duration_ms", "release_date", "label", "isrc")


def tracks(*rows: dict) -> pa.Table:
    """A TRACK_SCHEMA table of ``rows`` (ids filled in; absent columns null)."""
    return pa.Table.from_pylist([{"track_id": f"t{i}", **row} for i, row in enumerate(rows)], schema=TRACK_SCHEMA)


def catalog(*rows: dict, source: str = "shop") -> list[dict]:
    """Clean rows of the catalog around a test: the names it knows (Nina Vale's album "Northern Tides", 311's
    "Transistor", A1's "Here We Come"), in ``source``."""
    known = [
        {"title": "Harbour Lights", "artist": "Nina Vale", "album": "Northern Tides"},
        {"title": "Quiet Water", "artist": "Nina Vale", "album": "Northern Tides"},
        {"title": "Amber", "artist": "311", "album": "Transistor"},
        {"title": "Caught in the Middle", "artist": "A1", "album": "Here We Come"},
        {"title": "Paper Moon", "artist": "The Lanterns", "album": "Paper Moon"},
    ]
    return [{"duration_ms": 240_000, "release_date": "2008-03-17", "source": source, **row} for row in [*known, *rows]]


def repaired(rows: list[dict]) -> tuple[list[dict], list[set[str]], RepairedTracks]:
    """Learn from ``rows``, repair them; the repaired rows and each row's repair kinds."""
    table = tracks(*rows)
    result = repair_tracks(table, RepairContext.learn(table))
    kinds = [{kind for k, kind in enumerate(REPAIR_KINDS) if int(bits) >> k & 1} for bits in result.kinds]
    return result.tracks.to_pylist(), kinds, result


def last(rows: list[dict]) -> tuple[dict, set[str]]:
    """The repaired last row of ``rows`` and its repair kinds."""
    out, kinds, _ = repaired(rows)
    return out[-1], kinds[-1]


# --- placeholders -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value"), [
    ("artist", "[unknown]"), ("artist", "unk."), ("artist", "N/A"), ("artist", "n/a"), ("artist", "-"),
    ("artist", "?"), ("artist", "Unknown Artist"), ("artist", "unknown"), ("artist", "null"), ("artist", "None"),
    ("artist", "Various Artists"), ("artist", " VA "), ("album", "[non-album tracks]"), ("album", "Unknown Album"),
    ("album", "(unknown)"), ("label", "Not On Label"), ("label", "[no label]"), ("isrc", "N/A"),
    ("release_date", "0000-00-00"), ("release_date", "?"),
])
def test_placeholders_become_null(column: str, value: str) -> None:
    row, kinds = last(catalog({"title": "Open Road", "artist": "Nina Vale", column: value}))
    assert row[column] is None
    assert kinds == {"placeholder"}


@pytest.mark.parametrize(("column", "value"), [
    ("album", "Unknown Pleasures"), ("title", "N/A Blues"), ("title", "None of Your Business"),
    ("artist", "Nullarbor"), ("artist", "?uestlove"), ("artist", "Jay-Z"), ("album", "Various Artists"),
    ("title", "Unknown Soldier"), ("label", "Unknown Label Records"), ("artist", "!!!"),
])
def test_values_that_merely_contain_a_placeholder_word_stay(column: str, value: str) -> None:
    row, kinds = last(catalog({"title": "Open Road", "artist": "Nina Vale", column: value}))
    assert row[column] == value
    assert "placeholder" not in kinds


def test_a_placeholder_title_becomes_empty_because_the_title_is_required() -> None:
    row, kinds = last(catalog({"title": "N/A", "artist": "Nina Vale"}))
    assert row["title"] == ""
    assert kinds == {"placeholder"}


# --- track numbers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("title", ["007-Harbour Lights", "03. Harbour Lights", "Track 3 - Harbour Lights",
                                   "(03) Harbour Lights", "track 03: Harbour Lights", "[07] Harbour Lights"])
def test_track_numbers_that_prove_themselves_are_stripped(title: str) -> None:
    row, kinds = last(catalog({"title": title, "artist": "Nina Vale"}))
    assert row["title"] == "Harbour Lights"
    assert kinds == {"track_number"}


@pytest.mark.parametrize("title", ["Track 3", "99 Luftballons", "1979", "7 Seconds", "2 + 2 = 5", "3-2-1",
                                   "24K Magic", "4-Ever", "3 - Harbour Lights", "B2. Harbour Lights", "1. Mai",
                                   "Track 3 - Live", "19-2000", "03 Bonnie & Clyde"])
def test_numbers_that_belong_to_the_title_stay(title: str) -> None:
    row, kinds = last(catalog({"title": title, "artist": "Nina Vale"}))
    assert row["title"] == title
    assert "track_number" not in kinds


def test_weak_numbers_are_stripped_only_in_a_source_that_numbers_its_titles() -> None:
    numbered = [{"title": f"{k} - Song {chr(65 + k)}", "artist": "Nina Vale", "source": "ripper"} for k in range(1, 8)]
    rows = catalog(*numbered, {"title": "B2. Harbour Lights", "artist": "Nina Vale", "source": "ripper"},
                   {"title": "3 - Harbour Lights", "artist": "Nina Vale", "source": "shop"})
    out, kinds, _ = repaired(rows)
    assert out[5]["title"] == "Song B" and "track_number" in kinds[5]
    assert out[-2]["title"] == "Harbour Lights"  # the ripper numbers its titles
    assert out[-1]["title"] == "3 - Harbour Lights"  # the shop does not


def test_an_artist_named_like_a_number_is_not_a_track_number() -> None:
    row, kinds = last(catalog({"title": "311 - Amber", "artist": "311"}))
    assert row["title"] == "Amber" and row["artist"] == "311"
    assert kinds == {"artist_from_title"}
    numbered = [{"title": f"0{k}. Song {k}", "artist": "Nina Vale", "source": "ripper"} for k in range(1, 8)]
    row, kinds = last(catalog(*numbered, {"title": "A1 - Caught in the Middle", "artist": None, "source": "ripper"}))
    assert row["title"] == "Caught in the Middle" and row["artist"] == "A1"
    assert "track_number" not in kinds


def test_numbered_title_shapes() -> None:
    assert numbered_title("007-Title").strong and numbered_title("Track 3 - Title").strong
    assert not numbered_title("3. Title").strong and not numbered_title("03 Title").strong
    assert numbered_title("7 Seconds") is None and numbered_title("3-2-1") is None


# --- artist in the title ----------------------------------------------------------------------------------

@pytest.mark.parametrize("artist", [None, "[unknown]", "Unknown Artist", "Various Artists"])
def test_a_known_artist_is_taken_out_of_the_title_when_the_column_is_empty(artist: str | None) -> None:
    row, kinds = last(catalog({"title": "Nina Vale - Open Road", "artist": artist}))
    assert (row["title"], row["artist"]) == ("Open Road", "Nina Vale")
    assert "artist_from_title" in kinds


@pytest.mark.parametrize(("title", "artist"), [
    ("Nina Vale - Open Road", "Nina Vale"), ("NINA VALE - Open Road", "Nina Vale feat. Ola"),
    ("Nina Vael - Open Road", "Nina Vale"), ("The Lanterns - Open Road", "Lanterns, The"),
])
def test_a_prefix_naming_the_credited_artist_is_stripped(title: str, artist: str) -> None:
    row, kinds = last(catalog({"title": title, "artist": artist}))
    assert (row["title"], row["artist"]) == ("Open Road", artist)
    assert kinds == {"artist_from_title"}


@pytest.mark.parametrize(("title", "artist", "album"), [
    ("Bohemian Rhapsody - Remastered 2011", None, None),
    ("Ain't No Sunshine - Live", None, None),
    ("Nina Vale - Live at the Apollo", None, None),  # a song named like the artist, live
    ("Open Road - Northern Tides", "Nina Vale", "Northern Tides Sessions"),
    ("Paper Moon - Northern Tides", None, "Northern Tides"),  # an artist called Paper Moon, or the album?
    ("Stranger Things - Part 2", None, None),  # nobody called Stranger Things
    ("Nina Vale - Open Road", "Ola", None),  # credited to someone else
])
def test_titles_that_really_contain_a_dash_keep_it(title: str, artist: str | None, album: str | None) -> None:
    rows = catalog({"title": "Song", "artist": "Paper Moon"}, {"title": title, "artist": artist, "album": album})
    row, kinds = last(rows)
    assert row["artist"] == artist and "artist_from_title" not in kinds
    assert row["title"] == (title.split(" - ")[0] if album and title.endswith(album) else title)  # album suffix


def test_a_source_that_writes_artists_into_titles_gives_up_unknown_artists_too() -> None:
    habit = [{"title": f"Singer {k} - Song {k}", "artist": None, "source": "feed"} for k in range(6)]
    out, kinds, _ = repaired(catalog(*habit, {"title": "Stranger Things - Part 2", "artist": None, "source": "shop"}))
    assert (out[5]["artist"], out[5]["title"]) == ("Singer 0", "Song 0") and "artist_from_title" in kinds[5]
    assert out[-1]["title"] == "Stranger Things - Part 2"  # the shop has no such habit


# --- album in the title -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "album"), [
    ("Open Road (Northern Tides)", "Northern Tides"), ("Open Road - Northern Tides", "Northern Tides"),
    ("Open Road [Northern Tides]", "Northern Tides"),
    ("Open Road (Northern Tides) [Deluxe]", "Northern Tides (Deluxe Edition)"),
    ("Open Road (Northern Tides Deluxe Edition)", "Northern Tides"),
    ("Open Road (feat. Ola) (Northern Tides)", "Northern Tides"),
    ("Open Road ( DJ Ola Mix ) (Northern Tides) [Deluxe]", "Northern Tides"),  # after a version tag
])
def test_a_suffix_naming_the_records_album_is_stripped(title: str, album: str) -> None:
    row, kinds = last(catalog({"title": title, "artist": "Nina Vale", "album": album}))
    kept = {"feat": "Open Road (feat. Ola)", "Mix": "Open Road ( DJ Ola Mix )"}
    assert row["title"] == next((value for word, value in kept.items() if word in title), "Open Road")
    assert row["album"] == album
    assert kinds == {"album_from_title"}


def test_without_an_album_the_suffix_must_be_one_the_catalog_knows_for_the_artist() -> None:
    row, kinds = last(catalog({"title": "Open Road (Northern Tides)", "artist": "Nina Vale"}))
    assert (row["title"], row["album"]) == ("Open Road", "Northern Tides")
    assert kinds == {"album_from_title"}
    row, kinds = last(catalog({"title": "Open Road (Transistor)", "artist": "Nina Vale"}))  # 311's album
    assert (row["title"], row["album"]) == ("Open Road (Transistor)", None)
    assert kinds == set()


@pytest.mark.parametrize(("title", "album"), [
    ("Open Road (Live at Wembley)", "Live at Wembley"), ("Open Road - Acoustic", "Acoustic"),
    ("Open Road (Remix)", "Remix"), ("Open Road (feat. Ola)", "Ola"), ("Open Road (Interlude)", "Northern Tides"),
    ("(I Can't Get No) Satisfaction", "I Can't Get No"), ("Northern Tides", "Northern Tides"),
])
def test_version_tags_and_unrelated_brackets_stay(title: str, album: str) -> None:
    row, kinds = last(catalog({"title": title, "artist": "Nina Vale", "album": album}))
    assert row["title"] == title
    assert "album_from_title" not in kinds


# --- durations --------------------------------------------------------------------------------------------

def test_each_source_duration_unit_is_learned_and_converted() -> None:
    lengths = [200_500, 245_250, 180_000, 301_000, 222_000, 263_000]
    rows = [{"title": f"Song {k}", "duration_ms": ms // 1000, "source": "seconds"} for k, ms in enumerate(lengths)]
    rows += [{"title": f"Song {k}", "duration_ms": round(ms / 60), "source": "minutes"} for k, ms in enumerate(lengths)]
    rows += [{"title": f"Song {k}", "duration_ms": ms, "source": "ms"} for k, ms in enumerate(lengths)]
    rows += [{"title": "Intro", "duration_ms": 15_000, "source": "ms"},
             {"title": "Gap", "duration_ms": 0, "source": "ms"}]
    table = tracks(*rows)
    context = RepairContext.learn(table)
    units = {name: habits["duration_units"] for name, habits in context.describe()["sources"].items()}
    assert units == {"seconds": ["seconds"], "minutes": ["minutes_x1000"], "ms": ["ms"]}
    result = repair_tracks(table, context)
    got = result.tracks["duration_ms"].to_pylist()
    assert got[:6] == [ms // 1000 * 1000 for ms in lengths]
    assert all(abs(value - ms) < 60 for value, ms in zip(got[6:12], lengths, strict=True))
    assert got[12:18] == lengths
    assert got[18:] == [15_000, None]  # an intro in ms stays; zero means unknown
    assert result.counts()["duration_unit"] == 13


def test_without_evidence_only_values_that_are_no_length_in_ms_change() -> None:
    rows = [{"title": f"Song {k}", "duration_ms": 240_000} for k in range(20)]
    rows += [{"title": "Seconds", "duration_ms": 245}, {"title": "Skit", "duration_ms": 4_085},
             {"title": "Garbage", "duration_ms": 7}]
    out, kinds, _ = repaired(rows)
    assert [row["duration_ms"] for row in out[-3:]] == [245_000, 4_085, None]
    assert [("duration_unit" in k) for k in kinds[-3:]] == [True, False, True]


def test_duration_text() -> None:
    assert parse_duration_text("4:05") == 245_000
    assert parse_duration_text("1:02:03") == 3_723_000
    assert parse_duration_text("4m 5sec") == parse_duration_text("4 min 5 s") == 245_000
    assert parse_duration_text("PT4M5S") == 245_000
    assert parse_duration_text("245") is None and parse_duration_text("soon") is None


# --- release dates ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "date"), [
    ("1996", "1996"), ("96", "1996"), ("'96", "1996"), ("08", "2008"), ("1996-03-17", "1996-03-17"),
    ("March 17 , 1996", "1996-03-17"), ("Mar 17, 1996", "1996-03-17"), ("17-Mar-96", "1996-03-17"),
    ("17 March 1996", "1996-03-17"), ("03/17/1996", "1996-03-17"), ("17.03.1996", "1996-03-17"),
    ("1996/03", "1996-03"), ("19960317", "1996-03-17"), ("1996-3-7", "1996-03-07"), ("March 1996", "1996-03"),
    ("℗ 1996 Northern Records", "1996"), ("1996-03-17T00:00:00Z", "1996-03-17"), ("03/04/1996", "1996"),
    ("1996-00-00", "1996"),
])
def test_release_dates_are_normalized(raw: str, date: str) -> None:
    assert parse_release_date(raw) == date


@pytest.mark.parametrize("raw", ["soon", "Q3", "1996-02-30", "13/13/1996", "17-Marz-96", "12345", "Spring '96 tour 2"])
def test_unparseable_dates_stay_as_they_are(raw: str) -> None:
    assert parse_release_date(raw) is None
    row, kinds = last(catalog({"title": "Open Road", "release_date": raw}))
    assert row["release_date"] == raw and "release_date" not in kinds


def test_a_source_whose_dates_show_their_order_resolves_ambiguous_ones() -> None:
    european = [{"title": f"Song {k}", "release_date": f"{13 + k}/03/1996", "source": "eu"} for k in range(3)]
    rows = [*european, {"title": "Open Road", "release_date": "03/04/1996", "source": "eu"},
            {"title": "Open Road", "release_date": "03/04/1996", "source": "us"}]
    out, kinds, _ = repaired(rows)
    assert [row["release_date"] for row in out] == ["1996-03-13", "1996-03-14", "1996-03-15", "1996-04-03", "1996"]
    assert all(k == {"release_date"} for k in kinds)


# --- scraped records --------------------------------------------------------------------------------------

SCRAPED = "Harbour Lights ( feat . Ola ) Nina Vale Northern Tides Pop , Music $ 1.29 3:55 17-Mar-08"


def test_a_scraped_title_gives_back_its_fields() -> None:
    row, kinds = last(catalog({"title": SCRAPED, "artist": None, "album": None, "duration_ms": None,
                               "release_date": None}))
    assert (row["title"], row["artist"], row["album"]) == ("Harbour Lights ( feat . Ola )", "Nina Vale",
                                                           "Northern Tides")
    assert (row["duration_ms"], row["release_date"]) == (235_000, "2008-03-17")
    assert kinds == {"scraped_fields", "release_date"}


def test_a_scraped_title_keeps_present_values_and_completes_fragments() -> None:
    row, _ = last(catalog({"title": SCRAPED, "artist": "Nina", "album": "Northern Tides (Deluxe)",
                           "duration_ms": 236_000, "release_date": "2008"}))
    assert (row["artist"], row["album"]) == ("Nina Vale", "Northern Tides (Deluxe)")
    assert (row["duration_ms"], row["release_date"]) == (236_000, "2008")


def test_joined_names_make_one_credit() -> None:
    title = "Open Road Nina Vale & The Lanterns Northern Tides Pop , Rock $ 0.99 3:05"
    row, _ = last(catalog({"title": title, "artist": None, "album": None}))
    assert (row["title"], row["artist"], row["album"]) == ("Open Road", "Nina Vale & The Lanterns", "Northern Tides")


@pytest.mark.parametrize("title", ["$ave Dat Money", "3:16 am", "Pop Music", "Love, Pop Music", "Rock, Paper, Scissors",
                                   "Summer of '69 (3:35)", "$1 Bill 1999"])
def test_real_titles_with_one_field_are_not_scraped(title: str) -> None:
    row, kinds = last(catalog({"title": title, "artist": "Nina Vale"}))
    assert row["title"] == title
    assert "scraped_fields" not in kinds


def test_a_name_in_brackets_is_no_artist_of_a_scraped_title() -> None:
    row, kinds = last(catalog({"title": "x", "artist": "Ola"},
                              {"title": "Harbour Lights (with Ola) Nina Vale Northern Tides $ 1.29 3:55"}))
    assert (row["title"], row["artist"], row["album"]) == ("Harbour Lights (with Ola)", "Nina Vale", "Northern Tides")
    assert kinds == {"scraped_fields"}


def artists_known(*rows: tuple[str, str, str]) -> list[dict]:
    """Clean rows crediting ``(title, artist, album)``: names the catalog then knows."""
    return [{"title": title, "artist": artist, "album": album} for title, artist, album in rows]


def test_a_page_listing_the_artist_after_its_fields_keeps_the_whole_title() -> None:
    # "Train" is an act the catalog knows, and ends the title's words: the artist listed after the fields wins
    known = artists_known(("Drops of Jupiter", "Train", "Drops of Jupiter"),
                          ("Pale Sky", "Bropo Paigoly", "Greatest Hits"))
    title = "Hey Train 3:04 1986-06-13 Greatest Hits USD 0.69 Indie Rock Bropo Paigoly"
    row, kinds = last(catalog(*known, {"title": title}))
    assert (row["title"], row["artist"], row["album"]) == ("Hey Train", "Bropo Paigoly", "Greatest Hits")
    assert "scraped_fields" in kinds


def test_a_page_that_starts_with_a_field_takes_its_title_after_it() -> None:
    known = artists_known(("Pale Sky", "Lil Goumyter", "Pale Sky"))
    title = "4:38 All the Bright Strangers 2023-07-28 The Very Best of Lil Goumyter USD 0.89 Indie Pop Lil Goumyter"
    row, _ = last(catalog(*known, {"title": title, "duration_ms": None}))
    assert (row["title"], row["artist"], row["duration_ms"]) == ("All the Bright Strangers", "Lil Goumyter", 278_000)


@pytest.mark.parametrize("genres", ["Funk; Jazz", "Pop / Rock", "Pop , Music"])
def test_genre_lists_with_any_separator_are_fields(genres: str) -> None:
    row, _ = last(catalog({"title": f"Open Road Nina Vale Northern Tides {genres} 3:05 $ 0.99"}))
    assert (row["title"], row["artist"], row["album"]) == ("Open Road", "Nina Vale", "Northern Tides")


def test_an_album_and_a_lone_genre_before_the_artist_leave_the_title() -> None:
    known = artists_known(("Тишина", "Сярехе", "Твой тишина"))
    row, _ = last(catalog(*known, {"title": "Яркий белый мечта край Твой тишина Ambient Сярехе 28-Mar-03 0,69 € 1:57"}))
    assert (row["title"], row["artist"], row["album"]) == ("Яркий белый мечта край", "Сярехе", "Твой тишина")


def test_the_end_of_a_genre_is_no_artist_even_when_an_act_has_its_name() -> None:
    # "Bass" is an act the catalog knows and a known album follows it, but it ends the genre "Drum And Bass"
    known = artists_known(("Low End", "Bass", "Low End"), ("Move Me", "Leo Johnson", "Move Me"))
    row, _ = last(catalog(*known, {"title": "Perdón Sabor Estrella Sol Drum And Bass Move Me 25-Apr-25 0,79 € 4:26"}))
    assert row["artist"] != "Bass"


def test_a_free_price_is_no_artist_even_when_an_act_has_its_name() -> None:
    row, _ = last(catalog(*artists_known(("All Right Now", "Free", "Fire and Water")),
                          {"title": "Open Road Nina Vale 2008-03-17 Free 3:05"}))
    assert (row["title"], row["artist"]) == ("Open Road", "Nina Vale")


def test_a_genre_after_the_fields_is_no_artist_even_when_an_act_has_its_name() -> None:
    # an act called "Pop" is known; "Pop" after the fields is the store's genre, and the title's own artist stays
    row, _ = last(catalog(*artists_known(("Bubble", "Pop", "Bubble")),
                          {"title": "Harbour Lights Nina Vale 3:55 $ 1.29 Pop"}))
    assert (row["title"], row["artist"]) == ("Harbour Lights", "Nina Vale")


@pytest.mark.parametrize(("title", "expected"), [
    ("Nina Vale  Open Road  Northern Tides  June 9 , 2019  Latin  $ 0.79  3:09",
     ("Open Road", "Nina Vale", "Northern Tides")),
    ("Open Road | Northern Tides | Nina Vale | Pop | $ 0.79 | 3:09", ("Open Road", "Nina Vale", "Northern Tides")),
    ("Open Road , Nina Vale , 12-Feb-25 , Northern Tides , Blues , 1:36 , $0.79",
     ("Open Road", "Nina Vale", "Northern Tides")),
    # spaced punctuation inside the title is no separator: the page's is read where its fields stand
    ("Oh , Valley ! Nina Vale Northern Tides Pop , Music $ 1.29 3:55",
     ("Oh , Valley !", "Nina Vale", "Northern Tides")),
    # a single named like its song: the album the catalog knows does not push the title to another part
    ("Paper Moon  The Lanterns  Paper Moon  1999-01-01  $ 0.99", ("Paper Moon", "The Lanterns", "Paper Moon")),
    # an artist the catalog does not know, named by the artist column's fragment
    ("Galaxy  Kevin Geismsta  Greatest Hits  Hip Hop  $ 0.79  4:16", ("Galaxy", "Kevin Geismsta", None)),
])
def test_a_page_that_sets_its_parts_apart_is_split_into_whole_parts(title: str, expected: tuple) -> None:
    artist = "Kevin" if "Kevin" in title else None
    row, kinds = last(catalog({"title": title, "artist": artist}))
    assert (row["title"], row["artist"], row["album"]) == expected
    assert "scraped_fields" in kinds


def test_field_spans_are_byte_offsets_of_the_first_of_each_field() -> None:
    spans = find_fields(pa.array(["Café Nina Vale $ 1.29 3:55 17-Mar-08", "3:16 am", None]))
    assert spans.row(0) == {"price": (16, None), "length": (23, "3:55"), "date": (28, "17-Mar-08")}  # é: 2 bytes
    assert spans.row(1) == {"length": (0, "3:16")} and spans.row(2) == {}
    assert spans.kinds().tolist() == [3, 1, 0]
    assert [segment.strip() for segment in spans.segments[0]] == ["Café Nina Vale", "", "", ""]


# --- the whole table --------------------------------------------------------------------------------------

def messy_rows() -> list[dict]:
    return catalog(
        {"title": "Nina Vale - Open Road", "artist": "[unknown]", "album": "N/A", "duration_ms": 245,
         "release_date": "'96"},
        {"title": "03. Open Road (Northern Tides)", "artist": "Nina Vale", "album": "Northern Tides",
         "duration_ms": 0, "release_date": "March 17 , 1996"},
        {"title": SCRAPED, "artist": None, "album": None, "duration_ms": None, "release_date": None},
    )


def test_originals_are_untouched_and_the_schema_kept() -> None:
    table = tracks(*messy_rows())
    before = table.to_pylist()
    result = repair_tracks(table, RepairContext.learn(table))
    assert table.to_pylist() == before
    assert result.tracks.schema == TRACK_SCHEMA
    assert result.tracks["track_id"].to_pylist() == table["track_id"].to_pylist()
    assert result.kinds.dtype == np.uint16 and len(result.kinds) == table.num_rows


def test_counts_are_rows_changed_per_kind() -> None:
    out, kinds, result = repaired(messy_rows())
    assert result.counts() == {kind: sum(kind in k for k in kinds) for kind in REPAIR_KINDS}
    assert result.counts() == {"placeholder": 1, "track_number": 1, "artist_from_title": 1, "album_from_title": 1,
                               "duration_unit": 2, "release_date": 3, "scraped_fields": 1}
    assert [row["title"] for row in out[-3:]] == ["Open Road", "Open Road", "Harbour Lights ( feat . Ola )"]


def test_repairs_are_deterministic() -> None:
    table = tracks(*messy_rows())
    first, second = RepairContext.learn(table), RepairContext.learn(table)
    assert first == second and first.describe() == second.describe()
    one, two = repair_tracks(table, first), repair_tracks(table, second)
    assert one.tracks.equals(two.tracks) and np.array_equal(one.kinds, two.kinds)


def test_a_context_learned_once_repairs_single_tracks_later() -> None:
    context = RepairContext.learn(tracks(*catalog()))
    single = tracks({"title": "Nina Vale - Open Road (Northern Tides)", "source": "shop", "duration_ms": 245},
                    {"title": "Nina Vale - Open Road", "source": "never seen"})
    out = repair_tracks(single, context).tracks.to_pylist()
    assert (out[0]["title"], out[0]["artist"], out[0]["album"]) == ("Open Road", "Nina Vale", "Northern Tides")
    assert out[0]["duration_ms"] == 245_000
    assert (out[1]["title"], out[1]["artist"]) == ("Open Road", "Nina Vale")


def test_context_learns_each_sources_habits() -> None:
    rows = catalog(*[{"title": f"0{k}. Song {k}", "artist": "Nina Vale", "duration_ms": 240, "source": "ripper",
                      "release_date": "17/03/1996"} for k in range(1, 6)])
    sources = RepairContext.learn(tracks(*rows)).describe()["sources"]
    assert set(sources) == {"shop", "ripper"}
    assert sources["ripper"]["numbers_titles"] and not sources["shop"]["numbers_titles"]
    assert sources["ripper"]["numbered_title_share"] == 1.0
    assert sources["ripper"]["duration_units"] == ["seconds"] and sources["shop"]["duration_units"] == ["ms"]
    assert sources["ripper"]["numeric_date_order"] == "day_first"
    assert sources["shop"]["rows"] == 5 and sources["ripper"]["rows"] == 5


def test_a_clean_synthetic_catalog_needs_no_repair(small_catalog) -> None:
    result = repair_tracks(small_catalog.tracks, RepairContext.learn(small_catalog.tracks))
    assert result.counts() == dict.fromkeys(REPAIR_KINDS, 0)
    assert result.tracks.equals(small_catalog.tracks)


def test_empty_tables_and_missing_columns() -> None:
    empty = tracks()
    result = repair_tracks(empty, RepairContext.learn(empty))
    assert result.tracks.num_rows == 0 and result.counts() == dict.fromkeys(REPAIR_KINDS, 0)
    with pytest.raises(ValueError, match="source"):
        RepairContext.learn(empty.drop_columns(["source"]))


def test_hostile_titles_are_read_only_so_far() -> None:
    title = "03. " + "Nina Vale - " * 20_000 + "(" * 10_000 + " $ 1.29 3:55"
    out, _, _ = repaired(catalog({"title": title, "artist": None}))
    assert out[-1]["title"].endswith(" $ 1.29 3:55")


# --- keys -------------------------------------------------------------------------------------------------

NAMES = ["Nina Vale", "Beyoncé", "Sigur Rós", "AC/DC", "Guns N' Roses", "Simon & Garfunkel", "Николай Орлин",
         "坂本春介", "ゼツーデカキ・レレ", "ｆｕｌｌ　ｗｉｄｔｈ", "류태태", "  spaced   out  ", "Mötley Crüe", "",
         "Œuvre"]


def test_column_keys_equal_the_keys_of_single_values() -> None:
    assert name_key_column(pa.array([*NAMES, None])).to_pylist() == [*map(name_key, NAMES), None]
    albums = ["Northern Tides (Deluxe Edition)", "Northern Tides [Remastered 2011]", "Tides - Single",
              "Песни (Expanded Edition)", "1989"]
    assert album_key_column(pa.array(albums)).to_pylist() == [album_key(a) for a in albums]
    assert album_key("Northern Tides (Deluxe Edition)") == album_key("Northern Tides") == "northern tides"


def test_qualifier_kind() -> None:
    assert qualifier_kind("Live at Wembley") == "live" and qualifier_kind("Remastered 2011") == ""
    assert qualifier_kind("feat. Ola") == "featuring" and qualifier_kind("Northern Tides") is None
