"""Page tokens of ``ListMergeProposals``: opaque to clients, a fixed structure to the service.

A token marks a place in the listing order (confidence descending, then proposal id): the last proposal a
client received. It is URL-safe base64 of one format byte (:data:`TOKEN_FORMAT`), the confidence as a
big-endian IEEE double and the proposal id in UTF-8. Reading one is bounded work: its length is checked
before anything is decoded (:data:`MAX_PAGE_TOKEN_CHARS`) and nothing in it is parsed recursively; a token
this service did not issue is a ``RequestError`` on ``page_token`` (INVALID_ARGUMENT).
"""

from __future__ import annotations

import base64
import binascii
import math
import struct

from catalog_er.service.grpc_errors import RequestError
from catalog_er.service.io.validation import show_value

MAX_PAGE_TOKEN_CHARS = 256
"""Longest page token accepted, in characters (the service issues tokens of about 50: proposal ids are short)."""
TOKEN_FORMAT = 1
"""The first byte of every token: the layout of the rest (a later layout would take another number)."""
_CONFIDENCE = struct.Struct(">d")


def page_token(confidence: float, proposal_id: str) -> str:
    """The token that resumes a listing after the proposal ``proposal_id`` of ``confidence``."""
    raw = bytes([TOKEN_FORMAT]) + _CONFIDENCE.pack(confidence) + proposal_id.encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def parse_page_token(token: str) -> tuple[float, str] | None:
    """``(confidence, proposal_id)`` of a token :func:`page_token` issued; None for "" (from the start).

    Raises:
        RequestError: on ``page_token``, when ``token`` is longer than :data:`MAX_PAGE_TOKEN_CHARS` or is not a
            token this service issued.
    """
    if not token:
        return None
    if len(token) > MAX_PAGE_TOKEN_CHARS:
        raise RequestError("page_token", f"is {len(token):,} characters long; tokens this service issues are at "
                           f"most {MAX_PAGE_TOKEN_CHARS}")
    try:
        raw = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
        if len(raw) <= 1 + _CONFIDENCE.size or raw[0] != TOKEN_FORMAT:
            raise ValueError("not the token layout")
        (confidence,) = _CONFIDENCE.unpack_from(raw, 1)
        if not (math.isfinite(confidence) and 0.0 <= confidence <= 1.0):
            raise ValueError(f"confidence {confidence} is outside [0, 1]")
        return confidence, raw[1 + _CONFIDENCE.size:].decode("utf-8")
    except (ValueError, binascii.Error) as error:  # UnicodeError is a ValueError
        raise RequestError("page_token", f"{show_value(token)} is not a token this service issued") from error
