"""MinHash signatures, band keys and the bucket index that batch blocking and the online index share."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from catalog_er.resolver.blocking import lsh_candidate_pairs, shingle_tokens
from catalog_er.resolver.config import BlockingConfig
from catalog_er.resolver.lsh import (
    EMPTY_SIGNATURE_VALUE,
    NO_BUCKET,
    BucketIndex,
    band_keys,
    banded_pairs,
    batch_signatures,
)


def test_batch_signatures_equal_datasketch_minhash() -> None:
    rng = np.random.default_rng(3)
    sets = [rng.integers(0, 2**32, size=rng.integers(1, 40), dtype=np.uint64) for _ in range(50)]
    tokens = np.concatenate(sets).astype(np.uint32)
    set_ids = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
    batch = batch_signatures(tokens, set_ids, len(sets), num_perm=32, seed=1)
    for row, values in enumerate(sets):
        reference = MinHash(num_perm=32, seed=1, hashfunc=int)
        reference.update_batch(values.tolist())
        assert np.array_equal(batch[row], reference.hashvalues)


def test_empty_sets_get_the_empty_signature() -> None:
    tokens = np.array([5, 6], dtype=np.uint32)
    signatures = batch_signatures(tokens, np.array([1, 1]), 3, num_perm=8, seed=1)
    assert (signatures[0] == EMPTY_SIGNATURE_VALUE).all()
    assert (signatures[2] == EMPTY_SIGNATURE_VALUE).all()
    assert not (signatures[1] == EMPTY_SIGNATURE_VALUE).all()


def test_shingles_stay_inside_each_string() -> None:
    tokens, rows = shingle_tokens(np.array(["ab", "", "xyz"], dtype=object))
    assert rows.tolist() == [0, 0, 2, 2, 2]
    assert len(tokens) == 5


def test_lsh_finds_near_duplicates_and_not_unrelated_strings() -> None:
    texts = np.array(["bohemian rhapsody queen", "bohemain rhapsody queen", "get lucky daft punk",
                      "", "completely different words"], dtype=object)
    left, right, _ = lsh_candidate_pairs(texts, threshold=0.45, config=BlockingConfig())
    pairs = set(zip(left.tolist(), right.tolist(), strict=True))
    assert (0, 1) in pairs
    assert all(3 not in pair for pair in pairs)
    assert (0, 2) not in pairs


def _signatures(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Signatures of ``n`` random token sets, a third of them near-copies of another, one empty."""
    rng = np.random.default_rng(seed)
    sets = [rng.integers(0, 2**32, size=30, dtype=np.uint64) for _ in range(n)]
    for k in range(0, n, 3):
        sets[k] = np.concatenate([sets[(k + 1) % n][:28], sets[k][:2]])
    sets[n - 1] = np.empty(0, np.uint64)
    tokens = np.concatenate(sets).astype(np.uint32)
    set_ids = np.repeat(np.arange(n), [len(s) for s in sets])
    return batch_signatures(tokens, set_ids, n, num_perm=64, seed=1), np.array([len(s) == 0 for s in sets])


def test_band_keys_differ_across_bands_and_empty_rows_are_in_no_bucket() -> None:
    signatures, empty = _signatures(60, seed=1)
    keys = band_keys(signatures, empty, threshold=0.5)
    assert (keys[empty] == NO_BUCKET).all() and (keys[~empty] != NO_BUCKET).all()
    identical = np.vstack([signatures[0], signatures[0]])
    twin_keys = band_keys(identical, np.zeros(2, bool), threshold=0.5)
    assert (twin_keys[0] == twin_keys[1]).all()
    assert len(set(twin_keys[0].tolist())) == twin_keys.shape[1]  # one signature, a different key per band


def test_group_codes_keep_buckets_apart() -> None:
    signatures, _ = _signatures(6, seed=2)
    same = np.vstack([signatures[0]] * 3)
    keys = band_keys(same, np.zeros(3, bool), threshold=0.5, within=np.array([7, 8, -1]))
    assert not np.intersect1d(keys[0], keys[1]).size and (keys[2] == NO_BUCKET).all()


def test_bucket_index_look_ups_find_exactly_the_batch_buckets() -> None:
    signatures, empty = _signatures(90, seed=3)
    left, right, _ = banded_pairs(signatures, empty, threshold=0.5, max_bucket_size=1_000)
    batch = set(zip(left.tolist(), right.tolist(), strict=True))
    keys = band_keys(signatures, empty, threshold=0.5)
    index = BucketIndex.build(keys, np.arange(len(keys)))
    query, start, size = index.lookup(keys)
    found = {(min(int(q), int(r)), max(int(q), int(r)))
             for q, s, n in zip(query, start, size, strict=True) for r in index.rows[s:s + n] if r != q}
    assert found == batch and batch


def test_merged_bucket_index_equals_one_built_from_scratch() -> None:
    signatures, empty = _signatures(40, seed=4)
    keys = band_keys(signatures, empty, threshold=0.5)
    index = BucketIndex.build(keys[:30], np.arange(30))
    replaced = np.array([3, 30, 31])  # one row replaced by another set's keys, two appended
    new_keys = keys[[35, 30, 31]]
    merged = index.merged(new_keys, replaced)
    final_keys = keys[:32].copy()
    final_keys[3] = keys[35]
    scratch = BucketIndex.build(final_keys, np.arange(32))
    assert np.array_equal(merged.keys, scratch.keys)
    assert sorted(zip(merged.keys.tolist(), merged.rows.tolist(), strict=True)) == sorted(
        zip(scratch.keys.tolist(), scratch.rows.tolist(), strict=True))
