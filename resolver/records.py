"""Column schemas shared by every stage: the data contract in Arrow form.

The cores pass whole columns around (``pyarrow.Table`` in and out, numpy arrays inside), never one Python
object per track, so every stage can work on batches and shard by block key.
"""

from __future__ import annotations

import numpy as np
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
        pa.field("source", pa.string()),
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

BATCH_ONLY_COLUMNS = ("audio_path",)
"""Record columns that only the batch run reads: ``tracks.audio_path`` names an audio file beside the dump.
The service takes audio as uploaded bytes and keeps their fingerprints, so it neither receives nor stores
these columns."""


def service_schema(schema: pa.Schema) -> pa.Schema:
    """The fields of a record ``schema`` (tracks, artists, engagement) that the service receives over gRPC and
    keeps in its store, in schema order: all but :data:`BATCH_ONLY_COLUMNS`."""
    return pa.schema([field for field in schema if field.name not in BATCH_ONLY_COLUMNS])


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

PAIR_SCHEMA = pa.schema(
    [
        pa.field("entity_type", pa.string(), nullable=False),
        pa.field("left_id", pa.string(), nullable=False),
        pa.field("right_id", pa.string(), nullable=False),
        pa.field("confidence", pa.float64(), nullable=False),
        pa.field("match_weight", pa.float64(), nullable=False),
        # track signals (null on artist rows)
        pa.field("title_similarity", pa.float32()),
        pa.field("artist_similarity", pa.float32()),
        pa.field("isrc_match", pa.bool_()),
        pa.field("duration_delta_ms", pa.int64()),
        pa.field("version_match", pa.bool_()),
        pa.field("album_match", pa.bool_()),
        pa.field("release_year_match", pa.bool_()),
        pa.field("audio_match", pa.bool_()),
        pa.field("record_similarity", pa.float32()),
        # artist signals (null on track rows)
        pa.field("name_similarity", pa.float32()),
        pa.field("shared_recordings", pa.float32()),
        pa.field("coengagement_jaccard", pa.float32()),
        pa.field("genre_match", pa.bool_()),
        pa.field("country_match", pa.bool_()),
    ]
)
"""``pairs.parquet``: one row per scored pair of tracks or artists, one column per signal; a signal is null
where a side lacks the value or the signal belongs to the other entity type."""


def pair_rows(entity_type: str, left_ids: pa.Array, right_ids: pa.Array, confidence: pa.Array,
              match_weight: pa.Array, signals: dict[str, pa.Array]) -> pa.Table:
    """A ``PAIR_SCHEMA`` table; columns of ``PAIR_SCHEMA`` missing from ``signals`` are all null."""
    n = len(left_ids)
    given = {"entity_type": pa.array([entity_type] * n, pa.string()), "left_id": left_ids,
             "right_id": right_ids, "confidence": confidence, "match_weight": match_weight, **signals}
    return pa.Table.from_arrays(
        [given[f.name].cast(f.type) if f.name in given else pa.nulls(n, f.type) for f in PAIR_SCHEMA],
        schema=PAIR_SCHEMA)


def nullable_bool(codes: np.ndarray) -> pa.Array:
    """int8 codes (1 true, 0 false, -1 null) as an Arrow boolean array."""
    return pa.array(codes == 1, mask=codes < 0)


def candidate_id_table(entity_type: str, ids: np.ndarray, left: np.ndarray, right: np.ndarray) -> pa.Table:
    """``candidates.parquet`` rows: ``entity_type``, ``left_id``, ``right_id`` of each candidate pair."""
    return pa.table({"entity_type": pa.array([entity_type] * len(left), pa.string()),
                     "left_id": pa.array(ids[left], pa.string()), "right_id": pa.array(ids[right], pa.string())})


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
