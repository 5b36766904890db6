"""RE2 pattern matching and replacement over Arrow string arrays, cheap for a handful of values too.

Arrow's kernels (``pc.match_substring_regex``, ``pc.replace_substring_regex``) compile their pattern on every
call. Over a catalog's columns that is nothing; a look-up handles one to a few tracks, and there compiling the
long patterns (the scraped-store shapes, the placeholders) was about 40% of its time. For arrays of at most
:data:`SMALL_ARRAY` values these functions run the same engine, RE2, through its own Python binding
(google-re2) with each pattern compiled once: same syntax, same linear time in the text's length, same
answers (``tests/resolver/test_regex_kernels.py`` runs the resolver's repairs and validation both ways).
Larger arrays go to Arrow's vectorized kernels.
"""

from __future__ import annotations

import functools
import re
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import re2

SMALL_ARRAY = 32
"""Arrays of at most this many values are matched value by value with a cached compiled pattern."""
_GROUP_REFERENCE_ONLY = re.compile(r"(?:[^\\]|\\[1-9])*")
"""Replacement texts both engines read alike: plain text and ``\\1``…``\\9``."""

ArrowStrings: TypeAlias = pa.Array | pa.ChunkedArray


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re2._Regexp:
    return re2.compile(pattern)


def regex_match(values: ArrowStrings, pattern: str) -> ArrowStrings:
    """Whether each string of ``values`` contains a match of RE2 ``pattern`` (null for null), as
    ``pc.match_substring_regex``: a boolean array, chunked when ``values`` is."""
    if len(values) > SMALL_ARRAY:
        return pc.match_substring_regex(values, pattern)
    search = _compiled(pattern).search
    return _like(values, [None if v is None else search(v) is not None for v in values.to_pylist()], pa.bool_())


def regex_replace(values: ArrowStrings, pattern: str, replacement: str, *,
                  max_replacements: int | None = None) -> ArrowStrings:
    """Each string of ``values`` with the matches of RE2 ``pattern`` (the first ``max_replacements``; all when
    None) replaced by ``replacement``, which may name groups as ``\\1``…``\\9`` (null stays null), as
    ``pc.replace_substring_regex``.

    Raises:
        ValueError: ``replacement`` has another backslash escape (the two engines would read it differently), or
            ``max_replacements`` is not None nor positive.
    """
    if _GROUP_REFERENCE_ONLY.fullmatch(replacement) is None:
        raise ValueError(f"replacement {replacement!r}: only \\1 to \\9 may follow a backslash")
    if max_replacements is not None and max_replacements < 1:
        raise ValueError(f"max_replacements must be None or positive, got {max_replacements}")
    if len(values) > SMALL_ARRAY:
        return pc.replace_substring_regex(values, pattern, replacement, max_replacements=max_replacements)
    sub, count = _compiled(pattern).sub, max_replacements or 0
    return _like(values, [None if v is None else sub(replacement, v, count) for v in values.to_pylist()],
                 values.type)


def _like(values: ArrowStrings, results: list, result_type: pa.DataType) -> ArrowStrings:
    """``results`` as an array of ``result_type``, chunked (in one chunk) when ``values`` is chunked."""
    array = pa.array(results, result_type)
    return pa.chunked_array([array], result_type) if isinstance(values, pa.ChunkedArray) else array
