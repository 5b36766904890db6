"""Proto messages the service tests and benchmarks send, built from synthetic catalog rows."""

from __future__ import annotations

from catalog_er.service.api import catalog_er_pb2 as pb


def track_message(row: dict, **changes: object) -> pb.Track:
    """A track row (``TRACK_SCHEMA``) as a ``pb.Track`` of its id, title, artist, album, duration and ISRC, with
    ``changes`` applied to the row first (a missing value becomes proto3's default)."""
    row = {**row, **changes}
    return pb.Track(track_id=row["track_id"], title=row["title"] or "", artist=row["artist"] or "",
                    album=row["album"] or "", duration_ms=row["duration_ms"] or 0, isrc=row["isrc"] or "")
