"""The service's durable state in one SQLite file (WAL): records, fingerprints, proposals, reviews.

Every write is one transaction, committed with ``synchronous = FULL`` before the caller acknowledges it: a
crash (even ``kill -9``) leaves each batch either wholly there or wholly absent. Records carry a
``version`` (a counter incremented per ingest batch) so a resolution can ask what changed since the last.
One connection, guarded by a lock, serves the gRPC worker threads.

The record tables (tracks, artists, engagement) are laid out from their schemas in ``resolver.records``
(see ``service.record_tables``). The file is checked before use (``service.store_file``).
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalog_er.fingerprint.signature import Fingerprint
from catalog_er.service.record_tables import ARTISTS, ENGAGEMENT, RECORD_TABLES, TRACKS, VERSION_COLUMN, RecordTable
from catalog_er.service.store_file import open_database

_SCHEMA = "\n".join(table.create_sql() for table in RECORD_TABLES) + """
CREATE TABLE IF NOT EXISTS fingerprints (
    track_id TEXT PRIMARY KEY, hashes BLOB NOT NULL, frames BLOB NOT NULL, seconds REAL NOT NULL,
    peak_count INTEGER NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS proposals (
    proposal_id TEXT PRIMARY KEY, entity_type TEXT NOT NULL, canonical_id TEXT NOT NULL, member_ids TEXT NOT NULL,
    confidence REAL NOT NULL, evidence TEXT NOT NULL, status TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS proposals_order ON proposals (confidence DESC, proposal_id);
CREATE TABLE IF NOT EXISTS proposal_members (
    proposal_id TEXT NOT NULL, entity_type TEXT NOT NULL, member_id TEXT NOT NULL,
    PRIMARY KEY (entity_type, member_id, proposal_id));
CREATE INDEX IF NOT EXISTS proposal_members_by_proposal ON proposal_members (proposal_id);
CREATE TABLE IF NOT EXISTS reviews (
    review_id INTEGER PRIMARY KEY AUTOINCREMENT, proposal_id TEXT NOT NULL, decision TEXT NOT NULL,
    member_id TEXT, reviewer TEXT NOT NULL, note TEXT, decided_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labeled_pairs (
    entity_type TEXT NOT NULL, left_id TEXT NOT NULL, right_id TEXT NOT NULL, is_duplicate INTEGER NOT NULL,
    review_id INTEGER NOT NULL, PRIMARY KEY (entity_type, left_id, right_id));
CREATE TABLE IF NOT EXISTS artist_pairs (
    artist_id TEXT NOT NULL, other_id TEXT NOT NULL, confidence REAL NOT NULL, match_weight REAL NOT NULL,
    signals TEXT NOT NULL, PRIMARY KEY (artist_id, other_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

OPEN, ACCEPTED, REJECTED, SUPERSEDED = "open", "accepted", "rejected", "superseded"
"""Proposal statuses as stored."""


class AlreadyDecidedError(ValueError):
    """A whole-proposal review of a proposal already accepted or rejected (``status``)."""

    def __init__(self, proposal_id: str, status: str) -> None:
        super().__init__(f"{proposal_id} was already {status}")
        self.proposal_id, self.status = proposal_id, status


@dataclass(frozen=True)
class StoredProposal:
    """A proposal row (``PROPOSAL_SCHEMA`` fields) and its status."""

    proposal_id: str
    entity_type: str
    canonical_id: str
    member_ids: list[str]
    confidence: float
    evidence: str
    status: str


@dataclass(frozen=True)
class LabeledPair:
    """One curator decision on a pair (``left_id < right_id``)."""

    entity_type: str
    left_id: str
    right_id: str
    is_duplicate: bool
    reviewer: str
    note: str
    proposal_id: str
    decided_at: str


class Store:
    """The SQLite database at ``path`` (created with its tables when missing; see :func:`open_database`)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = open_database(self.path, _SCHEMA)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _next_version(self, db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        version = int(row[0]) + 1 if row else 1
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('version', ?)", (str(version),))
        return version

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """The stored value of ``key`` in the meta table, or ``default``."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` in the meta table (one transaction)."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- records ------------------------------------------------------------------------------------------
    def _upsert(self, table: RecordTable, records: pa.Table) -> int:
        """Insert or update ``records`` in one transaction (an update keeps the row's place); returns the
        batch version."""
        with self._transaction() as db:
            version = self._next_version(db)
            db.executemany(table.upsert_sql(), table.sqlite_rows(records, version))
        return version

    def upsert_tracks(self, tracks: pa.Table) -> int:
        """Insert or update validated ``TRACK_SCHEMA`` rows in one transaction; returns the batch version."""
        return self._upsert(TRACKS, tracks)

    def upsert_artists(self, artists: pa.Table) -> int:
        """Insert or update validated ``ARTIST_SCHEMA`` rows in one transaction; returns the batch version."""
        return self._upsert(ARTISTS, artists)

    def upsert_engagement(self, engagement: pa.Table) -> int:
        """Insert or update validated ``ENGAGEMENT_SCHEMA`` rows (one per user and track: a repeated pair
        replaces its plays) in one transaction; returns the batch version (engagement rows do not keep it)."""
        return self._upsert(ENGAGEMENT, engagement)

    def _read(self, table: RecordTable, order_by: str, where: str = "", args: tuple = ()) -> dict[str, list]:
        """Every SQLite column of ``table`` by name, rows ordered by ``order_by``."""
        with self._lock:
            rows = self._db.execute(f"{table.select_sql()} {where} ORDER BY {order_by}", args).fetchall()
        return table.columns_by_name(rows)

    def put_fingerprint(self, track_id: str, fingerprint: Fingerprint) -> None:
        """Store (or replace) the fingerprint of ``track_id``."""
        with self._transaction() as db:
            version = self._next_version(db)
            db.execute("INSERT OR REPLACE INTO fingerprints VALUES (?, ?, ?, ?, ?, ?)",
                       (track_id, fingerprint.hashes.astype(np.uint32).tobytes(),
                        fingerprint.frames.astype(np.int32).tobytes(), fingerprint.seconds, fingerprint.peak_count,
                        version))

    def fingerprints_version(self) -> int:
        """Version of the latest stored fingerprint (0 when none): tells a reader whether to reload them."""
        with self._lock:
            return self._db.execute("SELECT COALESCE(MAX(version), 0) FROM fingerprints").fetchone()[0]

    def fingerprints(self) -> dict[str, Fingerprint]:
        """Every stored fingerprint by track id."""
        with self._lock:
            rows = self._db.execute("SELECT track_id, hashes, frames, seconds, peak_count FROM fingerprints").fetchall()
        return {r[0]: Fingerprint(np.frombuffer(r[1], np.uint32), np.frombuffer(r[2], np.int32), r[3], r[4])
                for r in rows}

    def existing_track_ids(self, track_ids: Iterable[str]) -> set[str]:
        """Those of ``track_ids`` that are stored."""
        return set(self.stored_versions(TRACKS, track_ids))

    def stored_versions(self, table: RecordTable, ids: Iterable[str]) -> dict[str, int]:
        """The version (ingest batch) that last wrote each of ``ids`` that is stored in ``table``, a versioned
        record table with a one-column key."""
        (key,) = table.key
        wanted = list(ids)
        found: dict[str, int] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(self._db.execute(
                    f"SELECT {key}, {VERSION_COLUMN} FROM {table.name} WHERE {key} IN ({marks})", chunk).fetchall())
        return found

    def track_ids(self) -> pa.Array:
        """Every stored ``track_id`` (string array, no particular order)."""
        with self._lock:
            return pa.array([r[0] for r in self._db.execute("SELECT track_id FROM tracks")], pa.string())

    def tracks(self, since_version: int = 0) -> tuple[pa.Table, np.ndarray]:
        """Tracks (``TRACK_SCHEMA``, in first-ingest order: an update keeps its place, a new track comes
        last) and their versions; only those written after ``since_version`` when it is given."""
        columns = self._read(TRACKS, "rowid", f"WHERE {VERSION_COLUMN} > ?", (since_version,))
        return TRACKS.arrow_table(columns), np.array(columns[VERSION_COLUMN], dtype=np.int64)

    def artists(self) -> pa.Table:
        """Every stored artist (``ARTIST_SCHEMA``), by ``artist_id``."""
        return ARTISTS.arrow_table(self._read(ARTISTS, "artist_id"))

    def engagement(self) -> pa.Table:
        """Every stored engagement row (``ENGAGEMENT_SCHEMA``), in first-ingest order."""
        return ENGAGEMENT.arrow_table(self._read(ENGAGEMENT, "rowid"))

    def counts(self) -> dict[str, int]:
        """Rows per table: tracks, artists, engagement, fingerprints, proposals, reviews."""
        with self._lock:
            return {table: self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                    for table in ("tracks", "artists", "engagement", "fingerprints", "proposals", "reviews")}

    # --- proposals ----------------------------------------------------------------------------------------
    def replace_proposals(self, proposals: pa.Table, touched_members: set[str] | None, entity_type: str) -> int:
        """Store a resolution's proposals of ``entity_type``.

        ``touched_members`` None: the run covered everything, so every open proposal of that type not in
        ``proposals`` is superseded. Otherwise only open proposals with a member in ``touched_members`` are.
        Accepted and rejected proposals are never changed. Returns proposals created or changed.
        """
        rows = [r for r in proposals.to_pylist() if r["entity_type"] == entity_type]
        new_ids = {r["proposal_id"] for r in rows}
        changed = 0
        with self._transaction() as db:
            stale: set[str]
            if touched_members is None:
                stale = {r[0] for r in db.execute(
                    "SELECT proposal_id FROM proposals WHERE entity_type = ? AND status = ?", (entity_type, OPEN))}
            else:
                stale = set()
                members = list(touched_members)
                for start in range(0, len(members), 500):
                    chunk = members[start:start + 500]
                    marks = ",".join("?" * len(chunk))
                    stale.update(r[0] for r in db.execute(
                        f"SELECT p.proposal_id FROM proposal_members m JOIN proposals p USING (proposal_id) "
                        f"WHERE m.entity_type = ? AND m.member_id IN ({marks}) AND p.status = ?",
                        [entity_type, *chunk, OPEN]))
            for proposal_id in stale:
                if proposal_id not in new_ids:
                    db.execute("UPDATE proposals SET status = ? WHERE proposal_id = ?", (SUPERSEDED, proposal_id))
                    changed += 1
            existing = {row[0]: (row[1], row[2]) for row in db.execute(
                "SELECT proposal_id, status, confidence FROM proposals WHERE entity_type = ?", (entity_type,))}
            writes = []
            for r in rows:
                status, confidence = existing.get(r["proposal_id"], (None, None))
                if status in (ACCEPTED, REJECTED):
                    continue
                if status != OPEN or abs(confidence - r["confidence"]) > 1e-12:
                    changed += 1
                writes.append(r)
            db.executemany("INSERT OR REPLACE INTO proposals VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(r["proposal_id"], r["entity_type"], r["canonical_id"], json.dumps(r["member_ids"]),
                             r["confidence"], r["evidence"], OPEN) for r in writes])
            db.executemany("DELETE FROM proposal_members WHERE proposal_id = ?", [(r["proposal_id"],) for r in writes])
            db.executemany("INSERT OR REPLACE INTO proposal_members VALUES (?, ?, ?)",
                           [(r["proposal_id"], r["entity_type"], m) for r in writes for m in r["member_ids"]])
        return changed

    _ARTIST_SIGNALS = ("name_similarity", "shared_recordings", "coengagement_jaccard", "genre_match", "country_match")

    def replace_artist_pairs(self, pairs: pa.Table) -> None:
        """Store the artist rows of a resolution's ``PAIR_SCHEMA`` pairs (both directions), replacing the last."""
        rows = [r for r in pairs.to_pylist() if r["entity_type"] == "artist"]
        records = []
        for r in rows:
            signals = json.dumps({name: ("null" if r[name] is None else
                                         f"{r[name]:.3f}" if isinstance(r[name], float) else str(r[name]).lower())
                                  for name in self._ARTIST_SIGNALS})
            records.append((r["left_id"], r["right_id"], r["confidence"], r["match_weight"], signals))
            records.append((r["right_id"], r["left_id"], r["confidence"], r["match_weight"], signals))
        with self._transaction() as db:
            db.execute("DELETE FROM artist_pairs")
            db.executemany("INSERT OR REPLACE INTO artist_pairs VALUES (?, ?, ?, ?, ?)", records)

    def artist_pairs(self, artist_id: str, min_confidence: float, limit: int) -> list[tuple[str, float, float, dict]]:
        """``(other_id, confidence, match_weight, signals)`` of the stored pairs of ``artist_id``, best first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT other_id, confidence, match_weight, signals FROM artist_pairs WHERE artist_id = ? AND "
                "confidence >= ? ORDER BY confidence DESC, other_id LIMIT ?", (artist_id, min_confidence, limit))
            return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows.fetchall()]

    def has_artist(self, artist_id: str) -> bool:
        """Whether ``artist_id`` is stored."""
        with self._lock:
            return self._db.execute("SELECT 1 FROM artists WHERE artist_id = ?", (artist_id,)).fetchone() is not None

    def proposals_with_members(self, entity_type: str, member_ids: set[str], statuses: tuple[str, ...]
                               ) -> list[StoredProposal]:
        """Proposals of ``entity_type`` in one of ``statuses`` with a member among ``member_ids``."""
        found: dict[str, StoredProposal] = {}
        members = list(member_ids)
        marks_status = ",".join("?" * len(statuses))
        with self._lock:
            for start in range(0, len(members), 500):
                chunk = members[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(
                        f"SELECT p.* FROM proposal_members m JOIN proposals p USING (proposal_id) WHERE "
                        f"m.entity_type = ? AND m.member_id IN ({marks}) AND p.status IN ({marks_status})",
                        [entity_type, *chunk, *statuses]):
                    found[row[0]] = _proposal(row)
        return list(found.values())

    def proposal(self, proposal_id: str) -> StoredProposal | None:
        """The proposal ``proposal_id`` with its status, or None when there is none."""
        with self._lock:
            row = self._db.execute("SELECT * FROM proposals WHERE proposal_id = ?", (proposal_id,)).fetchone()
        return None if row is None else _proposal(row)

    def list_proposals(self, *, entity_type: str | None, min_confidence: float, status: str | None,
                       after: tuple[float, str] | None, limit: int | None) -> list[StoredProposal]:
        """Proposals by confidence (descending) then id, strictly after ``after`` in that order."""
        sql = "SELECT * FROM proposals WHERE confidence >= ?"
        args: list[object] = [min_confidence]
        if entity_type:
            sql, args = sql + " AND entity_type = ?", [*args, entity_type]
        if status:
            sql, args = sql + " AND status = ?", [*args, status]
        if after is not None:
            sql += " AND (confidence < ? OR (confidence = ? AND proposal_id > ?))"
            args += [after[0], after[0], after[1]]
        sql += " ORDER BY confidence DESC, proposal_id"
        if limit:
            sql, args = sql + " LIMIT ?", [*args, limit]
        with self._lock:
            return [_proposal(r) for r in self._db.execute(sql, args).fetchall()]

    def open_proposal_count(self) -> int:
        """How many proposals are open."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM proposals WHERE status = ?", (OPEN,)).fetchone()[0]

    # --- reviews ------------------------------------------------------------------------------------------
    def record_review(self, proposal: StoredProposal, decision: str, member_id: str, reviewer: str, note: str
                      ) -> tuple[StoredProposal, int]:
        """Store a review and the labeled pairs it implies; update the proposal's status.

        Whole proposal: ACCEPT labels every member pair a duplicate, REJECT every member pair not one; a
        proposal already accepted or rejected raises :class:`AlreadyDecidedError` (checked in the transaction
        that writes, so of two concurrent whole reviews exactly one is recorded). One member: REJECT labels that
        member against each other member not a duplicate (the rest stay open); ACCEPT labels it a duplicate of
        each other member; the proposal's status is left as it is.
        """
        members = sorted(proposal.member_ids)
        if member_id:
            others = [m for m in members if m != member_id]
            pairs = [tuple(sorted((member_id, other))) for other in others]
        else:
            pairs = [(a, b) for i, a in enumerate(members) for b in members[i + 1:]]
        is_duplicate = decision == ACCEPTED
        decided_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        with self._transaction() as db:
            (status,) = db.execute("SELECT status FROM proposals WHERE proposal_id = ?",
                                   (proposal.proposal_id,)).fetchone()
            if not member_id and status in (ACCEPTED, REJECTED):  # checked in the write's transaction: atomic
                raise AlreadyDecidedError(proposal.proposal_id, status)
            cursor = db.execute("INSERT INTO reviews (proposal_id, decision, member_id, reviewer, note, decided_at) "
                                "VALUES (?, ?, ?, ?, ?, ?)",
                                (proposal.proposal_id, decision, member_id or None, reviewer, note, decided_at))
            review_id = cursor.lastrowid
            db.executemany("INSERT OR REPLACE INTO labeled_pairs VALUES (?, ?, ?, ?, ?)",
                           [(proposal.entity_type, a, b, int(is_duplicate), review_id) for a, b in pairs])
            if not member_id:
                db.execute("UPDATE proposals SET status = ? WHERE proposal_id = ?", (decision, proposal.proposal_id))
            updated = db.execute("SELECT * FROM proposals WHERE proposal_id = ?", (proposal.proposal_id,)).fetchone()
        return _proposal(updated), len(pairs)

    def labeled_pairs(self, entity_type: str | None = None) -> list[LabeledPair]:
        """Every curator decision on a pair (of ``entity_type`` only, when given), ordered by type and ids."""
        sql = ("SELECT l.entity_type, l.left_id, l.right_id, l.is_duplicate, r.reviewer, r.note, r.proposal_id, "
               "r.decided_at FROM labeled_pairs l JOIN reviews r USING (review_id)")
        args: list[str] = []
        if entity_type:
            sql, args = sql + " WHERE l.entity_type = ?", [entity_type]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY l.entity_type, l.left_id, l.right_id", args).fetchall()
        return [LabeledPair(r[0], r[1], r[2], bool(r[3]), r[4], r[5] or "", r[6], r[7]) for r in rows]


def _proposal(row: tuple) -> StoredProposal:
    return StoredProposal(row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6])


