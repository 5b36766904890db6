"""The artist comparisons: the same Fellegi–Sunter machinery as tracks (:mod:`resolver.fellegi_sunter`),
other levels.

Profile (genres, country) and audience (co-engagement) are one joint comparison, as title and artist are for
tracks: among different artists the profile and the audience are far from independent (acts of one scene
share genres, country *and* listeners; acts of different scenes share none of them), so two independent
comparisons would count a scene twice, and the homonym case — same name, other genres, other country, no
shared listeners — is one cell of it. EM learns every m and u on the catalog's own candidate pairs; u starts
from random artist pairs.
"""

from __future__ import annotations

from catalog_er.resolver.comparisons import Anchor, CategoricalScale, Comparison, Level, NumericScale, at_least

_PROFILE = CategoricalScale("profile_agreement", ("profile unknown", "profile conflicts", "profile agrees"))
_AUDIENCE = NumericScale("coengagement", (Level("jaccard <0.02"), at_least(0.02), at_least(0.05), at_least(0.10),
                                          at_least(0.25), at_least(0.50)), missing="audience ?")


def _audience_runs() -> tuple[tuple[int, ...], ...]:
    """Per profile state, the known-audience levels in order (their weights must not decrease)."""
    width = len(_AUDIENCE.labels)
    return tuple(tuple(range(state * width + 1, (state + 1) * width)) for state in range(len(_PROFILE.labels)))


ARTIST_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", (NumericScale("name_similarity", (Level("<0.50"), at_least(0.50), at_least(0.70),
                                                         at_least(0.85), at_least(0.95), at_least(1.0, "same key"))),),
               label_format="name {0}", monotone_groups=(tuple(range(6)),)),
    Comparison("profile_audience", (_PROFILE, _AUDIENCE), label_format="{0} / {1}", null_when_all_missing=True,
               monotone_groups=_audience_runs()),
    # none / a few (under a quarter of the smaller id's recordings) / >=25% / >=50%
    Comparison("shared_recordings", (NumericScale("shared_recordings", (
        Level("none"), at_least(1e-9, "<25%"), at_least(0.25, ">=25%"), at_least(0.5, ">=50%"))),),
               monotone_groups=((0, 1, 2, 3),)),
)

SHARED_RECORDING_ANCHOR = Anchor("shared_recordings", same_levels=(1, 2, 3), different_levels=(0,))
"""Ids credited on deliveries that share an ISRC or matched on audio are one artist (or, rarely, a
mis-credit); EM holds the other comparisons' m at their distribution among those pairs, so it cannot drift
to another split of the candidates, such as "acts of one scene" (same genres, shared listeners)."""
