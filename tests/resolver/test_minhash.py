from __future__ import annotations

import numpy as np
from datasketch import MinHash

from catalog_er.resolver.blocking import lsh_candidate_pairs, pairs_within_groups, shingle_tokens
from catalog_er.resolver.config import BlockingConfig
from catalog_er.resolver.minhash import EMPTY_SIGNATURE_VALUE, batch_signatures


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


def test_pairs_within_groups_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(-1, 30, size=300)
    left, right, skipped = pairs_within_groups(keys, max_group_size=1000)
    expected = {(i, j) for i in range(300) for j in range(i + 1, 300) if keys[i] == keys[j] != -1}
    assert set(zip(left.tolist(), right.tolist(), strict=True)) == expected
    assert skipped == 0


def test_pairs_within_groups_skips_oversized_groups() -> None:
    keys = np.array([1, 1, 1, 2, 2, -1])
    left, right, skipped = pairs_within_groups(keys, max_group_size=2)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == [(3, 4)]
    assert skipped == 1


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
