"""The small-array path of ``resolver.regex_kernels`` (google-re2, cached patterns) answers as Arrow's kernels do:
on the resolver's own patterns, on hostile text, and through the whole repair, feature and validation path."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from catalog_er.resolver import regex_kernels
from catalog_er.resolver.features import CUT_MARKER, extract_track_features
from catalog_er.resolver.normalize import QUALIFIER_WORDS
from catalog_er.resolver.regex_kernels import regex_match, regex_replace
from catalog_er.resolver.repair import RepairContext
from catalog_er.resolver.repair_fields import CANONICAL_DATE, PLACEHOLDER_COLUMNS, placeholder_pattern
from catalog_er.resolver.repair_scraped import SCRAPED_SHAPE
from catalog_er.resolver.repair_titles import EDITION_GROUP, EDITION_TAIL, TRACK_NUMBER_SHAPE
from catalog_er.resolver.synthetic import SyntheticCatalog
from catalog_er.resolver.synthetic.sources import multi_source_catalog
from catalog_er.service.io.validation import validate_tracks

PATTERNS = [SCRAPED_SHAPE, TRACK_NUMBER_SHAPE, EDITION_GROUP, EDITION_TAIL, CANONICAL_DATE, CUT_MARKER,
            QUALIFIER_WORDS, r"\p{Cc}|^[\p{Cf}\p{Z}\s]*$", r"(?:^| )the(?: |$)", r"[^a-z0-9]+", r"\s[-–—]\s|\S: ",
            *(placeholder_pattern(column) for column in PLACEHOLDER_COLUMNS)]
REPLACEMENTS = [(SCRAPED_SHAPE, " "), (EDITION_GROUP, " "), (EDITION_TAIL, ""), (r"(\S): ", r"\1 - "),
                (r"[^ ]", ""), (r"\p{Mn}+", ""), (r"['`]", ""), (r" +", " "), (r"^\+", "")]
HOSTILE = ["", " ", "N/A", "[unknown]", "unk.", "?", "-", "Unknown Artist", "007-Harbour Lights",
           "Track 3 - Harbour Lights", "Harbour Lights (Northern Tides) [Deluxe]", "Nina Vale: Harbour Lights",
           "Harbour Lights … ", "Harbour Lights...", "$1.29 · 3:45 · 2019-04-01 · Pop, Rock", "€0,99",
           "Remastered 2011", "Live at Wembley", "Ünïcödé Çafé – Ärger", "東京 - 夜", "Beyoncé feat. Jay-Z",
           "\x00id", "\u200b", "\u00a0\u2003", "a" * 5000, "(" * 3000, "(" + "[" * 500 + "x", "the the the",
           "Song (Live) - Remix - Radio Edit", "2019", "12/31/2019", "1999-13-01", "+44", "x\ny\tz", "\ufdfa" * 200]


@pytest.fixture(scope="module")
def messy_values(small_catalog: SyntheticCatalog) -> pa.Array:
    """Titles, credits and albums as five sources with their own habits deliver them, plus hostile text."""
    tracks = multi_source_catalog(small_catalog, sources=5, seed=11).tracks.slice(0, 1500)
    values = [v for column in ("title", "artist", "album", "release_date") for v in tracks[column].to_pylist()]
    return pa.array(values + HOSTILE + [None], pa.string())


def _small(values: pa.Array) -> list[pa.Array]:
    size = regex_kernels.SMALL_ARRAY
    return [values.slice(start, size) for start in range(0, len(values), size)]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matching_small_arrays_agrees_with_arrow(messy_values: pa.Array, pattern: str) -> None:
    ours = pa.concat_arrays([regex_match(piece, pattern) for piece in _small(messy_values)])
    assert ours.equals(pc.match_substring_regex(messy_values, pattern))


@pytest.mark.parametrize(("pattern", "replacement"), REPLACEMENTS)
def test_replacing_in_small_arrays_agrees_with_arrow(messy_values: pa.Array, pattern: str, replacement: str) -> None:
    for limit in (None, 1):
        ours = pa.concat_arrays([regex_replace(piece, pattern, replacement, max_replacements=limit)
                                 for piece in _small(messy_values)])
        assert ours.equals(pc.replace_substring_regex(messy_values, pattern, replacement, max_replacements=limit))


def test_chunked_and_large_string_inputs_keep_their_shape() -> None:
    chunked = pa.chunked_array([["Track 1 - A", None], ["B"]], pa.large_string())
    matched = regex_match(chunked, TRACK_NUMBER_SHAPE)
    assert isinstance(matched, pa.ChunkedArray) and matched.to_pylist() == [True, None, False]
    replaced = regex_replace(chunked, r" - ", "|")
    assert replaced.type == pa.large_string() and replaced.to_pylist() == ["Track 1|A", None, "B"]


def test_replacements_the_engines_would_read_differently_are_refused() -> None:
    values = pa.array(["a"])
    for replacement in (r"\0", r"\g<1>", "\\", r"\n"):
        with pytest.raises(ValueError, match="backslash"):
            regex_replace(values, "a", replacement)
    with pytest.raises(ValueError, match="max_replacements"):
        regex_replace(values, "a", "b", max_replacements=0)


def test_repairs_features_and_validation_are_the_same_either_way(small_catalog: SyntheticCatalog,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A look-up's few rows go the small way, a resolution's many the Arrow way: both must give the same."""
    tracks = multi_source_catalog(small_catalog, sources=6, seed=5).tracks.slice(0, 1200)
    raw = tracks.cast(pa.schema([pa.field(f.name, pa.string() if pa.types.is_string(f.type) else f.type)
                                 for f in tracks.schema]))

    def run() -> tuple:
        loaded = validate_tracks(raw, "messy.csv")
        context = RepairContext.learn(loaded.table)
        pieces = [extract_track_features(loaded.table.slice(start, 40), context=context)
                  for start in range(0, loaded.table.num_rows, 40)]
        return loaded, pieces

    monkeypatch.setattr(regex_kernels, "SMALL_ARRAY", 0)  # everything through Arrow's kernels
    arrow_loaded, arrow_pieces = run()
    monkeypatch.setattr(regex_kernels, "SMALL_ARRAY", 10**9)  # everything through google-re2
    small_loaded, small_pieces = run()
    assert small_loaded.table.equals(arrow_loaded.table) and small_loaded.rejected.equals(arrow_loaded.rejected)
    assert sum(int(np.count_nonzero(p.repairs)) for p in arrow_pieces) > 100  # the repairs did run
    for small, arrow in zip(small_pieces, arrow_pieces, strict=True):
        for field in fields(arrow):
            left, right = getattr(small, field.name), getattr(arrow, field.name)
            assert np.array_equal(left, right, equal_nan=left.dtype.kind == "f"), field.name
