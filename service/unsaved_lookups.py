"""Look-ups of unsaved tracks (metadata only), many at once: validated together, searched in one vectorized pass.

The same function answers them in the server (:class:`service.batching.MicroBatcher`'s batches) and in its
look-up process (:mod:`service.lookup_replica`).
"""

from __future__ import annotations

from typing import TypeAlias

import pyarrow as pa

from catalog_er.resolver.online import Match
from catalog_er.service.api import catalog_er_pb2 as pb
from catalog_er.service.grpc_errors import RequestError
from catalog_er.service.io.validation import validate_tracks
from catalog_er.service.live import LiveCatalog
from catalog_er.service.proto_rows import track_rows

UnsavedQuery: TypeAlias = tuple[pb.Track, int, float]
"""One look-up: the track, the most candidates to return, the least confidence."""
UnsavedAnswer: TypeAlias = tuple[list[tuple[str, Match]], int]
"""The candidates (stored track id and match, best first) and how many candidates were scored."""


def find_unsaved_batch(catalog: LiveCatalog, queries: list[UnsavedQuery]) -> list[UnsavedAnswer | RequestError]:
    """Answers to ``queries`` in their order, from ``catalog``'s published snapshot; a query whose track is not
    usable gets the error naming its bad field instead."""
    table, valid, errors = validated_unsaved([track for track, _, _ in queries])
    found = iter(catalog.find_unsaved_many(table, [queries[k][1] for k in valid], [queries[k][2] for k in valid])
                 if valid else ())  # in the order of ``valid``: the positions without an error
    return [errors[k] if k in errors else next(found) for k in range(len(queries))]


def validated_unsaved(tracks: list[pb.Track]) -> tuple[pa.Table, list[int], dict[int, RequestError]]:
    """The usable ones of ``tracks`` as one ``TRACK_SCHEMA`` table, their positions in ``tracks``, and for each
    unusable one the error naming its bad field (validation runs once over all of them).

    An unsaved track needs an id: it is validated under a placeholder unique in the batch, then given an id no
    stored track can have (ids with control characters are refused at ingest), so no curator's decision on a
    stored track's pairs ever applies to it."""
    loaded = validate_tracks(track_rows([_with_id(track, f"unsaved-{k}") for k, track in enumerate(tracks)]),
                             "FindDuplicates")
    errors = {r["row"]: RequestError(f"unsaved.track.{r['field']}", r["reason"])
              for r in loaded.rejected.to_pylist() if r["action"] == "row dropped"}
    valid = [k for k in range(len(tracks)) if k not in errors]
    ids = pa.array([f"\x00unsaved-{k}" for k in valid], pa.string())
    table = loaded.table.set_column(loaded.table.schema.get_field_index("track_id"), "track_id", ids)
    return table, valid, errors


def _with_id(track: pb.Track, track_id: str) -> pb.Track:
    """A copy of ``track`` with ``track_id``."""
    copy = pb.Track()
    copy.CopyFrom(track)
    copy.track_id = track_id
    return copy
