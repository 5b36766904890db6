"""``catalog-er resolve``: one batch run over catalog dumps, from input files to an output directory.

Reads and validates the dumps (bad rows go to the rejected report), fingerprints the audio files the tracks
name, calls :func:`resolver.pipeline.resolve_catalog`, and writes into ``out/``: ``proposals.parquet``,
``pairs.parquet``, ``candidates.parquet`` (when asked), ``rejected.parquet`` (when any row was rejected),
``versions.parquet`` (with audio: other recordings of one song, :mod:`service.work_versions`) and
``summary.json`` (counts, stage seconds, peak memory, blocking and model figures). A progress bar on stderr
follows the audio files and the stages; one line on stdout sums the run up.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
from tqdm import tqdm

from catalog_er.resolver.config import ResolverConfig
from catalog_er.resolver.pipeline import resolve_catalog
from catalog_er.service.audio_evidence import audio_evidence
from catalog_er.service.audio_files import FingerprintCache, fingerprint_tracks
from catalog_er.service.errors import EmptyInputError
from catalog_er.service.io.files import read_artists, read_engagement, read_tracks
from catalog_er.service.io.parquet import write_rejected, write_table
from catalog_er.service.work_versions import files_to_decode, other_recordings

log = logging.getLogger("catalog_er")

RESOLVE_STAGES = ("repair", "normalize", "blocking", "compare", "train", "score", "cluster", "propose")
"""The track stages ``resolve_catalog`` reports, in order (the progress bar's steps)."""
ARTIST_STAGES = ("artist features", "artist pairs", "artist model", "artist graph", "score (with artists)",
                 "cluster (with artists)", "propose (with artists)")
"""The further stages of a run with artists."""


def peak_memory_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_batch(tracks_path: str | Path, *, out: Path, artists_path: str | Path | None = None,
              engagement_path: str | Path | None = None, config: ResolverConfig | None = None,
              keep_candidates: bool = False, use_audio: bool = True, fingerprint_cache: bool = True,
              show_progress: bool = True) -> dict[str, Any]:
    """Resolve the dumps at ``tracks_path`` (and ``artists_path``, ``engagement_path``) into ``out/``.

    Paths are reported as given (the rejected report's ``file`` column, ``summary.json``'s inputs).
    ``use_audio``: fingerprint the files named in ``audio_path`` (relative paths are relative to the tracks
    file's directory); ``fingerprint_cache``: reuse ``out/fingerprint-cache/``. Returns the summary also written
    to ``summary.json`` and prints one line about the run. Raises ``CatalogInputError`` subclasses naming the
    file when an input cannot be used (``EmptyInputError`` when no track row is usable; the reasons are then in
    ``out/rejected.parquet``).
    """
    started = time.perf_counter()
    tracks = read_tracks(tracks_path)
    rejected = [tracks.rejected]
    out.mkdir(parents=True, exist_ok=True)
    (out / "rejected.parquet").unlink(missing_ok=True)  # never leave a stale report from an earlier run
    if tracks.table.num_rows == 0:
        write_rejected(rejected, out / "rejected.parquet")
        raise EmptyInputError(f"{tracks_path}: no usable track rows ({tracks.rejected.num_rows:,} rejected; "
                              f"reasons in {out / 'rejected.parquet'})", path=tracks_path)
    inputs = {"tracks": str(tracks_path)}
    artists: pa.Table | None = None
    engagement: pa.Table | None = None
    if artists_path:
        loaded = read_artists(artists_path)
        rejected.append(loaded.rejected)
        artists = loaded.table
        inputs["artists"] = str(artists_path)
    if engagement_path:
        loaded = read_engagement(engagement_path, known_track_ids=tracks.table["track_id"])
        rejected.append(loaded.rejected)
        engagement = loaded.table
        inputs["engagement"] = str(engagement_path)
    audio = None
    with_audio = tracks.table["audio_path"].null_count < tracks.table.num_rows
    if with_audio and use_audio:
        cache = FingerprintCache(out / "fingerprint-cache") if fingerprint_cache else None
        n_audio = tracks.table.num_rows - tracks.table["audio_path"].null_count
        with tqdm(total=n_audio, desc="fingerprint", unit="file", disable=not show_progress) as bar:
            track_audio = fingerprint_tracks(tracks.table, tracks_file=Path(tracks_path), cache=cache,
                                             on_track=bar.update)
        rejected.append(track_audio.rejected)
        audio = audio_evidence(track_audio.by_row(tracks.table.num_rows), find_candidates=True)
        log.info("fingerprints: %d decoded, %d from cache, %d unusable", track_audio.decoded,
                 track_audio.cached, track_audio.rejected.num_rows)
    stages = RESOLVE_STAGES + (ARTIST_STAGES if artists is not None else ())
    with tqdm(total=len(stages), desc="resolve", unit="stage", disable=not show_progress) as bar:
        def on_stage(name: str) -> None:
            bar.set_postfix_str(name)
            if bar.n < bar.total and name != stages[0]:
                bar.update(1)

        result = resolve_catalog(tracks.table, artists, engagement, config=config, on_stage=on_stage, audio=audio,
                                 keep_scored=audio is not None)
        bar.update(bar.total - bar.n)
    versions_file = out / "versions.parquet"
    versions_file.unlink(missing_ok=True)
    if result.scored is not None:
        with tqdm(total=files_to_decode(result.scored), desc="versions", unit="file",
                  disable=not show_progress) as bar:
            versions = other_recordings(result.scored, tracks_file=Path(tracks_path), on_file=bar.update)
        write_table(versions, versions_file)
        result.tracks.counts["version_pairs"] = versions.num_rows
    write_table(result.proposals(), out / "proposals.parquet")
    write_table(result.pairs(), out / "pairs.parquet")
    candidates_file = out / "candidates.parquet"
    candidates_file.unlink(missing_ok=True)
    if keep_candidates:
        write_table(result.candidates(), candidates_file)
    rejected_count = write_rejected(rejected, out / "rejected.parquet")
    counts = {**result.tracks.counts, **(result.artists.counts if result.artists else {}),
              "rejected_rows": rejected_count}
    total_seconds = round(time.perf_counter() - started, 3)
    summary = {
        "inputs": inputs,
        "counts": counts,
        "stage_seconds": result.stage_seconds,
        "total_seconds": total_seconds,
        "peak_memory_bytes": peak_memory_bytes(),
        "blocking": {**result.tracks.blocking,
                     **({"artist_pairs_by_blocker": result.artists.blocking} if result.artists else {})},
        "repairs": result.tracks.repairs,
        "model": result.tracks.model.describe(),
        **({"artist_model": result.artists.model.describe()} if result.artists else {}),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(_headline(counts, seconds=total_seconds, out=out, with_artists=result.artists is not None))
    return summary


def _headline(counts: dict[str, int], *, seconds: float, out: Path, with_artists: bool) -> str:
    """The one line a run prints: rows in, candidate pairs, proposals, input problems, time, where the outputs are."""
    artist_note = ""
    if with_artists:
        artist_note = (f"; {counts['artists']:,} artists → {counts['artist_candidate_pairs']:,} candidate pairs → "
                       f"{counts['artist_proposals']:,} artist merge proposals covering "
                       f"{counts['artists_in_proposals']:,} artist ids")
    return (f"{counts['tracks']:,} tracks → {counts['candidate_pairs']:,} candidate pairs → "
            f"{counts['proposals']:,} merge proposals covering {counts['tracks_in_proposals']:,} tracks"
            f"{artist_note} ({counts['rejected_rows']:,} input problems reported) in {seconds:.1f} s; "
            f"outputs in {out}/")
