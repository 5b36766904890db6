"""A record as one bag of words: tokens, word frequencies, IDF cosine, containment and the blocker's rare words."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from catalog_er.resolver.record_text import (
    MAX_RECORD_CHARS,
    MIN_TOKEN_CHARS,
    TokenStatistics,
    record_similarity,
    signature_tokens,
    tokenize,
    word_containment,
)


def texts(*values: str) -> np.ndarray:
    """``(n,)`` object array of folded record texts."""
    return np.array(values, dtype=object)


def words_of(tokens, row: int) -> set[int]:
    """The token hashes of record ``row``."""
    return set(tokens.hashes[tokens.rows == row].tolist())


def crc(*words: str) -> set[int]:
    return {zlib.crc32(word.encode()) for word in words}


# A small catalog: one artist's album (Nina Vale, "Northern Tides"), the scraped form of one of its songs, and
# unrelated records that make "love" and "music" common words.
CLEAN_TWIN = "harbour lights nina vale northern tides"
SCRAPED = "harbour lights nina vale northern tides pop music 1 29 3 55 17 mar 08"
SAME_ARTIST_OTHER_SONG = "quiet water nina vale northern tides"
CATALOG = texts(
    CLEAN_TWIN, SCRAPED, SAME_ARTIST_OTHER_SONG,
    "paper moon nina vale northern tides", "salt and silver nina vale northern tides",
    "love me tender elvis presley music", "love shack the b 52s music", "crazy in love beyonce music",
    "endless love lionel richie music", "love story taylor swift music", "amber 311 transistor",
)


def catalog_statistics() -> TokenStatistics:
    return TokenStatistics.learn(tokenize(CATALOG))


# --- tokenize ----------------------------------------------------------------------------------------------------

def test_tokens_are_the_distinct_words_of_each_record_by_crc32() -> None:
    tokens = tokenize(texts("tides of tides", "", "harbour lights"))
    assert tokens.n == 3
    assert words_of(tokens, 0) == crc("tides", "of")  # a repeated word is one token
    assert words_of(tokens, 1) == set()
    assert words_of(tokens, 2) == crc("harbour", "lights")
    assert len(tokens.hashes) == 4 and tokens.hashes.dtype == np.uint32
    assert np.all(np.diff(tokens.rows) >= 0), "rows are non-decreasing"


def test_the_same_word_has_the_same_token_in_every_record_and_call() -> None:
    first = tokenize(texts("northern tides", "tides"))
    again = tokenize(texts("tides"))
    assert words_of(first, 0) & words_of(first, 1) == words_of(again, 0) == crc("tides")


def test_words_shorter_than_the_minimum_are_dropped() -> None:
    assert MIN_TOKEN_CHARS == 2
    tokens = tokenize(texts("a b 1 harbour x lights i"))
    assert words_of(tokens, 0) == crc("harbour", "lights")
    assert tokenize(texts("a 1 x")).hashes.size == 0


def test_only_the_first_characters_of_a_record_are_read() -> None:
    inside = "a" * (MAX_RECORD_CHARS - len(" tides")) + " tides"  # ends exactly at the bound
    beyond = "a" * (MAX_RECORD_CHARS - len(" tid")) + " tides"  # the bound cuts "tides" to "tid"
    tokens = tokenize(texts(inside, beyond))
    assert crc("tides") <= words_of(tokens, 0)
    assert words_of(tokens, 1) == crc("a" * (MAX_RECORD_CHARS - len(" tid")), "tid")
    cut = tokenize(texts("x" * (MAX_RECORD_CHARS + 500)))
    assert words_of(cut, 0) == crc("x" * MAX_RECORD_CHARS), "a hostile word is cut at the bound"


def test_no_records_no_tokens() -> None:
    tokens = tokenize(texts())
    assert tokens.n == 0 and tokens.rows.size == 0 and tokens.hashes.size == 0


# --- TokenStatistics -----------------------------------------------------------------------------------------------

def test_each_word_counts_once_per_record() -> None:
    statistics = TokenStatistics.learn(tokenize(texts("tides tides tides", "tides moon", "")))
    assert statistics.records == 3
    [tides, moon, unseen] = statistics.document_frequency(
        np.array([*crc("tides"), *crc("moon"), *crc("never")], dtype=np.uint32)).tolist()
    assert (tides, moon, unseen) == (2, 1, 0)


def test_a_rarer_word_weighs_more_and_an_unseen_word_most() -> None:
    statistics = catalog_statistics()
    hashes = np.array([zlib.crc32(w.encode()) for w in ("music", "vale", "harbour", "never")], dtype=np.uint32)
    music, vale, harbour, never = statistics.idf(hashes).tolist()
    assert music < vale < harbour < never
    n = len(CATALOG)
    assert never == pytest.approx(np.log(n + 1.0) + 1.0, rel=1e-6)
    assert harbour == pytest.approx(np.log((n + 1.0) / 3.0) + 1.0, rel=1e-6)  # in the twin and the scraped record


def test_statistics_of_nothing_know_no_word() -> None:
    statistics = TokenStatistics.learn(tokenize(texts()))
    assert statistics.document_frequency(np.array(list(crc("tides")), np.uint32)).tolist() == [0]
    assert np.isfinite(statistics.idf(np.array(list(crc("tides")), np.uint32))).all()


# --- record_similarity ---------------------------------------------------------------------------------------------

def similarity(catalog: np.ndarray, pairs: list[tuple[int, int]], statistics: TokenStatistics) -> np.ndarray:
    left, right = (np.array(side, dtype=np.int64) for side in zip(*pairs, strict=True))
    return record_similarity(catalog, left, right, statistics)


def test_identical_records_score_one_and_disjoint_ones_zero() -> None:
    catalog = np.concatenate([CATALOG, texts(CLEAN_TWIN, "")])
    twin_copy, empty = len(CATALOG), len(CATALOG) + 1
    scores = similarity(catalog, [(0, twin_copy), (0, 10), (2, 2)], catalog_statistics())
    assert scores.dtype == np.float32
    assert scores.tolist() == pytest.approx([1.0, 0.0, 1.0], abs=1e-6)
    assert np.isnan(similarity(catalog, [(0, empty), (empty, 0), (empty, empty)], catalog_statistics())).all()


def test_record_similarity_is_symmetric_and_within_zero_and_one() -> None:
    rng = np.random.default_rng(3)
    left, right = rng.integers(0, len(CATALOG), 60), rng.integers(0, len(CATALOG), 60)
    statistics = catalog_statistics()
    forward = record_similarity(CATALOG, left, right, statistics)
    backward = record_similarity(CATALOG, right, left, statistics)
    np.testing.assert_allclose(forward, backward, atol=1e-6)
    assert ((forward >= 0) & (forward <= 1)).all()


def test_a_scraped_record_is_closer_to_its_clean_twin_than_to_the_artists_other_song() -> None:
    twin, other = similarity(CATALOG, [(1, 0), (1, 2)], catalog_statistics()).tolist()
    assert twin > other + 0.2
    assert twin > 0.5


def test_rare_shared_words_count_more_than_common_ones() -> None:
    catalog = np.concatenate([CATALOG, texts("love harbour", "love music", "harbour music")])
    rare, common = similarity(catalog, [(len(CATALOG), len(CATALOG) + 2),  # share "harbour"
                                        (len(CATALOG), len(CATALOG) + 1)],  # share "love"
                              catalog_statistics()).tolist()
    assert rare > common


def test_record_similarity_is_the_idf_cosine_of_the_word_sets_in_every_chunk(monkeypatch: pytest.MonkeyPatch
                                                                              ) -> None:
    """Computed from the definition (each side's distinct words, IDF-weighted, one dot product per pair), with
    pairs split into chunks of 7 so that a chunk boundary falls inside the run of one record's pairs."""
    import catalog_er.resolver.record_text as record_text

    monkeypatch.setattr(record_text, "_PAIR_CHUNK", 7)
    catalog = np.concatenate([CATALOG, texts("", "nina nina vale")])
    statistics = catalog_statistics()
    rng = np.random.default_rng(11)
    left, right = rng.integers(0, len(catalog), 50), rng.integers(0, len(catalog), 50)
    left[:9] = 0  # one record's pairs running across the first boundary

    def weights(text: str) -> dict[int, float]:
        hashes = np.array(sorted(crc(*[w for w in text.split() if len(w) >= MIN_TOKEN_CHARS])), dtype=np.uint32)
        idf = statistics.idf(hashes).astype(np.float64)
        return dict(zip(hashes.tolist(), (idf / max(np.sqrt((idf ** 2).sum()), 1e-12)).tolist(), strict=True))

    expected = []
    for a, b in zip(left, right, strict=True):
        first, second = weights(catalog[a]), weights(catalog[b])
        expected.append(sum(w * second.get(h, 0.0) for h, w in first.items()) if first and second else np.nan)
    np.testing.assert_allclose(record_similarity(catalog, left, right, statistics), expected, atol=1e-6)


def test_no_pairs_no_work() -> None:
    empty = np.empty(0, np.int64)
    assert record_similarity(CATALOG, empty, empty, catalog_statistics()).shape == (0,)
    assert word_containment(CATALOG, CATALOG, empty, empty, catalog_statistics()).shape == (0,)


# --- word_containment ----------------------------------------------------------------------------------------------

def containment(parts: list[str], wholes: list[str]) -> list[float]:
    """Containment of ``parts[i]`` in ``wholes[i]`` under the catalog's statistics."""
    n = len(parts)
    index = np.arange(n, dtype=np.int64)
    return word_containment(texts(*parts), texts(*wholes), index, index, catalog_statistics()).tolist()


def test_a_title_found_in_the_other_records_text_is_contained_whole() -> None:
    found, partly, not_at_all = containment(["harbour lights", "harbour lights", "harbour lights"],
                                            [SCRAPED, "harbour nina vale", "quiet water nina vale"])
    assert found == pytest.approx(1.0, abs=1e-6)
    assert 0.0 < partly < 1.0
    assert not_at_all == 0.0


def test_containment_looks_one_way_only() -> None:
    title_in_record, record_in_title = containment(["harbour lights", SCRAPED], [SCRAPED, "harbour lights"])
    assert title_in_record == pytest.approx(1.0, abs=1e-6)
    assert record_in_title < 0.5


def test_containment_of_an_empty_part_is_null_but_an_empty_whole_contains_nothing() -> None:
    empty_part, empty_whole = containment(["", "harbour lights"], [SCRAPED, ""])
    assert np.isnan(empty_part)
    assert empty_whole == 0.0


def test_missing_a_rare_word_costs_more_than_missing_a_common_one() -> None:
    lacks_rare, lacks_common = containment(["love harbour", "love harbour"], ["love story", "harbour lights"])
    assert lacks_rare < 0.5 < lacks_common
    assert lacks_rare + lacks_common == pytest.approx(1.0, abs=1e-6), "shares of one part sum to the whole"


# --- signature_tokens ----------------------------------------------------------------------------------------------

def test_the_blocker_leaves_out_words_held_by_too_many_records() -> None:
    tokens = tokenize(CATALOG)
    statistics = TokenStatistics.learn(tokens)
    # "music" is in 6 of the 11 records, "love", "nina", "vale", "northern" and "tides" in 5, "harbour" in 2
    hashes, rows = signature_tokens(tokens, statistics, max_share=0.4)
    kept = set(hashes.tolist())
    assert not kept & crc("music", "love", "nina", "vale", "northern", "tides")
    assert crc("harbour", "lights", "quiet", "water", "transistor") <= kept
    assert len(hashes) == len(rows)
    assert set(zip(rows.tolist(), hashes.tolist(), strict=True)) <= set(
        zip(tokens.rows.tolist(), tokens.hashes.tolist(), strict=True)), "each kept token stays with its record"
    everything, _ = signature_tokens(tokens, statistics, max_share=1.0)
    assert len(everything) == len(tokens.hashes)
    only_unique, _ = signature_tokens(tokens, statistics, max_share=1 / len(CATALOG))
    assert set(only_unique.tolist()) == {h for h, count in zip(statistics.hashes.tolist(),
                                                                 statistics.counts.tolist(), strict=True)
                                         if count == 1}
