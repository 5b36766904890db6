"""resolver.artists.pairs on a small constructed world: shared recordings, the three blockers, the signals."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pytest
from rapidfuzz import fuzz

from catalog_er.resolver.artists.engagement import ListenerSignatures, listener_signatures
from catalog_er.resolver.artists.features import (
    ArtistFeatures,
    TrackArtistLinks,
    artist_name_key,
    extract_artist_features,
    link_tracks_to_artists,
)
from catalog_er.resolver.artists.pairs import (
    SharedRecordings,
    artist_candidate_pairs,
    compare_artist_pairs,
    shared_recordings,
)
from catalog_er.resolver.compare import MISSING
from catalog_er.resolver.config import ArtistConfig, BlockingConfig
from catalog_er.resolver.lsh import banded_pairs
from catalog_er.resolver.records import ARTIST_SCHEMA, ENGAGEMENT_SCHEMA, TRACK_SCHEMA

# --- shared recordings on hand-made links ---------------------------------------------------------------------


def _links(track_row: list[int], artist_row: list[int], primary: list[bool]) -> TrackArtistLinks:
    return TrackArtistLinks(np.array(track_row, np.int64), np.array(artist_row, np.int64), np.array(primary, bool), 0)


def test_shared_recordings_count_distinct_clusters_of_primary_credits() -> None:
    # tracks 0..6 in clusters 0,0,1,1,2,3,0; artist 2 is only *featured* on track 0
    labels = np.array([0, 0, 1, 1, 2, 3, 0])
    links = _links(track_row=[0, 0, 1, 2, 3, 4, 5, 6],
                   artist_row=[0, 2, 1, 0, 1, 2, 3, 0],
                   primary=[True, False, True, True, True, True, True, True])
    shared = shared_recordings(links, labels, 5)
    # artist 0: clusters {0, 1} (track 6 is a second delivery of cluster 0: counted once); artist 4: none
    assert shared.recordings.tolist() == [2, 2, 1, 1, 0]
    assert list(zip(shared.left.tolist(), shared.right.tolist(), shared.shared.tolist(), strict=True)) == [(0, 1, 2)]


def test_shared_recordings_skip_clusters_credited_to_too_many_artists() -> None:
    labels = np.array([0, 0, 0, 1, 1])
    links = _links(track_row=[0, 1, 2, 3, 4], artist_row=[0, 1, 2, 0, 1], primary=[True] * 5)
    crowded = shared_recordings(links, labels, 3, max_artists_per_recording=2)
    # cluster 0 has three primary artists: no pairs from it; cluster 1 still pairs 0 and 1 once
    assert list(zip(crowded.left.tolist(), crowded.right.tolist(), crowded.shared.tolist(), strict=True)) == [
        (0, 1, 1)]
    assert crowded.recordings.tolist() == [2, 2, 1]  # the crowded cluster still counts as a recording
    roomy = shared_recordings(links, labels, 3, max_artists_per_recording=3)
    assert list(zip(roomy.left.tolist(), roomy.right.tolist(), roomy.shared.tolist(), strict=True)) == [
        (0, 1, 2), (0, 2, 1), (1, 2, 1)]


def test_shared_recordings_of_no_links() -> None:
    shared = shared_recordings(_links([], [], []), np.array([0, 1]), 3)
    assert shared.recordings.tolist() == [0, 0, 0] and len(shared.left) == len(shared.shared) == 0


# --- a constructed world: tracks, artists, listeners ----------------------------------------------------------

@dataclass(frozen=True)
class Act:
    artist_id: str
    name: str
    genres: list[str]
    country: str | None
    users: range
    tracks: int = 2


ACTS = [
    Act("a-zq1", "Zorblax Quintet", ["jazz"], "SE", range(1000, 1030)),
    Act("a-zq2", "Zorblax Quintett", ["Jazz", "funk"], "se", range(2000, 2030)),  # name variant, shares a recording
    Act("a-pt", "Prince Tharvel", ["funk"], "US", range(0, 80)),
    Act("a-mo", "Mordecai Oyelaran", ["soul"], None, range(20, 100)),  # other name, same audience (J = 0.6)
    Act("a-hx", "Hxq Vvb", [], "GB", range(3000, 3030)),
    Act("a-ul", "Ulmwpt Kest", ["rock"], "GB", range(4000, 4030)),  # shares both recordings with a-hx
    Act("a-few1", "Dendrobium", ["pop"], "FR", range(5000, 5003)),
    Act("a-few2", "Quillwort Sable", ["pop"], "FR", range(5000, 5003)),  # same 3 listeners as a-few1
    Act("a-big", "Gargantua Hollow", ["metal"], "NO", range(6000, 6100)),
    Act("a-small", "Tiny Lichen", ["metal"], "NO", range(6000, 6009)),  # 9 of a-big's 100 listeners
]
SCRIPTS = [  # names only: no tracks, no listeners
    Act("a-yk1", "약속소녀", [], "KR", range(0), tracks=0),
    Act("a-yk2", "약속소년", [], "KR", range(0), tracks=0),
    Act("a-kino-cyr", "Кино", [], "RU", range(0), tracks=0),
    Act("a-kino-lat", "Kino", [], "RU", range(0), tracks=0),
    Act("a-various", "Various Artists", [], None, range(0), tracks=0),
]
SAME_RECORDING = {"a-zq2-0": "a-zq1-0", "a-ul-0": "a-hx-0", "a-ul-1": "a-hx-1"}
"""Tracks delivered as another artist's recording (track resolution put them in that one's cluster)."""


@dataclass(frozen=True)
class World:
    features: ArtistFeatures
    listeners: ListenerSignatures
    shared: SharedRecordings
    row: dict[str, int]

    def pairs(self, *pairs: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """``(left, right)`` rows of id pairs, ``left < right`` as the pair functions expect."""
        rows = [sorted((self.row[a], self.row[b])) for a, b in pairs]
        return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


def _world(acts: list[Act]) -> World:
    """Each act's tracks (``<id>-<k>``), a collaboration, track clusters from :data:`SAME_RECORDING`, and one
    play of its first track by each of its users; then the features, listener MinHash and shared recordings."""
    artists = pa.Table.from_pylist([{"artist_id": a.artist_id, "name": a.name, "genres": a.genres,
                                     "country": a.country} for a in acts], schema=ARTIST_SCHEMA)
    track_rows = [{"track_id": f"{a.artist_id}-{k}", "title": f"{a.name} song {k}", "artist_ids": [a.artist_id]}
                  for a in acts for k in range(a.tracks)]
    # a collaboration: a-mo is featured, not primary, so it shares no recording with a-pt
    track_rows.append({"track_id": "feat-0", "title": "Together", "artist_ids": ["a-pt", "a-mo"]})
    tracks = pa.Table.from_pylist([{n: r.get(n) for n in TRACK_SCHEMA.names} for r in track_rows],
                                  schema=TRACK_SCHEMA)
    cluster_of = [SAME_RECORDING.get(r["track_id"], r["track_id"]) for r in track_rows]
    names = sorted(set(cluster_of))
    labels = np.array([names.index(c) for c in cluster_of])
    engagement = pa.Table.from_pylist([{"user_id": f"u{u}", "track_id": f"{a.artist_id}-0", "plays": 1}
                                       for a in acts if a.tracks for u in a.users], schema=ENGAGEMENT_SCHEMA)
    links = link_tracks_to_artists(tracks, artists)
    features = extract_artist_features(artists)
    blocking = BlockingConfig()
    listeners = listener_signatures(engagement, tracks["track_id"], links, len(acts), num_perm=blocking.num_perm,
                                    seed=blocking.seed)
    return World(features, listeners, shared_recordings(links, labels, len(acts)),
                 {a.artist_id: k for k, a in enumerate(acts)})


@pytest.fixture(scope="module")
def world() -> World:
    return _world(ACTS + SCRIPTS)


def test_the_world_is_what_the_cases_need(world: World) -> None:
    listeners = dict(zip(world.features.artist_id.tolist(), world.listeners.listeners.tolist(), strict=True))
    assert (listeners["a-pt"], listeners["a-mo"], listeners["a-few1"], listeners["a-small"]) == (80, 80, 3, 9)
    shared = {(world.features.artist_id[a], world.features.artist_id[b]): int(s)
              for a, b, s in zip(world.shared.left, world.shared.right, world.shared.shared, strict=True)}
    assert shared == {("a-zq1", "a-zq2"): 1, ("a-hx", "a-ul"): 2}


# --- candidates ----------------------------------------------------------------------------------------------

def _candidate_ids(world: World, blocking: BlockingConfig, config: ArtistConfig
                   ) -> tuple[set[tuple[str, str]], dict[str, int]]:
    """The candidate pairs as ``(left id, right id)`` and the pairs found per blocker."""
    candidates = artist_candidate_pairs(world.features, world.listeners, world.shared, blocking, config)
    assert (candidates.left < candidates.right).all()
    ids = world.features.artist_id
    pairs = {(ids[a], ids[b]) for a, b in zip(candidates.left, candidates.right, strict=True)}
    assert len(pairs) == len(candidates)  # the union holds each pair once
    return pairs, candidates.pairs_by_blocker


def test_candidates_are_the_union_of_the_three_blockers() -> None:
    world = _world(ACTS)
    pairs, by_blocker = _candidate_ids(world, BlockingConfig(), ArtistConfig())
    # name LSH: the Zorblax variants; audience LSH: Tharvel / Oyelaran; shared recordings: Zorblax and Hxq / Ulmwpt
    assert pairs == {("a-zq1", "a-zq2"), ("a-pt", "a-mo"), ("a-hx", "a-ul")}
    assert by_blocker == {"name_lsh": 1, "coengagement_lsh": 1, "shared_recordings": 2}


def test_audiences_below_the_thresholds_make_no_candidates() -> None:
    world = _world(ACTS)
    # a-few1 / a-few2 have one audience but only 3 listeners: below min_listeners they are not blocked on
    pairs, _ = _candidate_ids(world, BlockingConfig(), ArtistConfig(min_listeners=3))
    assert ("a-few1", "a-few2") in pairs
    # Tharvel / Oyelaran share 60% of their listeners: not enough when the threshold asks for 90%
    pairs, by_blocker = _candidate_ids(world, BlockingConfig(), ArtistConfig(coengagement_threshold=0.9))
    assert ("a-pt", "a-mo") not in pairs and by_blocker["coengagement_lsh"] == 0


def _made_up_name(rng: random.Random) -> str:
    """Nine random letters: names that share no more 3-grams than chance."""
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(9)).title()


def test_audience_pairs_found_by_a_band_collision_below_the_threshold_are_dropped() -> None:
    # twelve pairs of 100-listener audiences sharing 20 listeners (Jaccard 0.11, under the 0.2 threshold)
    rng = random.Random(5)
    near = [Act(f"a-near{k}{side}", _made_up_name(rng), [], None, range(start, start + 100))
            for k in range(12) for side, start in (("a", 10_000 + 1000 * k), ("b", 10_080 + 1000 * k))]
    world = _world(ACTS + near)
    config, blocking = ArtistConfig(), BlockingConfig()
    ids = world.features.artist_id
    left, right, _ = banded_pairs(world.listeners.signatures, world.listeners.listeners < config.min_listeners,
                                  threshold=config.coengagement_threshold, max_bucket_size=blocking.max_bucket_size)
    collided = {(ids[a], ids[b]) for a, b in zip(left, right, strict=True) if ids[a][:-1] == ids[b][:-1]}
    assert collided, "premise: LSH alone pairs some of the near audiences (a band collision)"
    pairs, _ = _candidate_ids(world, blocking, config)
    assert not collided & pairs
    assert ("a-pt", "a-mo") in pairs  # while an audience above the threshold still is


# --- signals -------------------------------------------------------------------------------------------------

def _signals(world: World, *pairs: tuple[str, str], config: ArtistConfig | None = None):
    left, right = world.pairs(*pairs)
    return compare_artist_pairs(world.features, world.listeners, world.shared, left, right, config or ArtistConfig())


def test_name_similarity_compares_keys_and_is_null_for_placeholders(world: World) -> None:
    signals = _signals(world, ("a-zq1", "a-zq2"), ("a-kino-cyr", "a-kino-lat"), ("a-various", "a-zq1"),
                       ("a-pt", "a-mo"))
    expected = fuzz.ratio(artist_name_key("Zorblax Quintet"), artist_name_key("Zorblax Quintett")) / 100
    assert signals.name_similarity[0] == pytest.approx(expected, abs=1e-6)
    assert signals.name_similarity[1] == 1.0  # Cyrillic and Latin spelling: compared as one key "kino"
    assert np.isnan(signals.name_similarity[2])  # "Various Artists" has no key
    assert signals.name_similarity[3] < 0.5
    assert signals.name_similarity.dtype == np.float32


def test_names_in_one_non_latin_script_are_compared_in_that_script(world: World) -> None:
    similarity = _signals(world, ("a-yk1", "a-yk2")).name_similarity[0]
    assert similarity == pytest.approx(fuzz.ratio("약속소녀", "약속소년") / 100, abs=1e-6)  # one syllable in four
    romanized = fuzz.ratio(artist_name_key("약속소녀"), artist_name_key("약속소년")) / 100
    assert romanized > 0.9 > similarity


def test_shared_recordings_is_the_share_of_the_smaller_catalog(world: World) -> None:
    signals = _signals(world, ("a-zq1", "a-zq2"), ("a-hx", "a-ul"), ("a-pt", "a-mo"), ("a-yk1", "a-yk2"))
    assert signals.shared_recordings[:3].tolist() == [0.5, 1.0, 0.0]  # 1 of 2, 2 of 2, none in common
    assert np.isnan(signals.shared_recordings[3])  # neither is primary artist of any track


def test_coengagement_is_the_jaccard_of_comparable_audiences_only(world: World) -> None:
    pairs = (("a-pt", "a-mo"), ("a-few1", "a-few2"), ("a-big", "a-small"), ("a-zq1", "a-zq2"))
    default = _signals(world, *pairs).coengagement
    assert default[0] == pytest.approx(0.6, abs=0.15)  # 60 shared of 100 listeners
    assert np.isnan(default[1])  # 3 listeners each: under min_listeners
    assert np.isnan(default[2])  # 9 listeners against 100: under min_audience_ratio
    assert default[3] == pytest.approx(0.0, abs=0.1)  # comparable audiences that do not overlap
    relaxed = _signals(world, *pairs, config=ArtistConfig(min_listeners=3, min_audience_ratio=0.05)).coengagement
    assert relaxed[1] == 1.0
    assert relaxed[2] == pytest.approx(0.09, abs=0.1)


def test_genre_and_country_matches_with_their_null_rule(world: World) -> None:
    signals = _signals(world, ("a-zq1", "a-zq2"), ("a-pt", "a-zq2"), ("a-pt", "a-mo"), ("a-hx", "a-ul"),
                       ("a-big", "a-few1"))
    # jazz ∩ {jazz, funk}; funk ∩ {jazz, funk}; funk / soul; a-hx has no genre; metal / pop
    assert signals.genre_match.tolist() == [1, 1, 0, MISSING, 0]
    # SE / "se" (case folded); US / SE; a-mo has no country; GB / GB; NO / FR
    assert signals.country_match.tolist() == [1, 0, MISSING, 1, 0]
    assert len(signals) == 5


def test_signals_are_symmetric_in_the_row_order_of_the_artists() -> None:
    forward, backward = _world(ACTS + SCRIPTS), _world(list(reversed(ACTS + SCRIPTS)))
    pairs = (("a-zq1", "a-zq2"), ("a-pt", "a-mo"), ("a-hx", "a-ul"), ("a-yk1", "a-yk2"), ("a-big", "a-small"))
    one, other = _signals(forward, *pairs), _signals(backward, *pairs)
    for name in ("name_similarity", "shared_recordings", "coengagement", "genre_match", "country_match"):
        assert np.array_equal(getattr(one, name), getattr(other, name), equal_nan=True), name
