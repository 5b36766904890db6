"""Candidate artist pairs and their signals.

Candidates come from three blockers, each sub-quadratic: MinHash LSH on the name keys' character 3-grams,
MinHash LSH on the listener sets (co-engagement), and the track clusters (two ids credited as primary
artist on deliveries that track resolution grouped as one recording).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from catalog_er.resolver.artists.engagement import ListenerSignatures, estimated_jaccard
from catalog_er.resolver.artists.features import ArtistFeatures, TrackArtistLinks
from catalog_er.resolver.blocking import lsh_candidate_pairs
from catalog_er.resolver.compare import MISSING, string_similarity
from catalog_er.resolver.config import ArtistConfig, BlockingConfig
from catalog_er.resolver.lsh import banded_pairs
from catalog_er.resolver.pairing import dedupe_pairs, pairs_within_groups


@dataclass(frozen=True)
class SharedRecordings:
    """Track-cluster overlap of artist ids (primary credits only, so collaborators do not count).

    ``recordings``: ``(n_artists,)`` int64 distinct track clusters each id is primary artist of.
    ``left``/``right``/``shared``: artist pairs (``left < right``) that are primary on tracks of at least one
    common cluster, and how many clusters they share.
    """

    recordings: np.ndarray
    left: np.ndarray
    right: np.ndarray
    shared: np.ndarray


def shared_recordings(links: TrackArtistLinks, track_labels: np.ndarray, n_artists: int,
                      *, max_artists_per_recording: int = 50) -> SharedRecordings:
    """Count the track clusters each pair of artist ids shares (``track_labels``: ``(n_tracks,)`` cluster)."""
    artist = links.artist_row[links.primary]
    cluster = track_labels[links.track_row[links.primary]]
    n_clusters = int(track_labels.max(initial=-1)) + 1
    distinct = np.unique(artist * max(n_clusters, 1) + cluster)
    distinct_artist, distinct_cluster = np.divmod(distinct, max(n_clusters, 1))
    recordings = np.bincount(distinct_artist, minlength=n_artists).astype(np.int64)
    first, second, _ = pairs_within_groups(distinct_cluster, max_group_size=max_artists_per_recording)
    a, b = distinct_artist[first], distinct_artist[second]
    codes, shared = np.unique(np.minimum(a, b) * n_artists + np.maximum(a, b), return_counts=True)
    left, right = np.divmod(codes, max(n_artists, 1))
    return SharedRecordings(recordings, left, right, shared.astype(np.int64))


@dataclass(frozen=True)
class ArtistCandidates:
    """Candidate pairs (``left < right``, int64 rows of the artists table) and pairs found per blocker."""

    left: np.ndarray
    right: np.ndarray
    pairs_by_blocker: dict[str, int]

    def __len__(self) -> int:
        return len(self.left)


def artist_candidate_pairs(features: ArtistFeatures, listeners: ListenerSignatures, shared: SharedRecordings,
                           blocking: BlockingConfig, config: ArtistConfig) -> ArtistCandidates:
    """Union of the name, co-engagement and shared-recording blockers (see the module docstring)."""
    n = len(features)
    name_left, name_right, _ = lsh_candidate_pairs(features.name_key, threshold=config.name_threshold,
                                                   config=blocking)
    audience_left, audience_right, _ = banded_pairs(
        listeners.signatures, listeners.listeners < config.min_listeners,
        threshold=config.coengagement_threshold, max_bucket_size=blocking.max_bucket_size)
    # LSH also pairs ids well below the threshold (band collisions): keep the audience pairs that reach it,
    # so that this blocker adds ids with a *strongly* shared audience, not strangers of one scene.
    reach = estimated_jaccard(listeners.signatures, audience_left, audience_right) >= config.coengagement_threshold
    audience_left, audience_right = audience_left[reach], audience_right[reach]
    left, right = dedupe_pairs(np.concatenate([name_left, audience_left, shared.left]),
                          np.concatenate([name_right, audience_right, shared.right]), n)
    return ArtistCandidates(left, right, {"name_lsh": len(name_left), "coengagement_lsh": len(audience_left),
                                          "shared_recordings": len(shared.left)})


@dataclass(frozen=True)
class ArtistPairSignals:
    """Raw evidence per artist pair, every array ``(n_pairs,)``."""

    name_similarity: np.ndarray
    """float32 rapidfuzz Indel similarity in [0, 1] of the name keys (of the native keys when both names are
    in a non-Latin script); NaN when a key is empty."""
    shared_recordings: np.ndarray
    """float64 shared track clusters / recordings of the id with fewer; NaN when a side has none."""
    coengagement: np.ndarray
    """float64 Jaccard estimate of the listener sets; NaN when a side has fewer than ``min_listeners`` or
    the smaller audience is below ``min_audience_ratio`` of the larger."""
    genre_match: np.ndarray
    """int8: 1 the genre sets overlap, 0 they are disjoint, -1 a side has none."""
    country_match: np.ndarray
    """int8: 1 same country, 0 different, -1 missing."""

    def __len__(self) -> int:
        return len(self.name_similarity)

    @property
    def profile_agreement(self) -> np.ndarray:
        """int8 of genres and country together: 0 unknown (neither is known on both sides), 1 some
        disagreement, 2 agreement and no disagreement."""
        genre, country = self.genre_match, self.country_match
        state = np.zeros(len(genre), dtype=np.int8)
        state[(genre == 1) | (country == 1)] = 2
        state[(genre == 0) | (country == 0)] = 1
        return state


def _genre_overlap(bits: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    out = ((bits[left] & bits[right]) != 0).any(axis=1).astype(np.int8)
    out[~bits[left].any(axis=1) | ~bits[right].any(axis=1)] = MISSING
    return out


def _shared_share(shared: SharedRecordings, left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    known = shared.left * n + shared.right
    codes = left * n + right
    position = np.clip(np.searchsorted(known, codes), 0, max(len(known) - 1, 0))
    count = np.where(known[position] == codes, shared.shared[position], 0) if len(known) else np.zeros(len(codes))
    fewer = np.minimum(shared.recordings[left], shared.recordings[right]).astype(np.float64)
    share = np.full(len(codes), np.nan)
    has = fewer > 0
    share[has] = np.minimum(count[has] / fewer[has], 1.0)
    return share


def compare_artist_pairs(features: ArtistFeatures, listeners: ListenerSignatures, shared: SharedRecordings,
                         left: np.ndarray, right: np.ndarray, config: ArtistConfig) -> ArtistPairSignals:
    """Every artist signal for the pairs ``(left[i], right[i])`` (``left < right``)."""
    f = features
    name_similarity = string_similarity(f.name_key[left], f.name_key[right], fuzz.ratio)
    same_script = (f.native_key[left] != "") & (f.native_key[right] != "")
    if same_script.any():  # both non-Latin: compare in their own script (see artist_features.native_name_key)
        native_left, native_right = f.native_key[left][same_script], f.native_key[right][same_script]
        name_similarity[same_script] = string_similarity(native_left, native_right, fuzz.ratio)
    name_similarity[(f.name_key[left] == "") | (f.name_key[right] == "")] = np.nan
    coengagement = estimated_jaccard(listeners.signatures, left, right)
    fewer = np.minimum(listeners.listeners[left], listeners.listeners[right])
    more = np.maximum(listeners.listeners[left], listeners.listeners[right])
    # Jaccard cannot exceed fewer/more: an audience a tenth the size of the other says nothing either way.
    uninformative = (fewer < config.min_listeners) | (fewer < config.min_audience_ratio * more)
    coengagement[uninformative] = np.nan
    country_missing = (f.country[left] == "") | (f.country[right] == "")
    country = (f.country[left] == f.country[right]).astype(np.int8)
    country[country_missing] = MISSING
    return ArtistPairSignals(
        name_similarity=name_similarity,
        shared_recordings=_shared_share(shared, left, right, len(f)),
        coengagement=coengagement,
        genre_match=_genre_overlap(f.genre_bits, left, right),
        country_match=country,
    )
