"""``catalog-er import``: catalog dumps into the service's SQLite database, validated as ``resolve`` validates them.

Rows are upserted in batches (one transaction each); engagement rows may name any track already stored, whichever
import brought it. Rejected rows go to the same report as ``resolve``'s.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from catalog_er.service.io.files import read_artists, read_engagement, read_tracks
from catalog_er.service.io.parquet import write_rejected
from catalog_er.service.store import Store

TRACK_BATCH_ROWS = 50_000
"""Track rows per transaction: bounds the memory of one batch's Python rows."""
ENGAGEMENT_BATCH_ROWS = 500_000
"""Engagement rows per transaction (narrow rows: ten times as many as tracks)."""


def import_dumps(db_path: str | Path, *, tracks_path: str | Path | None = None,
                 artists_path: str | Path | None = None, engagement_path: str | Path | None = None,
                 rejected_path: str | Path | None = None) -> dict[str, int]:
    """Upsert the given dumps into the database at ``db_path`` (created when missing) and print one line about it.

    ``rejected_path``: write the rejected-row report there (when any row was rejected). Returns the rows imported
    per table (``tracks``, ``artists``, ``engagement``). Raises ``CatalogInputError`` naming the file when a dump
    cannot be used (the tables imported before it stay imported).
    """
    store = Store(db_path)
    rejected: list[pa.Table] = []
    counts = {"tracks": 0, "artists": 0, "engagement": 0}
    try:
        if tracks_path:
            tracks = read_tracks(tracks_path)
            rejected.append(tracks.rejected)
            for start in range(0, tracks.table.num_rows, TRACK_BATCH_ROWS):
                store.upsert_tracks(tracks.table.slice(start, TRACK_BATCH_ROWS))
            counts["tracks"] = tracks.table.num_rows
        if artists_path:
            artists = read_artists(artists_path)
            rejected.append(artists.rejected)
            store.upsert_artists(artists.table)
            counts["artists"] = artists.table.num_rows
        if engagement_path:  # plays of any stored track count, whichever import brought it
            engagement = read_engagement(engagement_path, known_track_ids=store.track_ids())
            rejected.append(engagement.rejected)
            for start in range(0, engagement.table.num_rows, ENGAGEMENT_BATCH_ROWS):
                store.upsert_engagement(engagement.table.slice(start, ENGAGEMENT_BATCH_ROWS))
            counts["engagement"] = engagement.table.num_rows
    finally:
        store.close()
    problems = write_rejected(rejected, rejected_path) if rejected_path else sum(t.num_rows for t in rejected)
    print(f"imported {counts['tracks']:,} tracks, {counts['artists']:,} artists, {counts['engagement']:,} engagement "
          f"rows into {db_path} ({problems:,} input problems"
          f"{f'; see {rejected_path}' if rejected_path and problems else ''})")
    return counts
