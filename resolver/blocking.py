"""Candidate pairs, sub-quadratically: exact ISRC blocks plus MinHash LSH over text shingles.

Each blocker emits pairs as two int64 arrays of row indices (``left < right``); the union is deduplicated
once at the end. LSH banding works one band at a time (a natural shard key): rows whose band of the
signature is identical share a bucket, and every pair inside a bucket is a candidate. Buckets above
``max_bucket_size`` are skipped and counted (a popular title like "Intro" would otherwise add ~n²/2 pairs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from catalog_er.resolver.audio_evidence import AudioEvidence
from catalog_er.resolver.config import BlockingConfig
from catalog_er.resolver.features import TrackFeatures
from catalog_er.resolver.minhash import batch_signatures, lsh_bands

_BAND_MIX = np.uint64(0x9E3779B97F4A7C15)
_KEY_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class CandidatePairs:
    """Deduplicated candidate pairs: ``left``/``right`` are ``(n_pairs,)`` int64 row indices, left < right."""

    left: np.ndarray
    right: np.ndarray
    pairs_by_blocker: dict[str, int] = field(default_factory=dict)
    """Pairs each blocker proposed before deduplication."""
    skipped_buckets: dict[str, int] = field(default_factory=dict)
    """Buckets skipped for exceeding the size cap, per blocker."""

    def __len__(self) -> int:
        return len(self.left)


def pairs_within_groups(group_keys: np.ndarray, *, max_group_size: int, sort_within: np.ndarray | None = None,
                        window: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """All row pairs that share a key; oversized groups fall back to a sorted neighbourhood.

    Args:
        group_keys: ``(n,)`` integer key per row; rows with key -1 belong to no group.
        max_group_size: groups larger than this are not paired exhaustively.
        sort_within: ``(n,)`` float, e.g. duration; with ``window > 0``, an oversized group is sorted by it
            and each row is paired with its next ``window`` neighbours only (NaN sorts last).
        window: neighbours per row in oversized groups; 0 skips oversized groups entirely.

    Returns:
        ``(left, right, oversized_groups)``; ``left``/``right`` int64 row indices with ``left < right``.
    """
    valid_rows = np.flatnonzero(group_keys != -1)
    if sort_within is None:
        order = valid_rows[np.argsort(group_keys[valid_rows], kind="stable")]
    else:
        order = valid_rows[np.lexsort((sort_within[valid_rows], group_keys[valid_rows]))]
    sorted_keys = group_keys[order]
    if len(order) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0
    boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate(([0], boundaries))
    sizes = np.diff(np.concatenate((starts, [len(order)])))
    too_big = sizes > max_group_size
    exhaustive_span = np.where(too_big, 0, sizes)
    neighbour_span = np.where(too_big, min(window + 1, max_group_size) if window else 0, 0)
    span = np.maximum(exhaustive_span, neighbour_span)
    lefts, rights = [], []
    for offset in range(1, int(span.max(initial=1))):
        has = (sizes > offset) & (span > offset)
        run_starts, run_sizes = starts[has], sizes[has]
        count = run_sizes - offset
        first = np.repeat(run_starts, count) + _ramp(count)
        lefts.append(order[first])
        rights.append(order[first + offset])
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64), int(too_big.sum())
    left = np.concatenate(lefts)
    right = np.concatenate(rights)
    return np.minimum(left, right), np.maximum(left, right), int(too_big.sum())


def _ramp(counts: np.ndarray) -> np.ndarray:
    """``[0..c0-1, 0..c1-1, ...]`` for the given counts."""
    total = int(counts.sum())
    ends = np.cumsum(counts)
    return np.arange(total) - np.repeat(ends - counts, counts)


def shingle_tokens(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Character 3-grams of ASCII strings with their spaces removed, padded with one space either side.

    Spaces are dropped first so that "kahoun zoudaipu" and "kahounzoudaipu" shingle alike.

    Args:
        texts: ``(n,)`` object array of folded ASCII strings; "" yields no shingle.

    Returns:
        ``(tokens, set_ids)``: uint32 3-gram codes (three bytes packed) and the int64 row of each.
    """
    padded = [f" {t.replace(' ', '')} " if t else "" for t in texts]
    joined = np.frombuffer("\x00".join(padded).encode("ascii", "replace"), dtype=np.uint8)
    if len(joined) < 3:
        return np.empty(0, np.uint32), np.empty(0, np.int64)
    row_of_byte = np.cumsum(joined == 0)
    wide = joined.astype(np.uint32)
    codes = (wide[:-2] << np.uint32(16)) | (wide[1:-1] << np.uint32(8)) | wide[2:]
    valid = (joined[:-2] != 0) & (joined[1:-1] != 0) & (joined[2:] != 0)
    return codes[valid], row_of_byte[:-2][valid].astype(np.int64)


def lsh_candidate_pairs(texts: np.ndarray, *, threshold: float, config: BlockingConfig,
                        within: np.ndarray | None = None, duration_ms: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs whose 3-gram MinHash signatures agree on at least one LSH band.

    Bands and rows come from datasketch's optimum for ``threshold``. With ``within`` (an int64 code per
    row, -1 = none), only rows with the same code can share a bucket: LSH inside each artist, say.
    Buckets above ``config.max_bucket_size`` (popular titles) are sorted by ``duration_ms`` and each
    member is paired with its ``config.oversized_bucket_neighbours`` nearest in duration only.
    Returns ``(left, right, oversized_buckets)``.
    """
    signatures, empty = text_signatures(texts, config)
    return banded_pairs(signatures, empty, threshold=threshold, config=config, within=within,
                        duration_ms=duration_ms)


def band_keys(signatures: np.ndarray, empty: np.ndarray, *, threshold: float,
              within: np.ndarray | None = None) -> np.ndarray:
    """``(n, bands)`` int64 LSH bucket key of every row in every band (-1: the row is in no bucket).

    Bands and rows per band come from datasketch's optimum for ``threshold``; ``within`` (int64 per row,
    -1 = none) mixes a group code into every key so buckets never span groups."""
    n = len(signatures)
    bands, rows = lsh_bands(threshold=threshold, num_perm=signatures.shape[1])
    keys = np.empty((n, bands), dtype=np.int64)
    for start in range(0, n, _KEY_CHUNK_ROWS):  # chunks bound the uint64 copy of the signatures
        stop = min(start + _KEY_CHUNK_ROWS, n)
        blocks = signatures[start:stop, : bands * rows].reshape(stop - start, bands, rows).astype(np.uint64)
        with np.errstate(over="ignore"):
            key = np.zeros((stop - start, bands), dtype=np.uint64)
            for column in range(rows):
                key = (key ^ blocks[:, :, column]) * _BAND_MIX
            if within is not None:
                key = (key ^ within[start:stop].astype(np.uint64)[:, None]) * _BAND_MIX
        keys[start:stop] = key.view(np.int64)
    keys[keys == -1] = -2  # -1 means "no group": keep it for rows without a signature
    keys[empty] = -1
    if within is not None:
        keys[within < 0] = -1
    return keys


def banded_pairs(signatures: np.ndarray, empty: np.ndarray, *, threshold: float, config: BlockingConfig,
                 within: np.ndarray | None = None, duration_ms: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """LSH over a ``(n, num_perm)`` uint32 signature matrix: rows agreeing on a whole band are paired.

    ``empty`` ``(n,)`` bool marks rows with no signature. See :func:`lsh_candidate_pairs` for ``within``
    and ``duration_ms``. Returns ``(left, right, oversized_buckets)``.
    """
    n = len(signatures)
    keys = band_keys(signatures, empty, threshold=threshold, within=within)
    lefts, rights, skipped = [], [], 0
    for band in range(keys.shape[1]):
        left, right, band_skipped = pairs_within_groups(
            keys[:, band], max_group_size=config.max_bucket_size, sort_within=duration_ms,
            window=config.oversized_bucket_neighbours if duration_ms is not None else 0)
        lefts.append(left)
        rights.append(right)
        skipped += band_skipped
    left, right = dedupe_pairs(np.concatenate(lefts), np.concatenate(rights), n)
    return left, right, skipped


def string_codes(values: np.ndarray) -> np.ndarray:
    """Dense int64 code per distinct string; "" (missing) gets -1."""
    _, codes = np.unique(values, return_inverse=True)
    codes = codes.astype(np.int64)
    codes[values == ""] = -1
    return codes


def string_hashes(values: np.ndarray) -> np.ndarray:
    """A stable non-negative int64 hash per string ("" gets -1): equal strings, equal codes, whatever else is
    in the array (so an index can code a new row without recoding the old ones)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    hashed = np.array([int.from_bytes(hashlib.blake2b(v.encode(), digest_size=8).digest(), "little") >> 1
                       for v in distinct.tolist()], dtype=np.int64)
    codes = hashed[inverse.ravel()] if len(distinct) else np.empty(0, np.int64)
    codes[values == ""] = -1
    return codes


def isrc_candidate_pairs(isrc: np.ndarray, *, config: BlockingConfig) -> tuple[np.ndarray, np.ndarray, int]:
    """Pairs of tracks sharing a valid normalized ISRC ("" = none). Returns ``(left, right, skipped)``."""
    return pairs_within_groups(string_codes(isrc), max_group_size=config.max_isrc_block_size)


def dedupe_pairs(left: np.ndarray, right: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs, sorted by ``(left, right)``; sort-based (numpy's hash-based unique is slower here)."""
    codes = left.astype(np.int64) * n + right
    codes.sort()
    if len(codes):
        codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))]
    return codes // n, codes % n


def audio_candidate_pairs(audio: AudioEvidence, config: BlockingConfig
                          ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Audio blockers: MinHash LSH over the fingerprints' hash sets (clean copies share many hashes), and
    the pairs of the edge's inverted index (which also finds noisy copies sharing only a few percent)."""
    left, right, _ = banded_pairs(audio.signatures, np.zeros(len(audio.signatures), dtype=bool),
                                  threshold=config.audio_threshold, config=config)
    return {
        "audio_lsh": (audio.signature_rows[left], audio.signature_rows[right]),
        "audio_index": (audio.candidate_left, audio.candidate_right),
    }


@dataclass(frozen=True)
class TextBlocker:
    """One MinHash LSH blocker over a text column: its texts, threshold and optional group codes."""

    texts: np.ndarray
    threshold: float
    within: np.ndarray | None = None
    sort_by_duration: bool = False


def text_blockers(features: TrackFeatures, config: BlockingConfig) -> dict[str, TextBlocker]:
    """The LSH blockers of :func:`candidate_pairs`, by name (the online index uses the same ones)."""
    text = np.array(
        [f"{t} {a}".strip() for t, a in zip(features.title_core, features.primary_artist, strict=True)],
        dtype=object,
    )
    return {
        "artist_title_lsh": TextBlocker(features.title_core, config.artist_title_threshold,
                                        within=string_hashes(features.primary_artist)),
        "title_artist_lsh": TextBlocker(text, config.text_threshold, sort_by_duration=True),
        "title_lsh": TextBlocker(features.title_core, config.title_threshold, sort_by_duration=True),
    }


def text_signatures(texts: np.ndarray, config: BlockingConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(signatures, empty)``: MinHash of each text's 3-grams, and which texts have none."""
    tokens, set_ids = shingle_tokens(texts)
    signatures = batch_signatures(tokens, set_ids, len(texts), num_perm=config.num_perm, seed=config.seed)
    return signatures, np.bincount(set_ids, minlength=len(texts)) == 0


def candidate_pairs(features: TrackFeatures, config: BlockingConfig,
                    extra_blockers: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> CandidatePairs:
    """Union of the blockers: ISRC, title+artist LSH, title LSH, title LSH inside each artist, and any
    ``extra_blockers`` (name → ``(left, right)`` row arrays, e.g. pairs found from audio)."""
    blockers = {"isrc": isrc_candidate_pairs(features.isrc, config=config)}
    for name, blocker in text_blockers(features, config).items():
        blockers[name] = lsh_candidate_pairs(
            blocker.texts, threshold=blocker.threshold, config=config, within=blocker.within,
            duration_ms=features.duration_ms if blocker.sort_by_duration else None)
    for name, (left, right) in (extra_blockers or {}).items():
        blockers[name] = (np.minimum(left, right), np.maximum(left, right), 0)
    n = len(features)
    left, right = dedupe_pairs(np.concatenate([b[0] for b in blockers.values()]),
                          np.concatenate([b[1] for b in blockers.values()]), n)
    return CandidatePairs(
        left=left,
        right=right,
        pairs_by_blocker={name: len(b[0]) for name, b in blockers.items()},
        skipped_buckets={name: b[2] for name, b in blockers.items()},
    )
