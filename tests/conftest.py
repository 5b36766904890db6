"""Shared fixtures: one small seeded synthetic catalog, resolved once per test session."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from catalog_er.resolver.pipeline import resolve_tracks
from catalog_er.resolver.synthetic import SyntheticCatalog, generate_catalog
from catalog_er.resolver.tracks import ResolveResult

SMALL_CATALOG_TRACKS = 4_000


@pytest.fixture(scope="session")
def small_catalog() -> SyntheticCatalog:
    """A 4k-track synthetic catalog (seed 2024) with ground truth."""
    return generate_catalog(n_tracks=SMALL_CATALOG_TRACKS, seed=2024)


@pytest.fixture(scope="session")
def small_result(small_catalog: SyntheticCatalog) -> ResolveResult:
    """``resolve_tracks`` on the small catalog with default settings."""
    return resolve_tracks(small_catalog.tracks)


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory, small_catalog: SyntheticCatalog) -> Path:
    """The small catalog written as Parquet files, as ``catalog-er synth`` would."""
    directory = tmp_path_factory.mktemp("catalog")
    for name in ("tracks", "artists", "engagement", "truth_tracks", "truth_artists"):
        pq.write_table(getattr(small_catalog, name), directory / f"{name}.parquet")
    return directory
