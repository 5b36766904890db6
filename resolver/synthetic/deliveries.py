"""Deliveries (``tracks`` rows) for :mod:`resolver.synthetic`: 1–8 noisy copies of each recording.

Each delivery is an independently noisy copy of its recording's metadata: title case/punctuation/typos/reissue
tags, credited id and credit style, ISRC formatting or a distributor's own ISRC, duration jitter, and the
album/label/date of the release it came in.
"""

from __future__ import annotations

import datetime
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.resolver.records import TRACK_SCHEMA, TRUTH_TRACKS_SCHEMA
from catalog_er.resolver.synthetic.artists import FAMILY_NAMES, Artists, Entities
from catalog_er.resolver.synthetic.recordings import FIRST_DAY, LAST_DAY, Recordings, new_isrc, registrants, year_of
from catalog_er.resolver.synthetic.spelling import has_accents
from catalog_er.resolver.synthetic.text import (
    DISTRIBUTORS,
    REISSUE_TAGS,
    compilation_album,
    label_variant,
    noisy_isrc,
    release_album,
    render_credit,
    render_title,
)

DELIVERY_KINDS = ("album", "single", "compilation", "deluxe", "remaster", "distributor")
_DELIVERY_WEIGHTS = (0.22, 0.18, 0.25, 0.10, 0.10, 0.15)
_KINDS_CUMULATIVE = np.cumsum(_DELIVERY_WEIGHTS).tolist()
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
_CHUNK_ROWS = 65_536  # rows buffered per Arrow chunk
_TEXT_FIELDS = ("title", "artist", "artist_ids", "album", "isrc", "release_date", "label", "kind")
_DISTRIBUTOR_PREFIXES = ("QZ", "QM", "US", "GB", "FR", "DE", "SE", "NL")


@dataclass(frozen=True)
class _Release:
    """What one delivery of a recording came out as."""

    kind: str
    day: int
    album: str
    label: str


def _release(rnd: random.Random, kind: str, first: bool, r: int, rec: Recordings, artist: str, genre: str,
             labels: list[str]) -> _Release:
    """Kind-specific release date, album and label of one delivery."""
    title, album, label = rec.title[r], rec.album[r], rec.label[r]
    derived = kind not in _REISSUE_RATE
    low, high = (0, 0) if derived and first else _DERIVED_DAY_OFFSETS if derived else _DAY_OFFSETS[kind]
    released = int(rec.release_day[r])
    latest = min(released + high, LAST_DAY)  # a reissue of a recent recording comes out before the cut-off
    earliest = released + low if released + low <= latest else min(released, latest)
    day = max(rnd.randint(earliest, latest), FIRST_DAY)
    year = year_of(day)
    roll = rnd.random()
    if kind == "compilation" or (derived and roll > 0.8):
        album = compilation_album(rnd, artist, year, year_of(int(rec.release_day[r])), genre)
        label = labels[rnd.randrange(min(20, len(labels)))]  # the biggest labels release compilations
    elif derived and roll > 0.65:
        album = f"{title} ({rnd.choice(rec.tags[r])}) - Single" if rec.tags[r] else f"{title} - Single"
    elif kind in ("single", "deluxe", "remaster"):
        album = release_album(rnd, kind, album, title, year)
    if kind == "distributor":
        label = rnd.choice(DISTRIBUTORS)
    elif kind != "compilation":
        roll = rnd.random()
        if roll < 0.06:
            label = rnd.choice(labels)
        elif roll < 0.11:
            label = label_variant(rnd, label)
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


def deliver(rng: np.random.Generator, rnd: random.Random, rec: Recordings, deliveries: np.ndarray,
            track_ids: pa.Array, entities: Entities, artists: Artists,
            progress: Callable[[int], None] | None) -> tuple[pa.Table, pa.Table]:
    """Every delivery of every recording as a noisy track row (generation order) and its truth row."""
    n = int(deliveries.sum())
    track_recording = np.repeat(np.arange(len(deliveries)), deliveries)
    jitter = np.clip(rng.normal(0.0, _DURATION_JITTER_MS[0], n), -_DURATION_JITTER_MS[1], _DURATION_JITTER_MS[1])
    duration = rec.duration_ms[track_recording] + jitter.astype(np.int64)
    nulls = {field: rng.random(n) < rate for field, rate in NULL_RATES.items()}
    issued = set(rec.isrc)
    distributor_codes = list(zip(_DISTRIBUTOR_PREFIXES, registrants(rnd, len(_DISTRIBUTOR_PREFIXES)), strict=True))
    recent = (rec.release_day > datetime.date(2012, 1, 1).toordinal()).tolist()
    sources = _Sources(rec, entities, artists, issued, distributor_codes, recent)
    columns = _ColumnChunks(nulls, progress)
    for r, count in enumerate(deliveries.tolist()):
        _deliver_recording(rnd, sources, r, count, columns)
        if columns.pending >= _CHUNK_ROWS:
            columns.flush()
    columns.flush()
    recording_ids = pa.array([f"r{r:08d}" for r in range(len(deliveries))], pa.string()).take(track_recording)
    duration_ms = pa.array(duration, pa.int64(), mask=nulls["duration_ms"])
    return _tables(track_ids, recording_ids, duration_ms, columns)


@dataclass(frozen=True)
class _Sources:
    """What every delivery draws from besides its recording's index."""

    rec: Recordings
    entities: Entities
    artists: Artists
    issued: set[str]  # every ISRC in the catalog; a distributor's new ISRC is added
    distributor_codes: list[tuple[str, str]]  # (country prefix, registrant) of each distributor
    recent: list[bool]  # per recording: released after 2011, so never remastered yet


class _ColumnChunks:
    """Row values buffered per field and turned into Arrow chunks, null masks applied, at each flush."""

    def __init__(self, nulls: dict[str, np.ndarray], progress: Callable[[int], None] | None) -> None:
        self._buffered: dict[str, list] = {field: [] for field in _TEXT_FIELDS}
        self._chunks: dict[str, list[pa.Array]] = {field: [] for field in _TEXT_FIELDS}
        self._nulls, self._progress, self._done = nulls, progress, 0

    @property
    def pending(self) -> int:
        """Rows appended since the last flush."""
        return len(self._buffered["title"])

    def append(self, row: dict[str, object]) -> None:
        """Buffer one row: a value for every field of ``_TEXT_FIELDS``."""
        for field, value in row.items():
            self._buffered[field].append(value)

    def flush(self) -> None:
        """Turn the buffered rows into one chunk per field and report them to ``progress``."""
        stop = self._done + self.pending
        for field, values in self._buffered.items():
            kind = pa.list_(pa.string()) if field == "artist_ids" else pa.string()
            mask = self._nulls[field][self._done : stop] if field in self._nulls else None
            self._chunks[field].append(pa.array(values, kind, mask=mask))
            values.clear()
        if self._progress is not None:
            self._progress(stop - self._done)
        self._done = stop

    def column(self, field: str) -> pa.ChunkedArray:
        """Every flushed chunk of ``field``."""
        return pa.chunked_array(self._chunks[field])


def _deliver_recording(rnd: random.Random, sources: _Sources, r: int, count: int, columns: _ColumnChunks) -> None:
    """Append ``count`` independently noisy deliveries of recording ``r`` to ``columns``."""
    rec, entities, artists = sources.rec, sources.entities, sources.artists
    e, f = int(rec.entity[r]), int(rec.featured[r])
    ids_e, ids_f = artists.of_entity[e], artists.of_entity[f] if f >= 0 else None
    accented = has_accents(rec.title[r])
    family = FAMILY_NAMES[entities.family[e]]
    reissue_pool = REISSUE_TAGS["electronic" if family == "electronic" else "other"]
    for d in range(count):
        kind = _delivery_kind(rnd, rec.derivation[r], d == 0, sources.recent[r])
        name, credit_ids, in_credit, in_title = _credit(rnd, artists, ids_e, ids_f)
        release = _release(rnd, kind, d == 0, r, rec, name, entities.genres[e][0], rec.label_pool)
        qualifiers = _qualifiers(rnd, rec.tags[r], kind, release.day, reissue_pool)
        title = render_title(rnd, rec.title[r], accented=accented, featured=in_title, qualifiers=qualifiers)
        artist = render_credit(rnd, name, in_credit)
        isrc = _delivery_isrc(rnd, sources, d == 0, kind, rec.isrc[r], release.day)
        columns.append({"title": title, "artist": artist, "artist_ids": credit_ids, "album": release.album,
                        "isrc": isrc, "release_date": datetime.date.fromordinal(release.day).isoformat(),
                        "label": release.label, "kind": kind})


def _delivery_kind(rnd: random.Random, derivation: str, first: bool, recent: bool) -> str:
    """A derived recording's derivation; else "original" first, then weighted kinds (no remaster if recent)."""
    kind = derivation or ("original" if first else _weighted_kind(rnd))
    while kind == "remaster" and recent:  # nothing from the last decade is remastered yet
        kind = _weighted_kind(rnd)
    return kind


def _weighted_kind(rnd: random.Random) -> str:
    return DELIVERY_KINDS[bisect_right(_KINDS_CUMULATIVE, rnd.random())]


def _credit(rnd: random.Random, artists: Artists, ids_e: list[int],
            ids_f: list[int] | None) -> tuple[str, list[str], str | None, str | None]:
    """The credited id's name, the credited ids, and the featured name in the credit and in the title."""
    a = rnd.choice(ids_e)
    credit_ids = [artists.artist_id[a]]
    if ids_f is None:
        return artists.name[a], credit_ids, None, None
    fa = rnd.choice(ids_f)
    in_credit, in_title, keep_id = _feature_credit(rnd, artists.name[fa])
    if keep_id:
        credit_ids.append(artists.artist_id[fa])
    return artists.name[a], credit_ids, in_credit, in_title


def _qualifiers(rnd: random.Random, tags: tuple[str, ...], kind: str, day: int,
                reissue_pool: tuple[str, ...]) -> list[str]:
    """Title qualifiers of one delivery: the derived tag (if any), then maybe a reissue tag."""
    qualifiers = [rnd.choice(tags)] if tags else []
    if rnd.random() < _REISSUE_RATE.get(kind, 0.04):
        pool = REISSUE_TAGS.get(kind, reissue_pool)
        qualifiers.append(rnd.choice(pool).replace("{year}", str(year_of(day))))
    return qualifiers


def _delivery_isrc(rnd: random.Random, sources: _Sources, first: bool, kind: str, isrc: str, day: int) -> str | None:
    """None, a distributor's own new ISRC (never on the first delivery), or the recording's ISRC, maybe noisy."""
    roll = rnd.random()
    if roll < ISRC_NULL_RATE:
        return None
    if not first and roll < ISRC_NULL_RATE + ISRC_OTHER_RATE[kind == "distributor"]:
        prefix, registrant = rnd.choice(sources.distributor_codes)
        return new_isrc(rnd, sources.issued, prefix, registrant, year_of(day))
    return noisy_isrc(rnd, isrc) if rnd.random() < ISRC_FORMAT_RATE else isrc


def _tables(track_ids: pa.Array, recording_ids: pa.Array, duration_ms: pa.Array,
            columns: _ColumnChunks) -> tuple[pa.Table, pa.Table]:
    """The track table and its truth table, both in generation order."""
    column = columns.column
    tracks = pa.table({
        "track_id": track_ids, "title": column("title"), "artist": column("artist"),
        "artist_ids": column("artist_ids"), "album": column("album"), "duration_ms": duration_ms,
        "isrc": column("isrc"), "release_date": column("release_date"), "label": column("label"),
        "source": pa.nulls(len(track_ids), pa.string()), "audio_path": pa.nulls(len(track_ids), pa.string()),
    }, schema=TRACK_SCHEMA)
    truth = pa.table({"track_id": track_ids, "recording_id": recording_ids, "kind": column("kind")},
                     schema=TRUTH_TRACKS_SCHEMA)
    return tracks, truth
