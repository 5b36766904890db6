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

This module plans the sizes and runs the stages in a fixed order (the order of random draws is part of the
output): :mod:`resolver.synthetic.artists` (entities and artist ids), :mod:`resolver.synthetic.recordings`,
:mod:`resolver.synthetic.deliveries` (track rows) and :mod:`resolver.synthetic.engagement`; the strings come
from :mod:`resolver.synthetic.names`, :mod:`resolver.synthetic.spelling` and :mod:`resolver.synthetic.text`.

The same catalog as K sources with their own formatting habits deliver it (issue 11), with per-habit ground
truth: :func:`resolver.synthetic.sources.multi_source_catalog` (imported from there; it takes this module's
output and leaves it unchanged).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.resolver.synthetic.artists import (
    FAMILIES,
    HOMONYM_RATE,
    POPULARITY_EXPONENT,
    SPLIT_ENTITY_RATE,
    artist_table,
    make_artists,
    make_entities,
    random_ids,
    truth_artist_table,
)
from catalog_er.resolver.synthetic.deliveries import (
    DELIVERY_KINDS,
    FEATURED_PLACEMENT,
    ISRC_FORMAT_RATE,
    ISRC_NULL_RATE,
    ISRC_OTHER_RATE,
    NULL_RATES,
    deliver,
)
from catalog_er.resolver.synthetic.engagement import FAVOURITE_SHARE, ROWS_PER_USER, make_engagement
from catalog_er.resolver.synthetic.recordings import (
    DERIVATIONS,
    FEATURED_RATE,
    POPULAR_TITLE_RATE,
    SAME_TITLE_RATE,
    make_recordings,
)

__all__ = [  # the API, and every knob of the simulated world wherever its stage keeps it
    "DELIVERY_KINDS", "DERIVATIONS", "DERIVED_RATE", "ENGAGEMENT_ROWS_PER_TRACK", "FAMILIES", "FAVOURITE_SHARE",
    "FEATURED_PLACEMENT", "FEATURED_RATE", "HOMONYM_RATE", "ISRC_FORMAT_RATE", "ISRC_NULL_RATE", "ISRC_OTHER_RATE",
    "MULTI_DELIVERY_RATE", "NULL_RATES", "POPULARITY_EXPONENT", "POPULAR_TITLE_RATE", "RECORDINGS_PER_ENTITY",
    "ROWS_PER_USER", "SAME_TITLE_RATE", "SPLIT_ENTITY_RATE", "SyntheticCatalog", "generate_catalog",
]


# --- knobs of the plan (the other stages keep their own; the why after the value) -----------------------
RECORDINGS_PER_ENTITY = 6.0  # mean non-derived recordings per artist entity: most have a few
DERIVED_RATE = 0.25  # recordings that get 1–2 derived recordings (hard negatives)
MULTI_DELIVERY_RATE = (0.43, 0.36)  # recordings delivered 2+ times: (original, derived) → ~40 % overall
ENGAGEMENT_ROWS_PER_TRACK = 5  # default engagement rows


@dataclass(frozen=True)
class SyntheticCatalog:
    """A generated catalog (the first three tables) and its ground truth (the last two)."""

    tracks: pa.Table  # TRACK_SCHEMA; audio_path all null
    artists: pa.Table  # ARTIST_SCHEMA
    engagement: pa.Table  # ENGAGEMENT_SCHEMA
    truth_tracks: pa.Table  # TRUTH_TRACKS_SCHEMA: track_id → recording_id, kind
    truth_artists: pa.Table  # TRUTH_ARTISTS_SCHEMA: artist_id → entity_id


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
    entities = make_entities(rng, rnd, max(1, round(n_base / RECORDINGS_PER_ENTITY)))
    artists = make_artists(rng, rnd, entities)
    base_entity = _assign_entities(rng, entities.weight, n_base)
    base_deliveries = _favour_popular(rng, base_deliveries, entities.weight[base_entity])
    recordings = make_recordings(rng, rnd, entities, base_entity, derived_base)
    deliveries = np.concatenate([base_deliveries, derived_deliveries])
    track_ids = pa.array(random_ids(rng, n_tracks, "t", 12), pa.string())
    tracks, truth = deliver(rng, rnd, recordings, deliveries, track_ids, entities, artists, progress)
    rows = n_tracks * ENGAGEMENT_ROWS_PER_TRACK if engagement_rows is None else int(engagement_rows)
    engagement = make_engagement(rng, rows, track_ids, recordings.entity, deliveries, entities)
    order = rng.permutation(n_tracks)
    artist_order = rng.permutation(len(artists.artist_id))
    return SyntheticCatalog(tracks=tracks.take(order), artists=artist_table(artists, entities).take(artist_order),
                            engagement=engagement, truth_tracks=truth.take(order),
                            truth_artists=truth_artist_table(artists).take(artist_order))


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
