"""MinHash LSH, one implementation for batch blocking, the online index, artists and audio.

**Signatures.** datasketch (scheme ``affine32``) hashes each token to 32 bits, pre-mixes it with the
MurmurHash3 finalizer, then applies ``num_perm`` affine permutations ``a·h + b mod 2³²`` and keeps the
minimum per permutation. Doing that per set in Python costs ~25 µs a set; here the tokens of all sets lie in
one flat ``uint32`` array and each permutation is one vectorized pass with ``np.minimum.reduceat``. The
permutation parameters come from datasketch itself, and a test checks the signatures are equal.

**Bands.** A signature is cut into ``b`` bands of ``r`` rows (datasketch's optimum for a Jaccard threshold);
rows whose band is identical share a bucket. :func:`band_keys` gives every row one 64-bit bucket key per band,
already distinct across bands (the band number seeds the mix), so batch blocking can group one band at a time
(:func:`banded_pairs`) and the online index can keep all bands of all rows in one sorted array
(:class:`BucketIndex`) and find a query's buckets with one binary search — the same keys either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from catalog_er.resolver.pairing import dedupe_pairs, pairs_within_groups

_FMIX_SHIFT_1, _FMIX_SHIFT_2, _FMIX_SHIFT_3 = np.uint32(16), np.uint32(13), np.uint32(16)
_FMIX_MULT_1, _FMIX_MULT_2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
_ONE_PASS_CELLS = 1 << 20
"""Up to this many token × permutation cells (4 MB), all permutations are computed in one array pass."""
EMPTY_SIGNATURE_VALUE = np.uint32(0xFFFFFFFF)
"""Value of every slot in the signature of an empty set (datasketch's initial hash value)."""

_KEY_MIX = np.uint64(0x9E3779B97F4A7C15)
"""The one odd 64-bit multiplier that folds band rows (and group codes) into a bucket key."""
_KEY_CHUNK_ROWS = 100_000
"""Rows hashed into keys at once: bounds the ``uint64`` copy of the signatures."""
NO_BUCKET = -1
"""Bucket key of a row that is in no bucket (empty set, or no group)."""


def _fmix32(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> _FMIX_SHIFT_1)
    values = values * _FMIX_MULT_1
    values = values ^ (values >> _FMIX_SHIFT_2)
    values = values * _FMIX_MULT_2
    return values ^ (values >> _FMIX_SHIFT_3)


@lru_cache(maxsize=16)
def permutations(*, num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` uint32 arrays of shape ``(num_perm,)`` that datasketch uses for this seed (cached;
    read-only)."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    a, b = a.astype(np.uint32), b.astype(np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def batch_signatures(tokens: np.ndarray, set_ids: np.ndarray, n_sets: int, *, num_perm: int, seed: int
                     ) -> np.ndarray:
    """MinHash signatures of ``n_sets`` token sets.

    Args:
        tokens: ``(n_tokens,)`` uint32 token hashes, grouped by set (``set_ids`` non-decreasing).
        set_ids: ``(n_tokens,)`` int64 set index of each token, in ``[0, n_sets)``.
        n_sets: number of sets; sets with no token get the all-``0xFFFFFFFF`` empty signature.
        num_perm: permutations (signature length).
        seed: datasketch permutation seed.

    Returns:
        ``(n_sets, num_perm)`` uint32 signature matrix.
    """
    if tokens.shape != set_ids.shape:
        raise ValueError(f"tokens {tokens.shape} and set_ids {set_ids.shape} must have the same shape")
    if len(set_ids) and np.any(np.diff(set_ids) < 0):
        raise ValueError("set_ids must be non-decreasing (tokens grouped by set)")
    signatures = np.full((n_sets, num_perm), EMPTY_SIGNATURE_VALUE, dtype=np.uint32)
    if len(tokens) == 0:
        return signatures
    present, starts = np.unique(set_ids, return_index=True)
    mixed = _fmix32(tokens.astype(np.uint32, copy=False))
    a, b = permutations(num_perm=num_perm, seed=seed)
    with np.errstate(over="ignore"):
        if len(mixed) * num_perm <= _ONE_PASS_CELLS:  # few tokens (one query): all permutations at once
            signatures[present] = np.minimum.reduceat(mixed[:, None] * a[None, :] + b[None, :], starts, axis=0)
            return signatures
        for column in range(num_perm):
            permuted = mixed * a[column] + b[column]
            signatures[present, column] = np.minimum.reduceat(permuted, starts)
    return signatures


@lru_cache(maxsize=64)
def lsh_bands(*, threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands ``b`` and rows per band ``r`` that datasketch's LSH picks for a Jaccard ``threshold``."""
    index = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return index.b, index.r


def band_keys(signatures: np.ndarray, empty: np.ndarray, *, threshold: float,
              within: np.ndarray | None = None) -> np.ndarray:
    """``(n, bands)`` int64 bucket key of every row in every band; :data:`NO_BUCKET` for rows in no bucket.

    Args:
        signatures: ``(n, num_perm)`` uint32 MinHash signatures.
        empty: ``(n,)`` bool, rows whose set was empty (they share no bucket).
        threshold: Jaccard similarity the bands are tuned for (datasketch's optimum bands and rows).
        within: ``(n,)`` int64 group code per row (-1 = none), mixed into every key so buckets never span
            groups (LSH inside each artist, say); rows without a group are in no bucket.

    Keys of different bands differ (the band number starts the mix), so the keys of all bands can share one
    sorted array."""
    n = len(signatures)
    bands, rows = lsh_bands(threshold=threshold, num_perm=signatures.shape[1])
    keys = np.empty((n, bands), dtype=np.int64)
    band_start = np.arange(1, bands + 1, dtype=np.uint64) * _KEY_MIX
    for start in range(0, n, _KEY_CHUNK_ROWS):
        stop = min(start + _KEY_CHUNK_ROWS, n)
        blocks = signatures[start:stop, : bands * rows].reshape(stop - start, bands, rows).astype(np.uint64)
        with np.errstate(over="ignore"):
            key = np.broadcast_to(band_start, (stop - start, bands)).copy()
            for column in range(rows):
                key = (key ^ blocks[:, :, column]) * _KEY_MIX
            if within is not None:
                key = (key ^ within[start:stop].astype(np.uint64)[:, None]) * _KEY_MIX
        keys[start:stop] = key.view(np.int64)
    keys[keys == NO_BUCKET] = NO_BUCKET - 1  # a real key that happens to equal the sentinel moves aside
    keys[empty] = NO_BUCKET
    if within is not None:
        keys[within < 0] = NO_BUCKET
    return keys


def exact_keys(codes: np.ndarray) -> np.ndarray:
    """``(n, columns)`` int64 bucket keys from ``(n, columns)`` integer codes (-1 = no bucket): rows share a
    bucket where a column's codes are equal. Mixed like :func:`band_keys` (column number first), so exact keys
    and band keys live in the same kind of :class:`BucketIndex`."""
    column_start = np.arange(1, codes.shape[1] + 1, dtype=np.uint64) * _KEY_MIX
    with np.errstate(over="ignore"):
        keys = ((np.broadcast_to(column_start, codes.shape) ^ codes.astype(np.int64).view(np.uint64)) * _KEY_MIX
                ).view(np.int64)
    keys[keys == NO_BUCKET] = NO_BUCKET - 1
    keys[codes < 0] = NO_BUCKET
    return keys


def banded_pairs(signatures: np.ndarray, empty: np.ndarray, *, threshold: float, max_bucket_size: int,
                 neighbours: int = 0, within: np.ndarray | None = None, sort_within: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """Row pairs that share a bucket in at least one band (batch blocking), each pair once.

    Args:
        signatures, empty, threshold, within: as for :func:`band_keys`.
        max_bucket_size, neighbours, sort_within: as for :func:`bucket_pairs`.

    Returns:
        ``(left, right, oversized_buckets)``: int64 rows sorted by ``(left, right)``, ``left < right``.
    """
    keys = band_keys(signatures, empty, threshold=threshold, within=within)
    return bucket_pairs(keys, max_bucket_size=max_bucket_size, neighbours=neighbours, sort_within=sort_within)


def bucket_pairs(keys: np.ndarray, *, max_bucket_size: int, neighbours: int = 0,
                 sort_within: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Row pairs that share a bucket in at least one column of ``keys``, each pair once.

    Args:
        keys: ``(n, bands)`` int64 bucket keys (:func:`band_keys`, or exact keys built alike; :data:`NO_BUCKET`
            for rows in no bucket).
        max_bucket_size: buckets larger than this are not paired exhaustively (a popular title).
        neighbours: in an oversized bucket sorted by ``sort_within``, each row is paired with this many
            following rows (so with as many before it); 0, or no ``sort_within``, skips oversized buckets.
        sort_within: ``(n,)`` float order inside oversized buckets (duration, say; NaN sorts last).

    Returns:
        ``(left, right, oversized_buckets)``: int64 rows sorted by ``(left, right)``, ``left < right``.
    """
    lefts, rights, oversized = [], [], 0
    for band in range(keys.shape[1]):
        left, right, band_oversized = pairs_within_groups(
            keys[:, band], max_group_size=max_bucket_size, sort_within=sort_within,
            window=neighbours if sort_within is not None else 0)
        lefts.append(left)
        rights.append(right)
        oversized += band_oversized
    left, right = dedupe_pairs(np.concatenate(lefts), np.concatenate(rights), len(keys))
    return left, right, oversized


def not_among(rows: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """``(len(rows),)`` bool: which of ``rows`` (non-negative row numbers) are not in ``removed``, through a mask
    over row numbers (O(n + max row); ``np.isin`` would sort both)."""
    gone = np.zeros(max(int(rows.max(initial=-1)), int(removed.max(initial=-1))) + 1, dtype=bool)
    gone[removed] = True
    return ~gone[rows]


@dataclass(frozen=True)
class BucketIndex:
    """One blocker's buckets over all bands, for look-ups: ``keys`` ``(m,)`` int64 sorted bucket keys of every
    row in every band (rows in no bucket left out), ``rows`` ``(m,)`` int32 the row of each key."""

    keys: np.ndarray
    rows: np.ndarray

    @classmethod
    def build(cls, keys: np.ndarray, rows: np.ndarray) -> BucketIndex:
        """From ``(n, bands)`` bucket keys (:func:`band_keys`) of the rows ``rows`` ``(n,)``."""
        in_bucket = keys != NO_BUCKET
        flat_keys = keys[in_bucket]
        flat_rows = np.broadcast_to(rows.astype(np.int32)[:, None], keys.shape)[in_bucket]
        order = np.argsort(flat_keys, kind="stable")
        return cls(flat_keys[order], flat_rows[order])

    def merged(self, keys: np.ndarray, rows: np.ndarray) -> BucketIndex:
        """This index with every key of ``rows`` replaced by ``keys`` (``(len(rows), bands)``): the old keys of
        those rows dropped, the new ones merged in (no full re-sort)."""
        keep = not_among(self.rows, rows)
        kept_keys, kept_rows = self.keys[keep], self.rows[keep]
        added = BucketIndex.build(keys, rows)
        position = np.searchsorted(kept_keys, added.keys, side="right")
        return BucketIndex(np.insert(kept_keys, position, added.keys), np.insert(kept_rows, position, added.rows))

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The buckets of ``(q, bands)`` query keys: ``(query, start, size)``, one entry per query key that is in
        a bucket — the query row, and where that bucket's members lie in :attr:`rows` (``size`` may be 0)."""
        in_bucket = keys != NO_BUCKET
        query = np.broadcast_to(np.arange(len(keys))[:, None], keys.shape)[in_bucket]
        wanted = keys[in_bucket]
        start = np.searchsorted(self.keys, wanted, side="left")
        size = np.searchsorted(self.keys, wanted, side="right") - start
        return query, start, size
