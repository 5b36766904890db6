"""``catalog-er synth``: write a seeded synthetic catalog with its ground truth as Parquet files.

``out/`` receives ``tracks``, ``artists``, ``engagement``, ``truth_tracks`` and ``truth_artists`` (``.parquet``)
and, with audio, the audio files under ``out/audio/`` (see ``service.synth_audio``). With ``sources`` >= 1 the
tracks are the multi-source messy version (``resolver.synthetic.sources``) and ``truth_habits.parquet`` says
which habit changed which delivery. ``tracks_format="csv"`` writes ``tracks.csv`` instead of
``tracks.parquet``: a header row, text cells, empty for null, list cells joined with ``";"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from tqdm import tqdm

from catalog_er.resolver.synthetic import generate_catalog
from catalog_er.resolver.synthetic.profiles import SourceProfile
from catalog_er.resolver.synthetic.sources import multi_source_catalog
from catalog_er.service.errors import OutputFileError
from catalog_er.service.io.parquet import write_table
from catalog_er.service.synth_audio import add_audio

TABLES = ("tracks", "artists", "engagement", "truth_tracks", "truth_artists")
"""The tables written, each to ``out/<name>.parquet``; a multi-source catalog adds ``truth_habits``."""
TRACK_FORMATS = ("parquet", "csv")
CSV_LIST_SEPARATOR = ";"
"""List cells (``artist_ids``) in a CSV file: the elements joined with this (what the readers split on)."""


def write_synthetic_catalog(out: Path, *, tracks: int, seed: int = 0, engagement_rows: int | None = None,
                            audio_recordings: int = 0, sources: int = 0, scraped_sources: int | None = None,
                            tracks_format: str = "parquet", show_progress: bool = True) -> None:
    """Generate ``tracks`` track rows (seeded; ``engagement_rows`` defaults to 5 per track), give about
    ``audio_recordings`` recordings audio files, deliver them through ``sources`` sources with their own habits
    (0: the clean catalog), ``scraped_sources`` of them scraped stores (None: the default rule), write every
    table into ``out/`` (tracks as ``tracks_format``) and print what was written (and each source's habits)."""
    if sources < 0:
        raise ValueError(f"sources must be >= 0, got {sources}")
    if scraped_sources is not None and not 0 <= scraped_sources <= sources:
        raise ValueError(f"scraped_sources must be between 0 and sources ({sources}), got {scraped_sources}")
    if tracks_format not in TRACK_FORMATS:
        raise ValueError(f"tracks_format must be one of {TRACK_FORMATS}, got {tracks_format!r}")
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
    tables = {name: getattr(catalog, name) for name in TABLES}
    profiles: tuple[SourceProfile, ...] = ()
    if sources:
        messy = multi_source_catalog(catalog, sources=sources, seed=seed, scraped_sources=scraped_sources)
        tables = {name: getattr(messy, name) for name in (*TABLES, "truth_habits")}
        profiles = messy.profiles
    for name, table in tables.items():
        if name == "tracks" and tracks_format == "csv":
            write_csv(table, out / "tracks.csv")
        else:
            write_table(table, out / f"{name}.parquet")
    source_note = f" from {sources} sources" if sources else ""
    print(f"wrote {tables['tracks'].num_rows:,} tracks{source_note}, {tables['artists'].num_rows:,} artists, "
          f"{tables['engagement'].num_rows:,} engagement rows and ground truth to {out}/ (seed {seed})"
          f"{audio_note}")
    for profile in profiles:
        print(f"  {profile.describe()}")


def write_csv(table: pa.Table, path: Path) -> None:
    """Write ``table`` as CSV with a header row: text cells (quoted), numbers as digits, null as an empty cell,
    list cells joined with :data:`CSV_LIST_SEPARATOR`. Written under a temporary name and renamed; raises
    ``OutputFileError`` naming the path when it cannot be written."""
    columns = [pc.binary_join(column, CSV_LIST_SEPARATOR) if pa.types.is_list(column.type) else column
               for column in table.columns]
    flat = pa.table(columns, names=table.column_names)
    partial = path.with_name(f".{path.name}.partial")
    try:
        pa_csv.write_csv(flat, partial)
        os.replace(partial, path)
    except (OSError, pa.ArrowException) as error:
        partial.unlink(missing_ok=True)
        raise OutputFileError(f"{path}: cannot write the output file ({error})", path=path) from error
