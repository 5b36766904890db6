"""Fingerprints of the audio files a catalog dump points at, with an on-disk cache (the edge: file I/O).

``audio_path`` is relative to the folder of the Parquet file that names it, or absolute. A file that cannot
be used (missing, corrupt, silent …) is reported as a rejected ``audio_path`` field, and the track resolves
on its metadata alone. Fingerprints are cached as ``.npz`` files keyed by the file's absolute path, size,
modification time and the fingerprint format version, so a re-run decodes nothing that did not change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalog_er.fingerprint.audio import InvalidAudioError, decode
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples
from catalog_er.resolver.records import REJECTED_SCHEMA
from catalog_er.service.errors import path_problem, shown

FINGERPRINT_FORMAT_VERSION = 1
"""Bump when landmark hashing changes: cached fingerprints of another version are ignored."""


def audio_file(tracks_file: Path, audio_path: str) -> Path:
    """Where a dump's ``audio_path`` points: itself when absolute, else relative to the dump's folder."""
    path = Path(audio_path)
    return path if path.is_absolute() else tracks_file.parent / path


def fingerprint_file(source: str | Path | bytes) -> Fingerprint:
    """Decode ``source`` (path or bytes) and fingerprint it; raises ``InvalidAudioError``."""
    return fingerprint_samples(decode(source))


class FingerprintCache:
    """Fingerprints stored as ``.npz`` files under ``directory`` (created on first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _key(self, path: Path) -> Path:
        stat = path.stat()
        identity = f"{path.resolve()}\x1f{stat.st_size}\x1f{stat.st_mtime_ns}\x1f{FINGERPRINT_FORMAT_VERSION}"
        return self.directory / f"{hashlib.sha1(identity.encode()).hexdigest()}.npz"

    def load(self, path: Path) -> Fingerprint | None:
        """The cached fingerprint of ``path`` if the file is unchanged since it was stored."""
        key = self._key(path)
        if not key.is_file():
            return None
        with np.load(key) as stored:
            return Fingerprint(stored["hashes"], stored["frames"], float(stored["seconds"]),
                               int(stored["peak_count"]))

    def store(self, path: Path, fingerprint: Fingerprint) -> None:
        """Cache ``fingerprint`` for ``path`` (written atomically)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        key = self._key(path)
        partial = key.with_suffix(".partial.npz")
        np.savez(partial, hashes=fingerprint.hashes, frames=fingerprint.frames,
                 seconds=fingerprint.seconds, peak_count=fingerprint.peak_count)
        partial.replace(key)


@dataclass(frozen=True)
class TrackAudio:
    """Fingerprints of the tracks whose audio could be used: ``rows`` ``(k,)`` int64 row numbers in the
    tracks table, ``fingerprints`` aligned with them; ``rejected`` lists the unusable files
    (``REJECTED_SCHEMA``); ``decoded``/``cached`` count where fingerprints came from."""

    rows: np.ndarray
    fingerprints: list[Fingerprint]
    rejected: pa.Table
    decoded: int
    cached: int

    def by_row(self, n_tracks: int) -> list[Fingerprint | None]:
        """The fingerprint of each of ``n_tracks`` rows, None where the track has no usable audio."""
        prints: list[Fingerprint | None] = [None] * n_tracks
        for row, fingerprint in zip(self.rows.tolist(), self.fingerprints, strict=True):
            prints[row] = fingerprint
        return prints


def fingerprint_tracks(tracks: pa.Table, *, tracks_file: Path, cache: FingerprintCache | None,
                       on_track: Callable[[], None] | None = None) -> TrackAudio:
    """Fingerprint every track with an ``audio_path`` (see the module docstring)."""
    rows, fingerprints, problems = [], [], []
    decoded = cached = 0
    ids = tracks["track_id"].to_pylist()
    for row, audio_path in enumerate(tracks["audio_path"].to_pylist()):
        if audio_path is None:
            continue
        path = audio_file(tracks_file, audio_path)
        try:
            problem = path_problem(str(path))
            if problem is not None:  # checked first: the file system would raise, not refuse
                raise InvalidAudioError("missing", f"not a usable path: {problem}", source=shown(audio_path))
            fingerprint = cache.load(path) if cache is not None and path.is_file() else None
            if fingerprint is None:
                fingerprint = fingerprint_file(path)
                decoded += 1
                if cache is not None:
                    cache.store(path, fingerprint)
            else:
                cached += 1
        except InvalidAudioError as error:
            problems.append({"file": str(tracks_file), "row": None, "id": ids[row], "field": "audio_path",
                             "reason": f"{shown(audio_path)}: {error}", "action": "field nulled"})
        else:
            rows.append(row)
            fingerprints.append(fingerprint)
        if on_track is not None:
            on_track()
    rejected = pa.Table.from_pylist(problems, schema=REJECTED_SCHEMA)
    return TrackAudio(np.array(rows, dtype=np.int64), fingerprints, rejected, decoded, cached)
