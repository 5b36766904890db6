"""Seeded synthetic duplicate catalog with ground truth: the benchmark the resolver is measured on.

The simulated world, outside in:

* artist **entities** (truth ``entity_id``) in five scripts, with Zipf popularity, a genre family and a country;
  ~2 % are homonyms (same name as another entity, different genre family and country);
* artist **ids** (``artists`` rows): ~10 % of entities are split over 2–3 ids whose names are small variants
  (accents stripped, "The" dropped/moved, "&" ↔ "and", typo, another Cyrillic transliteration, kana width or
  spacing);
* **recordings** (truth ``recording_id``) with unique valid ISRCs; ~25 % of them get 1–2 *derived* recordings
  (live, remix, cover, ...) that look alike but are different recordings — the hard negatives;
* **deliveries** (``tracks`` rows): 1–8 per recording, each an independently noisy copy of the recording's
  metadata (title case/punctuation/typos/reissue tags, credited id and credit style, ISRC formatting or a
  distributor's own ISRC, duration jitter, album/label/date of the release it came in);
* **engagement**: users in genre-family communities play Zipf-popular artists, so duplicate deliveries and
  split ids share an audience while homonyms never do.

Pure: no I/O, printing or env reads. All randomness flows from ``numpy.random.default_rng(seed)``; per-string
choices use a ``random.Random`` seeded from that Generator (far cheaper per scalar draw), so the same seed
gives identical tables.
"""

from __future__ import annotations

import datetime
import math
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from resolver import synthetic_names as names
from resolver.records import (
    ARTIST_SCHEMA,
    ENGAGEMENT_SCHEMA,
    TRACK_SCHEMA,
    TRUTH_ARTISTS_SCHEMA,
    TRUTH_TRACKS_SCHEMA,
)

# --- knobs (each a rate per entity / recording / delivery; the why after the value) ---------------------
RECORDINGS_PER_ENTITY = 6.0  # mean non-derived recordings per artist entity: most have a few
POPULARITY_EXPONENT = 0.6  # Zipf exponent of artist popularity: the top artist has ~0.5 % of recordings
SPLIT_ENTITY_RATE = 0.10  # entities whose releases were ingested under 2–3 artist ids
HOMONYM_RATE = 0.02  # entities that share their exact name with a different entity
FEATURED_RATE = 0.15  # recordings with a featured artist
POPULAR_TITLE_RATE = 0.04  # recordings titled "Intro", "Home", ... (collide across artists)
SAME_TITLE_RATE = 0.01  # recordings reusing a title of the same artist (a different song)
DERIVED_RATE = 0.25  # recordings that get 1–2 derived recordings (hard negatives)
MULTI_DELIVERY_RATE = (0.43, 0.36)  # recordings delivered 2+ times: (original, derived) → ~40 % overall
DERIVATIONS = {  # derivation → share among derived recordings
    "live": 0.17, "remix": 0.17, "acoustic": 0.08, "instrumental": 0.08, "radio_edit": 0.09, "extended": 0.07,
    "rerecording": 0.07, "sped_up": 0.06, "slowed": 0.06, "demo": 0.06, "cover": 0.09,
}
ENGAGEMENT_ROWS_PER_TRACK = 5  # default engagement rows
ROWS_PER_USER = 25  # mean distinct tracks per user
FAVOURITE_SHARE = 0.6  # plays that go to one of a user's 3 favourite artists

FAMILIES = {
    "pop": ("pop", "dance pop", "synth-pop", "indie pop"),
    "rock": ("rock", "indie rock", "alternative", "metal", "punk"),
    "hiphop": ("hip hop", "rap", "trap", "r&b"),
    "electronic": ("electronic", "house", "techno", "drum and bass", "ambient"),
    "soul_jazz": ("jazz", "soul", "blues", "funk"),
    "folk_world": ("folk", "country", "latin", "reggae", "singer-songwriter"),
}
_FAMILY_NAMES = tuple(FAMILIES)
_FAMILY_WEIGHTS = {  # per script, in _FAMILY_NAMES order
    "latin": (0.25, 0.22, 0.18, 0.15, 0.10, 0.10), "accented": (0.25, 0.20, 0.10, 0.15, 0.10, 0.20),
    "cyrillic": (0.30, 0.30, 0.20, 0.10, 0.05, 0.05), "japanese": (0.45, 0.30, 0.05, 0.10, 0.05, 0.05),
    "korean": (0.60, 0.10, 0.15, 0.10, 0.03, 0.02),
}
_COUNTRIES = {"latin": ("US", "US", "US", "GB", "GB", "CA", "AU", "IE", "NZ"),
              "cyrillic": ("RU", "RU", "UA", "BY", "KZ"), "japanese": ("JP",), "korean": ("KR",)}
_ALL_COUNTRIES = tuple(sorted({c for cs in (*_COUNTRIES.values(), *names.ACCENT_COUNTRIES.values()) for c in cs}))


@dataclass(frozen=True)
class SyntheticCatalog:
    """A generated catalog (the first three tables) and its ground truth (the last two)."""

    tracks: pa.Table  # TRACK_SCHEMA; audio_path all null
    artists: pa.Table  # ARTIST_SCHEMA
    engagement: pa.Table  # ENGAGEMENT_SCHEMA
    truth_tracks: pa.Table  # TRUTH_TRACKS_SCHEMA: track_id → recording_id, kind
    truth_artists: pa.Table  # TRUTH_ARTISTS_SCHEMA: artist_id → entity_id


@dataclass(frozen=True)
class _Entities:
    script: list[str]
    language: list[str]
    name: list[str]
    family: np.ndarray  # int index into _FAMILY_NAMES, shape (n_entities,)
    genres: list[list[str]]
    country: list[str]
    weight: np.ndarray  # popularity, float64, shape (n_entities,)


@dataclass(frozen=True)
class _Artists:
    artist_id: list[str]
    name: list[str]
    entity: np.ndarray  # int64, shape (n_artists,)
    bare: np.ndarray  # bool: a secondary id created without genres/country (~30 % of them)
    of_entity: list[list[int]]  # artist indices per entity


def generate_catalog(*, n_tracks: int, seed: int = 0, engagement_rows: int | None = None,
                     progress: Callable[[int], None] | None = None) -> SyntheticCatalog:
    """Generate a seeded duplicate catalog of exactly ``n_tracks`` track rows with ground truth.

    ``engagement_rows`` defaults to 5 × ``n_tracks``; ``progress`` receives increments of tracks generated
    (they sum to ``n_tracks``). Same arguments → equal tables. About 30 µs per track (1M tracks ≈ 30 s,
    ≈ 1.2 GB peak RSS).
    """
    _check_arguments(n_tracks, seed, engagement_rows, progress)
    rng = np.random.default_rng(seed)
    rnd = random.Random(int(rng.integers(0, 2**62)))
    base_deliveries, derived_base, derived_deliveries = _plan_recordings(rng, n_tracks)
    n_base = len(base_deliveries)
    entities = _make_entities(rng, rnd, max(1, round(n_base / RECORDINGS_PER_ENTITY)))
    artists = _make_artists(rng, rnd, entities)
    base_entity = _assign_entities(rng, entities.weight, n_base)
    base_deliveries = _favour_popular(rng, base_deliveries, entities.weight[base_entity])
    recordings = _make_recordings(rng, rnd, entities, base_entity, derived_base)
    deliveries = np.concatenate([base_deliveries, derived_deliveries])
    track_ids = pa.array(_random_ids(rng, n_tracks, "t", 12), pa.string())
    tracks, truth = _deliver(rng, rnd, recordings, deliveries, track_ids, entities, artists, progress)
    rows = n_tracks * ENGAGEMENT_ROWS_PER_TRACK if engagement_rows is None else int(engagement_rows)
    engagement = _make_engagement(rng, rows, track_ids, recordings.entity, deliveries, entities)
    order = rng.permutation(n_tracks)
    artist_order = rng.permutation(len(artists.artist_id))
    truth_artists = pa.table({"artist_id": artists.artist_id,
                              "entity_id": [f"e{e:07d}" for e in artists.entity.tolist()]},
                             schema=TRUTH_ARTISTS_SCHEMA)
    return SyntheticCatalog(tracks=tracks.take(order), artists=_artist_table(artists, entities).take(artist_order),
                            engagement=engagement, truth_tracks=truth.take(order),
                            truth_artists=truth_artists.take(artist_order))


def _check_arguments(n_tracks: object, seed: object, engagement_rows: object, progress: object) -> None:
    integer = int | np.integer
    if isinstance(n_tracks, bool) or not isinstance(n_tracks, integer) or n_tracks < 1:
        raise ValueError(f"n_tracks must be an integer >= 1, got {n_tracks!r}")
    if isinstance(seed, bool) or not isinstance(seed, integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if engagement_rows is not None and (isinstance(engagement_rows, bool) or not isinstance(engagement_rows, integer)
                                        or engagement_rows < 0):
        raise ValueError(f"engagement_rows must be None or an integer >= 0, got {engagement_rows!r}")
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be None or a callable taking an int, got {progress!r}")


def _random_ids(rng: np.random.Generator, n: int, prefix: str, hex_digits: int) -> list[str]:
    """``n`` distinct random-looking ids such as ``"t3fa9c01b22de"``."""
    values = rng.integers(0, 16**hex_digits, size=n, dtype=np.int64)
    while True:
        _, first = np.unique(values, return_index=True)
        if len(first) == n:
            return [f"{prefix}{v:0{hex_digits}x}" for v in values.tolist()]
        duplicate = np.ones(n, dtype=bool)
        duplicate[first] = False
        values[duplicate] = rng.integers(0, 16**hex_digits, size=int(duplicate.sum()), dtype=np.int64)


# --- plan: how many recordings and deliveries ---------------------------------------------------------
def _delivery_counts(rng: np.random.Generator, n: int, multi_rate: float, decay: float, most: int) -> np.ndarray:
    """1 delivery, or with ``multi_rate`` 2..``most`` with a geometric tail."""
    extra = np.minimum(rng.geometric(decay, n), most - 1)
    return np.where(rng.random(n) < multi_rate, 1 + extra, 1).astype(np.int64)


def _plan_recordings(rng: np.random.Generator, n_tracks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deliveries per base recording, base index per derived recording, deliveries per derived recording.

    Groups (a base recording and its derived ones) are drawn until they hold ``n_tracks`` deliveries, then
    the last group is trimmed so the total is exact.
    """
    n_base = int(n_tracks / 2.1) + 16
    while True:
        base = _delivery_counts(rng, n_base, MULTI_DELIVERY_RATE[0], 0.55, 8)
        n_derived = np.where(rng.random(n_base) < DERIVED_RATE, 1 + (rng.random(n_base) < 0.3), 0)
        derived_base = np.repeat(np.arange(n_base), n_derived)
        derived = _delivery_counts(rng, len(derived_base), MULTI_DELIVERY_RATE[1], 0.65, 4)
        cumulative = np.cumsum(base + np.bincount(derived_base, weights=derived, minlength=n_base).astype(np.int64))
        if cumulative[-1] >= n_tracks:
            break
        n_base *= 2
    last = int(np.searchsorted(cumulative, n_tracks))
    excess = int(cumulative[last]) - n_tracks
    keep = derived_base <= last
    base, derived_base, derived = base[: last + 1], derived_base[keep], derived[keep]
    for i in np.flatnonzero(derived_base == last)[::-1]:
        cut = min(excess, int(derived[i]))
        derived[i] -= cut
        excess -= cut
    base[last] -= excess
    keep = derived > 0
    return base, derived_base[keep], derived[keep]


def _assign_entities(rng: np.random.Generator, weight: np.ndarray, n_base: int) -> np.ndarray:
    """Primary entity of each base recording: every entity at least one, the rest by popularity."""
    n_entities = len(weight)
    extra = rng.choice(n_entities, size=n_base - n_entities, p=weight / weight.sum())
    return rng.permutation(np.concatenate([np.arange(n_entities), extra]))


def _favour_popular(rng: np.random.Generator, counts: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """Permute delivery counts so popular artists' recordings (hits) tend to get the most deliveries."""
    key = np.log(popularity) + 2.0 * rng.gumbel(size=len(counts))
    out = np.empty_like(counts)
    out[np.argsort(-key, kind="stable")] = np.sort(counts)[::-1]
    return out


# --- entities and artist ids --------------------------------------------------------------------------
def _unique_name(rnd: random.Random, script: str, language: str, used: set[str]) -> str:
    for _ in range(30):
        name = names.artist_name(rnd, script, language)
        if name.casefold() not in used:
            break
    else:
        name = f"{name} {names.invented_word(rnd)}"
    used.add(name.casefold())
    return name


def _genres(rnd: random.Random, family: int, script: str) -> list[str]:
    pool = FAMILIES[_FAMILY_NAMES[family]]
    picked = rnd.sample(pool, rnd.choice((1, 1, 2, 2, 3)))
    if _FAMILY_NAMES[family] == "pop" and script in ("japanese", "korean"):
        picked = ["j-pop" if script == "japanese" else "k-pop", *picked[:2]]
    return picked


def _make_entities(rng: np.random.Generator, rnd: random.Random, n: int) -> _Entities:
    """Artist entities with unique names, then ~2 % turned into homonyms of another entity."""
    script_index = rng.choice(len(names.SCRIPTS), size=n, p=names.SCRIPT_WEIGHTS).tolist()
    weight = (1.0 + rng.permutation(n)) ** -POPULARITY_EXPONENT
    scripts, languages, entity_names, families, genres, countries = [], [], [], [], [], []
    used: set[str] = set()
    for i in script_index:
        script = names.SCRIPTS[i]
        language = rnd.choice(names.ACCENT_LANGUAGES) if script == "accented" else script
        family = rnd.choices(range(len(_FAMILY_NAMES)), weights=_FAMILY_WEIGHTS[script])[0]
        scripts.append(script)
        languages.append(language)
        entity_names.append(_unique_name(rnd, script, language, used))
        families.append(family)
        genres.append(_genres(rnd, family, script))
        countries.append(rnd.choice(names.ACCENT_COUNTRIES[language] if script == "accented" else _COUNTRIES[script]))
    n_homonyms = round(HOMONYM_RATE * n) if n >= 20 else 0
    chosen = rng.choice(n, size=2 * n_homonyms, replace=False).tolist()
    for source, target in zip(chosen[:n_homonyms], chosen[n_homonyms:], strict=True):
        scripts[target], languages[target] = scripts[source], languages[source]
        entity_names[target] = entity_names[source]
        families[target] = rnd.choice([f for f in range(len(_FAMILY_NAMES)) if f != families[source]])
        genres[target] = _genres(rnd, families[target], scripts[target])
        countries[target] = rnd.choice([c for c in _ALL_COUNTRIES if c != countries[source]])
    return _Entities(scripts, languages, entity_names, np.array(families, dtype=np.int64), genres, countries,
                     weight)


def _make_artists(rng: np.random.Generator, rnd: random.Random, entities: _Entities) -> _Artists:
    """One artist id per entity, 2–3 for ~10 % (split entities) with distinct name variants."""
    n = len(entities.name)
    id_counts = np.where(rng.random(n) < SPLIT_ENTITY_RATE, 2 + (rng.random(n) < 0.3), 1).tolist()
    artist_names: list[str] = []
    entity: list[int] = []
    primary: list[bool] = []
    of_entity: list[list[int]] = []
    for e, count in enumerate(id_counts):
        spellings = [entities.name[e]]
        for _ in range(12 * count):
            if len(spellings) == count:
                break
            variant = names.name_variant(rnd, entities.name[e], entities.script[e])
            if variant not in spellings:
                spellings.append(variant)
        of_entity.append(list(range(len(artist_names), len(artist_names) + len(spellings))))
        artist_names.extend(spellings)
        entity.extend([e] * len(spellings))
        primary.extend([True] + [False] * (len(spellings) - 1))
    bare = ~np.array(primary) & (rng.random(len(primary)) < 0.3)
    return _Artists(_random_ids(rng, len(artist_names), "a", 10), artist_names, np.array(entity, np.int64), bare,
                    of_entity)


def _artist_table(artists: _Artists, entities: _Entities) -> pa.Table:
    genres, countries = [], []
    for e, bare in zip(artists.entity.tolist(), artists.bare.tolist(), strict=True):
        genres.append(None if bare else entities.genres[e])
        countries.append(None if bare else entities.country[e])
    return pa.table({"artist_id": artists.artist_id, "name": artists.name, "genres": genres,
                     "country": countries}, schema=ARTIST_SCHEMA)


# --- recordings ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Recordings:
    """Column arrays of recordings, base recordings first then derived ones; the index is the truth id."""

    entity: np.ndarray  # int64 primary artist entity
    featured: np.ndarray  # int64 featured entity, or -1
    derivation: list[str]  # "" for an original recording, else a DERIVATIONS key
    tags: list[tuple[str, ...]]  # title tag spellings a delivery picks one of (empty: original or cover)
    title: list[str]
    album: list[str]
    duration_ms: np.ndarray  # int64
    release_day: np.ndarray  # int64 proleptic Gregorian ordinal
    isrc: list[str]
    label: list[str]
    label_pool: list[str]  # every label, biggest first


_FIRST_DAY = datetime.date(1955, 1, 1).toordinal()
_LAST_DAY = datetime.date(2025, 12, 31).toordinal()
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _day(rnd: random.Random, year: int) -> int:
    """A random day of ``year`` (clipped to the catalog's date range) as an ordinal."""
    return min(max(datetime.date(min(max(year, 1955), 2025), 1, 1).toordinal() + rnd.randrange(365),
                   _FIRST_DAY), _LAST_DAY)


def _year(day: int) -> int:
    return datetime.date.fromordinal(day).year


def _registrants(rnd: random.Random, n: int) -> list[str]:
    """``n`` distinct 3-character ISRC registrant codes (a letter, then letters or digits)."""
    codes: dict[str, None] = {}
    while len(codes) < n:
        codes[rnd.choice(_ALNUM[:26]) + rnd.choice(_ALNUM) + rnd.choice(_ALNUM)] = None
    return list(codes)


def _new_isrc(rnd: random.Random, issued: set[str], country: str, registrant: str, year: int) -> str:
    """A valid ISRC never issued before in this catalog."""
    while True:
        code = f"{country}{registrant}{year % 100:02d}{rnd.randrange(100_000):05d}"
        if code not in issued:
            issued.add(code)
            return code


@dataclass(frozen=True)
class _Labels:
    name: list[str]
    registrant: list[str]
    of_entity: np.ndarray  # int64 label index per entity


def _make_labels(rng: np.random.Generator, rnd: random.Random, n_entities: int) -> _Labels:
    """Zipf-sized record labels (a few majors, many small ones) and each entity's label."""
    label_names: dict[str, None] = {}
    while len(label_names) < max(5, n_entities // 12):
        label_names[names.label_name(rnd)] = None
    weight = (1.0 + np.arange(len(label_names))) ** -1.0
    of_entity = rng.choice(len(label_names), size=n_entities, p=weight / weight.sum())
    return _Labels(list(label_names), _registrants(rnd, len(label_names)), of_entity)


def _base_titles(rnd: random.Random, entities: _Entities, base_entity: np.ndarray, career_start: np.ndarray,
                 duration_ms: np.ndarray) -> tuple[list[str], list[str], list[int]]:
    """Title, album and release day of each base recording, artist by artist.

    Titles are unique per artist except ~1 % deliberate re-uses (a different song with the same title:
    another album and a duration > 20 s away, written into ``duration_ms``).
    """
    n_base = len(base_entity)
    titles, albums, days = [""] * n_base, [""] * n_base, [0] * n_base
    album_of = [0] * n_base
    order = np.argsort(base_entity, kind="stable")
    bounds = np.searchsorted(base_entity[order], np.arange(len(entities.name) + 1)).tolist()
    for e in range(len(entities.name)):
        members = order[bounds[e] : bounds[e + 1]].tolist()
        script, language, start = entities.script[e], entities.language[e], int(career_start[e])
        n_albums = max(1, math.ceil(len(members) / rnd.uniform(8, 12)))
        album_titles: list[str] = []
        while len(album_titles) < n_albums:
            album = entities.name[e] if not album_titles and rnd.random() < 0.05 else names.recording_title(
                rnd, script, language)
            album_titles.append(album if album not in album_titles else f"{album} {len(album_titles) + 1}")
        album_days = [_day(rnd, rnd.randint(start, min(start + 25, 2025))) for _ in album_titles]
        used: set[str] = set()
        once: list[int] = []
        for b in members:
            roll = rnd.random()
            album_of[b] = rnd.randrange(n_albums)
            title = ""
            if roll < POPULAR_TITLE_RATE:
                title = names.POPULAR_TITLES[int(len(names.POPULAR_TITLES) * rnd.random() ** 2)]  # "Intro" first
                title = "" if title.casefold() in used else title
            elif roll < POPULAR_TITLE_RATE + SAME_TITLE_RATE and once:
                partner = once.pop(rnd.randrange(len(once)))
                title = titles[partner]
                delta = rnd.uniform(25_000, 90_000) * rnd.choice((-1, 1))
                moved = duration_ms[partner] + delta
                duration_ms[b] = moved if 90_000 <= moved <= 480_000 else duration_ms[partner] - delta
                if n_albums > 1 and album_of[b] == album_of[partner]:
                    album_of[b] = (album_of[b] + 1) % n_albums
            if not title:
                for _ in range(20):
                    title = names.recording_title(rnd, script, language)
                    if title.casefold() not in used:
                        break
                else:
                    title = f"{title} {names.invented_word(rnd)}"
                once.append(b)
            used.add(title.casefold())
            titles[b] = title
            if rnd.random() < 0.12:  # a stand-alone single
                albums[b], days[b] = f"{title} - Single", _day(rnd, rnd.randint(start, min(start + 25, 2025)))
            else:
                albums[b], days[b] = album_titles[album_of[b]], album_days[album_of[b]]
    return titles, albums, days


def _family_sampler(entities: _Entities) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per genre family: (member entities, cumulative popularity) for popularity-weighted picks."""
    out = []
    for f in range(len(_FAMILY_NAMES)):
        members = np.flatnonzero(entities.family == f)
        out.append((members, np.cumsum(entities.weight[members])))
    return out


def _pick_other(members: np.ndarray, cumulative: np.ndarray, uniforms: np.ndarray, avoid: np.ndarray) -> np.ndarray:
    """Popularity-weighted members of one family, never equal to ``avoid`` (needs 2+ members)."""
    position = np.minimum(np.searchsorted(cumulative, uniforms * cumulative[-1], side="right"), len(members) - 1)
    picked = members[position]
    same = picked == avoid
    picked[same] = members[(position[same] + 1) % len(members)]
    return picked


def _featured(rng: np.random.Generator, entities: _Entities, base_entity: np.ndarray,
              sampler: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Featured entity per base recording (-1 for none): ~15 %, from the same genre family."""
    featured = np.full(len(base_entity), -1, dtype=np.int64)
    wants = rng.random(len(base_entity)) < FEATURED_RATE
    family = entities.family[base_entity]
    for f, (members, cumulative) in enumerate(sampler):
        rows = np.flatnonzero(wants & (family == f))
        if len(members) >= 2 and len(rows):
            featured[rows] = _pick_other(members, cumulative, rng.random(len(rows)), base_entity[rows])
    return featured


_DERIVED_YEARS = {  # years after the original: (low, high)
    "live": (0, 6), "remix": (0, 3), "acoustic": (0, 5), "instrumental": (0, 1), "radio_edit": (0, 0),
    "extended": (0, 1), "rerecording": (5, 15), "sped_up": (0, 4), "slowed": (0, 4), "demo": (0, 20),
    "cover": (1, 30),
}


def _derived_duration_ms(rnd: random.Random, kind: str, base_ms: int) -> int:
    """The derived recording's duration: live ±5–40 s, remix +30–200 s, re-recording within ±3 s, ..."""
    sign = rnd.choice((-1, 1))
    seconds = {
        "live": sign * rnd.uniform(5, 40), "remix": rnd.uniform(30, 200), "extended": rnd.uniform(30, 200),
        "radio_edit": -rnd.uniform(20, min(90, base_ms / 1000 - 60)), "rerecording": sign * rnd.uniform(0, 3),
        "instrumental": sign * rnd.uniform(0, 2), "acoustic": sign * rnd.uniform(5, 30),
        "demo": sign * rnd.uniform(5, 60), "cover": sign * rnd.uniform(0, 20),
        "sped_up": -base_ms / 1000 * rnd.uniform(0.19, 0.21), "slowed": base_ms / 1000 * rnd.uniform(0.19, 0.21),
    }[kind]
    return max(45_000, int(base_ms + seconds * 1000))


def _derivation(rnd: random.Random, siblings: set[str], base_ms: int, can_cover: bool) -> str:
    """A derivation kind not yet used by a sibling (two remixes may coexist) that fits the original."""
    kinds, weights = list(DERIVATIONS), list(DERIVATIONS.values())
    while True:
        kind = rnd.choices(kinds, weights=weights)[0]
        if (kind in siblings and kind != "remix") or (kind == "radio_edit" and base_ms < 150_000):
            continue
        if kind != "cover" or can_cover:
            return kind


def _make_recordings(rng: np.random.Generator, rnd: random.Random, entities: _Entities, base_entity: np.ndarray,
                     derived_base: np.ndarray) -> _Recordings:
    """Base recordings (titles, albums, featured artists, ISRCs) and their derived hard negatives."""
    n_base, n_entities = len(base_entity), len(entities.name)
    labels = _make_labels(rng, rnd, n_entities)
    career_start = np.clip(2024 - rng.exponential(20.0, n_entities), 1958, 2023).astype(np.int64)
    duration = (np.clip(rng.lognormal(np.log(215.0), 0.3, n_base), 90, 480) * 1000).astype(np.int64)
    titles, albums, days = _base_titles(rnd, entities, base_entity, career_start, duration)
    sampler = _family_sampler(entities)
    featured = _featured(rng, entities, base_entity, sampler)
    issued: set[str] = set()
    entity_list, featured_list, duration_list = base_entity.tolist(), featured.tolist(), duration.tolist()
    label_of = labels.of_entity.tolist()
    isrcs = [_new_isrc(rnd, issued, entities.country[e], labels.registrant[label_of[e]], _year(day))
             for e, day in zip(entity_list, days, strict=True)]
    derivations, tags = [""] * n_base, [()] * n_base
    sibling_count = np.bincount(derived_base, minlength=n_base).tolist()
    cover_uniforms = rng.random(len(derived_base)).tolist()
    previous, siblings, sibling_tags = -1, set(), ()
    for j, b in enumerate(derived_base.tolist()):
        if b != previous:
            previous, siblings, sibling_tags = b, set(), ()
        e = entity_list[b]
        members, cumulative = sampler[int(entities.family[e])]
        kind = _derivation(rnd, siblings, duration_list[b], len(members) >= 2)
        siblings.add(kind)
        year = min(_year(days[b]) + rnd.randint(*_DERIVED_YEARS[kind]), 2025)
        if kind in ("sped_up", "slowed"):
            year = max(year, rnd.randint(2019, 2025))
        feat = featured_list[b]
        if kind == "cover":
            e = int(_pick_other(members, cumulative, np.array([cover_uniforms[j]]), np.array([e]))[0])
            feat = -1
        tag = names.derived_tags(rnd, kind, entities.name[e], entities.script[e], year,
                                 named=sibling_count[b] > 1, taken=sibling_tags)
        sibling_tags += tag
        album = albums[b] if kind != "cover" else names.recording_title(rnd, entities.script[e],
                                                                         entities.language[e])
        entity_list.append(e)
        featured_list.append(feat)
        derivations.append(kind)
        tags.append(tag)
        titles.append(titles[b])
        albums.append(names.derived_album(rnd, kind, titles[b], album, entities.name[e], tag))
        duration_list.append(_derived_duration_ms(rnd, kind, duration_list[b]))
        days.append(_day(rnd, year))
        isrcs.append(_new_isrc(rnd, issued, entities.country[e], labels.registrant[label_of[e]], year))
    return _Recordings(
        entity=np.array(entity_list, dtype=np.int64), featured=np.array(featured_list, dtype=np.int64),
        derivation=derivations, tags=tags, title=titles, album=albums,
        duration_ms=np.array(duration_list, dtype=np.int64), release_day=np.array(days, dtype=np.int64),
        isrc=isrcs, label=[labels.name[label_of[e]] for e in entity_list], label_pool=labels.name)


# --- deliveries (track rows) ---------------------------------------------------------------------------------
DELIVERY_KINDS = ("album", "single", "compilation", "deluxe", "remaster", "distributor")
_DELIVERY_WEIGHTS = (0.22, 0.18, 0.25, 0.10, 0.10, 0.15)
_REISSUE_RATE = {"original": 0.02, "album": 0.12, "single": 0.03, "compilation": 0.08, "deluxe": 0.30,
                 "remaster": 0.65, "distributor": 0.05}  # derived deliveries: 0.04
_DAY_OFFSETS = {"original": (0, 0), "album": (0, 30), "single": (-90, -7), "compilation": (365, 15 * 365),
                "deluxe": (180, 3 * 365), "remaster": (5 * 365, 30 * 365), "distributor": (0, 10 * 365)}
_DERIVED_DAY_OFFSETS = (0, 5 * 365)
NULL_RATES = {"artist": 0.03, "artist_ids": 0.01, "album": 0.07, "label": 0.08, "release_date": 0.06,
              "duration_ms": 0.05}
ISRC_NULL_RATE = 0.22  # deliveries without an ISRC
ISRC_OTHER_RATE = (0.17, 0.45)  # a later delivery carrying a distributor's own ISRC: (other kinds, distributor)
ISRC_FORMAT_RATE = 0.20  # deliveries of the recording's ISRC with hyphens/spaces/lower case
FEATURED_PLACEMENT = (0.50, 0.85, 0.90)  # cumulative: in the artist credit, in the title, in both, else dropped
_DURATION_JITTER_MS = (700.0, 2500)  # sd and clip of the per-delivery duration jitter
_CHUNK_ROWS = 65_536
_DISTRIBUTOR_PREFIXES = ("QZ", "QM", "US", "GB", "FR", "DE", "SE", "NL")


@dataclass(frozen=True)
class _Release:
    """What one delivery of a recording came out as."""

    kind: str
    day: int
    album: str
    label: str


def _release(rnd: random.Random, kind: str, first: bool, r: int, rec: _Recordings, artist: str, genre: str,
             labels: list[str]) -> _Release:
    """Kind-specific release date, album and label of one delivery."""
    title, album, label = rec.title[r], rec.album[r], rec.label[r]
    derived = kind not in _REISSUE_RATE
    low, high = (0, 0) if derived and first else _DERIVED_DAY_OFFSETS if derived else _DAY_OFFSETS[kind]
    released = int(rec.release_day[r])
    latest = min(released + high, _LAST_DAY)  # a reissue of a recent recording comes out before the cut-off
    earliest = released + low if released + low <= latest else min(released, latest)
    day = max(rnd.randint(earliest, latest), _FIRST_DAY)
    year = _year(day)
    roll = rnd.random()
    if kind == "compilation" or (derived and roll > 0.8):
        album = names.compilation_album(rnd, artist, year, _year(int(rec.release_day[r])), genre)
        label = labels[rnd.randrange(min(20, len(labels)))]  # the biggest labels release compilations
    elif derived and roll > 0.65:
        album = f"{title} ({rnd.choice(rec.tags[r])}) - Single" if rec.tags[r] else f"{title} - Single"
    elif kind in ("single", "deluxe", "remaster"):
        album = names.release_album(rnd, kind, album, title, year)
    if kind == "distributor":
        label = rnd.choice(names.DISTRIBUTORS)
    elif kind != "compilation":
        roll = rnd.random()
        if roll < 0.06:
            label = rnd.choice(labels)
        elif roll < 0.11:
            label = names.label_variant(rnd, label)
    return _Release(kind, day, album, label)


def _feature_credit(rnd: random.Random, featured_name: str) -> tuple[str | None, str | None, bool]:
    """Where one delivery puts the featured artist: (in the credit, in the title, id kept in artist_ids)."""
    roll = rnd.random()
    in_credit, in_title, in_both = FEATURED_PLACEMENT
    if roll < in_credit:
        return featured_name, None, True
    if roll < in_title:
        return None, featured_name, rnd.random() < 0.7
    if roll < in_both:
        return featured_name, featured_name, True
    return None, None, rnd.random() < 0.5


def _deliver(rng: np.random.Generator, rnd: random.Random, rec: _Recordings, deliveries: np.ndarray,
             track_ids: pa.Array, entities: _Entities, artists: _Artists,
             progress: Callable[[int], None] | None) -> tuple[pa.Table, pa.Table]:
    """Every delivery of every recording as a noisy track row (generation order) and its truth row."""
    n = int(deliveries.sum())
    track_recording = np.repeat(np.arange(len(deliveries)), deliveries)
    jitter = np.clip(rng.normal(0.0, _DURATION_JITTER_MS[0], n), -_DURATION_JITTER_MS[1], _DURATION_JITTER_MS[1])
    duration = rec.duration_ms[track_recording] + jitter.astype(np.int64)
    nulls = {field: rng.random(n) < rate for field, rate in NULL_RATES.items()}
    issued = set(rec.isrc)
    distributor_codes = list(zip(_DISTRIBUTOR_PREFIXES, _registrants(rnd, len(_DISTRIBUTOR_PREFIXES)), strict=True))
    recent = (rec.release_day > datetime.date(2012, 1, 1).toordinal()).tolist()
    kinds_cum = np.cumsum(_DELIVERY_WEIGHTS).tolist()
    columns: dict[str, list] = {k: [] for k in ("title", "artist", "artist_ids", "album", "isrc", "release_date",
                                                "label", "kind")}
    arrays: dict[str, list[pa.Array]] = {k: [] for k in columns}
    done = 0

    def flush() -> None:
        nonlocal done
        stop = done + len(columns["title"])
        for field, values in columns.items():
            kind = pa.list_(pa.string()) if field == "artist_ids" else pa.string()
            mask = nulls[field][done:stop] if field in nulls else None
            arrays[field].append(pa.array(values, kind, mask=mask))
            values.clear()
        if progress is not None:
            progress(stop - done)
        done = stop

    for r, count in enumerate(deliveries.tolist()):
        e, f = int(rec.entity[r]), int(rec.featured[r])
        ids_e, ids_f = artists.of_entity[e], artists.of_entity[f] if f >= 0 else None
        derivation, tags, isrc = rec.derivation[r], rec.tags[r], rec.isrc[r]
        accented = names.has_accents(rec.title[r])
        family = _FAMILY_NAMES[entities.family[e]]
        reissue_pool = names.REISSUE_TAGS["electronic" if family == "electronic" else "other"]
        for d in range(count):
            kind = derivation or ("original" if d == 0 else DELIVERY_KINDS[bisect_right(kinds_cum, rnd.random())])
            while kind == "remaster" and recent[r]:  # nothing from the last decade is remastered yet
                kind = DELIVERY_KINDS[bisect_right(kinds_cum, rnd.random())]
            a = rnd.choice(ids_e)
            credit_ids = [artists.artist_id[a]]
            in_credit = in_title = None
            if ids_f is not None:
                fa = rnd.choice(ids_f)
                in_credit, in_title, keep_id = _feature_credit(rnd, artists.name[fa])
                if keep_id:
                    credit_ids.append(artists.artist_id[fa])
            release = _release(rnd, kind, d == 0, r, rec, artists.name[a], entities.genres[e][0],
                               rec.label_pool)
            qualifiers = [rnd.choice(tags)] if tags else []
            if rnd.random() < _REISSUE_RATE.get(kind, 0.04):
                pool = names.REISSUE_TAGS.get(kind, reissue_pool)
                qualifiers.append(rnd.choice(pool).replace("{year}", str(_year(release.day))))
            columns["title"].append(names.render_title(rnd, rec.title[r], accented=accented, featured=in_title,
                                                       qualifiers=qualifiers))
            columns["artist"].append(names.render_credit(rnd, artists.name[a], in_credit))
            columns["artist_ids"].append(credit_ids)
            columns["album"].append(release.album)
            columns["label"].append(release.label)
            columns["release_date"].append(datetime.date.fromordinal(release.day).isoformat())
            columns["kind"].append(kind)
            roll = rnd.random()
            if roll < ISRC_NULL_RATE:
                columns["isrc"].append(None)
            elif d > 0 and roll < ISRC_NULL_RATE + ISRC_OTHER_RATE[kind == "distributor"]:
                prefix, registrant = rnd.choice(distributor_codes)
                columns["isrc"].append(_new_isrc(rnd, issued, prefix, registrant, _year(release.day)))
            else:
                columns["isrc"].append(names.noisy_isrc(rnd, isrc) if rnd.random() < ISRC_FORMAT_RATE else isrc)
        if len(columns["title"]) >= _CHUNK_ROWS:
            flush()
    flush()
    recording_ids = pa.array([f"r{r:08d}" for r in range(len(deliveries))], pa.string()).take(track_recording)
    tracks = pa.table({
        "track_id": track_ids, "title": pa.chunked_array(arrays["title"]),
        "artist": pa.chunked_array(arrays["artist"]), "artist_ids": pa.chunked_array(arrays["artist_ids"]),
        "album": pa.chunked_array(arrays["album"]),
        "duration_ms": pa.array(duration, pa.int64(), mask=nulls["duration_ms"]),
        "isrc": pa.chunked_array(arrays["isrc"]), "release_date": pa.chunked_array(arrays["release_date"]),
        "label": pa.chunked_array(arrays["label"]), "audio_path": pa.nulls(n, pa.string()),
    }, schema=TRACK_SCHEMA)
    truth = pa.table({"track_id": track_ids, "recording_id": recording_ids, "kind": pa.chunked_array(arrays["kind"])},
                     schema=TRUTH_TRACKS_SCHEMA)
    return tracks, truth


# --- engagement ------------------------------------------------------------------------------------------
def _make_engagement(rng: np.random.Generator, n_rows: int, track_ids: pa.Array, rec_entity: np.ndarray,
                     deliveries: np.ndarray, entities: _Entities) -> pa.Table:
    """``n_rows`` distinct (user, track) rows with plays >= 1, vectorized.

    Each user belongs to one genre-family community and plays mostly 3 favourite artists, the rest by
    Zipf popularity within the community; an artist's recordings and a recording's deliveries are picked
    uniformly, so duplicate deliveries and split artist ids share audiences and homonyms (always in another
    family) never do.
    """
    if n_rows == 0:
        return ENGAGEMENT_SCHEMA.empty_table()
    n_tracks = int(deliveries.sum())
    first_track = np.cumsum(deliveries) - deliveries
    by_entity = np.argsort(rec_entity, kind="stable")
    entity_count = np.bincount(rec_entity, minlength=len(entities.name))
    entity_start = np.cumsum(entity_count) - entity_count
    track_family = entities.family[np.repeat(rec_entity, deliveries)]
    family_tracks = np.bincount(track_family, minlength=len(_FAMILY_NAMES)).astype(np.float64)
    tracks_by_family = np.argsort(track_family, kind="stable")
    family_start = np.cumsum(family_tracks).astype(np.int64) - family_tracks.astype(np.int64)
    # enough users that the community-reachable (user, track) pairs are at least 3 × n_rows
    n_users = max(n_rows // ROWS_PER_USER, math.ceil(3 * n_rows * n_tracks / float((family_tracks**2).sum())), 1)
    user_family = rng.choice(len(_FAMILY_NAMES), size=n_users, p=family_tracks / n_tracks)
    activity = np.cumsum(rng.lognormal(0.0, 1.0, n_users))
    sampler = _family_sampler(entities)
    favourites = np.zeros((n_users, 3), dtype=np.int64)
    for f, (members, cumulative) in enumerate(sampler):
        users = np.flatnonzero(user_family == f)
        if len(users) and len(members):
            favourites[users] = _pick_other(members, cumulative, rng.random((len(users), 3)), np.full(1, -1))

    keys = np.empty(0, dtype=np.int64)
    for attempt in range(64):
        m = max(1024, int((n_rows - len(keys)) * 1.4))
        users = np.searchsorted(activity, rng.random(m) * activity[-1], side="right").clip(0, n_users - 1)
        family = user_family[users]
        if attempt < 4:  # favourites and popularity
            entity = favourites[users, rng.integers(0, 3, m)]
            for f, (members, cumulative) in enumerate(sampler):
                rows = np.flatnonzero((family == f) & (rng.random(m) >= FAVOURITE_SHARE))
                if len(rows):
                    entity[rows] = _pick_other(members, cumulative, rng.random(len(rows)), np.full(1, -1))
            recording = by_entity[entity_start[entity] + (rng.random(m) ** 2 * entity_count[entity]).astype(np.int64)]
            track = first_track[recording] + (rng.random(m) * deliveries[recording]).astype(np.int64)
        else:  # top up uniformly within the community: always reaches new pairs
            offset = (rng.random(m) * family_tracks[family]).astype(np.int64)
            track = tracks_by_family[family_start[family] + offset]
        keys = np.unique(np.concatenate([keys, users.astype(np.int64) * n_tracks + track]))
        if len(keys) >= n_rows:
            break
    else:
        raise RuntimeError(f"could not draw {n_rows} distinct engagement rows")
    keys = keys[rng.choice(len(keys), size=n_rows, replace=False)]
    user_ids = pa.array([f"u{u:08d}" for u in range(n_users)], pa.string())
    plays = np.minimum(rng.zipf(2.0, n_rows), 5_000).astype(np.int64)
    return pa.table({"user_id": user_ids.take(keys // n_tracks), "track_id": track_ids.take(keys % n_tracks),
                     "plays": plays}, schema=ENGAGEMENT_SCHEMA)
