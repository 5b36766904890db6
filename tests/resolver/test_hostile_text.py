"""Hostile text on the record path: every text routine and stage does linear work, the scanners that replaced
backtracking patterns find exactly what those patterns found, and a value of a million characters breaks nothing.

Growth is measured on runs of brackets, dashes, spaces, digits, combining marks and characters that normalize into
many (:mod:`tests.linear_time`), from the size of the longest field (``resolver.limits``) to 16 times it."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest

from catalog_er.resolver import normalize, repair_titles
from catalog_er.resolver.artists.features import artist_name_key, extract_artist_features, native_name_key
from catalog_er.resolver.blocking import candidate_pairs
from catalog_er.resolver.compare import compare_pairs
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.features import _parse_unclosed_title, extract_track_features
from catalog_er.resolver.limits import MAX_COMPARED_CHARS, MAX_FIELD_CHARS, MAX_NAME_CHARS
from catalog_er.resolver.pipeline import resolve_catalog
from catalog_er.resolver.propose import canonical_order
from catalog_er.resolver.record_text import TokenStatistics, tokenize
from catalog_er.resolver.records import ARTIST_SCHEMA, ENGAGEMENT_SCHEMA, TRACK_SCHEMA
from catalog_er.resolver.repair import RepairContext, repair_tracks
from catalog_er.resolver.repair_context import album_key_column, name_key_column
from catalog_er.resolver.repair_fields import parse_release_date
from catalog_er.resolver.synthetic import generate_catalog
from tests.linear_time import assert_linear

LENGTH = MAX_NAME_CHARS
"""Characters of the shorter hostile texts: the limit of a title or a name (a value that validation lets through)."""


def _uncached(function: Callable) -> Callable:
    return getattr(function, "__wrapped__", function)


def _yes(*_: object) -> bool:
    return True


def _repaired_scraped(text: str) -> object:
    """The title repairs of a store page (price, length, date: the scraped-record parser) followed by ``text``."""
    page = "Harbour Lights Nina Vale $ 1.29 3:55 17-Mar-08 "
    tracks = pa.Table.from_pylist([{"track_id": "t1", "title": page + text},
                                   {"track_id": "t2", "title": "Harbour Lights", "artist": "Nina Vale"}],
                                  schema=TRACK_SCHEMA)
    return repair_tracks(tracks, RepairContext.learn(tracks))


ROUTINES: dict[str, Callable[[str], object]] = {
    "fold": normalize.fold,
    "fold_column": lambda text: normalize.fold_column(pa.array([text, "plain"])),
    "parse_unclosed_title": lambda text: (normalize.parse_title.cache_clear(), _parse_unclosed_title(text)),
    "qualifier_kind": _uncached(normalize.qualifier_kind),
    "parse_artist_credit": _uncached(normalize.parse_artist_credit),
    "split_credit": normalize.split_credit,
    "normalize_isrc": normalize.normalize_isrc,
    "name_key": _uncached(repair_titles.name_key),
    "album_key": lambda text: (repair_titles.name_key.cache_clear(), _uncached(repair_titles.album_key)(text)),
    "name_key_column": lambda text: name_key_column(pa.array([text])),
    "album_key_column": lambda text: album_key_column(pa.array([text])),
    "head": repair_titles._head,
    "qualifier_groups": repair_titles._qualifier_groups,
    "bracketed_groups": normalize._bracketed_groups,
    "strip_track_number": lambda text: repair_titles.strip_track_number(
        text, source_numbers_titles=True, credited="", is_known_artist=lambda key: False),
    "split_artist_prefix": lambda text: repair_titles.split_artist_prefix(
        text, credited="", credited_names=(), album="", is_known_artist=_yes, source_puts_artists_in_titles=True),
    "strip_album_suffix": lambda text: repair_titles.strip_album_suffix(text, album="", is_known_album=_yes),
    "parse_release_date": parse_release_date,
    "repair_scraped_title": lambda text: _repaired_scraped(text),
    "tokenize": lambda text: tokenize(np.array([text, "plain words"], dtype=object)),
    "artist_name_key": artist_name_key,
    "native_name_key": native_name_key,
}
"""Every text routine of the record path, on one hostile value (caches bypassed: each call does the work)."""


@pytest.mark.parametrize("name", list(ROUTINES))
def test_text_routines_do_linear_work_on_hostile_text(name: str) -> None:
    assert_linear(ROUTINES[name], length=LENGTH)


TEXT_FIELDS = ("title", "artist", "album", "label", "isrc", "release_date", "source", "track_id")
STAGE_UNITS = ("opening brackets", "space, bracket", "spaced hyphens", "spaces", "ligature U+FDFA",
               "edition words in brackets")
"""The hostile runs the whole-stage check feeds (every routine meets all of them in the check above)."""


def _tracks(fields: tuple[str, ...], value: str) -> pa.Table:
    """Three plain tracks and two holding ``value`` in each of ``fields`` (one slightly changed), with the other
    fields of a plain one: the hostile pair is blocked and compared like any other."""
    plain = {"title": "Harbour Lights (Live)", "artist": "Nina Vale", "artist_ids": ["a1"], "album": "Northern Tides",
             "duration_ms": 215_000, "isrc": "USRC17607839", "release_date": "2011-03-04", "label": "Blue Note",
             "source": "shop"}
    rows = [{**plain, "track_id": "t1"}, {**plain, "track_id": "t2", "artist": None, "release_date": "2011"},
            {**plain, "track_id": "t3", "title": "Quiet Water - Remastered 2011", "isrc": None}]
    rows += [{**plain, "track_id": f"h{k}", **{field: value + "x" * k for field in fields}} for k in range(2)]
    return pa.Table.from_pylist(rows, schema=TRACK_SCHEMA)


def _track_stages(value: str) -> None:
    """Repair, normalize, block and compare every pair of a small catalog whose two hostile tracks hold ``value`` in
    every text field."""
    for cached in (normalize.parse_title, normalize.qualifier_kind, normalize.parse_artist_credit,
                   repair_titles.name_key, repair_titles.album_key, repair_titles.credit_names):
        cached.cache_clear()
    tracks = _tracks(TEXT_FIELDS, value)
    features = extract_track_features(tracks, context=RepairContext.learn(tracks))
    statistics = TokenStatistics.learn(tokenize(features.record_text))
    candidates = candidate_pairs(features, config=ResolverConfig().blocking, statistics=statistics)
    left, right = (side.astype(np.int64) for side in np.triu_indices(len(features), 1))
    compare_pairs(features, left, right, statistics=statistics)
    assert len(candidates) >= 1


def test_track_stages_do_linear_work_on_hostile_fields() -> None:
    assert_linear(_track_stages, length=LENGTH, units=STAGE_UNITS)


def test_artist_features_do_linear_work_on_a_hostile_name() -> None:
    def run(name: str) -> None:
        extract_artist_features(pa.Table.from_pylist(
            [{"artist_id": "a1", "name": "Nina Vale", "genres": [name[:50]]}, {"artist_id": "a2", "name": name}],
            schema=ARTIST_SCHEMA))

    assert_linear(run, length=LENGTH)


def test_features_compare_at_most_the_compared_length() -> None:
    tracks = _tracks(("title",), "\ufdfa" * 2_000)  # folds to 36,000 letters
    features = extract_track_features(tracks)
    for column in ("title_core", "artist_names", "album_core", "record_text"):
        assert max(len(value) for value in getattr(features, column)) <= MAX_COMPARED_CHARS
    assert len(features.title_core[3]) == MAX_COMPARED_CHARS
    assert features.title_core[0] == "harbour lights"


# --- the scanners find what the patterns they replace found ---------------------------------------------------

PIECE = re.compile(r"\s*[(\[{]([^)\]}]*)[)\]}]|\s+[-–—]\s+")
BRACKETED = re.compile(r"[(\[{（【]([^)\]}）】]*)[)\]}）】]")
QUALIFIER_START = re.compile(r"\s*[(\[{（【]|\s[-–—]\s")
"""The backtracking patterns the title scanners replaced (each quadratic on a long run of brackets or spaces)."""
EDITION_GROUP, EDITION_TAIL = re.compile(repair_titles.EDITION_GROUP), re.compile(repair_titles.EDITION_TAIL)

ALPHABET = [*"ab ()[]{}（【）】-–—\t\n", "deluxe", "Live", " - ", "feat ", "2011", "bonus", " tracks", "edition"]


def _random_texts(count: int, *, seed: int) -> list[str]:
    generator = random.Random(seed)
    return ["".join(generator.choice(ALPHABET) for _ in range(generator.randint(0, 14))) for _ in range(count)]


def test_title_scanners_find_what_the_patterns_found() -> None:
    for text in _random_texts(20_000, seed=13):
        assert list(repair_titles._pieces(text)) == [(m.start(), m.end(), m.group(1)) for m in PIECE.finditer(text)]
        assert normalize._bracketed_groups(text) == ([m.group(1) for m in BRACKETED.finditer(text)],
                                                     BRACKETED.sub(" ", text))
        start = QUALIFIER_START.search(text)
        assert repair_titles._head(text) == (text[: start.start()] if start else text), text


def test_album_keys_agree_with_the_edition_patterns_and_their_column_form() -> None:
    texts = [*_random_texts(5_000, seed=17), "Northern Tides (Deluxe Edition)", "Tides - Remastered 2011",
             "Album (Deluxe (Remastered))", "Deluxe", "x bonus tracks"]
    keys = album_key_column(pa.array(texts)).to_pylist()
    for text, column_key in zip(texts, keys, strict=True):
        expected = EDITION_TAIL.sub("", repair_titles.name_key(EDITION_GROUP.sub(" ", text))).strip()
        assert repair_titles.album_key(text) == expected == (column_key or ""), text
    assert repair_titles.album_key("Northern Tides (Deluxe Edition)") == "northern tides"


# --- a value of a million characters -------------------------------------------------------------------------

def test_canonical_order_of_a_million_character_value_allocates_no_fixed_width_strings() -> None:
    """A release date (or id) of 1M characters among 5,000 tracks once made numpy build 5,000 × 4 MB strings."""
    rows = 5_000
    tracks = pa.table({
        "track_id": pa.array([f"t{k:05d}" for k in range(rows - 1)] + ["z" * 1_000_000]),
        **{column: pa.nulls(rows, pa.string()) for column in ("artist", "album", "isrc", "label")},
        "duration_ms": pa.nulls(rows, pa.int64()),
        "release_date": pa.array(["x" * 1_000_000] + ["2001"] * (rows - 1)),
    })
    rank = canonical_order(tracks, np.zeros(rows, dtype=bool))
    assert rank[1] == 0 and rank[rows - 1] == rows - 2 and rank[0] == rows - 1  # by date ("2001" < "x…"), then id


def test_a_catalog_with_million_character_values_resolves() -> None:
    """Values no edge lets through (the cores never check them): a catalog holding them still resolves."""
    tracks = generate_catalog(n_tracks=300, seed=1).tracks.to_pylist()
    tracks[0]["release_date"] = "x" * 1_000_000
    tracks[1]["track_id"] = "t" * 1_000_000
    result = resolve_catalog(pa.Table.from_pylist(tracks, schema=TRACK_SCHEMA))
    assert result.tracks.proposals.num_rows > 10


def test_the_limits_cover_every_text_field_of_the_records() -> None:
    text_fields = {field.name for schema in (TRACK_SCHEMA, ARTIST_SCHEMA, ENGAGEMENT_SCHEMA) for field in schema
                   if pa.types.is_string(field.type) or pa.types.is_list(field.type)}
    assert text_fields <= set(MAX_FIELD_CHARS)
