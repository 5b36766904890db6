"""Listening simulation (the ``engagement`` table) for :mod:`resolver.synthetic`.

Users in genre-family communities play Zipf-popular artists, so duplicate deliveries and split artist ids share
an audience while homonyms (always in another family) never do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.resolver.records import ENGAGEMENT_SCHEMA
from catalog_er.resolver.synthetic.artists import FAMILY_NAMES, Entities, family_sampler, pick_other

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
    index = _track_index(rec_entity, deliveries, entities)
    # enough users that the community-reachable (user, track) pairs are at least 3 × n_rows
    n_users = max(n_rows // ROWS_PER_USER,
                  math.ceil(3 * n_rows * index.n_tracks / float((index.family_tracks**2).sum())), 1)
    sampler = family_sampler(entities)
    users = _make_users(rng, n_users, index, sampler)
    keys = _draw_pairs(rng, n_rows, users, index, sampler)
    keys = keys[rng.choice(len(keys), size=n_rows, replace=False)]
    user_ids = pa.array([f"u{u:08d}" for u in range(n_users)], pa.string())
    plays = np.minimum(rng.zipf(2.0, n_rows), 5_000).astype(np.int64)
    user, track = np.divmod(keys, index.n_tracks)
    return pa.table({"user_id": user_ids.take(user), "track_id": track_ids.take(track), "plays": plays},
                    schema=ENGAGEMENT_SCHEMA)


@dataclass(frozen=True)
class _TrackIndex:
    """Track positions (generation order) grouped by recording, by entity and by genre family."""

    n_tracks: int
    deliveries: np.ndarray  # int64 deliveries per recording
    first_track: np.ndarray  # int64 first track of each recording
    by_entity: np.ndarray  # recordings sorted by entity
    entity_count: np.ndarray  # recordings per entity
    entity_start: np.ndarray  # first position of each entity in ``by_entity``
    family_tracks: np.ndarray  # float64 tracks per genre family
    tracks_by_family: np.ndarray  # tracks sorted by genre family
    family_start: np.ndarray  # int64 first position of each family in ``tracks_by_family``


def _track_index(rec_entity: np.ndarray, deliveries: np.ndarray, entities: Entities) -> _TrackIndex:
    entity_count = np.bincount(rec_entity, minlength=len(entities.name))
    track_family = entities.family[np.repeat(rec_entity, deliveries)]
    family_tracks = np.bincount(track_family, minlength=len(FAMILY_NAMES)).astype(np.float64)
    return _TrackIndex(
        n_tracks=int(deliveries.sum()), deliveries=deliveries, first_track=np.cumsum(deliveries) - deliveries,
        by_entity=np.argsort(rec_entity, kind="stable"), entity_count=entity_count,
        entity_start=np.cumsum(entity_count) - entity_count, family_tracks=family_tracks,
        tracks_by_family=np.argsort(track_family, kind="stable"),
        family_start=np.cumsum(family_tracks).astype(np.int64) - family_tracks.astype(np.int64))


@dataclass(frozen=True)
class _Users:
    family: np.ndarray  # genre family (community) per user
    activity: np.ndarray  # cumulative lognormal activity, for activity-weighted user picks
    favourites: np.ndarray  # int64 (n_users, 3) favourite entities


def _make_users(rng: np.random.Generator, n_users: int, index: _TrackIndex,
                sampler: list[tuple[np.ndarray, np.ndarray]]) -> _Users:
    """Users in communities sized like the families' track counts, each with 3 popularity-weighted favourites."""
    family = rng.choice(len(FAMILY_NAMES), size=n_users, p=index.family_tracks / index.n_tracks)
    activity = np.cumsum(rng.lognormal(0.0, 1.0, n_users))
    favourites = np.zeros((n_users, 3), dtype=np.int64)
    for f, (members, cumulative) in enumerate(sampler):
        users = np.flatnonzero(family == f)
        if len(users) and len(members):
            favourites[users] = pick_other(members, cumulative, rng.random((len(users), 3)), np.full(1, -1))
    return _Users(family, activity, favourites)


def _draw_pairs(rng: np.random.Generator, n_rows: int, users: _Users, index: _TrackIndex,
                sampler: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """At least ``n_rows`` distinct ``user * n_tracks + track`` keys, sorted."""
    n_users = len(users.family)
    keys = np.empty(0, dtype=np.int64)
    for attempt in range(64):
        m = max(1024, int((n_rows - len(keys)) * 1.4))
        user = np.searchsorted(users.activity, rng.random(m) * users.activity[-1], side="right").clip(0, n_users - 1)
        if attempt < 4:  # favourites and popularity
            track = _popular_tracks(rng, user, users, index, sampler)
        else:  # top up uniformly within the community: always reaches new pairs
            family = users.family[user]
            offset = (rng.random(m) * index.family_tracks[family]).astype(np.int64)
            track = index.tracks_by_family[index.family_start[family] + offset]
        keys = np.unique(np.concatenate([keys, user.astype(np.int64) * index.n_tracks + track]))
        if len(keys) >= n_rows:
            return keys
    raise RuntimeError(f"could not draw {n_rows} distinct engagement rows")


def _popular_tracks(rng: np.random.Generator, user: np.ndarray, users: _Users, index: _TrackIndex,
                    sampler: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """A track per play: a favourite or popular artist, then one of its recordings and deliveries."""
    m = len(user)
    family = users.family[user]
    entity = users.favourites[user, rng.integers(0, 3, m)]
    for f, (members, cumulative) in enumerate(sampler):
        rows = np.flatnonzero((family == f) & (rng.random(m) >= FAVOURITE_SHARE))
        if len(rows):
            entity[rows] = pick_other(members, cumulative, rng.random(len(rows)), np.full(1, -1))
    position = index.entity_start[entity] + (rng.random(m) ** 2 * index.entity_count[entity]).astype(np.int64)
    recording = index.by_entity[position]
    return index.first_track[recording] + (rng.random(m) * index.deliveries[recording]).astype(np.int64)
