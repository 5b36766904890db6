"""Artist clusters fed back into track scoring.

The track model's artist comparison measures "same artist?" from the credited names. Once artists are
resolved there is a better measurement for tracks whose primary credits are two *different* ids:

- both ids in one artist cluster → the same artist, whatever the spelling (similarity 1.0): "Кино" and
  "Kino" releasing the same title is strong evidence of one recording;
- the two ids were compared and found different (artist pair probability below
  :data:`DIFFERENT_ARTIST_PROBABILITY`) → different artists (similarity 0.0), even when the names are
  identical: two bands called "Nirvana" both having a song "Lithium" is no evidence at all.

Everything else keeps the measured name similarity. The track model is not retrained: the level keeps
its meaning, only the measurement improves, so the result stays deterministic.
"""

from __future__ import annotations

import numpy as np

from catalog_er.resolver.artists.pipeline import ArtistResult
from catalog_er.resolver.compare import PairSignals, SignalAdjuster
from catalog_er.resolver.features import TrackFeatures

DIFFERENT_ARTIST_PROBABILITY = 0.05
"""An artist pair scored below this is taken as two different artists."""


def _primary_artist(n_tracks: int, artists: ArtistResult) -> np.ndarray:
    """``(n_tracks,)`` int64 artist row of each track's first credited id (-1 when unknown)."""
    primary = np.full(n_tracks, -1, dtype=np.int64)
    links = artists.links
    primary[links.track_row[links.primary]] = links.artist_row[links.primary]
    return primary


def artist_adjuster(features: TrackFeatures, artists: ArtistResult) -> SignalAdjuster:
    """A :data:`resolver.compare.SignalAdjuster` that applies the artist clusters (module docstring)."""
    primary = _primary_artist(len(features), artists)
    n_artists = len(artists.labels)
    order = np.argsort(artists.candidate_left * n_artists + artists.candidate_right)
    known_codes = (artists.candidate_left * n_artists + artists.candidate_right)[order]
    known_probability = artists.candidate_probability[order]

    def adjust(signals: PairSignals, left: np.ndarray, right: np.ndarray) -> PairSignals:
        a, b = primary[left], primary[right]
        both = (a >= 0) & (b >= 0) & (a != b)
        same = np.zeros(len(left), dtype=bool)
        same[both] = artists.labels[a[both]] == artists.labels[b[both]]
        codes = np.minimum(a, b) * n_artists + np.maximum(a, b)
        position = np.clip(np.searchsorted(known_codes, codes), 0, max(len(known_codes) - 1, 0))
        if len(known_codes):
            scored = both & (known_codes[position] == codes)
            different = scored & ~same & (known_probability[position] < DIFFERENT_ARTIST_PROBABILITY)
        else:  # no artist pair was compared (every name far from every other): nothing is known to differ
            different = np.zeros(len(left), dtype=bool)
        if not (same.any() or different.any()):
            return signals
        artist_similarity = signals.artist_similarity.copy()
        artist_similarity[same] = 1.0
        artist_similarity[different] = 0.0
        fields = {name: getattr(signals, name) for name in signals.__dataclass_fields__}
        return PairSignals(**{**fields, "artist_similarity": artist_similarity})

    return adjust
