"""Convert whole columns (as read from a file or received in a batch) to the contract's Arrow types: text, whole
numbers, durations in milliseconds and lists of text.

Every conversion is vectorized (per column, never per row) and returns a :class:`Converted`: the values in
the target type plus masks of the values that were unusable or blank, so the caller can decide whether to
drop the row or null the field. A column whose type cannot be used at all raises ``SchemaError``. The
accepted inputs are listed in the ``service.io.validation`` module docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from catalog_er.resolver.regex_kernels import regex_match, regex_replace
from catalog_er.service.errors import SchemaError
from catalog_er.service.io.legacy_text import decode_legacy

LIST_SEPARATOR = ";"
"""Separator used to split a plain-text ``artist_ids`` / ``genres`` value into a list."""

_LARGEST_EXACT_FLOAT_INTEGER = 2**53
_INTEGER_TEXT = r"^-?\d{1,18}$"
_NUMBER_TEXT = r"^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_CLOCK_DURATION = r"^(?:(?P<hours>\d+):)?(?P<minutes>\d+):(?P<seconds>\d{2}(?:\.\d+)?)$"
"""``m:ss``, ``mm:ss``, ``h:mm:ss``, seconds with an optional fraction (``4:05.5``)."""
_UNIT_DURATION = (
    r"(?i)^(?:pt)?\s*"
    r"(?:(?P<hours>\d+(?:\.\d+)?)\s*(?:h|hrs?|hours?)[\s,]*)?"
    r"(?:(?P<minutes>\d+(?:\.\d+)?)\s*(?:m|mins?|minutes?)[\s,]*)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?))?$"
)
"""Amounts with their units: ``4m 5sec``, ``4 min 5 sec``, ``4m5s``, ``1h 2m``, ``245 sec``, ISO 8601 ``PT4M5S``."""
_DURATION_PARTS = ("hours", "minutes", "seconds")
DURATION_PROBLEM = "cannot be read as a duration (whole ms, '4:05', '4m 5s')"


@dataclass(frozen=True)
class Converted:
    """One column converted to its target type; ``values`` is null wherever ``unusable`` or ``blank``."""

    values: pa.Array
    original: pa.Array  # the column as read (dictionary decoded), to quote bad values
    unusable: np.ndarray  # bool: a value was present but could not be converted
    blank: np.ndarray  # bool: a text value was present but empty after stripping
    problem: str = ""  # what is wrong with the unusable values, e.g. "cannot be read as a whole number"
    decoded: np.ndarray | None = None  # bool: bytes that were not UTF-8, read in ``encoding`` (service.io.legacy_text)
    encoding: str = ""


def to_text(column: pa.ChunkedArray | pa.Array, *, file: str, field: str) -> Converted:
    """Convert a column to stripped ``string`` values, blank -> null.

    Accepts text, integers and decimals (written as text), floats (whole ones without a fraction, NaN as
    null, infinities unusable), binary (UTF-8; the values that are not are read in the legacy encoding the
    column most likely used, :mod:`service.io.legacy_text`, and marked ``decoded``) and, for ``release_date`` only,
    dates and timestamps (``YYYY-MM-DD``). Any other type raises ``SchemaError`` naming ``file`` and
    ``field``.
    """
    original = flat_array(column)
    kind = original.type
    unusable = np.zeros(len(original), dtype=bool)
    problem, decoded, encoding = "", None, ""
    if original.null_count == len(original) and (is_text_or_binary(kind) or pa.types.is_null(kind)):
        return Converted(pa.nulls(len(original), pa.string()), original, unusable, unusable.copy(), problem)
    if pa.types.is_null(kind):
        text = pa.nulls(len(original), pa.string())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = original.cast(pa.string())
    elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        text, decoded, encoding = decode_binary(original)
    elif pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        text = original.cast(pa.string())
    elif pa.types.is_floating(kind):
        text, unusable = _float_text(original.cast(pa.float64()))
        problem = "is not a finite number"
    elif field == "release_date" and (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        text = original.cast(pa.date32()).cast(pa.string())
    else:
        raise _type_error(file, field, kind, "string (text, or numbers that can be written as text)")
    stripped = pc.utf8_trim_whitespace(text)
    blank = numpy_mask(pc.equal(pc.utf8_length(stripped), 0))
    values = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), stripped) if blank.any() else stripped
    return Converted(values, original, unusable, blank, problem, decoded, encoding)


def to_int64(column: pa.ChunkedArray | pa.Array, *, file: str, field: str) -> Converted:
    """Convert a column to ``int64`` whole numbers.

    Accepts any integer type (``uint64`` values above the ``int64`` range are unusable), floats and
    decimals with whole values (NaN is null) and numeric text such as ``" +215000 "`` or ``"2.15e5"`` (binary
    is read as text, as :func:`to_text` reads it); other values are unusable. Any other type raises
    ``SchemaError`` naming ``file`` and ``field``.
    """
    original = flat_array(column)
    kind = original.type
    unusable = np.zeros(len(original), dtype=bool)
    if pa.types.is_null(kind):
        values = pa.nulls(len(original), pa.int64())
    elif pa.types.is_integer(kind):
        if kind == pa.uint64():
            unusable = numpy_mask(pc.greater(original, pa.scalar(2**63 - 1, pa.uint64())))
            original_in_range = pc.if_else(pa.array(unusable), pa.scalar(None, kind), original)
            values = original_in_range.cast(pa.int64())
        else:
            values = original.cast(pa.int64())
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values, unusable = _float_whole(original.cast(pa.float64()))
    elif is_text_or_binary(kind):
        values, unusable = _text_whole(_as_text(original))
    else:
        raise _type_error(file, field, kind, "int64 (whole numbers, or text holding them)")
    blank = np.zeros(len(original), dtype=bool)
    return Converted(values, original, unusable, blank, "cannot be read as a whole number")


def to_duration_ms(column: pa.ChunkedArray | pa.Array, *, file: str, field: str) -> Converted:
    """Convert a duration column to ``int64`` milliseconds.

    Numbers are read as :func:`to_int64` reads them (and kept as they are: the unit of a bare number is not
    guessed here). Text that is not a number is read in the forms real dumps write durations in, converted to
    milliseconds (rounded): clock forms ``m:ss``, ``mm:ss``, ``h:mm:ss`` (seconds below 60, minutes too when
    hours are given; ``4:05.5`` allowed) and amounts with units ``4m 5sec``, ``4 min 5 sec``, ``4m5s``,
    ``1h 2m``, ``245 sec``, ISO 8601 ``PT4M5S`` (units ``h``/``hr``/``hours``, ``m``/``min``/``minutes``,
    ``s``/``sec``/``seconds``, any case). Other text is unusable. Types as for :func:`to_int64`.
    """
    numbers = to_int64(column, file=file, field=field)
    if not numbers.unusable.any() or not is_text_or_binary(numbers.original.type):
        return replace(numbers, problem=DURATION_PROBLEM)
    text = _as_text(numbers.original)
    durations = _text_duration_ms(pc.utf8_trim_whitespace(text))
    found = numbers.unusable & numpy_mask(durations.is_valid())
    values = pc.if_else(pa.array(found), durations, numbers.values)
    return Converted(values, numbers.original, numbers.unusable & ~found, numbers.blank, DURATION_PROBLEM)


def to_text_list(column: pa.ChunkedArray | pa.Array, *, file: str, field: str) -> Converted:
    """Convert a column to ``list<string>``; plain text is split on ``LIST_SEPARATOR``.

    Lists of text or numbers are cast element-wise; any column :func:`to_text` accepts becomes a list
    (text split on ``LIST_SEPARATOR``, a number a one-element list). Elements are stripped and null or
    blank elements removed. Any other type raises ``SchemaError`` naming ``file`` and ``field``.
    """
    original = flat_array(column)
    kind = original.type
    if pa.types.is_null(kind):
        lists = pa.nulls(len(original), pa.list_(pa.string()))
        return Converted(
            lists, original, np.zeros(len(original), dtype=bool), np.zeros(len(original), dtype=bool)
        )
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        try:
            lists = original.cast(pa.list_(pa.string()))
        except pa.ArrowException as error:
            raise _type_error(file, field, kind, f"list<string> ({error})") from error
        unusable = np.zeros(len(original), dtype=bool)
        return Converted(_clean_lists(lists), original, unusable, unusable)
    try:
        text = to_text(original, file=file, field=field)
    except SchemaError as error:
        raise _type_error(file, field, kind, "list<string> (or text separated by ';')") from error
    lists = _clean_lists(pc.split_pattern(text.values, LIST_SEPARATOR))
    return Converted(lists, original, text.unusable, text.blank, text.problem)


def flat_array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array, dictionary-encoded values decoded."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    kind = column.type
    if pa.types.is_dictionary(kind):
        chunks = [chunk.dictionary_decode() for chunk in chunks]
        kind = kind.value_type
    if len(chunks) == 1:
        return chunks[0]
    return pa.chunked_array(chunks, type=kind).combine_chunks()


def numpy_mask(mask: pa.Array) -> np.ndarray:
    """Arrow boolean -> numpy bool, null counted as False."""
    return (mask.fill_null(False) if mask.null_count else mask).to_numpy(zero_copy_only=False)


def is_text_or_binary(kind: pa.DataType) -> bool:
    """Whether ``kind`` is a string or binary type (large ones included)."""
    return any(test(kind) for test in (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
                                       pa.types.is_large_binary))



# ---------------------------------------------------------------------------------------------- internals


def _clean_lists(lists: pa.ListArray) -> pa.ListArray:
    """Strip list elements and remove null or blank ones (all lists at once, over the flat values)."""
    offsets = lists.offsets.to_numpy()
    values = pc.utf8_trim_whitespace(lists.values.slice(offsets[0], offsets[-1] - offsets[0]))
    parents = np.repeat(np.arange(len(lists)), np.diff(offsets))
    keep = numpy_mask(pc.greater(pc.utf8_length(values), 0))
    counts = np.bincount(parents[keep], minlength=len(lists))
    new_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(
        pa.array(new_offsets), values.filter(pa.array(keep)), type=pa.list_(pa.string()), mask=lists.is_null()
    )


def _as_text(values: pa.Array) -> pa.Array:
    """Text or binary -> ``string`` (binary as :func:`decode_binary` reads it)."""
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        return decode_binary(values)[0]
    return values.cast(pa.string())


def _text_duration_ms(text: pa.Array) -> pa.Array:
    """Duration text (stripped) -> int64 milliseconds; null where it is not one of the accepted forms."""
    clock = pc.extract_regex(text, _CLOCK_DURATION)
    hours, minutes, seconds = (_amount(clock, name) for name in _DURATION_PARTS)
    clock_valid = pc.and_(pc.less(seconds, 60), pc.or_(pc.equal(hours, 0), pc.less(minutes, 60)))
    units = pc.extract_regex(text, _UNIT_DURATION)
    written = pc.binary_join_element_wise(*(pc.struct_field(units, name) for name in _DURATION_PARTS), "")
    no_duration = pa.scalar(None, pa.int64())
    return pc.coalesce(
        pc.if_else(clock_valid, _milliseconds(clock), no_duration),
        pc.if_else(pc.greater(pc.utf8_length(written), 0), _milliseconds(units), no_duration),
    )


def _amount(parts: pa.Array, name: str) -> pa.Array:
    """One named group of an ``extract_regex`` result as float64; an empty (absent) group is 0."""
    text = pc.struct_field(parts, name)
    return pc.if_else(pc.equal(text, ""), "0", text).cast(pa.float64())


def _milliseconds(parts: pa.Array) -> pa.Array:
    """Hours, minutes and seconds of an ``extract_regex`` result -> int64 milliseconds (rounded)."""
    hours, minutes, seconds = (_amount(parts, name) for name in _DURATION_PARTS)
    total_seconds = pc.add(pc.add(pc.multiply(hours, 3600.0), pc.multiply(minutes, 60.0)), seconds)
    return pc.round(pc.multiply(total_seconds, 1000.0)).cast(pa.int64())


def decode_binary(binary: pa.Array) -> tuple[pa.Array, np.ndarray | None, str]:
    """Binary -> string: UTF-8, and the values that are not read together in their likely legacy encoding
    (:func:`service.io.legacy_text.decode_legacy`). Returns the text, a mask of those values (None when every
    value was UTF-8) and the encoding they were read in."""
    try:
        return binary.cast(pa.string()), None, ""
    except pa.ArrowInvalid:  # some value is not UTF-8: find which, one by one (only on such a column)
        invalid = np.array([value is not None and not _is_utf8(value) for value in binary.to_pylist()], dtype=bool)
    positions = np.flatnonzero(invalid)
    texts, encoding = decode_legacy(binary.take(pa.array(positions)).to_pylist())
    mask = pa.array(invalid)
    valid_text = pc.if_else(mask, pa.scalar(None, binary.type), binary).cast(pa.string())
    return pc.replace_with_mask(valid_text, mask, pa.array(texts, pa.string())), invalid, encoding


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _float_text(numbers: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """float64 -> text: whole values without a fraction, NaN as null, infinities unusable."""
    whole = _float_is_whole(numbers)
    as_integer = pc.if_else(whole, numbers, 0.0).cast(pa.int64()).cast(pa.string())
    text = pc.if_else(whole, as_integer, numbers.cast(pa.string()))
    infinite = numpy_mask(pc.is_inf(numbers))
    missing = pc.or_(pc.is_nan(numbers), pa.array(infinite))
    return pc.if_else(missing, pa.scalar(None, pa.string()), text), infinite


def _float_whole(numbers: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """float64 -> int64 where the value is whole; NaN is null; other values are unusable."""
    whole = _float_is_whole(numbers)
    values = pc.if_else(whole, numbers, pa.scalar(None, pa.float64())).cast(pa.int64())
    unusable = numpy_mask(pc.is_valid(numbers)) & ~numpy_mask(whole) & ~numpy_mask(pc.is_nan(numbers))
    return values, unusable


def _float_is_whole(numbers: pa.Array) -> pa.Array:
    """float64 -> boolean: finite, whole and small enough to be exact in a float64 (null -> False)."""
    finite = pc.and_(pc.is_finite(numbers), pc.less_equal(pc.abs(numbers), _LARGEST_EXACT_FLOAT_INTEGER))
    return pc.and_(finite, pc.equal(pc.floor(numbers), numbers)).fill_null(False)


def _text_whole(text: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Numeric text -> int64: integers directly, other numbers through float64 when whole."""
    stripped = regex_replace(pc.utf8_trim_whitespace(text), r"^\+", "")
    present = numpy_mask(pc.greater(pc.utf8_length(stripped), 0))
    is_integer = regex_match(stripped, _INTEGER_TEXT).fill_null(False)
    all_present_are_integers = np.array_equal(present, numpy_mask(is_integer))
    if all_present_are_integers and stripped.null_count + present.sum() == len(stripped):
        return stripped.cast(pa.int64()), np.zeros(len(stripped), dtype=bool)  # all integers, no blanks
    is_number = pc.and_(
        regex_match(stripped, _NUMBER_TEXT).fill_null(False), pc.invert(is_integer)
    )
    integers = pc.if_else(is_integer, stripped, pa.scalar(None, pa.string())).cast(pa.int64())
    numbers = pc.if_else(is_number, stripped, pa.scalar(None, pa.string())).cast(pa.float64())
    whole_numbers, bad_numbers = _float_whole(numbers)
    unusable = present & ~numpy_mask(is_integer) & (
        ~numpy_mask(is_number) | bad_numbers | numpy_mask(pc.is_nan(numbers))
    )
    return pc.coalesce(integers, whole_numbers), unusable


def _type_error(file: str, field: str, kind: pa.DataType, expected: str) -> SchemaError:
    """The ``SchemaError`` for a column whose Arrow type cannot be converted to the ``expected`` one."""
    return SchemaError(
        f"{file}: column '{field}' has type {kind}, which cannot be used; expected {expected}", path=file
    )
