"""Multi-source synthetic catalogs: the clean catalog as K sources with their own habits deliver it.

:func:`multi_source_catalog` takes a :class:`~resolver.synthetic.SyntheticCatalog` (unchanged) and returns the
messy version a benchmark of per-source robustness needs:

* every delivery goes to one of K sources (``src1`` … ``srcK``, with unequal shares of the deliveries); a
  recording's deliveries go to distinct sources while it has no more deliveries than there are sources
  (real multi-source dumps hold each recording at most once per source);
* each source has a profile (:mod:`resolver.synthetic.profiles`): habits from the issue-11 vocabulary
  (:data:`~resolver.synthetic.profiles.HABITS`), each on a share of the records it can change, in the
  source's own variant (:mod:`resolver.synthetic.habits`; the scraped form in :mod:`resolver.synthetic.scraped`);
* ground truth: ``truth_habits`` has one row per habit that changed a delivery (``track_id``, ``source``,
  ``habit``); ``truth_tracks`` and ``truth_artists`` are the clean catalog's.

The tracks table follows :data:`MESSY_TRACK_SCHEMA`: the contract's columns with ``duration_ms`` as text
(``"245123"``, ``"245"``, ``"4:05"``, ``"4085"``, ``"0"``, a placeholder), as a CSV dump gives it; the readers
validate and coerce it. Records a source writes with the artist in the title, and scraped records, lose their
``artist_ids`` (such a source knows no artist as a separate entity); other records keep them. Artists and
engagement tables are the clean ones.

Pure: no I/O, printing or env reads. Seeded from ``numpy.random.default_rng([seed, …])``, a stream apart from
the clean generator's, so the same seed gives identical tables and the clean tables are not touched.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.records import TRACK_SCHEMA
from catalog_er.resolver.synthetic import SyntheticCatalog
from catalog_er.resolver.synthetic import habits as habits
from catalog_er.resolver.synthetic.profiles import HABITS, SourceProfile, draw_profiles
from catalog_er.resolver.synthetic.scraped import ScrapedStyle, scrape

__all__ = ["MESSY_TRACK_SCHEMA", "TRUTH_HABITS_SCHEMA", "MultiSourceCatalog", "assign_sources",
           "multi_source_catalog"]

MESSY_TRACK_SCHEMA = pa.schema([pa.field("duration_ms", pa.string()) if field.name == "duration_ms" else field
                                for field in TRACK_SCHEMA])
"""``TRACK_SCHEMA`` with ``duration_ms`` as text (what a CSV dump holds); ``source`` is always filled."""
TRUTH_HABITS_SCHEMA = pa.schema([
    pa.field("track_id", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
    pa.field("habit", pa.string(), nullable=False),
])
"""``truth_habits``: one row per habit (a :data:`~resolver.synthetic.profiles.HABITS` name) that changed a
delivery; a delivery no habit changed has no row."""

_SEED_STREAM = 0x5011CE5  # mixed with the seed: the sources' draws never share the clean generator's stream
_TEXT_FIELDS = ("title", "artist", "album", "label")  # what typos and truncations hit (the title twice as often)
_PLACEHOLDER_FIELDS = ("artist", "album", "label", "release_date", "duration_ms")
_BIT = {name: 1 << i for i, name in enumerate(HABITS)}


@dataclass(frozen=True)
class MultiSourceCatalog:
    """A multi-source catalog: messy tracks, the clean artists and engagement, ground truth, and the profiles."""

    tracks: pa.Table  # MESSY_TRACK_SCHEMA, the clean catalog's row order and track ids
    artists: pa.Table  # ARTIST_SCHEMA (the clean catalog's)
    engagement: pa.Table  # ENGAGEMENT_SCHEMA (the clean catalog's)
    truth_tracks: pa.Table  # TRUTH_TRACKS_SCHEMA (the clean catalog's)
    truth_artists: pa.Table  # TRUTH_ARTISTS_SCHEMA (the clean catalog's)
    truth_habits: pa.Table  # TRUTH_HABITS_SCHEMA, rows in track order then vocabulary order
    profiles: tuple[SourceProfile, ...]  # one per source, src1 first


def multi_source_catalog(catalog: SyntheticCatalog, *, sources: int, seed: int,
                         scraped_sources: int | None = None) -> MultiSourceCatalog:
    """The clean ``catalog`` delivered by ``sources`` (>= 1) sources with their own habits (module docstring).

    ``scraped_sources``: how many of the sources are scraped stores (0 to ``sources``); None: one from 4
    sources on, two from 8 (:func:`~resolver.synthetic.profiles.default_scraped_sources`). Same arguments →
    equal tables. About 25 µs per track.
    """
    integer = int | np.integer
    if isinstance(sources, bool) or not isinstance(sources, integer) or sources < 1:
        raise ValueError(f"sources must be an integer >= 1, got {sources!r}")
    if isinstance(seed, bool) or not isinstance(seed, integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if scraped_sources is not None and (isinstance(scraped_sources, bool) or not isinstance(scraped_sources, integer)):
        raise ValueError(f"scraped_sources must be an integer or None, got {scraped_sources!r}")
    rng = np.random.default_rng([int(seed), _SEED_STREAM])
    scraped = None if scraped_sources is None else int(scraped_sources)
    profiles = draw_profiles(rng, int(sources), scraped_sources=scraped)  # checks 0 <= scraped <= sources
    source = assign_sources(rng, catalog.truth_tracks["recording_id"],
                            np.array([profile.weight for profile in profiles]))
    shares = np.array([[profile.share(name) for name in HABITS] for profile in profiles])
    wanted = rng.random((len(source), len(HABITS))) < shares[source]
    bits = (wanted.astype(np.int64) << np.arange(len(HABITS), dtype=np.int64)).sum(axis=1)
    rnd = random.Random(int(rng.integers(0, 2**62)))
    tracks, applied = _messy_tracks(rnd, catalog, profiles, source, bits)
    track_rows = np.repeat(np.arange(len(source)), [len(row) for row in applied])
    habit_index = np.array([h for row in applied for h in row], dtype=np.int64)
    truth_habits = pa.table({
        "track_id": catalog.tracks["track_id"].take(pa.array(track_rows)),
        "source": pa.array([profiles[s].name for s in source[track_rows].tolist()], pa.string()),
        "habit": pa.array(np.array(HABITS, dtype=object)[habit_index], pa.string()),
    }, schema=TRUTH_HABITS_SCHEMA)
    return MultiSourceCatalog(tracks=tracks, artists=catalog.artists, engagement=catalog.engagement,
                              truth_tracks=catalog.truth_tracks, truth_artists=catalog.truth_artists,
                              truth_habits=truth_habits, profiles=profiles)


def assign_sources(rng: np.random.Generator, recording_ids: pa.Array | pa.ChunkedArray,
                   weights: np.ndarray) -> np.ndarray:
    """Source index (int64, one per delivery) for deliveries of the given recordings.

    Each recording ranks the sources by a weighted draw without replacement (Gumbel top-k on ``weights``, one
    per source); its deliveries take them in that order, so they go to distinct sources while there are
    enough, and round again after.
    """
    ids = recording_ids.combine_chunks() if isinstance(recording_ids, pa.ChunkedArray) else recording_ids
    encoded = pc.dictionary_encode(ids)
    group = np.asarray(encoded.indices, dtype=np.int64)
    n_groups, n_sources = len(encoded.dictionary), len(weights)
    order = np.argsort(group, kind="stable")
    first = np.searchsorted(group[order], np.arange(n_groups))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - first[group[order]]
    keys = np.log(weights) + rng.gumbel(size=(n_groups, n_sources))
    preference = np.argsort(-keys, axis=1, kind="stable")
    return preference[group, rank % n_sources]


def _messy_tracks(rnd: random.Random, catalog: SyntheticCatalog, profiles: tuple[SourceProfile, ...],
                  source: np.ndarray, bits: np.ndarray) -> tuple[pa.Table, list[list[int]]]:
    """Every track row as its source writes it (row order kept), and the habit indices applied to each."""
    tracks = catalog.tracks
    genres_of = dict(zip(catalog.artists["artist_id"].to_pylist(), catalog.artists["genres"].to_pylist(),
                         strict=True))
    columns: dict[str, list] = {name: [] for name in ("title", "artist", "artist_ids", "album", "duration_ms",
                                                      "isrc", "release_date", "label")}
    clean = {name: tracks[name].to_pylist() for name in columns}
    applied: list[list[int]] = []
    for i, (s, wanted) in enumerate(zip(source.tolist(), bits.tolist(), strict=True)):
        row = {name: values[i] for name, values in clean.items()}
        ids = row["artist_ids"]
        genres = (genres_of.get(ids[0]) or []) if ids else []
        messy, done = _messy_row(rnd, profiles[s], wanted, row, genres)
        for name, values in columns.items():
            values.append(messy[name])
        applied.append(sorted(HABITS.index(name) for name in done))
    table = pa.table({
        "track_id": tracks["track_id"],
        **{name: pa.array(values, MESSY_TRACK_SCHEMA.field(name).type) for name, values in columns.items()},
        "source": pa.array([profiles[s].name for s in source.tolist()], pa.string()),
        "audio_path": tracks["audio_path"],
    })
    return table.select(MESSY_TRACK_SCHEMA.names).cast(MESSY_TRACK_SCHEMA), applied


def _messy_row(rnd: random.Random, profile: SourceProfile, wanted: int, row: dict,
               genres: list[str]) -> tuple[dict, list[str]]:
    """One clean track ``row`` as ``profile``'s source writes it, and the habits that changed it.

    ``wanted``: bit mask of the habits drawn for this record (``_BIT``); a drawn habit that cannot change the
    record (no album to append, no ISRC to drop, ...) is not applied and not listed.
    """
    done: list[str] = []
    habit = profile.habits
    if wanted & _BIT["scraped"] and profile.scraped_style is not None:
        out = _scraped_record(rnd, profile.scraped_style, profile, wanted, row, genres, done)
    else:
        out = _field_habits(rnd, profile, wanted, row, done)
    if row["isrc"] is not None and wanted & _BIT["no_isrc"]:
        out["isrc"] = None
        done.append("no_isrc")
    if wanted & _BIT["typo"]:
        candidates = [name for name in _TEXT_FIELDS if out[name] and any(c.isalpha() for c in out[name])]
        if candidates:
            field = rnd.choice(_title_twice(candidates))
            out[field] = habits.typo(rnd, out[field])
            done.append("typo")
    if wanted & _BIT["truncation"]:
        candidates = [name for name in _TEXT_FIELDS if out[name] and len(out[name]) >= 8]
        if candidates:
            field = rnd.choice(_title_twice(candidates))
            out[field] = habits.truncate(rnd, out[field], habit["truncation"].variant)
            done.append("truncation")
    if wanted & _BIT["placeholder"] and "scraped" not in done:  # last: a placeholder gets no typo
        missing = [name for name in _PLACEHOLDER_FIELDS if out[name] is None]
        for name in missing:
            out[name] = habits.placeholder(habit["placeholder"].variant, name)
        if missing:
            done.append("placeholder")
    return out, done


def _scraped_record(rnd: random.Random, style: ScrapedStyle, profile: SourceProfile, wanted: int, row: dict,
                    genres: list[str], done: list[str]) -> dict:
    """A record in ``profile``'s scraped ``style`` (:func:`resolver.synthetic.scraped.scrape`), maybe tokenized."""
    out: dict = scrape(rnd, style, title=row["title"], artist=row["artist"], album=row["album"],
                       genres=genres, label=row["label"], release_date=row["release_date"],
                       duration_ms=row["duration_ms"])
    out.update(artist_ids=None, isrc=None)
    done.append("scraped")
    if wanted & _BIT["tokenization"]:
        text = habits.tokenize(rnd, out["title"], profile.habits["tokenization"].variant)
        if text != out["title"]:
            out["title"] = text
            done.append("tokenization")
    return out


def _title_twice(fields: list[str]) -> list[str]:
    """``fields`` with the title listed twice (when present): it is hit twice as often as another field."""
    return [*fields, "title"] if "title" in fields else fields


def _field_habits(rnd: random.Random, profile: SourceProfile, wanted: int, row: dict, done: list[str]) -> dict:
    """The habits of a record kept in its columns: album edition, tokens, title composition, dates, units."""
    habit = profile.habits
    title, artist, album, ids = row["title"], row["artist"], row["album"], row["artist_ids"]
    if album is not None and wanted & _BIT["edition_tag"]:
        album = habits.edition_tag(album, habit["edition_tag"].variant)
        done.append("edition_tag")
    if wanted & _BIT["tokenization"]:
        variant = habit["tokenization"].variant
        new_title = habits.tokenize(rnd, title, variant)
        new_album = None if album is None else habits.tokenize(rnd, album, variant)
        if (new_title, new_album) != (title, album):
            title, album = new_title, new_album
            done.append("tokenization")
    if album is not None and wanted & _BIT["album_in_title"]:
        title = habits.album_in_title(rnd, title, album, habit["album_in_title"].variant)
        done.append("album_in_title")
    if wanted & _BIT["track_number"]:
        title = habits.track_number(rnd, title, habit["track_number"].variant)
        done.append("track_number")
    if artist is not None and wanted & _BIT["artist_in_title"]:
        title = habits.artist_in_title(title, artist, habit["artist_in_title"].variant)
        artist, ids = None, None
        done.append("artist_in_title")
    release_date = row["release_date"]
    if release_date is not None and wanted & _BIT["year_format"]:
        release_date = habits.date_text(release_date, habit["year_format"].variant)
        done.append("year_format")
    return {"title": title, "artist": artist, "artist_ids": ids, "album": album, "isrc": row["isrc"],
            "release_date": release_date, "label": row["label"],
            "duration_ms": _duration(profile, wanted, row["duration_ms"], done)}


def _duration(profile: SourceProfile, wanted: int, duration_ms: int | None, done: list[str]) -> str | None:
    """The duration cell: ``"0"`` (duration_zero), the source's unit, or the milliseconds as text."""
    if wanted & _BIT["duration_zero"]:
        done.append("duration_zero")
        return "0"
    if duration_ms is None:
        return None
    unit = profile.duration_unit
    if unit is None or not wanted & _BIT[unit]:
        return str(duration_ms)
    done.append(unit)
    if unit == "duration_seconds":
        return habits.duration_seconds(duration_ms)
    if unit == "duration_minutes":
        return habits.duration_minutes(duration_ms)
    return habits.duration_text(duration_ms, profile.habits[unit].variant)
