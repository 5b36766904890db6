"""Hypothesis strategies for hostile gRPC requests, built from the proto's descriptors (so a new RPC or field is
fuzzed without a change here).

A request is sent as raw bytes (the channel's serializers are the identity), so a strategy may produce what no
well-behaved client can: a message whose fields hold hostile values (:func:`hostile_messages`), or bytes that
are not a valid message of the method's type at all (:func:`malformed_bytes`: random bytes, a serialized message
cut short or with a byte changed, a string field holding invalid UTF-8).
"""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

from tests.fuzz.hostile_audio import HOSTILE_AUDIO

MAX_NESTING = 3
"""Message fields are filled down to this depth (the proto has no recursive message)."""
LONG_RUN_CHARS = (1, 200, 20_000, 200_000)
"""Lengths of the long runs of one hostile piece (the last is ~0.2-0.8 MB of UTF-8: well under 16 MB a message)."""
HOSTILE_PIECES = ("(", "[", "((", "- ", " ", "\t", "0", "9.", "\x00", "\x1b", "\u0301", "\ufdfa", "\u202e", "a(",
                  "’", "\ud7ff", "\U0001f600", "&amp;", "%s", "${x}", "\\", "\"", "'", "<", "feat. ", "(Live",
                  "Track 1 - ", "[unknown]", "ǅ", "ß", "İ")
"""Characters and fragments whose long runs have made text routines super-linear, or that confuse parsers:
brackets and dashes (title parsing), combining marks and characters whose NFKD form is long (U+FDFA is 18
characters), bidi controls, NUL and escape, surrogate-adjacent and astral code points, markup and format
strings, the repair stage's own vocabulary."""

_INT_RANGES = {
    FieldDescriptor.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.CPPTYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.CPPTYPE_UINT64: (0, 2**64 - 1),
}


def hostile_text() -> st.SearchStrategy[str]:
    """Ordinary text, any Unicode, and long runs of :data:`HOSTILE_PIECES` (up to ~200,000 characters)."""
    runs = st.builds(lambda piece, n: piece * n, st.sampled_from(HOSTILE_PIECES), st.sampled_from(LONG_RUN_CHARS))
    return st.one_of(st.just(""), st.text(max_size=40), st.text(st.characters(codec="utf-8"), max_size=300), runs)


def _integers(field: FieldDescriptor) -> st.SearchStrategy[int]:
    low, high = _INT_RANGES[field.cpp_type]
    edges = [v for v in (low, high, 0, 1, -1, 86_400_000, 10**12) if low <= v <= high]
    plausible = st.integers(0, 400_000)  # weighted 2 in 4, so requests often pass validation and go deep
    return st.one_of(plausible, plausible, st.sampled_from(edges), st.integers(low, high))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_STRING:
        if field.type == FieldDescriptor.TYPE_BYTES:
            return st.one_of(st.binary(max_size=2_000), st.sampled_from(HOSTILE_AUDIO))
        return hostile_text()
    if kind in _INT_RANGES:
        return _integers(field)
    if kind == FieldDescriptor.CPPTYPE_ENUM:  # proto3 enums are open: any int32 travels
        return st.one_of(st.sampled_from([v.number for v in field.enum_type.values]), st.integers(-5, 2**31 - 1))
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        return st.booleans()
    if kind in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        width = 32 if kind == FieldDescriptor.CPPTYPE_FLOAT else 64
        plausible = st.floats(0.0, 1.0, width=width)  # confidences: weighted 2 in 3, as for integers
        return st.one_of(plausible, plausible, st.floats(width=width, allow_nan=True, allow_infinity=True))
    raise TypeError(f"no strategy for {field.full_name} (cpp type {kind})")


def hostile_messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Messages of ``descriptor``'s type with any subset of their fields set to hostile values."""
    message_class = GetMessageClass(descriptor)
    fields: dict[str, st.SearchStrategy] = {}
    for field in descriptor.fields:
        if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
            if depth >= MAX_NESTING:
                continue
            value = hostile_messages(field.message_type, depth + 1)
        else:
            value = _scalar(field)
        fields[field.name] = st.lists(value, max_size=4) if _is_repeated(field) else value
    return st.fixed_dictionaries({}, optional=fields).map(lambda values: _build(message_class, values))


def _is_repeated(field: FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _build(message_class: type[Message], values: dict) -> Message:
    """The message, with a oneof's members set in order (the last one wins, as on the wire)."""
    message = message_class()
    for name, value in values.items():
        if isinstance(value, Message):
            getattr(message, name).CopyFrom(value)
        elif isinstance(value, list):
            repeated = getattr(message, name)
            for item in value:
                if isinstance(item, Message):
                    repeated.add().CopyFrom(item)
                else:
                    repeated.append(item)
        else:
            setattr(message, name, value)
    return message


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _string_field_numbers(descriptor: Descriptor) -> Sequence[int]:
    return [f.number for f in descriptor.fields if f.type == FieldDescriptor.TYPE_STRING] or [1]


def malformed_bytes(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """Bytes that are not a valid ``descriptor`` message: random, cut short, a byte changed, or invalid UTF-8 in a
    string field (proto3 requires UTF-8; the length prefix is right, the content is not)."""
    serialized = hostile_messages(descriptor).map(lambda m: m.SerializeToString()).filter(lambda b: len(b) > 1)
    cut = serialized.flatmap(lambda b: st.integers(1, len(b) - 1).map(lambda n: b[:n]))
    changed = serialized.flatmap(lambda b: st.tuples(st.integers(0, len(b) - 1), st.integers(0, 255)).map(
        lambda edit: b[: edit[0]] + bytes([edit[1]]) + b[edit[0] + 1:]))
    bad_utf8 = st.tuples(st.sampled_from(_string_field_numbers(descriptor)),
                         st.sampled_from([b"\xff", b"\xc3", b"ok\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])).map(
        lambda fb: _varint(fb[0] << 3 | 2) + _varint(len(fb[1])) + fb[1])
    return st.one_of(st.binary(min_size=1, max_size=300), cut, changed, bad_utf8)


def requests(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """What a hostile or careless client sends as one message of ``descriptor``'s type, as bytes."""
    formed = hostile_messages(descriptor).map(lambda m: m.SerializeToString())
    return st.one_of(formed, formed, formed, malformed_bytes(descriptor))  # 3 in 4 decode, to reach past it
