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
from catalog_er.resolver.lsh import NO_BUCKET, band_keys, banded_pairs, batch_signatures, bucket_pairs, exact_keys
from catalog_er.resolver.pairing import dedupe_pairs, pairs_within_groups
from catalog_er.resolver.record_text import TokenStatistics, signature_tokens, tokenize


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
    return banded_pairs(signatures, empty, threshold=threshold, max_bucket_size=config.max_bucket_size,
                        neighbours=config.oversized_bucket_neighbours, within=within, sort_within=duration_ms)


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


def audio_candidate_pairs(audio: AudioEvidence, config: BlockingConfig
                          ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Audio blockers: MinHash LSH over the fingerprints' hash sets (clean copies share many hashes), and
    the pairs of the edge's inverted index (which also finds noisy copies sharing only a few percent)."""
    left, right, _ = banded_pairs(audio.signatures, np.zeros(len(audio.signatures), dtype=bool),
                                  threshold=config.audio_threshold, max_bucket_size=config.max_bucket_size)
    return {
        "audio_lsh": (audio.signature_rows[left], audio.signature_rows[right]),
        "audio_index": (audio.candidate_left, audio.candidate_right),
    }


@dataclass(frozen=True)
class TextBlocker:
    """One blocker over a text column: MinHash LSH with its texts, threshold and optional group codes, or exact
    bucket ``keys``.

    ``words``: hash the texts' words (those in at most ``BlockingConfig.record_common_share`` of the catalog's
    records) instead of their character 3-grams. ``pair_with``: ``(n,)`` bool; when given, a pair is kept only
    when one of its rows is marked (the record blocker pairs only records whose fields may be smeared).
    ``keys``: ``(n, columns)`` int64 bucket keys (:func:`resolver.lsh.exact_keys`) used instead of MinHash."""

    texts: np.ndarray
    threshold: float
    within: np.ndarray | None = None
    sort_by_duration: bool = False
    words: bool = False
    pair_with: np.ndarray | None = None
    keys: np.ndarray | None = None

    def bucket_keys(self, signed: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """``(n, bands)`` int64 bucket keys: the exact ``keys``, or the bands of ``signed`` (the ``(signatures,
        empty)`` of :meth:`signatures`)."""
        if self.keys is not None:
            return self.keys
        if signed is None:
            raise ValueError("an LSH blocker needs its signatures")
        return band_keys(*signed, threshold=self.threshold, within=self.within)

    def signatures(self, config: BlockingConfig, statistics: TokenStatistics) -> tuple[np.ndarray, np.ndarray]:
        """``(signatures, empty)``: ``(n, num_perm)`` uint32 MinHash of each text and which texts have none."""
        if not self.words:
            return text_signatures(self.texts, config)
        hashes, rows = signature_tokens(tokenize(self.texts), statistics, max_share=config.record_common_share)
        signatures = batch_signatures(hashes, rows, len(self.texts), num_perm=config.num_perm, seed=config.seed)
        return signatures, np.bincount(rows, minlength=len(self.texts)) == 0


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
        "record_lsh": TextBlocker(features.record_text, config.record_threshold, sort_by_duration=True, words=True,
                                  pair_with=features.smeared),
        "length": TextBlocker(features.title_core, 1.0, pair_with=features.smeared,
                              keys=exact_keys(length_codes(features, config))),
    }


def _buckets_holding(keys: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """``keys`` (``(n, bands)`` bucket keys) with every bucket that holds no ``marked`` row emptied (set to
    :data:`resolver.lsh.NO_BUCKET`): it could only pair unmarked rows, which the blocker drops anyway. Whole
    buckets go, so the ones kept keep their sizes (and an oversized bucket stays oversized)."""
    pruned = keys.copy()
    for band in range(keys.shape[1]):
        wanted = np.unique(keys[marked, band])
        pruned[~np.isin(keys[:, band], wanted), band] = NO_BUCKET
    return pruned


def length_codes(features: TrackFeatures, config: BlockingConfig) -> np.ndarray:
    """``(n, 2)`` int64 codes of the length blocker (-1: no length or no title): the title's first
    ``config.length_title_chars`` characters with the length on two grids of ``2 × length_tolerance_ms``
    offset by half a cell, so any two lengths within the tolerance share a cell of one grid."""
    start = string_hashes(np.array([title[: config.length_title_chars] for title in features.title_core.tolist()],
                                   dtype=object))
    duration = features.duration_ms
    cell = 2.0 * max(config.length_tolerance_ms, 1)
    has = ~np.isnan(duration) & (start >= 0)
    codes = np.full((len(features), 2), -1, dtype=np.int64)
    for column, offset in enumerate((0.0, cell / 2)):
        grid = np.floor((duration[has] + offset) / cell).astype(np.int64)
        with np.errstate(over="ignore"):
            mixed = (start[has].astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ grid.astype(np.uint64)
        codes[has, column] = (mixed & np.uint64(0x7FFF_FFFF_FFFF_FFFF)).astype(np.int64)  # non-negative, all bits
    return codes


def text_signatures(texts: np.ndarray, config: BlockingConfig) -> tuple[np.ndarray, np.ndarray]:
    """``(signatures, empty)``: MinHash of each text's 3-grams, and which texts have none."""
    tokens, set_ids = shingle_tokens(texts)
    signatures = batch_signatures(tokens, set_ids, len(texts), num_perm=config.num_perm, seed=config.seed)
    return signatures, np.bincount(set_ids, minlength=len(texts)) == 0


def candidate_pairs(features: TrackFeatures, *, config: BlockingConfig, statistics: TokenStatistics,
                    extra_blockers: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> CandidatePairs:
    """Union of the blockers: ISRC, title+artist LSH, title LSH, title LSH inside each artist, LSH over the
    words of records that may be smeared, their length and title start, and any ``extra_blockers`` (name →
    ``(left, right)`` row arrays, e.g. pairs found from audio). ``statistics``: the catalog's token frequencies
    (which words are too common to block on)."""
    blockers = {"isrc": isrc_candidate_pairs(features.isrc, config=config)}
    for name, blocker in text_blockers(features, config).items():
        signed = None if blocker.keys is not None else blocker.signatures(config, statistics)
        keys = blocker.bucket_keys(signed)
        if blocker.pair_with is not None:
            keys = _buckets_holding(keys, blocker.pair_with)
        left, right, oversized = bucket_pairs(
            keys, max_bucket_size=config.max_bucket_size, neighbours=config.oversized_bucket_neighbours,
            sort_within=features.duration_ms if blocker.sort_by_duration else None)
        if blocker.pair_with is not None:
            kept = blocker.pair_with[left] | blocker.pair_with[right]
            left, right = left[kept], right[kept]
        blockers[name] = (left, right, oversized)
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
