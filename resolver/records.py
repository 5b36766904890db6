"""Column schemas shared by every stage: the data contract in Arrow form.

The cores pass whole columns around (``pyarrow.Table`` in and out, numpy arrays inside), never one Python
object per track, so every stage can work on batches and shard by block key.
"""

from __future__ import annotations

import pyarrow as pa

TRACK_SCHEMA = pa.schema(
    [
        pa.field("track_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("artist", pa.string()),
        pa.field("artist_ids", pa.list_(pa.string())),
        pa.field("album", pa.string()),
        pa.field("duration_ms", pa.int64()),
        pa.field("isrc", pa.string()),
        pa.field("release_date", pa.string()),
        pa.field("label", pa.string()),
        pa.field("audio_path", pa.string()),
    ]
)
"""``tracks.parquet`` after validation: every column present (absent ones filled with nulls)."""

TRACK_REQUIRED_COLUMNS = ("track_id", "title")

ARTIST_SCHEMA = pa.schema(
    [
        pa.field("artist_id", pa.string(), nullable=False),
        pa.field("name", pa.string(), nullable=False),
        pa.field("genres", pa.list_(pa.string())),
        pa.field("country", pa.string()),
    ]
)
ARTIST_REQUIRED_COLUMNS = ("artist_id", "name")

ENGAGEMENT_SCHEMA = pa.schema(
    [
        pa.field("user_id", pa.string(), nullable=False),
        pa.field("track_id", pa.string(), nullable=False),
        pa.field("plays", pa.int64(), nullable=False),
    ]
)
ENGAGEMENT_REQUIRED_COLUMNS = ("user_id", "track_id", "plays")

TRUTH_TRACKS_SCHEMA = pa.schema(
    [
        pa.field("track_id", pa.string(), nullable=False),
        pa.field("recording_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
    ]
)
TRUTH_ARTISTS_SCHEMA = pa.schema(
    [
        pa.field("artist_id", pa.string(), nullable=False),
        pa.field("entity_id", pa.string(), nullable=False),
    ]
)

PROPOSAL_SCHEMA = pa.schema(
    [
        pa.field("proposal_id", pa.string(), nullable=False),
        pa.field("entity_type", pa.string(), nullable=False),
        pa.field("canonical_id", pa.string(), nullable=False),
        pa.field("member_ids", pa.list_(pa.string()), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("evidence", pa.string(), nullable=False),
    ]
)
"""``proposals.parquet``: one row per merge proposal."""

REJECTED_SCHEMA = pa.schema(
    [
        pa.field("file", pa.string(), nullable=False),
        pa.field("row", pa.int64()),
        pa.field("id", pa.string()),
        pa.field("field", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("action", pa.string(), nullable=False),
    ]
)
"""``rejected.parquet``: one row per problem found in the input; ``row`` is the 0-based row number in the
file, ``action`` is ``row dropped`` (the row is unusable) or ``field nulled`` (the row is kept, that one
optional value was unusable)."""
