"""Recordings (the truth ``recording_id``) for :mod:`resolver.synthetic`: titles, albums, labels, ISRCs.

Base recordings get unique-per-artist titles (bar ~4 % popular titles and ~1 % deliberate re-uses), albums,
release days, featured artists and unique valid ISRCs; ~25 % get 1–2 derived recordings (live, remix, cover,
...) that look alike but are different recordings — the hard negatives.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catalog_er.resolver.synthetic import names as names
from catalog_er.resolver.synthetic.artists import Entities, family_sampler, pick_other
from catalog_er.resolver.synthetic.text import derived_album, derived_tags

# --- knobs (each a rate per recording; the why after the value) -----------------------------------------
FEATURED_RATE = 0.15  # recordings with a featured artist
POPULAR_TITLE_RATE = 0.04  # recordings titled "Intro", "Home", ... (collide across artists)
SAME_TITLE_RATE = 0.01  # recordings reusing a title of the same artist (a different song)
DERIVATIONS = {  # derivation → share among derived recordings
    "live": 0.17, "remix": 0.17, "acoustic": 0.08, "instrumental": 0.08, "radio_edit": 0.09, "extended": 0.07,
    "rerecording": 0.07, "sped_up": 0.06, "slowed": 0.06, "demo": 0.06, "cover": 0.09,
}


@dataclass(frozen=True)
class Recordings:
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


# --- dates and ISRC codes -------------------------------------------------------------------------------
FIRST_DAY = datetime.date(1955, 1, 1).toordinal()
LAST_DAY = datetime.date(2025, 12, 31).toordinal()
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _day(rnd: random.Random, year: int) -> int:
    """A random day of ``year`` (clipped to the catalog's date range) as an ordinal."""
    return min(max(datetime.date(min(max(year, 1955), 2025), 1, 1).toordinal() + rnd.randrange(365),
                   FIRST_DAY), LAST_DAY)


def year_of(day: int) -> int:
    """The calendar year of an ordinal day."""
    return datetime.date.fromordinal(day).year


def registrants(rnd: random.Random, n: int) -> list[str]:
    """``n`` distinct 3-character ISRC registrant codes (a letter, then letters or digits)."""
    codes: dict[str, None] = {}
    while len(codes) < n:
        codes[rnd.choice(_ALNUM[:26]) + rnd.choice(_ALNUM) + rnd.choice(_ALNUM)] = None
    return list(codes)


def new_isrc(rnd: random.Random, issued: set[str], country: str, registrant: str, year: int) -> str:
    """A valid ISRC never issued before in this catalog."""
    while True:
        code = f"{country}{registrant}{year % 100:02d}{rnd.randrange(100_000):05d}"
        if code not in issued:
            issued.add(code)
            return code


# --- labels and base recordings -------------------------------------------------------------------------
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
    return _Labels(list(label_names), registrants(rnd, len(label_names)), of_entity)


def _base_titles(rnd: random.Random, entities: Entities, base_entity: np.ndarray, career_start: np.ndarray,
                 duration_ms: np.ndarray) -> tuple[list[str], list[str], list[int]]:
    """Title, album and release day of each base recording, artist by artist.

    Titles are unique per artist except ~1 % deliberate re-uses (a different song with the same title:
    another album and a duration > 20 s away, written into ``duration_ms``).
    """
    n_base = len(base_entity)
    titles, albums, days = [""] * n_base, [""] * n_base, [0] * n_base
    order = np.argsort(base_entity, kind="stable")
    bounds = np.searchsorted(base_entity[order], np.arange(len(entities.name) + 1)).tolist()
    for e in range(len(entities.name)):
        members = order[bounds[e] : bounds[e + 1]].tolist()
        rows = _artist_titles(rnd, entities, e, members, int(career_start[e]), duration_ms)
        for b, (title, album, day) in zip(members, rows, strict=True):
            titles[b], albums[b], days[b] = title, album, day
    return titles, albums, days


def _artist_titles(rnd: random.Random, entities: Entities, e: int, members: list[int], start: int,
                   duration_ms: np.ndarray) -> list[tuple[str, str, int]]:
    """(title, album, release day) of entity ``e``'s base recordings ``members``, in that order."""
    script, language = entities.script[e], entities.language[e]
    album_titles, album_days = _albums(rnd, entities.name[e], script, language, len(members), start)
    n_albums = len(album_titles)
    used: set[str] = set()
    once: list[int] = []
    title_of: dict[int, str] = {}
    album_of: dict[int, int] = {}
    rows = []
    for b in members:
        roll = rnd.random()
        album_of[b] = rnd.randrange(n_albums)
        title = ""
        if roll < POPULAR_TITLE_RATE:
            title = _popular_title(rnd, used)
        elif roll < POPULAR_TITLE_RATE + SAME_TITLE_RATE and once:
            partner = once.pop(rnd.randrange(len(once)))
            title = title_of[partner]
            _reuse_duration(rnd, duration_ms, b, partner)
            if n_albums > 1 and album_of[b] == album_of[partner]:
                album_of[b] = (album_of[b] + 1) % n_albums
        if not title:
            title = _fresh_title(rnd, script, language, used)
            once.append(b)
        used.add(title.casefold())
        title_of[b] = title
        if rnd.random() < 0.12:  # a stand-alone single
            rows.append((title, f"{title} - Single", _career_day(rnd, start)))
        else:
            rows.append((title, album_titles[album_of[b]], album_days[album_of[b]]))
    return rows


def _albums(rnd: random.Random, artist: str, script: str, language: str, n_recordings: int,
            start: int) -> tuple[list[str], list[int]]:
    """An artist's distinct album titles (one per 8–12 recordings, ~5 % self-titled first) and release days."""
    n_albums = max(1, math.ceil(n_recordings / rnd.uniform(8, 12)))
    album_titles: list[str] = []
    while len(album_titles) < n_albums:
        album = artist if not album_titles and rnd.random() < 0.05 else names.recording_title(rnd, script, language)
        album_titles.append(album if album not in album_titles else f"{album} {len(album_titles) + 1}")
    return album_titles, [_career_day(rnd, start) for _ in album_titles]


def _career_day(rnd: random.Random, start: int) -> int:
    """A day in the 25 years from an artist's career ``start`` year."""
    return _day(rnd, rnd.randint(start, min(start + 25, 2025)))


def _popular_title(rnd: random.Random, used: set[str]) -> str:
    """A popular title ("Intro" most often), or "" when the artist already used it."""
    title = names.POPULAR_TITLES[int(len(names.POPULAR_TITLES) * rnd.random() ** 2)]
    return "" if title.casefold() in used else title


def _fresh_title(rnd: random.Random, script: str, language: str, used: set[str]) -> str:
    """A title the artist has not used yet (casefolded)."""
    for _ in range(20):
        title = names.recording_title(rnd, script, language)
        if title.casefold() not in used:
            return title
    return f"{title} {names.invented_word(rnd)}"


def _reuse_duration(rnd: random.Random, duration_ms: np.ndarray, b: int, partner: int) -> None:
    """Move ``b``'s duration 25–90 s away from ``partner``'s: the same title, a different song."""
    delta = rnd.uniform(25_000, 90_000) * rnd.choice((-1, 1))
    moved = duration_ms[partner] + delta
    duration_ms[b] = moved if 90_000 <= moved <= 480_000 else duration_ms[partner] - delta


def _featured(rng: np.random.Generator, entities: Entities, base_entity: np.ndarray,
              sampler: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Featured entity per base recording (-1 for none): ~15 %, from the same genre family."""
    featured = np.full(len(base_entity), -1, dtype=np.int64)
    wants = rng.random(len(base_entity)) < FEATURED_RATE
    family = entities.family[base_entity]
    for f, (members, cumulative) in enumerate(sampler):
        rows = np.flatnonzero(wants & (family == f))
        if len(members) >= 2 and len(rows):
            featured[rows] = pick_other(members, cumulative, rng.random(len(rows)), base_entity[rows])
    return featured


# --- derived recordings (hard negatives) ----------------------------------------------------------------
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


def make_recordings(rng: np.random.Generator, rnd: random.Random, entities: Entities, base_entity: np.ndarray,
                    derived_base: np.ndarray) -> Recordings:
    """Base recordings (titles, albums, featured artists, ISRCs) and their derived hard negatives."""
    n_base, n_entities = len(base_entity), len(entities.name)
    labels = _make_labels(rng, rnd, n_entities)
    career_start = np.clip(2024 - rng.exponential(20.0, n_entities), 1958, 2023).astype(np.int64)
    duration = (np.clip(rng.lognormal(np.log(215.0), 0.3, n_base), 90, 480) * 1000).astype(np.int64)
    titles, albums, days = _base_titles(rnd, entities, base_entity, career_start, duration)
    sampler = family_sampler(entities)
    featured = _featured(rng, entities, base_entity, sampler)
    issued: set[str] = set()
    label_of = labels.of_entity.tolist()

    def isrc(e: int, year: int) -> str:
        return new_isrc(rnd, issued, entities.country[e], labels.registrant[label_of[e]], year)

    entity_list = base_entity.tolist()
    columns = _Columns(entity=entity_list, featured=featured.tolist(), derivation=[""] * n_base, tags=[()] * n_base,
                       title=titles, album=albums, duration_ms=duration.tolist(), day=days,
                       isrc=[isrc(e, year_of(day)) for e, day in zip(entity_list, days, strict=True)])
    cover_uniforms = rng.random(len(derived_base)).tolist()
    _add_derived(rnd, columns, derived_base, cover_uniforms, entities, sampler, isrc)
    return Recordings(
        entity=np.array(columns.entity, dtype=np.int64), featured=np.array(columns.featured, dtype=np.int64),
        derivation=columns.derivation, tags=columns.tags, title=columns.title, album=columns.album,
        duration_ms=np.array(columns.duration_ms, dtype=np.int64), release_day=np.array(columns.day, dtype=np.int64),
        isrc=columns.isrc, label=[labels.name[label_of[e]] for e in columns.entity], label_pool=labels.name)


@dataclass(frozen=True)
class _Columns:
    """Recording columns being built: the base recordings, then each derived one appended."""

    entity: list[int]
    featured: list[int]
    derivation: list[str]
    tags: list[tuple[str, ...]]
    title: list[str]
    album: list[str]
    duration_ms: list[int]
    day: list[int]
    isrc: list[str]

    def append(self, **values: object) -> None:
        """Append one recording: a value for every field."""
        for field, value in values.items():
            getattr(self, field).append(value)


def _add_derived(rnd: random.Random, columns: _Columns, derived_base: np.ndarray, cover_uniforms: list[float],
                 entities: Entities, sampler: list[tuple[np.ndarray, np.ndarray]],
                 isrc: Callable[[int, int], str]) -> None:
    """Append a derived recording for each base index in ``derived_base`` (sorted; siblings adjacent)."""
    sibling_count = np.bincount(derived_base, minlength=len(columns.entity)).tolist()
    previous = -1
    siblings: set[str] = set()
    sibling_tags: tuple[str, ...] = ()
    for j, b in enumerate(derived_base.tolist()):
        if b != previous:
            previous, siblings, sibling_tags = b, set(), ()
        e = columns.entity[b]
        members, cumulative = sampler[int(entities.family[e])]
        kind = _derivation(rnd, siblings, columns.duration_ms[b], len(members) >= 2)
        siblings.add(kind)
        year = _derived_year(rnd, kind, columns.day[b])
        feat = columns.featured[b]
        if kind == "cover":
            e = int(pick_other(members, cumulative, np.array([cover_uniforms[j]]), np.array([e]))[0])
            feat = -1
        tag = derived_tags(rnd, kind, entities.name[e], entities.script[e], year, named=sibling_count[b] > 1,
                           taken=sibling_tags)
        sibling_tags += tag
        album = columns.album[b] if kind != "cover" else names.recording_title(rnd, entities.script[e],
                                                                               entities.language[e])
        columns.append(entity=e, featured=feat, derivation=kind, tags=tag, title=columns.title[b],
                       album=derived_album(rnd, kind, columns.title[b], album, entities.name[e], tag),
                       duration_ms=_derived_duration_ms(rnd, kind, columns.duration_ms[b]), day=_day(rnd, year),
                       isrc=isrc(e, year))


def _derived_year(rnd: random.Random, kind: str, base_day: int) -> int:
    """A derived recording's year: some years after the original; sped-up and slowed ones 2019 or later."""
    year = min(year_of(base_day) + rnd.randint(*_DERIVED_YEARS[kind]), 2025)
    if kind in ("sped_up", "slowed"):
        year = max(year, rnd.randint(2019, 2025))
    return year
