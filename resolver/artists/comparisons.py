"""The artist pair model: the same Fellegi–Sunter machinery as tracks (:mod:`resolver.score`), other levels.

Profile (genres, country) and audience (co-engagement) are one joint comparison, as title and artist are
for tracks (see :func:`_profile_audience_levels`). EM learns every m and u on the catalog's own
candidate pairs; u starts from random artist pairs.
"""

from __future__ import annotations

import numpy as np

from catalog_er.resolver.artists.pairs import ArtistPairSignals
from catalog_er.resolver.compare import MISSING
from catalog_er.resolver.score import Anchor, Comparison, threshold_levels

_NAME_LEVELS = ("<0.50", ">=0.50", ">=0.70", ">=0.85", ">=0.95", "same key")
_PROFILE_STATES = ("profile unknown", "profile conflicts", "profile agrees")
_AUDIENCE_LEVELS = ("audience ?", "jaccard <0.02", ">=0.02", ">=0.05", ">=0.10", ">=0.25", ">=0.50")


def _profile_state(signals: ArtistPairSignals) -> np.ndarray:
    """0 unknown (no genres or country on a side), 1 some disagreement, 2 agreement and no disagreement."""
    genre, country = signals.genre_match, signals.country_match
    state = np.zeros(len(genre), dtype=np.int16)
    state[(genre == 1) | (country == 1)] = 2
    state[(genre == 0) | (country == 0)] = 1
    return state


def _profile_audience_levels(signals: ArtistPairSignals) -> np.ndarray:
    """Joint level ``profile_state · 7 + audience_level`` (audience 0 = unknown); null when both unknown.

    Among different artists the profile and the audience are far from independent: acts of one scene
    share genres, country *and* listeners, and acts of different scenes share none of them. Two
    independent comparisons would count a scene twice; one joint comparison learns it once. It also holds
    the homonym case: same name, but other genres, other country and no shared listeners."""
    audience = threshold_levels(signals.coengagement, (0.02, 0.05, 0.10, 0.25, 0.50)).astype(np.int16) + 1
    state = _profile_state(signals)
    joint = (state * len(_AUDIENCE_LEVELS) + audience).astype(np.int8)
    joint[(state == 0) & (audience == 0)] = MISSING
    return joint


def _shared_levels(signals: ArtistPairSignals) -> np.ndarray:
    """none / a few (under a quarter of the smaller id's recordings) / ≥25% / ≥50%."""
    return threshold_levels(signals.shared_recordings, (1e-9, 0.25, 0.5))


def _audience_runs() -> tuple[tuple[int, ...], ...]:
    width = len(_AUDIENCE_LEVELS)
    return tuple(tuple(range(state * width + 1, (state + 1) * width)) for state in range(len(_PROFILE_STATES)))


ARTIST_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", tuple(f"name {n}" for n in _NAME_LEVELS),
               lambda s: threshold_levels(s.name_similarity.astype(np.float64), (0.50, 0.70, 0.85, 0.95, 1.0)),
               monotone_groups=(tuple(range(len(_NAME_LEVELS))),)),
    Comparison("profile_audience", tuple(f"{p} / {a}" for p in _PROFILE_STATES for a in _AUDIENCE_LEVELS),
               _profile_audience_levels, monotone_groups=_audience_runs()),
    Comparison("shared_recordings", ("none", "<25%", ">=25%", ">=50%"), _shared_levels,
               monotone_groups=((0, 1, 2, 3),)),
)

SHARED_RECORDING_ANCHOR = Anchor("shared_recordings", same_levels=(1, 2, 3), different_levels=(0,))
"""Ids credited on deliveries that share an ISRC or matched on audio are one artist (or, rarely, a
mis-credit); EM holds the other comparisons' m at their distribution among those pairs, so it cannot drift
to another split of the candidates, such as "acts of one scene" (same genres, shared listeners)."""
