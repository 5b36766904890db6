"""The audio benchmark's material: seeded songs, their distorted deliveries and their hard negatives.

A thin adapter over :mod:`fingerprint.synthetic` (songs, distortions, encoders) and :mod:`fingerprint.audio`
(the real decode path), so the measuring code never depends on their argument spellings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catalog_er.fingerprint import synthetic
from catalog_er.fingerprint.audio import decode
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples
from catalog_er.fingerprint.synthetic.negatives import reverse, shuffle_segments
from catalog_er.fingerprint.synthetic.score import default_key_and_tempo

SONG_RATE_HZ = 44100
SONG_SECONDS = 30.0
"""Recordings are 30 s excerpts at CD rate: long enough for every distortion (10 s trims leave 20 s)."""

Distortion = Callable[[np.ndarray, int, int], tuple[bytes | np.ndarray, int]]


def song_seed(seed: int, number: int) -> int:
    """The song seed of recording ``number`` in a benchmark run seeded ``seed`` (distinct per number)."""
    return (seed * 1_000_003 + number) % (2**31)


def distortions() -> dict[str, Distortion]:
    """Distortion name → callable ``(samples, rate_hz, seed) -> (bytes or samples, rate_hz)``."""
    return dict(synthetic.DISTORTIONS)


def render(seed: int, *, seconds: float = SONG_SECONDS, rate_hz: int = SONG_RATE_HZ,
           **variation: int | float) -> np.ndarray:
    """Mono float32 song ``seed`` (``variation``: timbre, key, tempo_bpm, performance_seed)."""
    return np.asarray(synthetic.render_song(seed=seed, seconds=seconds, rate_hz=rate_hz, **variation), np.float32)


def wav_bytes(samples: np.ndarray, rate_hz: int) -> bytes:
    """Samples (mono ``(n,)`` or ``(n, channels)``) as the bytes of a 16-bit WAV file."""
    return synthetic.encode(samples, rate_hz=rate_hz, format="wav")


def mp3_bytes(samples: np.ndarray, rate_hz: int, *, bitrate_kbps: int = 128) -> bytes:
    """Samples as the bytes of an MP3 file at ``bitrate_kbps``."""
    return synthetic.encode(samples, rate_hz=rate_hz, format="mp3", bitrate_kbps=bitrate_kbps)


def delivery_bytes(delivered: bytes | np.ndarray, rate_hz: int) -> bytes:
    """What a distortion returned, as a file: encoded bytes as they are, samples as a WAV."""
    if isinstance(delivered, bytes | bytearray):
        return bytes(delivered)
    return wav_bytes(np.asarray(delivered, np.float32), rate_hz)


def fingerprint_delivery(data: bytes) -> Fingerprint:
    """Decode a delivered file's bytes (the real path) and fingerprint it."""
    return fingerprint_samples(decode(data))


def file_suffix(data: bytes) -> str:
    """A file name suffix for encoded bytes (fpcalc probes the content; the suffix is only for people)."""
    if data[:4] == b"RIFF":
        return ".wav"
    if data[:4] == b"OggS":
        return ".opus" if b"OpusHead" in data[:100] else ".ogg"
    if data[:4] == b"fLaC":
        return ".flac"
    return ".mp3"


@dataclass(frozen=True)
class HardNegative:
    """A recording that must *not* match the original: its kind and its samples (44.1 kHz mono)."""

    kind: str
    samples: np.ndarray


HARD_NEGATIVE_KINDS = ("live_rerender", "cover", "same_key_and_tempo", "reversed", "shuffled")


def original_variation(seed: int) -> dict[str, int | float]:
    """Key and tempo song ``seed`` plays in by default (what a same-key-and-tempo negative copies)."""
    key, tempo_bpm = default_key_and_tempo(seed)
    return {"key": key, "tempo_bpm": tempo_bpm}


def hard_negatives(seed: int, other_seed: int) -> list[HardNegative]:
    """A live re-render, a cover (other band *and* other performance), another song in the same key+tempo, and
    the original itself played backwards and cut in 2–5 s pieces shuffled (``fingerprint.synthetic.negatives``)."""
    same = original_variation(seed)
    original = render(seed)
    return [
        HardNegative("live_rerender", render(seed, performance_seed=1)),
        HardNegative("cover", render(seed, timbre=synthetic.default_timbre(seed) + 1, performance_seed=2)),
        HardNegative("same_key_and_tempo", render(other_seed, **same)),
        HardNegative("reversed", reverse(original)),
        HardNegative("shuffled", shuffle_segments(original, rate_hz=SONG_RATE_HZ, seed=seed)),
    ]
