"""``catalog-er synth``: write a seeded synthetic catalog with its ground truth as Parquet files.

``out/`` receives ``tracks``, ``artists``, ``engagement``, ``truth_tracks`` and ``truth_artists`` (``.parquet``)
and, with audio, the audio files under ``out/audio/`` (see ``service.synth_audio``).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from catalog_er.resolver.synthetic import generate_catalog
from catalog_er.service.io.parquet import write_table
from catalog_er.service.synth_audio import add_audio

TABLES = ("tracks", "artists", "engagement", "truth_tracks", "truth_artists")
"""The tables written, each to ``out/<name>.parquet``."""


def write_synthetic_catalog(out: Path, *, tracks: int, seed: int = 0, engagement_rows: int | None = None,
                            audio_recordings: int = 0, show_progress: bool = True) -> None:
    """Generate ``tracks`` track rows (seeded; ``engagement_rows`` defaults to 5 per track), give about
    ``audio_recordings`` recordings audio files, write every table into ``out/`` and print one line about it."""
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=tracks, desc="synth", unit="track", disable=not show_progress) as bar:
        catalog = generate_catalog(n_tracks=tracks, seed=seed, engagement_rows=engagement_rows, progress=bar.update)
    audio_note = ""
    if audio_recordings:
        with tqdm(desc="audio", unit="file", disable=not show_progress) as bar:
            with_audio = add_audio(catalog, out=out, recordings=audio_recordings, seed=seed, on_file=bar.update)
        catalog = with_audio.catalog
        audio_note = (f", {with_audio.files_written:,} audio files for {with_audio.recordings_with_audio:,} "
                      f"recordings under {out / 'audio'}/")
    for name in TABLES:
        write_table(getattr(catalog, name), out / f"{name}.parquet")
    print(f"wrote {catalog.tracks.num_rows:,} tracks, {catalog.artists.num_rows:,} artists, "
          f"{catalog.engagement.num_rows:,} engagement rows and ground truth to {out}/ (seed {seed})"
          f"{audio_note}")
