"""Listening simulation (the ``engagement`` table) for :mod:`resolver.synthetic`.

Users in genre-family communities play Zipf-popular artists, so duplicate deliveries and split artist ids share
an audience while homonyms (always in another family) never do.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from resolver.records import ENGAGEMENT_SCHEMA
from resolver.synthetic_artists import FAMILY_NAMES, Entities, family_sampler, pick_other

ROWS_PER_USER = 25  # mean distinct tracks per user
FAVOURITE_SHARE = 0.6  # plays that go to one of a user's 3 favourite artists


def make_engagement(rng: np.random.Generator, n_rows: int, track_ids: pa.Array, rec_entity: np.ndarray,
                     deliveries: np.ndarray, entities: Entities) -> pa.Table:
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
    family_tracks = np.bincount(track_family, minlength=len(FAMILY_NAMES)).astype(np.float64)
    tracks_by_family = np.argsort(track_family, kind="stable")
    family_start = np.cumsum(family_tracks).astype(np.int64) - family_tracks.astype(np.int64)
    # enough users that the community-reachable (user, track) pairs are at least 3 × n_rows
    n_users = max(n_rows // ROWS_PER_USER, math.ceil(3 * n_rows * n_tracks / float((family_tracks**2).sum())), 1)
    user_family = rng.choice(len(FAMILY_NAMES), size=n_users, p=family_tracks / n_tracks)
    activity = np.cumsum(rng.lognormal(0.0, 1.0, n_users))
    sampler = family_sampler(entities)
    favourites = np.zeros((n_users, 3), dtype=np.int64)
    for f, (members, cumulative) in enumerate(sampler):
        users = np.flatnonzero(user_family == f)
        if len(users) and len(members):
            favourites[users] = pick_other(members, cumulative, rng.random((len(users), 3)), np.full(1, -1))

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
                    entity[rows] = pick_other(members, cumulative, rng.random(len(rows)), np.full(1, -1))
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
