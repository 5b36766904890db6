"""Other recordings of the same song (``versions.parquet``): what a curator needs to group a work.

A live take, a cover or a re-recording is never merged with the studio cut (their audio does not align: the
``audio`` comparison vetoes the pair), yet a curator grouping a work wants to see them. After a batch run, the
candidate pairs whose two tracks carry usable audio that does **not** align and whose core titles agree
(:data:`MIN_TITLE_SIMILARITY`: version tags are already stripped from the core) are compared on what they play
— beat-synchronous, key-invariant chroma (:mod:`fingerprint.work`, librosa) — and those playing the same song are
listed with their ``work_similarity``. Only the files of such pairs are decoded again; a file that cannot be
decoded now is left out (it was usable when fingerprinted a moment ago, so that is rare, and it is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa

from catalog_er.fingerprint.audio import InvalidAudioError, decode
from catalog_er.resolver.audio_evidence import AUDIO_LEVELS
from catalog_er.resolver.tracks import ScoredTracks
from catalog_er.service.audio_files import audio_file

log = logging.getLogger(__name__)

VERSION_SCHEMA = pa.schema([
    pa.field("left_id", pa.string(), nullable=False),
    pa.field("right_id", pa.string(), nullable=False),
    pa.field("work_similarity", pa.float32(), nullable=False),
])
"""``versions.parquet``: two tracks that are other recordings of the same song; ``work_similarity`` in [0, 1]
(:func:`fingerprint.work.same_work_score`, at least :data:`fingerprint.work.SAME_WORK_THRESHOLD`)."""
MIN_TITLE_SIMILARITY = 0.85
"""Core-title similarity from which a non-aligning pair is asked whether it plays the same song (a cover keeps
the title; unrelated songs that share a title are then told apart by what they play)."""
_NO_ALIGNMENT = AUDIO_LEVELS.index("no alignment")


def other_recordings(scored: ScoredTracks, *, tracks_file: Path,
                     on_file: Callable[[], None] | None = None) -> pa.Table:
    """Pairs of ``scored``'s candidates that are other recordings of one song (:data:`VERSION_SCHEMA`), sorted by
    ``work_similarity``, best first; ``tracks_file``: the dump that names the audio files (relative paths)."""
    from catalog_er.fingerprint.work import is_same_work, same_work_score, work_profile  # librosa: lazily

    left, right = _asked_pairs(scored)
    paths = scored.tracks["audio_path"].to_pylist()
    profiles = {}
    for row in np.unique(np.concatenate([left, right])).tolist():
        try:
            profiles[row] = work_profile(decode(audio_file(tracks_file, paths[row])))
        except InvalidAudioError as error:
            log.warning("versions: %s left out: %s", paths[row], error)
        if on_file is not None:
            on_file()
    ids = scored.features.track_id
    rows: dict[str, list] = {name: [] for name in VERSION_SCHEMA.names}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        first, second = profiles.get(a), profiles.get(b)
        if first is None or second is None or not (first.is_usable and second.is_usable):
            continue
        score = same_work_score(first, second)
        if is_same_work(score):
            rows["left_id"].append(str(ids[a]))
            rows["right_id"].append(str(ids[b]))
            rows["work_similarity"].append(score)
    table = pa.Table.from_pydict(rows, schema=VERSION_SCHEMA)
    return table.sort_by([("work_similarity", "descending"), ("left_id", "ascending"), ("right_id", "ascending")])


def files_to_decode(scored: ScoredTracks) -> int:
    """How many files :func:`other_recordings` will decode (for a progress bar)."""
    return int(np.unique(np.concatenate(_asked_pairs(scored))).size)


def _asked_pairs(scored: ScoredTracks) -> tuple[np.ndarray, np.ndarray]:
    """``(left, right)`` rows of the candidate pairs asked (see the module docstring)."""
    signals, candidates = scored.signals, scored.candidates
    asked = (signals.audio_match == _NO_ALIGNMENT) & (np.nan_to_num(signals.title_similarity) >= MIN_TITLE_SIMILARITY)
    return candidates.left[asked], candidates.right[asked]
