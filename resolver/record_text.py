"""A record's text as one bag of words, so fields that a source smeared together still compare.

Every text field of a track (title, artist credit, album, label) is folded and joined into one *record text*;
its words are the record's tokens. Two records are compared by the cosine of their IDF-weighted token sets
(binary term frequency, ``idf = ln((N + 1) / (df + 1)) + 1`` over the catalog's records), so a rare word
shared ("tides") counts far more than a common one ("music", "feat"), and a title that holds the artist and
the album matches the record that keeps them in their own columns. Words are identified by a CRC-32 of their
text (stable across runs and processes, so a catalog and a single look-up agree without a shared vocabulary).

Tokenization is vectorized in Arrow (split, dictionary-encode, one CRC per distinct word); similarities of
many pairs are one sparse row-wise product (sorted token keys in numpy), chunked.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MIN_TOKEN_CHARS = 2
"""Shorter words ("a", "1") carry nothing."""
MAX_RECORD_CHARS = 1_000
"""Only the first this many characters of a record text are tokenized (bounds the work on hostile input)."""
_PAIR_CHUNK = 200_000
"""Pairs compared per sparse product (bounds the temporary arrays: a few MB per thousand pairs)."""


@dataclass(frozen=True)
class RecordTokens:
    """The distinct tokens of ``n`` records: ``rows`` ``(m,)`` int64 record of each token (non-decreasing) and
    ``hashes`` ``(m,)`` uint32 CRC-32 of the token's text."""

    rows: np.ndarray
    hashes: np.ndarray
    n: int


def tokenize(texts: np.ndarray) -> RecordTokens:
    """The distinct word tokens of each of ``texts`` (``(n,)`` object array of folded strings, "" = none)."""
    n = len(texts)
    if n == 0:
        return RecordTokens(np.empty(0, np.int64), np.empty(0, np.uint32), 0)
    text = pc.utf8_slice_codeunits(pa.array(texts.tolist(), pa.string()), 0, MAX_RECORD_CHARS)
    words = pc.split_pattern(text, " ")
    flat = pc.list_flatten(words)
    parents = pc.list_parent_indices(words).to_numpy(zero_copy_only=False).astype(np.int64)
    keep = pc.greater_equal(pc.utf8_length(flat), MIN_TOKEN_CHARS).to_numpy(zero_copy_only=False)
    encoded = pc.dictionary_encode(flat.filter(pa.array(keep)))
    distinct = encoded.dictionary.to_pylist()
    crc = np.array([zlib.crc32(word.encode()) for word in distinct], dtype=np.uint32)
    hashes = crc[encoded.indices.to_numpy(zero_copy_only=False)] if len(distinct) else np.empty(0, np.uint32)
    keys = np.sort(parents[keep] * (1 << 32) + hashes.astype(np.int64))  # sort-based: numpy's hash unique is slow
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
    return RecordTokens(keys >> 32, (keys & 0xFFFFFFFF).astype(np.uint32), n)


@dataclass(frozen=True)
class TokenStatistics:
    """How many records of a catalog hold each token: ``hashes`` sorted distinct token hashes (uint32),
    ``counts`` (int64) records holding each, ``records`` records in the catalog."""

    hashes: np.ndarray
    counts: np.ndarray
    records: int

    @classmethod
    def learn(cls, tokens: RecordTokens) -> TokenStatistics:
        """Document frequencies of ``tokens`` (each token counts once per record)."""
        ordered = np.sort(tokens.hashes)
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if len(ordered) else ordered
        counts = np.diff(np.concatenate((starts, [len(ordered)])))
        return cls(ordered[starts], counts.astype(np.int64), tokens.n)

    def document_frequency(self, hashes: np.ndarray) -> np.ndarray:
        """``(m,)`` int64 records holding each of ``hashes`` (0 for tokens the catalog never saw)."""
        if not len(self.hashes):
            return np.zeros(len(hashes), np.int64)
        position = np.clip(np.searchsorted(self.hashes, hashes), 0, len(self.hashes) - 1)
        return np.where(self.hashes[position] == hashes, self.counts[position], 0)

    def idf(self, hashes: np.ndarray) -> np.ndarray:
        """``(m,)`` float32 inverse document frequency of each token (the smoothed ``ln`` form)."""
        df = self.document_frequency(hashes)
        return (np.log((self.records + 1.0) / (df + 1.0)) + 1.0).astype(np.float32)


def _unit_rows(tokens: RecordTokens, statistics: TokenStatistics) -> _SparseRows:
    """Each record's IDF weights as a sparse row, scaled to unit length."""
    weights = statistics.idf(tokens.hashes)
    norms = np.sqrt(np.bincount(tokens.rows, weights=weights.astype(np.float64) ** 2, minlength=tokens.n))
    return _sparse_rows(tokens, weights / np.maximum(norms[tokens.rows], 1e-12).astype(np.float32))


def record_similarity(texts: np.ndarray, left: np.ndarray, right: np.ndarray, statistics: TokenStatistics
                      ) -> np.ndarray:
    """``(n_pairs,)`` float32 IDF-weighted cosine in [0, 1] of the records ``texts[left[i]]`` and
    ``texts[right[i]]``; NaN where a side has no token. Only the records the pairs use are tokenized."""
    return RecordWords(texts, np.concatenate([left, right]), statistics).similarity(left, right)


def word_containment(parts: np.ndarray, wholes: np.ndarray, left: np.ndarray, right: np.ndarray,
                     statistics: TokenStatistics) -> np.ndarray:
    """``(n_pairs,)`` float32 in [0, 1]: the IDF-weighted share of the words of ``parts[left[i]]`` that occur
    anywhere in ``wholes[right[i]]`` (e.g. a title's words in the other record's whole text, wherever its source
    put them); NaN where the part has no token. ``parts``, ``wholes``: ``(n,)`` object arrays of folded texts."""
    words = RecordWords(wholes, np.concatenate([left, right]), statistics)
    return words.containment_of(parts, left, right)


class RecordWords:
    """The words of some records, tokenized once for any number of comparisons between them: IDF-weighted unit
    rows (cosine) and word sets (containment)."""

    def __init__(self, texts: np.ndarray, rows: np.ndarray, statistics: TokenStatistics) -> None:
        """``texts``: ``(n,)`` object array of folded record texts; ``rows``: the records later calls name (any
        order, repeats allowed); ``statistics``: the catalog's word frequencies."""
        self.used = np.unique(rows)
        self.statistics = statistics
        tokens = tokenize(texts[self.used])
        self.has_tokens = np.bincount(tokens.rows, minlength=len(self.used)) > 0
        self.unit = _unit_rows(tokens, statistics)
        self.words = _sparse_rows(tokens, np.ones(len(tokens.hashes), np.float32))

    def _local(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.used, rows)

    def similarity(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``(n_pairs,)`` float32 cosine of records ``left[i]`` and ``right[i]`` (NaN where a side has no token)."""
        a, b = self._local(left), self._local(right)
        out = _rowwise_products(self.unit, a, self.unit, b)
        out[~(self.has_tokens[a] & self.has_tokens[b])] = np.nan
        return out

    def containment_of(self, parts: np.ndarray, left: np.ndarray, right: np.ndarray, *,
                       both_ways: bool = False) -> np.ndarray:
        """``(n_pairs,)`` float32: the IDF-weighted share of the words of ``parts[left[i]]`` (``(n,)`` object array
        of folded texts: titles, credits) found in record ``right[i]``; with ``both_ways`` also ``parts[right[i]]``
        in record ``left[i]``, the larger. NaN where the part (each part, both ways) has no token."""
        tokens = tokenize(parts[self.used])
        weights = self.statistics.idf(tokens.hashes).astype(np.float64)
        totals = np.bincount(tokens.rows, weights=weights, minlength=tokens.n)
        shares = _sparse_rows(tokens, (weights / np.maximum(totals[tokens.rows], 1e-12)).astype(np.float32))
        a, b = self._local(left), self._local(right)
        out = _rowwise_products(shares, a, self.words, b)
        out[~(totals[a] > 0)] = np.nan
        if both_ways:
            back = _rowwise_products(shares, b, self.words, a)
            back[~(totals[b] > 0)] = np.nan
            out = np.fmax(out, back)
        return out


@dataclass(frozen=True)
class _SparseRows:
    """Records as sparse rows over the token hashes: row ``r`` holds ``values[indptr[r]:indptr[r + 1]]`` at the
    tokens ``hashes[indptr[r]:indptr[r + 1]]``, ascending within the row. ``indptr`` ``(n + 1,)`` int64,
    ``hashes`` ``(m,)`` int64, ``values`` ``(m,)`` float32."""

    indptr: np.ndarray
    hashes: np.ndarray
    values: np.ndarray

    def gathered(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tokens of ``rows[0]``, ``rows[1]`` … one after another: ``(keys, values)``, where a key is
        ``i << 32 | hash`` for a token of ``rows[i]`` (so ascending), both ``(sum of the rows' lengths,)``."""
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        positions = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        positions += np.arange(len(positions), dtype=np.int64)
        keys = np.repeat(np.arange(len(rows), dtype=np.int64) << 32, lengths)
        keys |= self.hashes[positions]
        return keys, self.values[positions]


def _rowwise_products(first: _SparseRows, a: np.ndarray, second: _SparseRows, b: np.ndarray) -> np.ndarray:
    """``(len(a),)`` float32 in [0, 1]: the dot product of row ``a[i]`` of ``first`` and row ``b[i]`` of
    ``second``: each token of one row looked up among the other's (sorted keys, no per-pair loop), in chunks of
    :data:`_PAIR_CHUNK` pairs (bounds the temporary arrays)."""
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), _PAIR_CHUNK):
        stop = min(start + _PAIR_CHUNK, len(a))
        left_keys, left_values = first.gathered(a[start:stop])
        right_keys, right_values = second.gathered(b[start:stop])
        if not (len(left_keys) and len(right_keys)):
            out[start:stop] = 0.0
            continue
        position = np.minimum(np.searchsorted(right_keys, left_keys), len(right_keys) - 1)
        shared = right_keys[position] == left_keys
        weight = left_values[shared].astype(np.float64) * right_values[position[shared]]
        out[start:stop] = np.clip(np.bincount(left_keys[shared] >> 32, weights=weight, minlength=stop - start),
                                  0.0, 1.0)
    return out


def _sparse_rows(tokens: RecordTokens, values: np.ndarray) -> _SparseRows:
    """Each record's row holding ``values`` (one per token) at its token hashes (``tokens`` are sorted by record
    then hash, so rows come out ascending)."""
    indptr = np.concatenate(([0], np.cumsum(np.bincount(tokens.rows, minlength=tokens.n)))).astype(np.int64)
    return _SparseRows(indptr, tokens.hashes.astype(np.int64), values.astype(np.float32, copy=False))


def signature_tokens(tokens: RecordTokens, statistics: TokenStatistics, *, max_share: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, rows)`` of the tokens to MinHash for blocking: those held by at most ``max_share`` of the
    catalog's records (a word in every tenth record, "music" or "feat", pairs nothing worth pairing)."""
    common = statistics.document_frequency(tokens.hashes) > max_share * max(statistics.records, 1)
    return tokens.hashes[~common], tokens.rows[~common]
