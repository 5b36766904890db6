"""The service's catalog in memory: stored records, the trained model, the warm index and the current groups.

State is rebuilt from the SQLite store on start (the track model of the last full resolution is saved in
it, so a restart does not retrain). Ingest writes to the store and marks the in-memory view
stale; the next look-up or resolution brings it up to date by normalizing and indexing only the changed
tracks (:meth:`resolver.online.TrackIndex.with_rows`). Resolution is full (retrain, regroup everything,
with artists) or incremental: only the tracks ingested since the last resolution, their candidates and
the groups those belong to are regrouped with the trained model. Curators' decisions bind both.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from catalog_er.fingerprint.signature import Fingerprint
from catalog_er.resolver.comparisons import TRACK_COMPARISONS
from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.decisions import PairDecisions
from catalog_er.resolver.features import extract_track_features
from catalog_er.resolver.fellegi_sunter import (
    FellegiSunterModel,
    ModelMismatchError,
    model_from_parameters,
    model_parameters,
)
from catalog_er.resolver.online import Match, TrackIndex
from catalog_er.resolver.repair import RepairContext
from catalog_er.resolver.stages import StageTimer
from catalog_er.resolver.tracks import regroup, score_tracks
from catalog_er.service.audio_evidence import TrackFingerprints
from catalog_er.service.io.validation import show_value
from catalog_er.service.resolution_process import FullResolutionInput, FullResolutionOutput, resolve_full
from catalog_er.service.store import ACCEPTED, OPEN, Store

log = logging.getLogger("catalog_er.live")


class NotFoundError(LookupError):
    """A stored record or proposal that does not exist (gRPC NOT_FOUND)."""


class NotReadyError(RuntimeError):
    """The catalog cannot answer yet, e.g. fewer than two tracks to train on (gRPC FAILED_PRECONDITION)."""


@dataclass(frozen=True)
class ResolveStats:
    """What one resolution did."""

    incremental: bool
    tracks_touched: int
    proposals_changed: int
    open_proposals: int
    seconds: float


@dataclass(frozen=True)
class _View:
    """An immutable snapshot readers use without locks: tracks in store order and their index."""

    tracks: pa.Table
    versions: np.ndarray
    row_of: dict[str, int]
    index: TrackIndex | None


class LiveCatalog:
    """See the module docstring. Thread-safe: readers take the current snapshot, writers swap it."""

    def __init__(self, store: Store, config: ResolverConfig | None = None, *,
                 run_full: Callable[[FullResolutionInput], FullResolutionOutput] = resolve_full,
                 unsaved_only: bool = False) -> None:
        """``run_full``: how a full resolution's computation runs (here by default; the server passes
        :meth:`service.resolution_process.ResolutionProcess.resolve` to run it in a child process).
        ``unsaved_only``: a copy that only answers look-ups of unsaved tracks (the server's look-up process):
        it never writes to ``store`` (a model it has to train stays in memory), and its index keeps no scored
        neighbours (:class:`resolver.online.TrackIndex` with ``stored_lookups=False``), so following the
        catalog costs it no pair scoring; stored look-ups and resolutions are refused."""
        self.store, self.config, self._run_full = store, config or ResolverConfig(), run_full
        self.unsaved_only = unsaved_only
        self._lock = threading.RLock()  # taken to advance the published snapshot
        self._resolving = threading.Lock()
        self._counting = threading.Lock()
        self._wanted = 1  # store changes announced (mark_stale) …
        self._have = 0  # … and those the published snapshot includes
        self._model: FellegiSunterModel | None = None
        self.model_generation = 0
        """Counts the track models this catalog has used (a full resolution retrains: the index is rebuilt)."""
        self._view = _View(pa.table({}), np.empty(0, np.int64), {}, None)
        self._audio = TrackFingerprints({})
        self._fingerprints_version = 0
        self.refresh()

    # --- state -------------------------------------------------------------------------------------------
    def mark_stale(self) -> None:
        """The store changed: the next :meth:`refresh` brings the snapshot up to date (never waits for one)."""
        with self._counting:
            self._wanted += 1

    def changes_announced(self) -> int:
        """A number that changes with every :meth:`mark_stale` (for a copy of the catalog to know it is behind)."""
        return self._wanted

    def is_current(self) -> bool:
        """Whether the snapshot includes every announced store change (then :meth:`refresh` reads nothing)."""
        return self._have == self._wanted

    def knows(self, track_id: str) -> bool:
        """Whether the published snapshot holds ``track_id`` (a track ingested since may not be in it yet)."""
        return track_id in self._view.row_of

    def refresh(self) -> _View:
        """Bring the snapshot up to date with the store: only tracks written since the snapshot are read,
        normalized and indexed (cheap when nothing changed)."""
        if self._have == self._wanted:
            return self._view
        with self._lock:
            target = self._wanted
            if self._have == target:
                return self._view
            self._publish(self._advanced(self._view), target)
            return self._view

    def _publish(self, view: _View, target: int) -> None:
        self._view = view
        self._have = target  # published only now: readers never see "fresh" with the old snapshot

    def _advanced(self, old: _View) -> _View:
        """``old`` with the tracks written to the store since it was taken applied (call with the lock)."""
        changed, changed_versions = self.store.tracks(since_version=_max_version(old))
        tracks, versions, row_of = _merge(old, changed, changed_versions)
        self._reload_fingerprints()
        if tracks.num_rows >= 2 and self._model is None:
            self._model = self._saved_model() or self._trained_model(tracks)
            self.model_generation += 1
        index = old.index
        if self._model is not None:
            index = self._reindex(old, tracks, versions, self._model)
        return _View(tracks, versions, row_of, index)

    def is_resolving(self) -> bool:
        """Whether a resolution is running now (they run one at a time)."""
        return self._resolving.locked()

    def indexed_tracks(self) -> int:
        """Tracks in the published index (no refresh: cheap enough for a metrics scrape)."""
        index = self._view.index
        return 0 if index is None else len(index)

    def _reload_fingerprints(self) -> None:
        """Read the fingerprints and re-index them, only when an upload stored a new one."""
        version = self.store.fingerprints_version()
        if version == self._fingerprints_version:
            return
        self._audio = TrackFingerprints(self.store.fingerprints())
        self._fingerprints_version = version

    def _reindex(self, old: _View, tracks: pa.Table, versions: np.ndarray, model: FellegiSunterModel) -> TrackIndex:
        """The index for ``tracks`` under ``model``: ``old``'s with the changed rows re-indexed (stored order keeps
        every old row in place and puts new ones last), or a new one after retraining."""
        if old.index is None or old.index.model is not model:
            context = RepairContext.learn(tracks)
            return TrackIndex(extract_track_features(tracks, context=context), model, self.config,
                              repair_context=context, stored_lookups=not self.unsaved_only)
        changed = np.flatnonzero(versions > _max_version(old))
        if len(changed) == 0:
            return old.index
        return old.index.with_rows(changed, old.index.prepare(tracks.take(pa.array(changed))))

    def _saved_model(self) -> FellegiSunterModel | None:
        """The track model of the last full resolution, if the database holds one for these comparisons."""
        saved = self.store.get_meta("track_model")
        if saved is None:
            return None
        try:
            return model_from_parameters(json.loads(saved), TRACK_COMPARISONS)
        except (ModelMismatchError, json.JSONDecodeError) as error:
            log.warning("the saved track model is not reused; training a new one", extra={"reason": str(error)})
            return None

    def _trained_model(self, tracks: pa.Table) -> FellegiSunterModel:
        """A model trained on ``tracks`` (no resolution has saved one yet), saved unless this copy never writes."""
        model = score_tracks(tracks, config=self.config, timer=StageTimer(None)).model
        return model if self.unsaved_only else self._save_model(model)

    def _save_model(self, model: FellegiSunterModel) -> FellegiSunterModel:
        self.store.set_meta("track_model", json.dumps(model_parameters(model)))
        return model

    def decisions(self, entity_type: str) -> PairDecisions:
        """Curators' decisions on pairs of ``entity_type`` (``track`` or ``artist``), as binding labels."""
        pairs = self.store.labeled_pairs(entity_type)
        return PairDecisions(np.array([p.left_id for p in pairs], object),
                             np.array([p.right_id for p in pairs], object),
                             np.array([p.is_duplicate for p in pairs], bool))

    # --- look-ups (from the published snapshot: :meth:`refresh` first to include the latest changes) --------
    def verifies_audio(self, track_id: str) -> bool:
        """Whether a look-up of stored ``track_id`` verifies audio (it has a fingerprint, and so does another)."""
        return track_id in self._audio and len(self._audio) >= 2

    def find_stored(self, track_id: str, limit: int, min_confidence: float) -> tuple[list[tuple[str, Match]], int]:
        """A stored track's likely duplicates, best first (at most ``limit``, at least ``min_confidence``), with
        audio verified when both sides have it, and how many candidates were scored."""
        self._refuse_if_unsaved_only("a stored track's look-up")
        view = self._view
        if track_id not in view.row_of:
            raise NotFoundError(f"track_id {show_value(track_id)} is not stored")
        index = self._ready(view)
        row = view.row_of[track_id]
        candidates = index.neighbour_rows(row)
        audio = self._audio.evidence(self._ids(view, candidates), self._audio.get(track_id)) if (
            self.verifies_audio(track_id)) else None
        if audio is None:
            matches = index.stored_matches(row, limit=limit, min_probability=min_confidence)
        else:  # audio on both sides can change the verdicts: score the candidates again with it
            matches = index.rescored_matches(row, audio, limit=limit, min_probability=min_confidence)
        return self._ranked(view, matches), len(candidates)

    def find_unsaved(self, track: pa.Table, fingerprint: Fingerprint | None, limit: int, min_confidence: float
                     ) -> tuple[list[tuple[str, Match]], int]:
        """An unsaved track's likely duplicates (one validated ``TRACK_SCHEMA`` row, with its audio's fingerprint
        when sent), best first, and how many candidates were scored."""
        view = self._view
        index = self._ready(view)
        query = index.prepare(track)
        rows = index.candidate_rows(query)
        if fingerprint is not None:  # the recordings the audio matches, whatever their metadata says
            matching = [view.row_of[t] for t in self._audio.matching_ids(fingerprint) if t in view.row_of]
            rows = np.union1d(rows, np.array(matching, dtype=np.int64))
        audio = self._audio.evidence(self._ids(view, rows), fingerprint)
        matches = index.score(query, rows, audio, limit=limit, min_probability=min_confidence)
        return self._ranked(view, matches), len(rows)

    def find_unsaved_many(self, tracks: pa.Table, limits: list[int], min_confidences: list[float]
                          ) -> list[tuple[list[tuple[str, Match]], int]]:
        """:meth:`find_unsaved` for several validated tracks without audio, in one vectorized pass."""
        view = self._view
        index = self._ready(view)
        found = index.find_many(index.prepare(tracks), limits, min_confidences)
        return [(self._ranked(view, matches), scored) for matches, scored in found]

    def _refuse_if_unsaved_only(self, what: str) -> None:
        if self.unsaved_only:
            raise RuntimeError(f"{what} needs the server's catalog: this copy answers unsaved tracks only")

    def _ready(self, view: _View) -> TrackIndex:
        if view.index is None:
            raise NotReadyError("the catalog holds fewer than two tracks: nothing to match against yet")
        return view.index

    def _ranked(self, view: _View, matches: list[Match]) -> list[tuple[str, Match]]:
        ids = self._ids(view, np.array([m.row for m in matches], dtype=np.int64))
        return list(zip(ids, matches, strict=True))

    @staticmethod
    def _ids(view: _View, rows: np.ndarray) -> list[str]:
        """The track ids of snapshot ``rows``."""
        return view.tracks["track_id"].take(pa.array(rows, pa.int64())).to_pylist() if len(rows) else []

    # --- resolution ---------------------------------------------------------------------------------------
    def resolve(self, *, full: bool) -> ResolveStats:
        """Resolve the catalog: incremental (the tracks new records can affect, with the trained model) unless
        ``full`` or nothing was resolved yet; then retrain and regroup everything, artists included."""
        self._refuse_if_unsaved_only("a resolution")
        started = time.perf_counter()
        with self._resolving:  # one resolution at a time; look-ups and refreshes go on meanwhile
            view = self.refresh()
            if view.tracks.num_rows < 2:
                raise NotReadyError("the catalog holds fewer than two tracks: nothing to resolve")
            resolved = int(self.store.get_meta("resolved_version") or 0)
            new_rows = np.flatnonzero(view.versions > resolved)
            incremental = not full and resolved > 0
            stats = self._resolve_increment(view, new_rows) if incremental else self._resolve_full(view)
            self.store.set_meta("resolved_version", str(int(view.versions.max(initial=0))))
        return ResolveStats(stats[0], stats[1], stats[2], self.store.open_proposal_count(),
                            round(time.perf_counter() - started, 3))

    def _resolve_full(self, view: _View) -> tuple[bool, int, int]:
        artists = self.store.artists()
        has_artists = artists.num_rows > 0
        result = self._run_full(FullResolutionInput(
            view.tracks, artists if has_artists else None, self.store.engagement() if has_artists else None,
            self.decisions("track"), self.decisions("artist"), self.config))
        with self._lock:  # the new model and its index, with every change stored since ``view`` applied
            target = self._wanted
            self._model = self._save_model(result.model)
            self.model_generation += 1
            self._publish(self._advanced(_View(view.tracks, view.versions, view.row_of, result.index)), target)
        changed = self.store.replace_proposals(result.track_proposals, None, "track")
        if result.artist_proposals is not None and result.artist_pairs is not None:
            changed += self.store.replace_proposals(result.artist_proposals, None, "artist")
            self.store.replace_artist_pairs(result.artist_pairs)
        return False, view.tracks.num_rows, changed

    def _resolve_increment(self, view: _View, new_rows: np.ndarray) -> tuple[bool, int, int]:
        if len(new_rows) == 0:
            return True, 0, 0
        index = self._ready(view)
        touched = set(new_rows.tolist())
        floor = self.config.scoring.pair_output_threshold
        for row in new_rows.tolist():  # what a new track can change: its plausible duplicates and their groups
            touched.update(m.row for m in index.stored_matches(row, min_probability=floor))
        ids = view.tracks["track_id"]
        touched_ids = {ids[row].as_py() for row in touched}
        for proposal in self.store.proposals_with_members("track", touched_ids, (OPEN, ACCEPTED)):
            touched_ids.update(proposal.member_ids)
        rows = np.array(sorted(view.row_of[t] for t in touched_ids if t in view.row_of), dtype=np.int64)
        subset = view.tracks.take(pa.array(rows))
        result = regroup(subset, index.features.take(rows), model=index.model, statistics=index.statistics,
                         repair_context=index.repair_context,
                         config=self.config,
                         decisions=self.decisions("track"))
        changed = self.store.replace_proposals(result.proposals, touched_ids, "track")
        return True, len(rows), changed


def _max_version(view: _View) -> int:
    return int(view.versions.max(initial=0))


def _merge(old: _View, changed: pa.Table, versions: np.ndarray) -> tuple[pa.Table, np.ndarray, dict[str, int]]:
    """The old snapshot's tracks with ``changed`` applied: updated ids in place, new ids appended (the
    store's order)."""
    if changed.num_rows == 0:
        return old.tracks, old.versions, old.row_of
    if old.tracks.num_rows == 0:
        ids = changed["track_id"].to_pylist()
        return changed, versions, {track_id: row for row, track_id in enumerate(ids)}
    row_of = dict(old.row_of)
    take = np.arange(old.tracks.num_rows, dtype=np.int64)
    merged_versions = old.versions.copy()
    appended: list[int] = []
    appended_versions: list[int] = []
    for k, track_id in enumerate(changed["track_id"].to_pylist()):
        row = row_of.get(track_id)
        if row is None:
            row_of[track_id] = len(take) + len(appended)
            appended.append(k)
            appended_versions.append(versions[k])
        else:
            take[row] = old.tracks.num_rows + k
            merged_versions[row] = versions[k]
    combined = pa.concat_tables([old.tracks, changed])
    order = np.concatenate([take, old.tracks.num_rows + np.array(appended, dtype=np.int64)])
    return (combined.take(pa.array(order)), np.concatenate([merged_versions, np.array(appended_versions, np.int64)]),
            row_of)
