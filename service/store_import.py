"""``catalog-er import``: catalog dumps into the service's SQLite database, validated as ``resolve`` validates them.

Rows are upserted in batches (one transaction each); engagement rows may name any track already stored, whichever
import brought it. Rejected rows go to the same report as ``resolve``'s.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from catalog_er.service.errors import EmptyInputError
from catalog_er.service.io.files import read_artists, read_engagement, read_tracks
from catalog_er.service.io.parquet import write_rejected
from catalog_er.service.io.validation import LoadedTable
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
    cannot be used, ``EmptyInputError`` when every row of one was rejected (as ``resolve`` does; the report is
    written first). The tables imported before it stay imported.
    """
    store = Store(db_path)
    rejected: list[pa.Table] = []
    counts = {"tracks": 0, "artists": 0, "engagement": 0}
    try:
        if tracks_path:
            tracks = _usable(read_tracks(tracks_path), tracks_path, "track", rejected, rejected_path)
            for start in range(0, tracks.num_rows, TRACK_BATCH_ROWS):
                store.upsert_tracks(tracks.slice(start, TRACK_BATCH_ROWS))
            counts["tracks"] = tracks.num_rows
        if artists_path:
            artists = _usable(read_artists(artists_path), artists_path, "artist", rejected, rejected_path)
            store.upsert_artists(artists)
            counts["artists"] = artists.num_rows
        if engagement_path:  # plays of any stored track count, whichever import brought it
            engagement = _usable(read_engagement(engagement_path, known_track_ids=store.track_ids()),
                                 engagement_path, "engagement", rejected, rejected_path)
            for start in range(0, engagement.num_rows, ENGAGEMENT_BATCH_ROWS):
                store.upsert_engagement(engagement.slice(start, ENGAGEMENT_BATCH_ROWS))
            counts["engagement"] = engagement.num_rows
    finally:
        store.close()
    problems = write_rejected(rejected, rejected_path) if rejected_path else sum(t.num_rows for t in rejected)
    print(f"imported {counts['tracks']:,} tracks, {counts['artists']:,} artists, {counts['engagement']:,} engagement "
          f"rows into {db_path} ({problems:,} input problems"
          f"{f'; see {rejected_path}' if rejected_path and problems else ''})")
    return counts


def _usable(loaded: LoadedTable, path: str | Path, kind: str, rejected: list[pa.Table],
            rejected_path: str | Path | None) -> pa.Table:
    """The usable rows of the dump at ``path`` (its report joins ``rejected``); ``EmptyInputError`` when every row
    was rejected, after writing the report so far to ``rejected_path`` when given."""
    rejected.append(loaded.rejected)
    if loaded.table.num_rows:
        return loaded.table
    if rejected_path:
        write_rejected(rejected, rejected_path)
    reasons = f"reasons in {rejected_path}" if rejected_path else "give --rejected R.parquet to see why"
    raise EmptyInputError(f"{path}: no usable {kind} rows ({loaded.rejected.num_rows:,} rejected; {reasons})",
                          path=path)
