"""The online index: precomputed neighbour lists, kept in step as rows are replaced and appended."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from catalog_er.resolver.blocking import candidate_pairs
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.features import extract_track_features
from catalog_er.resolver.neighbours import ScoredNeighbours
from catalog_er.resolver.online import TrackIndex
from catalog_er.resolver.record_text import TokenStatistics, tokenize
from catalog_er.resolver.repair import RepairContext
from catalog_er.resolver.synthetic import SyntheticCatalog
from catalog_er.resolver.tracks import ResolveResult


def _rows_as_sets(lists: ScoredNeighbours) -> list[set[tuple[int, float]]]:
    return [{(int(t), round(float(p), 12)) for t, p in zip(lists.target[lists.of(r)], lists.probability[lists.of(r)],
                                                            strict=True)} for r in range(len(lists))]


def _assert_sorted_within_rows(lists: ScoredNeighbours) -> None:
    assert np.all(np.diff(lists.source) >= 0)
    for row in range(len(lists)):
        assert np.all(np.diff(lists.probability[lists.of(row)]) <= 0), row


def test_updated_lists_equal_lists_built_from_the_final_pairs(small_result: ResolveResult) -> None:
    model = small_result.model
    rng = np.random.default_rng(5)
    n = 60
    levels_pool = np.array([[rng.integers(-1, len(c.level_labels)) for c in model.comparisons] for _ in range(400)],
                           dtype=np.int8)
    left, right = rng.integers(0, n, 300), rng.integers(0, n, 300)
    distinct = left < right
    left, right, levels = left[distinct], right[distinct], levels_pool[: len(left)][distinct]
    before = ScoredNeighbours.from_pairs(n, left, right, levels, model)
    changed = np.array([3, 17, n, n + 1])  # two replaced rows, two appended
    n_after = n + 2
    new_left = np.array([3, 17, 0, 5, n, 3])
    new_right = np.array([9, n, n + 1, n + 1, n + 1, 17])
    new_levels = levels_pool[-len(new_left):]
    after = before.updated(changed, n_after, new_left, new_right, new_levels, model)

    untouched = ~(np.isin(left, changed) | np.isin(right, changed))
    expected = ScoredNeighbours.from_pairs(n_after, np.concatenate([left[untouched], new_left]),
                                           np.concatenate([right[untouched], new_right]),
                                           np.concatenate([levels[untouched], new_levels]), model)
    assert _rows_as_sets(after) == _rows_as_sets(expected)
    _assert_sorted_within_rows(after)
    assert len(after) == n_after
    # levels stay attached to their pair
    for row in range(n_after):
        entries = after.of(row)
        assert np.allclose(model.probability(after.levels[entries]), after.probability[entries])


@pytest.fixture(scope="module")
def index(small_catalog: SyntheticCatalog, small_result: ResolveResult) -> TrackIndex:
    context = RepairContext.learn(small_catalog.tracks)
    return TrackIndex(extract_track_features(small_catalog.tracks, context=context), small_result.model,
                      ResolverConfig(), repair_context=context)


def test_built_lists_hold_every_batch_candidate_pair_both_ways(index: TrackIndex) -> None:
    pairs = candidate_pairs(index.features, config=index.config.blocking, statistics=index.statistics)
    lists = index.neighbours
    assert len(lists.source) == 2 * len(pairs.left)
    row = int(pairs.left[0])
    assert int(pairs.right[0]) in set(lists.target[lists.of(row)].tolist())
    _assert_sorted_within_rows(lists)


def test_stored_matches_rank_and_filter(index: TrackIndex) -> None:
    row = int(np.argmax(np.diff(index.neighbours.indptr)))  # the row with most candidates
    everything = index.stored_matches(row)
    assert len(everything) == np.diff(index.neighbours.indptr)[row]
    probabilities = [m.probability for m in everything]
    assert probabilities == sorted(probabilities, reverse=True)
    assert [m.row for m in index.stored_matches(row, limit=3)] == [m.row for m in everything[:3]]
    floor = probabilities[len(probabilities) // 2]
    assert all(m.probability >= floor for m in index.stored_matches(row, min_probability=floor))
    assert len(index.stored_matches(row, min_probability=floor)) == sum(p >= floor for p in probabilities)
    first = everything[0]
    assert set(first.evidence) == {c.name for c in index.model.comparisons}
    assert first.match_weight == pytest.approx(float(index.model.match_weight(
        index.neighbours.levels[index.neighbours.of(row)][:1])[0]))


def test_with_rows_replaces_the_changed_rows_pairs(small_catalog: SyntheticCatalog, index: TrackIndex) -> None:
    tracks = small_catalog.tracks
    original = 10
    copy = {**tracks.slice(original, 1).to_pylist()[0], "track_id": "redelivery", "album": "Deluxe"}
    stranger = {**tracks.slice(20, 1).to_pylist()[0], "title": "Zqxv Unheard Of Words", "isrc": None}
    n = len(index)
    changed_rows = np.array([original, n])  # row 10 replaced by a stranger, a re-delivery of it appended
    updated = index.with_rows(changed_rows, extract_track_features(pa.Table.from_pylist([stranger, copy],
                                                                                         schema=tracks.schema)))
    lists = updated.neighbours
    pairs = set(zip(lists.source.tolist(), lists.target.tolist(), strict=True))
    assert pairs and all((b, a) in pairs for a, b in pairs)

    def fresh(row: int) -> set[int]:
        return set(updated.candidate_rows(updated.features.take(np.array([row]))).tolist()) - {row}

    for row, other in ((original, n), (n, original)):
        expected = fresh(row) | ({other} if row in fresh(other) else set())
        assert set(lists.target[lists.of(row)].tolist()) == expected
    for row in range(n):  # the others lose the replaced row's old pairs and gain only pairs with changed rows
        if row != original:
            before = set(index.neighbours.target[index.neighbours.of(row)].tolist()) - {original}
            assert set(lists.target[lists.of(row)].tolist()) - {original, n} == before


def test_appended_copy_is_found_from_both_sides(small_catalog: SyntheticCatalog, index: TrackIndex) -> None:
    tracks = small_catalog.tracks
    original = 42
    copy = pa.Table.from_pylist([{**tracks.slice(original, 1).to_pylist()[0], "track_id": "copy-42"}],
                                schema=tracks.schema)
    n = len(index)
    updated = index.with_rows(np.array([n]), extract_track_features(copy))
    best = updated.stored_matches(n, limit=1)[0]
    assert best.row == original and best.probability > 0.99
    assert n in {m.row for m in updated.stored_matches(original)}
    assert len(index.neighbours.indptr) == n + 1  # the old index is untouched


def test_an_updated_index_finds_what_one_built_afresh_finds(small_catalog: SyntheticCatalog, index: TrackIndex
                                                            ) -> None:
    """Rows replaced (one takes another's ISRC, one loses its own) and rows appended: the buckets and the ISRC
    look-up, merged rather than rebuilt, give every query the candidates an index built on the final features
    gives it; an index for unsaved tracks only (no neighbours) finds the same."""
    rows = small_catalog.tracks.to_pylist()
    with_isrc = [k for k, row in enumerate(rows) if row["isrc"]]
    a, b, c, d = with_isrc[:4]
    changed = [{**rows[a], "isrc": rows[b]["isrc"]}, {**rows[c], "isrc": None, "title": "Zqxv Unheard Of"},
               {**rows[d], "track_id": "copy-d"}, {**rows[b], "track_id": "copy-b", "album": "Deluxe"}]
    n = len(index)
    update = extract_track_features(pa.Table.from_pylist(changed, schema=small_catalog.tracks.schema),
                                    context=index.repair_context)
    for stored_lookups in (True, False):
        start = TrackIndex(index.features, index.model, index.config, repair_context=index.repair_context,
                           statistics=index.statistics, stored_lookups=stored_lookups)
        updated = start.with_rows(np.array([a, c, n, n + 1]), update)
        fresh = TrackIndex(updated.features, index.model, index.config, repair_context=index.repair_context,
                           statistics=index.statistics, stored_lookups=False)
        queries = updated.features.take(np.array([a, b, c, d, n, n + 1, 0, 1, 2])).concat(
            index.features.take(np.array([a, c])))  # the replaced rows as they were: their old keys must be gone
        for found, expected in zip(updated.candidates(queries), fresh.candidates(queries), strict=True):
            np.testing.assert_array_equal(found, expected)
        assert (updated.neighbours is None) == (not stored_lookups)
        assert set(updated.candidate_rows(updated.features.take(np.array([b])))) >= {a, b, n + 1}


def _crowded_catalog(small_catalog: SyntheticCatalog) -> pa.Table:
    """The small catalog with an ISRC shared by 230 deliveries (a data error, over ``max_isrc_block_size``), 90
    songs called "Intro" (a title bucket over ``max_bucket_size``) and 20 scraped copies of catalog songs (the
    whole record in the title, no artist: the record blocker's cases), some of each among the last rows."""
    tracks = small_catalog.tracks
    template = tracks.slice(0, 1).to_pylist()[0]
    scraped = [{**row, "track_id": f"scraped-{k}", "artist": None, "isrc": None, "album": None,
                "title": f"{row['title']} {row['artist'] or ''} {row['album'] or ''} Pop , Music $ 1.29"}
               for k, row in enumerate(tracks.slice(100, 20).to_pylist())]
    shared_isrc = [{**template, "track_id": f"isrc-{k}", "title": f"Song Number {k} Of Many", "artist": f"Act {k}",
                    "isrc": "QZABC2600001", "duration_ms": 150_000 + 977 * k} for k in range(230)]
    intros = [{**template, "track_id": f"intro-{k}", "title": "Intro", "artist": f"Band {k % 45}", "isrc": None,
               "duration_ms": 60_000 + (k % 17) * 1_000 if k % 11 else None} for k in range(90)]
    added = pa.Table.from_pylist(shared_isrc[:200] + intros[:60] + scraped[:10] + shared_isrc[200:] + intros[60:]
                                 + scraped[10:], schema=tracks.schema)
    return pa.concat_tables([tracks, added])


def _batch_partners(pairs_left: np.ndarray, pairs_right: np.ndarray, row: int) -> set[int]:
    return set(pairs_right[pairs_left == row].tolist()) | set(pairs_left[pairs_right == row].tolist())


def test_rows_added_online_get_exactly_their_batch_candidates(small_catalog: SyntheticCatalog,
                                                              small_result: ResolveResult) -> None:
    tracks = _crowded_catalog(small_catalog)
    context = RepairContext.learn(tracks)
    features = extract_track_features(tracks, context=context)
    config = ResolverConfig()
    statistics = TokenStatistics.learn(tokenize(features.record_text))  # word frequencies of the whole catalog
    batch = candidate_pairs(features, config=config.blocking, statistics=statistics)
    assert batch.skipped_buckets["isrc"] == 1 and batch.skipped_buckets["title_lsh"] >= 1
    assert batch.pairs_by_blocker["record_lsh"] > 0
    n, added = len(features), 70  # 30 deliveries of the over-shared ISRC, 30 "Intro"s and 10 scraped ones come last
    before = TrackIndex(features.take(np.arange(n - added)), small_result.model, config, repair_context=context,
                        statistics=statistics)
    after = before.with_rows(np.arange(n - added, n), features.take(np.arange(n - added, n)))
    for row in range(n - added, n):
        online = set(after.neighbours.target[after.neighbours.of(row)].tolist())
        assert online == _batch_partners(batch.left, batch.right, row), tracks["track_id"][row]


def test_an_unsaved_track_gets_the_candidates_batch_blocking_would_give_it(small_catalog: SyntheticCatalog,
                                                                           small_result: ResolveResult) -> None:
    tracks = _crowded_catalog(small_catalog)
    context = RepairContext.learn(tracks)
    features = extract_track_features(tracks, context=context)
    config = ResolverConfig()
    statistics = TokenStatistics.learn(tokenize(features.record_text))
    n = len(features)
    for query_row in (n - 1, n - 11, n - 41):  # a scraped copy, an "Intro" (oversized bucket), an over-shared ISRC
        catalog = np.concatenate([np.delete(np.arange(n), query_row), [query_row]])
        reordered = candidate_pairs(features.take(catalog), config=config.blocking, statistics=statistics)
        expected = {int(catalog[r]) for r in _batch_partners(reordered.left, reordered.right, n - 1)}
        index = TrackIndex(features.take(catalog[:-1]), small_result.model, config, repair_context=context,
                           statistics=statistics)
        _, rows = index.candidates(features.take(np.array([query_row])))
        assert {int(catalog[r]) for r in rows} == expected and expected
