"""``catalog-er synth --audio K``: give K recordings of a synthetic catalog real (synthetic) audio files.

Each chosen recording is a seeded song (``fingerprint.synthetic.render_song``); its deliveries are that
song passed through the benchmark's distortions (re-encodes, gain, noise, trims, resampling, speed and
tempo changes), written under ``audio/`` and named in ``audio_path``. Derived recordings of a chosen song
get their own takes: a live version or any other version is a new performance of the same composition, a
cover a new performance by another band. Two metadata traps that only audio can settle:

* some deliveries of a chosen recording lose their metadata ("Track 07" by "Various Artists", no ISRC);
* one delivery of each chosen live recording is labelled exactly like the studio original;
* a few single-delivery recordings become a chosen original played backwards or cut into 2–5 s pieces and
  shuffled (``fingerprint.synthetic.negatives``), carrying that original's exact metadata, ISRC included: every
  frame of the original is in them, and they are other recordings (their ground truth keeps them apart).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalog_er.fingerprint.synthetic import render_song
from catalog_er.fingerprint.synthetic.distort import DISTORTIONS, encode
from catalog_er.fingerprint.synthetic.negatives import reverse, shuffle_segments
from catalog_er.resolver.synthetic import SyntheticCatalog

SONG_SECONDS = 30.0
RATE_HZ = 44100
STRIPPED_METADATA_SHARE = 0.25
"""Share of non-first deliveries of a chosen recording whose metadata is replaced by placeholders."""
RECUT_TRAP_SHARE = 8
"""One chosen recording in this many gets a reversed or shuffled copy under its exact metadata."""
_RECUTS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "reversed": lambda song, seed: reverse(song),
    "shuffled": lambda song, seed: shuffle_segments(song, rate_hz=RATE_HZ, seed=seed),
}
_EXTENSIONS = {"mp3": ".mp3", "opus": ".opus", "vorbis": ".ogg"}


@dataclass(frozen=True)
class AudioCatalog:
    """The catalog with ``audio_path`` filled for the tracks that got audio, and how many files were written."""

    catalog: SyntheticCatalog
    files_written: int
    recordings_with_audio: int


def _song_seed(recording_id: str) -> int:
    return int(hashlib.sha1(recording_id.encode()).hexdigest()[:8], 16)


@dataclass(frozen=True)
class _Take:
    """How to render one recording: the composition (song seed), the band and the performance."""

    song_seed: int
    timbre: int | None = None
    performance_seed: int | None = None
    imitates: str | None = None
    """For a trap: the original recording whose first delivery's metadata one delivery copies."""
    recut: str | None = None
    """For a re-cut trap: how the original's audio is re-cut (a key of ``_RECUTS``); its metadata is copied whole."""


def _choose_takes(truth: pa.Table, k: int, rng: np.random.Generator) -> dict[str, _Take]:
    """recording id → take, for about ``k`` recordings: originals with two or more deliveries, plus (a
    quarter as many) derived recordings re-cast as live takes or covers of a chosen original."""
    rows = truth.to_pylist()
    deliveries: dict[str, int] = {}
    kind_of: dict[str, str] = {}
    for row in rows:
        deliveries[row["recording_id"]] = deliveries.get(row["recording_id"], 0) + 1
        kind_of[row["recording_id"]] = row["kind"] if row["kind"] not in _DELIVERY_KINDS else "original"
    originals = sorted(r for r in deliveries if kind_of[r] == "original" and deliveries[r] >= 2)
    derived = sorted(r for r in deliveries if kind_of[r] in ("live", "cover"))
    rng.shuffle(originals)
    rng.shuffle(derived)
    n_derived = min(len(derived), k // 4)
    takes = {r: _Take(_song_seed(r)) for r in originals[: k - n_derived]}
    chosen_originals = list(takes)
    for i, recording_id in enumerate(derived[:n_derived]):
        original = chosen_originals[i % len(chosen_originals)] if chosen_originals else recording_id
        cover = kind_of[recording_id] == "cover"
        takes[recording_id] = _Take(_song_seed(original), timbre=int(rng.integers(2**31)) if cover else None,
                                    performance_seed=int(rng.integers(2**31)), imitates=original)
    singles = sorted(r for r in deliveries if kind_of[r] == "original" and deliveries[r] == 1)
    rng.shuffle(singles)
    for i, recording_id in enumerate(singles[: len(chosen_originals) // RECUT_TRAP_SHARE]):
        original = chosen_originals[i]
        takes[recording_id] = _Take(_song_seed(original), imitates=original, recut=sorted(_RECUTS)[i % len(_RECUTS)])
    return takes


_DELIVERY_KINDS = {"original", "album", "single", "compilation", "deluxe", "remaster", "distributor"}


def _write(path: Path, audio: np.ndarray | bytes, rate_hz: int) -> None:
    if isinstance(audio, bytes):
        path.write_bytes(audio)
    else:
        path.write_bytes(encode(np.asarray(audio, dtype=np.float32), rate_hz=rate_hz, format="flac"))


def _extension(distortion: str, audio: np.ndarray | bytes) -> str:
    if not isinstance(audio, bytes):
        return ".flac"
    return next((ext for key, ext in _EXTENSIONS.items() if distortion.startswith(key)), ".bin")


def add_audio(catalog: SyntheticCatalog, *, out: Path, recordings: int, seed: int,
              on_file: Callable[[], None] | None = None) -> AudioCatalog:
    """Render audio for about ``recordings`` recordings of ``catalog`` into ``out/audio`` (see module doc)."""
    if recordings < 0:
        raise ValueError(f"recordings must be >= 0, got {recordings}")
    rng = np.random.default_rng([seed, 0xA0D10])
    truth = catalog.truth_tracks
    takes = _choose_takes(truth, recordings, rng)
    tracks = catalog.tracks.to_pylist()
    row_of = {row["track_id"]: i for i, row in enumerate(tracks)}
    by_recording: dict[str, list[str]] = {}
    for row in truth.to_pylist():
        by_recording.setdefault(row["recording_id"], []).append(row["track_id"])
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    distortion_names = list(DISTORTIONS)
    written = 0
    for recording_id in sorted(takes):
        take = takes[recording_id]
        song = render_song(seed=take.song_seed, seconds=SONG_SECONDS, rate_hz=RATE_HZ, timbre=take.timbre,
                           performance_seed=take.performance_seed)
        members = sorted(by_recording[recording_id])
        if take.recut is not None:  # the original's audio re-cut, under the original's metadata
            assert take.imitates is not None
            song = _RECUTS[take.recut](song, int(rng.integers(2**31)))
            models = [tracks[row_of[member]] for member in sorted(by_recording[take.imitates])]
            model = next((row for row in models if row["isrc"] is not None), models[0])  # with its ISRC if any
            tracks[row_of[members[0]]].update({k: v for k, v in model.items() if k not in ("track_id", "audio_path")})
        elif take.imitates is not None:  # labelled exactly like the studio original
            model = tracks[row_of[sorted(by_recording[take.imitates])[0]]]
            tracks[row_of[members[0]]].update(title=model["title"], artist=model["artist"],
                                              artist_ids=model["artist_ids"], isrc=None)
        audio: np.ndarray | bytes
        for position, track_id in enumerate(members):
            if position == 0:
                audio, rate, name = song, RATE_HZ, "original"
            else:
                name = distortion_names[int(rng.integers(len(distortion_names)))]
                audio, rate = DISTORTIONS[name](song, RATE_HZ, int(rng.integers(2**31)))
                if rng.random() < STRIPPED_METADATA_SHARE:
                    row = tracks[row_of[track_id]]
                    row.update(title=f"Track {int(rng.integers(1, 20)):02d}", artist="Various Artists",
                               artist_ids=None, isrc=None, album="Various Artists Compilation")
            path = audio_dir / f"{track_id}{_extension(name, audio)}"
            _write(path, audio, rate)
            tracks[row_of[track_id]]["audio_path"] = str(path.relative_to(out))
            written += 1
            if on_file is not None:
                on_file()
    audio_tracks = pa.Table.from_pylist(tracks, schema=catalog.tracks.schema)
    return AudioCatalog(
        SyntheticCatalog(audio_tracks, catalog.artists, catalog.engagement, catalog.truth_tracks,
                         catalog.truth_artists),
        files_written=written,
        recordings_with_audio=len(takes),
    )
