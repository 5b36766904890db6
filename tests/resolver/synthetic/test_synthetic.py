"""The synthetic catalog generator: contract, ground-truth invariants, and the hardness it promises."""

from __future__ import annotations

import collections
import itertools
import random
import re
import statistics
import unicodedata

import pytest

from catalog_er.resolver import records
from catalog_er.resolver.synthetic import DELIVERY_KINDS, DERIVATIONS, SyntheticCatalog, generate_catalog
from catalog_er.resolver.synthetic import names as names
from catalog_er.resolver.synthetic import spelling as spelling

N_TRACKS = 4000
TABLES = ("tracks", "artists", "engagement", "truth_tracks", "truth_artists")
ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$")


@pytest.fixture(scope="module")
def catalog() -> SyntheticCatalog:
    return generate_catalog(n_tracks=N_TRACKS, seed=3)


@pytest.fixture(scope="module")
def rows(catalog: SyntheticCatalog) -> list[dict]:
    """Track rows joined with their truth row and the entity of the primary credited artist id."""
    truth = {r["track_id"]: r for r in catalog.truth_tracks.to_pylist()}
    entity_of = dict(zip(catalog.truth_artists["artist_id"].to_pylist(),
                         catalog.truth_artists["entity_id"].to_pylist(), strict=True))
    out = []
    for row in catalog.tracks.to_pylist():
        row.update(truth[row["track_id"]])
        row["entity_id"] = entity_of[row["artist_ids"][0]] if row["artist_ids"] else None
        out.append(row)
    return out


@pytest.fixture(scope="module")
def recordings(rows: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = collections.defaultdict(list)
    for row in rows:
        grouped[row["recording_id"]].append(row)
    return grouped


# --- a tiny, independent title parser for the invariants (deliberately not resolver.normalize) -----------
_BRACKETED = re.compile(r"[(\[]([^)\]]*)[)\]]")
_DASH = re.compile(r"\s[-\u2013]\s")
_REISSUE = re.compile(r"remaster|deluxe|bonus track|expanded edition|album version|lp version|explicit|original mix")
_FEATURING = re.compile(r"^(feat|ft|featuring|with)\b")


def _split_title(title: str) -> tuple[str, list[str]]:
    """(core, qualifiers): bracketed groups and spaced-dash suffixes are qualifiers, case-folded."""
    qualifiers = _BRACKETED.findall(title)
    head, *tails = _DASH.split(_BRACKETED.sub(" ", title))
    return " ".join(head.casefold().split()), [q.strip().casefold() for q in qualifiers + tails]


def _version_kinds(title: str) -> set[str]:
    """The derivations named by a title's qualifiers (reissue tags and featured credits name none)."""
    kinds = set()
    for q in _split_title(title)[1]:
        if _FEATURING.match(q) or _REISSUE.search(q):
            continue
        if q.endswith(("remix", " mix")) and not q.startswith("extended"):
            kinds.add("remix")
        elif re.match(r"^(\d{4} )?demo", q):
            kinds.add("demo")
        elif re.search(r"'?s version$|^\d{4} version$|^re-?recorded", q):
            kinds.add("rerecording")
        else:
            for kind, prefix in (("live", "live"), ("acoustic", "acoustic"), ("instrumental", "instrumental"),
                                 ("radio_edit", "radio"), ("extended", "extended"), ("sped_up", "sped up"),
                                 ("slowed", "slowed")):
                if q.startswith(prefix):
                    kinds.add(kind)
    return kinds


def _normal_isrc(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw).upper()


# --- contract ------------------------------------------------------------------------------------------
def test_same_seed_gives_equal_tables_and_another_seed_differs(catalog: SyntheticCatalog) -> None:
    again = generate_catalog(n_tracks=N_TRACKS, seed=3)
    assert all(getattr(catalog, t).equals(getattr(again, t)) for t in TABLES)
    other = generate_catalog(n_tracks=N_TRACKS, seed=4)
    assert not catalog.tracks.equals(other.tracks)
    assert set(catalog.tracks["track_id"].to_pylist()).isdisjoint(other.tracks["track_id"].to_pylist())


def test_tables_have_exactly_the_contract_schemas(catalog: SyntheticCatalog) -> None:
    assert catalog.tracks.schema.equals(records.TRACK_SCHEMA)
    assert catalog.artists.schema.equals(records.ARTIST_SCHEMA)
    assert catalog.engagement.schema.equals(records.ENGAGEMENT_SCHEMA)
    assert catalog.truth_tracks.schema.equals(records.TRUTH_TRACKS_SCHEMA)
    assert catalog.truth_artists.schema.equals(records.TRUTH_ARTISTS_SCHEMA)


@pytest.mark.parametrize("n_tracks", [1, 2, 13, 257])
def test_row_counts_are_exact_at_any_size(n_tracks: int) -> None:
    small = generate_catalog(n_tracks=n_tracks, seed=n_tracks)
    assert small.tracks.num_rows == small.truth_tracks.num_rows == n_tracks
    assert small.engagement.num_rows == 5 * n_tracks
    assert small.artists.num_rows == small.truth_artists.num_rows >= 1


def test_engagement_rows_can_be_overridden() -> None:
    assert generate_catalog(n_tracks=50, seed=1, engagement_rows=0).engagement.num_rows == 0
    assert generate_catalog(n_tracks=50, seed=1, engagement_rows=777).engagement.num_rows == 777


def test_progress_increments_sum_to_n_tracks() -> None:
    increments: list[int] = []
    generate_catalog(n_tracks=1500, seed=2, progress=increments.append)
    assert increments and all(i > 0 for i in increments) and sum(increments) == 1500


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [({"n_tracks": 0}, "0"), ({"n_tracks": -5}, "-5"), ({"n_tracks": 2.5}, "2.5"), ({"n_tracks": True}, "True"),
     ({"n_tracks": 10, "seed": -1}, "-1"), ({"n_tracks": 10, "seed": "x"}, "'x'"),
     ({"n_tracks": 10, "engagement_rows": -3}, "-3"), ({"n_tracks": 10, "progress": 5}, "5")],
)
def test_bad_arguments_raise_value_error_naming_the_value(kwargs: dict, bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(bad)):
        generate_catalog(**kwargs)


def test_track_ids_are_unique_random_looking_and_rows_are_shuffled(rows: list[dict]) -> None:
    ids = [r["track_id"] for r in rows]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"t[0-9a-f]{12}", i) for i in ids)
    assert ids != sorted(ids)
    adjacent_same = sum(a["recording_id"] == b["recording_id"] for a, b in itertools.pairwise(rows))
    assert adjacent_same / len(rows) < 0.02  # order says nothing about which rows are duplicates


def test_every_truth_row_joins_and_every_credited_artist_exists(catalog: SyntheticCatalog) -> None:
    track_ids = set(catalog.tracks["track_id"].to_pylist())
    assert set(catalog.truth_tracks["track_id"].to_pylist()) == track_ids
    artist_ids = catalog.artists["artist_id"].to_pylist()
    assert len(set(artist_ids)) == len(artist_ids)
    assert set(catalog.truth_artists["artist_id"].to_pylist()) == set(artist_ids)
    credited = {a for ids in catalog.tracks["artist_ids"].to_pylist() if ids for a in ids}
    assert credited and credited <= set(artist_ids)
    assert set(catalog.engagement["track_id"].to_pylist()) <= track_ids


def test_optional_fields_are_sometimes_null_and_audio_path_always(catalog: SyntheticCatalog) -> None:
    tracks = catalog.tracks
    assert tracks["title"].null_count == 0
    assert tracks["audio_path"].null_count == tracks.num_rows
    for field, low, high in [("artist", 0.01, 0.06), ("artist_ids", 0.002, 0.03), ("album", 0.03, 0.12),
                             ("duration_ms", 0.02, 0.09), ("isrc", 0.15, 0.30), ("release_date", 0.02, 0.10),
                             ("label", 0.04, 0.13)]:
        assert low < tracks[field].null_count / tracks.num_rows < high, field


# --- recordings and deliveries -------------------------------------------------------------------------------
def test_kinds_are_consistent_per_recording(recordings: dict[str, list[dict]]) -> None:
    for deliveries in recordings.values():
        kinds = [d["kind"] for d in deliveries]
        if kinds[0] in DERIVATIONS:
            assert set(kinds) == {kinds[0]}
        else:
            assert kinds.count("original") == 1 and set(kinds) <= {"original", *DELIVERY_KINDS}


def test_duplicate_deliveries_have_a_realistic_long_tail(recordings: dict[str, list[dict]]) -> None:
    sizes = [len(d) for d in recordings.values()]
    assert 0.32 < sum(s > 1 for s in sizes) / len(sizes) < 0.48
    assert max(sizes) >= 6 and max(sizes) <= 8


def test_every_derivation_is_present(recordings: dict[str, list[dict]]) -> None:
    counts = collections.Counter(d[0]["kind"] for d in recordings.values())
    for kind in DERIVATIONS:
        assert counts[kind] >= 3, kind
    derived = sum(counts[k] for k in DERIVATIONS)
    assert 0.15 < derived / len(recordings) < 0.35


def test_derived_titles_always_carry_their_tag_and_originals_never_do(recordings: dict[str, list[dict]]) -> None:
    for deliveries in recordings.values():
        kind = deliveries[0]["kind"]
        expected = {kind} if kind in DERIVATIONS and kind != "cover" else set()
        for delivery in deliveries:
            assert _version_kinds(delivery["title"]) == expected, (kind, delivery["title"])


def test_title_noise_is_present(rows: list[dict]) -> None:
    titles = [r["title"] for r in rows]
    assert any(t.isupper() for t in titles) and any(t == t.lower() and t != t.upper() for t in titles)
    assert any("  " in t or t.endswith(" ") for t in titles)
    assert any(_REISSUE.search(t.casefold()) for t in titles)
    for style in ("(feat. ", "[ft. ", "(featuring ", "(with ", " [", " - "):
        assert any(style in t for t in titles), style


def test_isrcs_are_valid_and_never_shared_by_two_recordings(rows: list[dict]) -> None:
    recording_of: dict[str, str] = {}
    raw_differs = 0
    isrcs_per_recording: dict[str, set[str]] = collections.defaultdict(set)
    for row in rows:
        if row["isrc"] is None:
            continue
        isrc = _normal_isrc(row["isrc"])
        assert ISRC.match(isrc), row["isrc"]
        assert recording_of.setdefault(isrc, row["recording_id"]) == row["recording_id"]
        raw_differs += row["isrc"] != isrc
        isrcs_per_recording[row["recording_id"]].add(isrc)
    assert raw_differs > 0.05 * len(recording_of)  # formatting noise: hyphens, spaces, lower case
    assert sum(len(s) > 1 for s in isrcs_per_recording.values()) > 20  # distributors' own ISRCs


def test_popular_titles_collide_across_different_artists(recordings: dict[str, list[dict]]) -> None:
    popular = {t.casefold() for t in names.POPULAR_TITLES}
    artists_per_title: dict[str, set[str]] = collections.defaultdict(set)
    for deliveries in recordings.values():
        core = _split_title(deliveries[0]["title"])[0]
        if core in popular and deliveries[0]["entity_id"]:
            artists_per_title[core].add(deliveries[0]["entity_id"])
    assert sum(len(entities) > 1 for entities in artists_per_title.values()) >= 3


def test_same_artist_same_title_recordings_differ_in_duration(recordings: dict[str, list[dict]]) -> None:
    by_artist_title: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    for deliveries in recordings.values():
        if deliveries[0]["kind"] in DERIVATIONS:
            continue
        cores = collections.Counter(_split_title(d["title"])[0] for d in deliveries)
        entity = next((d["entity_id"] for d in deliveries if d["entity_id"]), None)
        durations = [d["duration_ms"] for d in deliveries if d["duration_ms"] is not None]
        if entity and durations:
            by_artist_title[(entity, cores.most_common(1)[0][0])].append(statistics.median(durations))
    twins = [d for d in by_artist_title.values() if len(d) > 1]
    assert twins
    for durations in twins:
        assert max(durations) - min(durations) > 15_000  # > 20 s apart, less the delivery jitter


# --- artists -------------------------------------------------------------------------------------------
def test_split_entities_and_homonyms_exist(catalog: SyntheticCatalog) -> None:
    artists = {a["artist_id"]: a for a in catalog.artists.to_pylist()}
    ids_of: dict[str, list[str]] = collections.defaultdict(list)
    for row in catalog.truth_artists.to_pylist():
        ids_of[row["entity_id"]].append(row["artist_id"])
    split = [ids for ids in ids_of.values() if len(ids) > 1]
    assert 0.05 < len(split) / len(ids_of) < 0.16
    for ids in split:
        spellings = [artists[a]["name"] for a in ids]
        assert len(set(spellings)) == len(spellings)
    entities_of_name: dict[str, set[str]] = collections.defaultdict(set)
    primary = {e: artists[ids[0]] for e, ids in ids_of.items()}
    for entity, ids in ids_of.items():
        for a in ids:
            entities_of_name[artists[a]["name"]].add(entity)
    homonyms = [es for es in entities_of_name.values() if len(es) > 1]
    assert len(homonyms) >= 3
    assert any(len({primary[e]["country"] for e in es}) > 1 for es in homonyms)


def test_homonyms_have_disjoint_audiences_and_split_ids_share_one(catalog: SyntheticCatalog) -> None:
    entity_of = dict(zip(catalog.truth_artists["artist_id"].to_pylist(),
                         catalog.truth_artists["entity_id"].to_pylist(), strict=True))
    name_of = dict(zip(catalog.artists["artist_id"].to_pylist(), catalog.artists["name"].to_pylist(), strict=True))
    credited = dict(zip(catalog.tracks["track_id"].to_pylist(), catalog.tracks["artist_ids"].to_pylist(),
                        strict=True))
    by_entity: dict[str, dict[str, set[str]]] = collections.defaultdict(lambda: collections.defaultdict(set))
    for user, track in zip(catalog.engagement["user_id"].to_pylist(), catalog.engagement["track_id"].to_pylist(),
                           strict=True):
        for artist in credited[track] or ():
            by_entity[entity_of[artist]][artist].add(user)
    entities_of_name: dict[str, set[str]] = collections.defaultdict(set)
    for artist, name in name_of.items():
        entities_of_name[name].add(entity_of[artist])
    checked = 0
    for entities in entities_of_name.values():
        audiences = [set().union(*by_entity[e].values()) for e in sorted(entities)]
        for i, first in enumerate(audiences):
            for second in audiences[i + 1 :]:
                assert not first & second
                checked += bool(first and second)
    assert checked
    split = [list(ids.values()) for ids in by_entity.values() if len(ids) > 1]
    assert split and sum(bool(a[0] & a[1]) for a in split) > 0.5 * len(split)


def test_engagement_rows_are_distinct_with_positive_plays(catalog: SyntheticCatalog) -> None:
    pairs = list(zip(catalog.engagement["user_id"].to_pylist(), catalog.engagement["track_id"].to_pylist(),
                     strict=True))
    assert len(set(pairs)) == len(pairs)
    assert min(catalog.engagement["plays"].to_pylist()) >= 1


# --- name and text helpers --------------------------------------------------------------------------------
def test_transliteration_conventions_differ_by_small_edits() -> None:
    spelled = {c: spelling.transliterate("Щербакова Юлия Хайруллина", c) for c in spelling.TRANSLIT_CONVENTIONS}
    assert spelled["bgn"] == "Shcherbakova Yuliya Khayrullina"
    assert len(set(spelled.values())) == len(spelled)
    assert all(not any("\u0400" <= ch <= "\u04ff" for ch in s) for s in spelled.values())


def test_width_variants_fold_back_under_nfkc() -> None:
    assert spelling.to_halfwidth_katakana("ガンダム") == "ｶﾞﾝﾀﾞﾑ"
    assert unicodedata.normalize("NFKC", spelling.to_halfwidth_katakana("ガンダム・パープル")) == "ガンダム・パープル"
    assert unicodedata.normalize("NFKC", spelling.to_fullwidth_ascii("ONE OK 7")) == "ONE OK 7"


def test_strip_accents_leaves_cyrillic_and_kana_alone() -> None:
    assert spelling.strip_accents("Motörhead Sigur Rós Beyoncé Ødegård") == "Motorhead Sigur Ros Beyonce Odegard"
    assert spelling.strip_accents("Йошкар ガギ") == "Йошкар ガギ"


def test_typo_always_changes_text_with_letters() -> None:
    rnd = random.Random(0)
    for text in ("a", "ab", "Hello World", "Любовь", "사랑", "さくら", "Aa"):
        assert spelling.typo(rnd, text) != text
    assert spelling.typo(rnd, "2 4 6") == "2 4 6"


def test_catalog_strings_are_well_formed(catalog: SyntheticCatalog) -> None:
    for column in ("title", "artist", "album"):
        for value in catalog.tracks[column].to_pylist():
            assert value is None or (value.strip() and "{" not in value), (column, value)
    dates = [d for d in catalog.tracks["release_date"].to_pylist() if d]
    assert dates and all(re.fullmatch(r"(19[5-9]\d|20[0-2]\d)-\d\d-\d\d", d) for d in dates)
