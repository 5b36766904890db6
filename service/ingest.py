"""Ingest streams (``IngestTracks``, ``IngestArtists``, ``IngestEngagement``): request messages → validated
batches → the store, and the summary the caller gets back.

Records are validated in batches of :data:`BATCH_RECORDS` by the same code as the files
(``service.io.validation``) and each batch is committed before the next is read, so a broken stream keeps
what was acknowledged batch by batch. A bad record is a rejection in the summary, never a failed call; so is
a message that cannot be decoded (``service.grpc_errors.UndecodableMessage``): the records around it are
kept. A rejection's ``index`` is the 0-based position of its message in the stream.

Over gRPC a record is stored as sent or not at all: a value the file readers would null with a note in the
rejected report (a ``duration_ms`` outside 1 ms .. 24 h) rejects the record here, since a client has no
report to read. Tracks and artists are stored once per stream: a later copy of an id the stream already
stored, in the same batch or a later one, is rejected as a duplicate (the first copy is kept, as the file
readers keep it); a new stream with the id replaces the stored record (an upsert). Engagement rows are
upserts by (user, track) everywhere: the last plays sent count.

The summary counts every
rejected record but lists only the first ones (:data:`MAX_LISTED_REJECTIONS`, :data:`MAX_LISTED_REJECTION_BYTES`),
so it always reaches the client: a stream of 300,000 bad records once made a summary over 10 MB, past the
4 MB a client accepts by default, and the client never learned what was stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.grpc_errors import UndecodableMessage
from catalog_er.service.io.validation import FIELD_NULLED, ROW_DROPPED, LoadedTable, show_value

BATCH_RECORDS = 2_000
"""Records validated and committed together in an ingest stream (one SQLite transaction)."""
MAX_LISTED_REJECTIONS = 1_000
"""Most rejections listed in an ingest summary, in entries; the rest are counted (``unlisted_rejections``)."""
MAX_LISTED_REJECTION_BYTES = 1024 * 1024
"""Most bytes of encoded rejections listed in an ingest summary (well under a client's default 4 MB receive
limit, whatever the ids and reasons hold); the rest are counted."""


@dataclass(frozen=True)
class RecordStream:
    """How one ingest RPC stores its records.

    ``field`` is the record's field in each request message; ``to_table`` turns a list of records into a raw
    table, ``validate`` checks it and ``write`` stores the usable rows (one transaction) and returns the batch
    version the store stamped them with. ``id_field`` names the records' unique id and ``stored_versions`` gives
    the stored version of each of some ids that are stored, so a later copy of an id this stream stored is a
    duplicate; both None for records that are upserts by key.
    """

    field: str
    to_table: Callable[[list], pa.Table]
    validate: Callable[[pa.Table], LoadedTable]
    write: Callable[[pa.Table], int]
    id_field: str | None = None
    stored_versions: Callable[[list[str]], dict[str, int]] | None = None


@dataclass
class _Batch:
    """Messages read from a stream: the records, with the 0-based position of each one's message in the
    stream, and a rejection for each message that could not be decoded."""

    records: list = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    undecodable: list[pb.Rejection] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.undecodable)


@dataclass
class _Tally:
    """What a stream has stored and rejected so far: every rejection is counted, and the first ones are listed
    while they fit in :data:`MAX_LISTED_REJECTIONS` entries and :data:`MAX_LISTED_REJECTION_BYTES` (the
    listed ones are always the first ones in stream order: after the first that does not fit, none is)."""

    accepted: int = 0
    rejected: int = 0
    listed: list[pb.Rejection] = field(default_factory=list)
    listed_bytes: int = 0
    full: bool = False

    def reject(self, rejections: list[pb.Rejection]) -> None:
        self.rejected += len(rejections)
        for rejection in rejections:
            if self.full:
                return
            size = rejection.ByteSize()
            self.full = (len(self.listed) == MAX_LISTED_REJECTIONS
                         or self.listed_bytes + size > MAX_LISTED_REJECTION_BYTES)
            if not self.full:
                self.listed.append(rejection)
                self.listed_bytes += size

    def summary(self) -> pb.IngestSummary:
        return pb.IngestSummary(accepted=self.accepted, rejected=self.rejected, rejections=self.listed,
                                unlisted_rejections=self.rejected - len(self.listed))


async def ingest(stream: RecordStream, requests: AsyncIterator[Any],
                 blocking: Callable[..., Awaitable[Any]]) -> pb.IngestSummary:
    """Store the records of ``requests`` batch by batch (each batch committed through ``blocking``, which runs
    a function off the event loop) and return the summary of the whole stream."""
    tally, versions = _Tally(), set[int]()
    async for batch in _batches(requests, stream.field):
        stored, rejections = await blocking(_commit, stream, batch, versions)
        tally.accepted += stored
        tally.reject(rejections)
    return tally.summary()


async def _batches(requests: AsyncIterator[Any], record_field: str) -> AsyncIterator[_Batch]:
    """The ``record_field`` of each streamed request, in batches of up to :data:`BATCH_RECORDS` messages."""
    batch, position = _Batch(), 0
    async for request in requests:
        if isinstance(request, UndecodableMessage):
            batch.undecodable.append(pb.Rejection(index=position, field="request", reason=request.describe()))
        else:
            batch.records.append(getattr(request, record_field))
            batch.positions.append(position)
        position += 1
        if len(batch) == BATCH_RECORDS:
            yield batch
            batch = _Batch()
    if len(batch):
        yield batch


def _commit(stream: RecordStream, batch: _Batch, versions: set[int]) -> tuple[int, list[pb.Rejection]]:
    """Validate and store one batch: the records stored and the rejections, in stream order. ``versions`` are
    the versions of the batches this stream stored so far; the batch's own is added to them."""
    if not batch.records:
        return 0, batch.undecodable
    loaded = stream.validate(stream.to_table(batch.records))
    report = loaded.rejected.to_pylist()
    dropped = {r["row"] for r in report if r["action"] == ROW_DROPPED}
    rows = np.array([row for row in range(len(batch.records)) if row not in dropped], dtype=np.int64)
    refused = {r["row"]: r for r in reversed(report) if r["action"] == FIELD_NULLED}  # the first entry of a row
    refused.update(_stored_earlier(stream, loaded.table, rows, versions))
    table = loaded.table.filter(pa.array(~np.isin(rows, list(refused))))
    if table.num_rows:
        versions.add(stream.write(table))
    entries = [r for r in report if r["action"] == ROW_DROPPED] + list(refused.values())
    rejections = batch.undecodable + [
        pb.Rejection(index=batch.positions[r["row"]], id=r["id"] or "", field=r["field"] or "", reason=r["reason"])
        for r in entries]
    return table.num_rows, sorted(rejections, key=lambda rejection: rejection.index)


def _stored_earlier(stream: RecordStream, table: pa.Table, rows: np.ndarray, versions: set[int]) -> dict[int, dict]:
    """Rejected-report entries (by batch row) for the records of validated ``table`` (whose rows are the batch
    rows ``rows``) whose id this stream stored in an earlier batch (one of ``versions``)."""
    if stream.id_field is None or stream.stored_versions is None or not versions:
        return {}
    ids = table[stream.id_field].to_pylist()
    stored = stream.stored_versions(ids)
    return {int(row): {"row": int(row), "id": record_id, "field": stream.id_field,
                       "reason": f"duplicate {stream.id_field} {show_value(record_id)}: stored earlier in this stream "
                                 "(the first copy is kept)"}
            for row, record_id in zip(rows, ids, strict=True) if stored.get(record_id) in versions}
