"""Artist entities (the truth) and the artist ids they were ingested under, for :mod:`resolver.synthetic`.

Entities come in five scripts with Zipf popularity, a genre family and a country; ~2 % are homonyms of another
entity and ~10 % are split over 2–3 artist ids with small name variants or, for popular acts, an unrelated
alias. Also the popularity-weighted pick within a genre family that featured artists, covers and listeners
share.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.resolver.records import ARTIST_SCHEMA, TRUTH_ARTISTS_SCHEMA
from catalog_er.resolver.synthetic import names as names
from catalog_er.resolver.synthetic.spelling import name_variant

# --- knobs (the why after the value) ----------------------------------------------------------------------
POPULARITY_EXPONENT = 0.6  # Zipf exponent of artist popularity: the top artist has ~0.5 % of recordings
SPLIT_ENTITY_RATE = 0.10  # entities whose releases were ingested under 2–3 artist ids
HOMONYM_RATE = 0.02  # entities that share their exact name with a different entity
ALIAS_RATE = 0.5  # extra ids of a popular entity (top fifth) under an unrelated alias (a stage name, a rename)
ALIAS_POPULARITY_QUANTILE = 0.8  # aliases only for acts popular enough that the alias has songs and listeners

# genre families: an entity's genres come from one; listeners and featured artists stay within it
FAMILIES = {
    "pop": ("pop", "dance pop", "synth-pop", "indie pop"),
    "rock": ("rock", "indie rock", "alternative", "metal", "punk"),
    "hiphop": ("hip hop", "rap", "trap", "r&b"),
    "electronic": ("electronic", "house", "techno", "drum and bass", "ambient"),
    "soul_jazz": ("jazz", "soul", "blues", "funk"),
    "folk_world": ("folk", "country", "latin", "reggae", "singer-songwriter"),
}
FAMILY_NAMES = tuple(FAMILIES)
_FAMILY_WEIGHTS = {  # per script, in FAMILY_NAMES order
    "latin": (0.25, 0.22, 0.18, 0.15, 0.10, 0.10), "accented": (0.25, 0.20, 0.10, 0.15, 0.10, 0.20),
    "cyrillic": (0.30, 0.30, 0.20, 0.10, 0.05, 0.05), "japanese": (0.45, 0.30, 0.05, 0.10, 0.05, 0.05),
    "korean": (0.60, 0.10, 0.15, 0.10, 0.03, 0.02),
}
_COUNTRIES = {"latin": ("US", "US", "US", "GB", "GB", "CA", "AU", "IE", "NZ"),
              "cyrillic": ("RU", "RU", "UA", "BY", "KZ"), "japanese": ("JP",), "korean": ("KR",)}
_ALL_COUNTRIES = tuple(sorted({c for cs in (*_COUNTRIES.values(), *names.ACCENT_COUNTRIES.values()) for c in cs}))


@dataclass(frozen=True)
class Entities:
    """Column arrays of artist entities; the index is the truth ``entity_id``."""

    script: list[str]
    language: list[str]
    name: list[str]
    family: np.ndarray  # int index into FAMILY_NAMES, shape (n_entities,)
    genres: list[list[str]]
    country: list[str]
    weight: np.ndarray  # popularity, float64, shape (n_entities,)


@dataclass(frozen=True)
class Artists:
    """Column arrays of artist ids (``artists`` rows) in generation order, each naming one entity."""

    artist_id: list[str]
    name: list[str]
    entity: np.ndarray  # int64, shape (n_artists,)
    bare: np.ndarray  # bool: a secondary id created without genres/country (~30 % of them)
    of_entity: list[list[int]]  # artist indices per entity


def random_ids(rng: np.random.Generator, n: int, prefix: str, hex_digits: int) -> list[str]:
    """``n`` distinct random-looking ids such as ``"t3fa9c01b22de"``."""
    values = rng.integers(0, 16**hex_digits, size=n, dtype=np.int64)
    while True:
        _, first = np.unique(values, return_index=True)
        if len(first) == n:
            return [f"{prefix}{v:0{hex_digits}x}" for v in values.tolist()]
        duplicate = np.ones(n, dtype=bool)
        duplicate[first] = False
        values[duplicate] = rng.integers(0, 16**hex_digits, size=int(duplicate.sum()), dtype=np.int64)


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
    pool = FAMILIES[FAMILY_NAMES[family]]
    picked = rnd.sample(pool, rnd.choice((1, 1, 2, 2, 3)))
    if FAMILY_NAMES[family] == "pop" and script in ("japanese", "korean"):
        picked = ["j-pop" if script == "japanese" else "k-pop", *picked[:2]]
    return picked


def make_entities(rng: np.random.Generator, rnd: random.Random, n: int) -> Entities:
    """Artist entities with unique names, then ~2 % turned into homonyms of another entity."""
    script_index = rng.choice(len(names.SCRIPTS), size=n, p=names.SCRIPT_WEIGHTS).tolist()
    weight = (1.0 + rng.permutation(n)) ** -POPULARITY_EXPONENT
    scripts, languages, entity_names, families, genres, countries = [], [], [], [], [], []
    used: set[str] = set()
    for i in script_index:
        script = names.SCRIPTS[i]
        language = rnd.choice(names.ACCENT_LANGUAGES) if script == "accented" else script
        family = rnd.choices(range(len(FAMILY_NAMES)), weights=_FAMILY_WEIGHTS[script])[0]
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
        families[target] = rnd.choice([f for f in range(len(FAMILY_NAMES)) if f != families[source]])
        genres[target] = _genres(rnd, families[target], scripts[target])
        countries[target] = rnd.choice([c for c in _ALL_COUNTRIES if c != countries[source]])
    return Entities(scripts, languages, entity_names, np.array(families, dtype=np.int64), genres, countries,
                    weight)


def make_artists(rng: np.random.Generator, rnd: random.Random, entities: Entities) -> Artists:
    """One artist id per entity, 2–3 for ~10 % (split entities) with distinct name variants; half the extra
    ids of popular entities carry an unrelated alias instead (only shared recordings and audience tie them)."""
    n = len(entities.name)
    id_counts = np.where(rng.random(n) < SPLIT_ENTITY_RATE, 2 + (rng.random(n) < 0.3), 1).tolist()
    popular = (entities.weight >= np.quantile(entities.weight, ALIAS_POPULARITY_QUANTILE)).tolist() if n else []
    artist_names: list[str] = []
    entity: list[int] = []
    primary: list[bool] = []
    of_entity: list[list[int]] = []
    for e, count in enumerate(id_counts):
        spellings = [entities.name[e]]
        for _ in range(12 * count):
            if len(spellings) == count:
                break
            if popular[e] and rnd.random() < ALIAS_RATE:
                variant = names.artist_name(rnd, entities.script[e], entities.language[e])
            else:
                variant = name_variant(rnd, entities.name[e], entities.script[e])
            if variant not in spellings:
                spellings.append(variant)
        of_entity.append(list(range(len(artist_names), len(artist_names) + len(spellings))))
        artist_names.extend(spellings)
        entity.extend([e] * len(spellings))
        primary.extend([True] + [False] * (len(spellings) - 1))
    bare = ~np.array(primary) & (rng.random(len(primary)) < 0.3)
    return Artists(random_ids(rng, len(artist_names), "a", 10), artist_names, np.array(entity, np.int64), bare,
                   of_entity)


def artist_table(artists: Artists, entities: Entities) -> pa.Table:
    """The ``artists`` table (generation order): bare secondary ids have no genres or country."""
    genres, countries = [], []
    for e, bare in zip(artists.entity.tolist(), artists.bare.tolist(), strict=True):
        genres.append(None if bare else entities.genres[e])
        countries.append(None if bare else entities.country[e])
    return pa.table({"artist_id": artists.artist_id, "name": artists.name, "genres": genres,
                     "country": countries}, schema=ARTIST_SCHEMA)


def truth_artist_table(artists: Artists) -> pa.Table:
    """The ``truth_artists`` table (generation order): artist id → entity id."""
    return pa.table({"artist_id": artists.artist_id,
                     "entity_id": [f"e{e:07d}" for e in artists.entity.tolist()]},
                    schema=TRUTH_ARTISTS_SCHEMA)


# --- popularity-weighted picks within a genre family ---------------------------------------------------
def family_sampler(entities: Entities) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per genre family: (member entities, cumulative popularity) for popularity-weighted picks."""
    out = []
    for f in range(len(FAMILY_NAMES)):
        members = np.flatnonzero(entities.family == f)
        out.append((members, np.cumsum(entities.weight[members])))
    return out


def pick_other(members: np.ndarray, cumulative: np.ndarray, uniforms: np.ndarray, avoid: np.ndarray) -> np.ndarray:
    """Popularity-weighted members of one family, never equal to ``avoid`` (needs 2+ members)."""
    position = np.minimum(np.searchsorted(cumulative, uniforms * cumulative[-1], side="right"), len(members) - 1)
    picked = members[position]
    same = picked == avoid
    picked[same] = members[(position[same] + 1) % len(members)]
    return picked
