"""Fingerprint caches of the audio benchmark (``OUT/cache/*.npz``), keyed by the code that made them.

Rendering songs and distorting them costs far more than verifying, so the benchmark keeps what the
expensive half produced — fingerprints of the index fillers, and per recording the fingerprints of every
delivery (ours and fpcalc's) — and always re-runs the verdicts (``match.py``, ``index.py``, AcoustID's
comparison) live. A cache file's name carries a digest of every source its content depends on, taken once
at import (right after those modules were loaded), so a file made by other code is never reused and
tuning the match thresholds reuses everything.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np
from bench_audio_corpus import SONG_RATE_HZ, SONG_SECONDS

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ
from catalog_er.fingerprint.signature import Fingerprint

_PACKAGE = Path(__file__).resolve().parents[2] / "fingerprint"
_HERE = Path(__file__).resolve().parent


def _digest(paths: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def _fpcalc_version() -> str:
    if shutil.which("fpcalc") is None:
        return "none"
    return subprocess.run(["fpcalc", "-version"], capture_output=True, text=True, check=False).stdout.strip()


_FINGERPRINT_SOURCES = [_PACKAGE / "landmarks.py", _PACKAGE / "signature.py", *(_PACKAGE / "synthetic").glob("*.py")]
FILLER_DIGEST = _digest(_FINGERPRINT_SOURCES, f"filler/{SONG_SECONDS}/{ANALYSIS_RATE_HZ}")
"""What a filler fingerprint depends on: the songs and the fingerprint code."""
DELIVERY_DIGEST = _digest([*_FINGERPRINT_SOURCES, _PACKAGE / "audio.py", _HERE / "bench_audio_corpus.py"],
                          f"delivery/{SONG_SECONDS}/{SONG_RATE_HZ}/{_fpcalc_version()}")
"""…and a delivery's: also the decoder, the distortions' wiring and the fpcalc build."""
VERDICT_DIGEST = _digest([_PACKAGE / "match.py", _PACKAGE / "index.py"], "verdict")
"""The code judged live (not cached), recorded in the results so a figure can be traced to its code."""


def pack(fingerprints: list[Fingerprint], prefix: str = "") -> dict[str, np.ndarray]:
    """Fingerprints as five flat arrays (names prefixed with ``prefix``)."""
    return {
        f"{prefix}hashes": np.concatenate([f.hashes for f in fingerprints]) if fingerprints else np.empty(0, np.uint32),
        f"{prefix}frames": np.concatenate([f.frames for f in fingerprints]) if fingerprints else np.empty(0, np.int32),
        f"{prefix}counts": np.array([len(f.hashes) for f in fingerprints], np.int64),
        f"{prefix}seconds": np.array([f.seconds for f in fingerprints], np.float64),
        f"{prefix}peak_counts": np.array([f.peak_count for f in fingerprints], np.int64),
    }


def unpack(arrays: dict[str, np.ndarray], prefix: str = "") -> list[Fingerprint]:
    """Inverse of :func:`pack` (the fingerprints are views of one array per field)."""
    hashes, frames = arrays[f"{prefix}hashes"], arrays[f"{prefix}frames"]
    bounds = np.concatenate([[0], np.cumsum(arrays[f"{prefix}counts"])])
    return [Fingerprint(hashes[a:b], frames[a:b], float(s), int(p))
            for a, b, s, p in zip(bounds[:-1], bounds[1:], arrays[f"{prefix}seconds"],
                                  arrays[f"{prefix}peak_counts"], strict=True)]


def save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (a killed run leaves no half-written cache file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez(partial, **arrays)
    partial.rename(path)


def load(path: Path) -> dict[str, np.ndarray]:
    """Every array of a cache file, each read once (``NpzFile[...]`` re-reads the array on every access)."""
    with np.load(path) as data:
        return {name: data[name] for name in data.files}
