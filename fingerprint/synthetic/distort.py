"""Distortions a delivery goes through between master and catalog, and the benchmark's table of them.

Each distortion is a small function over a float signal with keyword-only parameters, seeded where random.
:data:`DISTORTIONS` lists exactly what the fingerprint benchmark tests, as one data table.

Encoding (libsndfile 1.2.2 through soundfile), measured on this build:
- MP3: with ``bitrate_mode="CONSTANT"`` libsndfile maps ``compression_level`` linearly onto LAME's CBR
  bitrate — MPEG-1 (rate ≥ 32 kHz): ``kbps = 320 − 288·level``; MPEG-2 (16–32 kHz): ``160 − 152·level``;
  MPEG-2.5: ``64 − 56·level`` — so a target bitrate is exact. Measured (file size incl. headers) on a 30 s
  rendered song: 64 → 64.1, 96 → 96.2, 128 → 128.3 kbps at 44.1 kHz, 64 → 64.2, 128 → 128.4 at 22.05 kHz;
  the rate is the total for mono or stereo. ``level = 1.0`` is rejected, so the lowest rate is unreachable.
  Without ``bitrate_mode`` the level drives LAME's VBR quality instead (~125 kbps at level 0).
- Opus: ``compression_level`` maps linearly onto the target bitrate *per channel*,
  ``kbps_per_channel ≈ 256 − 250·level`` (6–256); ``bitrate_mode`` is rejected. Measured on a rendered song:
  mono 32 → 33.3, 64 → 65.3, 128 → 129.7 kbps; stereo doubles. ``bitrate_kbps`` here is the total, split
  over channels. Opus only runs at 48 kHz, so input is resampled to 48 kHz first.
- Vorbis is quality-based VBR (``quality = 1 − level``); there is no bitrate target, so ``ogg_vorbis``
  takes no ``bitrate_kbps``. libsndfile's default quality gives, on rendered songs at 44.1 kHz, ~67 kbps
  mono and ~88 kbps stereo (~40/50 kbps at 22.05 kHz).
- Writing OGG/Vorbis with one large ``sf.write`` has segfaulted libsndfile 1.2.2 on long signals; every
  format here is written in blocks of 4096 frames through ``sf.SoundFile`` (checked: every format and
  bitrate above, mono and stereo, 22.05/44.1/48 kHz, 5–300 s).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

import numpy as np
import soundfile as sf
import soxr

from catalog_er.fingerprint.synthetic.stretch import time_stretch

EncodeFormat = Literal["wav", "flac", "mp3", "ogg_vorbis", "ogg_opus"]
DistortionResult = tuple[np.ndarray | bytes, int]

OPUS_RATE_HZ: Final = 48000
_WRITE_BLOCK_FRAMES: Final = 4096
# format → (container, subtype)
_CONTAINERS: Final = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg_vorbis": ("OGG", "VORBIS"),
    "ogg_opus": ("OGG", "OPUS"),
}
_OPUS_KBPS_PER_CHANNEL: Final = (6, 256)
_MP3_RATES_HZ: Final = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})


def pink_noise(rng: np.random.Generator, n_samples: int) -> np.ndarray:
    """Unit-RMS pink (1/f power) noise, float64 ``(n_samples,)``, shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n_samples))
    bins = np.arange(spectrum.size, dtype=np.float64)
    bins[0] = 1.0
    spectrum /= np.sqrt(bins)
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n=n_samples)
    return noise / np.sqrt(np.mean(noise**2))


def add_noise(x: np.ndarray, *, snr_db: float, seed: int, color: Literal["white", "pink"] = "white") -> np.ndarray:
    """``x`` plus noise whose power is ``snr_db`` dB below the signal's (exactly, on the realised noise).

    Not clipped, so the SNR holds; :func:`encode` and :func:`change_gain` clip. Returns float32, ``x``'s shape.
    """
    x = _signal(x)
    if not math.isfinite(snr_db):
        raise ValueError(f"snr_db must be finite, got {snr_db!r}")
    if color not in ("white", "pink"):
        raise ValueError(f"color must be 'white' or 'pink', got {color!r}")
    rng = np.random.default_rng([seed, 0x4E4F])
    noise = rng.standard_normal(x.size) if color == "white" else pink_noise(rng, x.size)
    noise = noise.reshape(x.shape)
    signal_power = float(np.mean(x.astype(np.float64) ** 2))
    if signal_power == 0.0:
        raise ValueError("add_noise needs a signal with non-zero power to set an SNR against")
    noise *= math.sqrt(signal_power / 10 ** (snr_db / 10) / float(np.mean(noise**2)))
    return (x + noise).astype(np.float32)


def change_gain(x: np.ndarray, *, db: float) -> np.ndarray:
    """``x`` scaled by ``db`` decibels and clipped to [-1, 1]; float32."""
    if not math.isfinite(db):
        raise ValueError(f"db must be finite, got {db!r}")
    return np.clip(_signal(x) * np.float32(10 ** (db / 20)), -1.0, 1.0).astype(np.float32)


def trim(x: np.ndarray, *, rate_hz: int, start_seconds: float = 0.0, end_seconds: float = 0.0) -> np.ndarray:
    """``x`` without its first ``start_seconds`` and last ``end_seconds``; float32."""
    x = _signal(x)
    head, tail = _samples(start_seconds, rate_hz, "start_seconds"), _samples(end_seconds, rate_hz, "end_seconds")
    if head + tail >= x.shape[0]:
        raise ValueError(
            f"trimming {start_seconds} s + {end_seconds} s leaves nothing of {x.shape[0] / rate_hz:.2f} s of audio"
        )
    return x[head : x.shape[0] - tail].astype(np.float32)


def pad(
    x: np.ndarray,
    *,
    rate_hz: int,
    start_seconds: float = 0.0,
    end_seconds: float = 0.0,
    noise_dbfs: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """``x`` with ``start_seconds``/``end_seconds`` of silence, or of white noise at ``noise_dbfs`` RMS, added."""
    x = _signal(x)
    head, tail = _samples(start_seconds, rate_hz, "start_seconds"), _samples(end_seconds, rate_hz, "end_seconds")
    out = np.zeros((head + x.shape[0] + tail, *x.shape[1:]), dtype=np.float32)
    if noise_dbfs is not None:
        if not (math.isfinite(noise_dbfs) and noise_dbfs < 0):
            raise ValueError(f"noise_dbfs must be a negative number, got {noise_dbfs!r}")
        rng = np.random.default_rng([seed, 0x5041])
        out[:] = rng.standard_normal(out.shape) * 10 ** (noise_dbfs / 20)
    out[head : head + x.shape[0]] = x
    return out


def resample(x: np.ndarray, *, from_hz: float, to_hz: float) -> np.ndarray:
    """``x`` resampled from ``from_hz`` to ``to_hz`` (soxr "HQ"); float32, channels kept."""
    for name, value in (("from_hz", from_hz), ("to_hz", to_hz)):
        if not (math.isfinite(value) and 1000 <= value <= 384_000):
            raise ValueError(f"{name} must be in [1000, 384000] Hz, got {value!r}")
    x = _signal(x)
    if from_hz == to_hz:
        return x.astype(np.float32, copy=True)
    return soxr.resample(np.ascontiguousarray(x, dtype=np.float32), from_hz, to_hz, quality="HQ").astype(np.float32)


def to_stereo(x: np.ndarray, *, balance_db: float = 0.0) -> np.ndarray:
    """Mono ``(n,)`` → stereo ``(n, 2)``; the right channel ``balance_db`` dB louder than the left."""
    x = _signal(x)
    if x.ndim != 1:
        raise ValueError(f"to_stereo expects mono (n_samples,), got shape {x.shape}")
    right = np.float32(10 ** (balance_db / 40))
    return np.stack([x / right, x * right], axis=1).astype(np.float32)


def to_mono(x: np.ndarray) -> np.ndarray:
    """``(n, channels)`` → ``(n,)`` by averaging channels (what :func:`fingerprint.audio.decode` does)."""
    x = _signal(x)
    return (x.mean(axis=1) if x.ndim == 2 else x).astype(np.float32)


def change_speed(x: np.ndarray, *, factor: float) -> np.ndarray:
    """A pitched master: tempo and pitch both × ``factor`` (plain resampling); length ÷ ``factor``."""
    if not (math.isfinite(factor) and 0.25 <= factor <= 4.0):
        raise ValueError(f"factor must be in [0.25, 4], got {factor!r}")
    return resample(x, from_hz=factor * 48000.0, to_hz=48000.0)


def change_tempo(x: np.ndarray, *, rate_hz: int, factor: float) -> np.ndarray:
    """Tempo × ``factor`` with pitch kept (phase vocoder, ~46 ms window at any rate); length ÷ ``factor``."""
    x = _signal(x)
    if x.ndim != 1:
        raise ValueError(f"change_tempo expects mono (n_samples,), got shape {x.shape}")
    n_fft = 1 << max(8, round(math.log2(rate_hz * 0.046)))
    return time_stretch(x, factor=factor, n_fft=n_fft)


def encode(x: np.ndarray, *, rate_hz: int, format: EncodeFormat, bitrate_kbps: int | None = None) -> bytes:
    """Encode ``x`` (``(n,)`` or ``(n, channels)``, clipped to [-1, 1]) to the bytes of a file in ``format``.

    ``bitrate_kbps`` (total over channels) applies to ``mp3`` (CBR, default 128) and ``ogg_opus`` (default 64
    per channel; input resampled to 48 kHz); lossless formats and ``ogg_vorbis`` reject it.
    See the module docstring for how libsndfile maps it.
    """
    if format not in _CONTAINERS:
        raise ValueError(f"format must be one of {sorted(_CONTAINERS)}, got {format!r}")
    if format == "mp3" and rate_hz not in _MP3_RATES_HZ:
        raise ValueError(f"mp3 needs rate_hz in {sorted(_MP3_RATES_HZ)}, got {rate_hz!r}; resample first")
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, int) or not 1000 <= rate_hz <= 384_000:
        raise ValueError(f"rate_hz must be an int in [1000, 384000], got {rate_hz!r}")
    x = np.clip(_signal(x), -1.0, 1.0).astype(np.float32)
    level, mode = None, None
    if format == "mp3":
        level, mode = _mp3_level(128 if bitrate_kbps is None else bitrate_kbps, rate_hz), "CONSTANT"
    elif format == "ogg_opus":
        channels = 1 if x.ndim == 1 else x.shape[1]
        kbps = 64 * channels if bitrate_kbps is None else bitrate_kbps
        low, high = (bound * channels for bound in _OPUS_KBPS_PER_CHANNEL)
        if isinstance(kbps, bool) or not isinstance(kbps, int) or not low <= kbps <= high:
            raise ValueError(
                f"opus bitrate_kbps for {channels} channel(s) must be an int in [{low}, {high}], got {kbps!r}"
            )
        level = (256 - kbps / channels) / 250
        if rate_hz != OPUS_RATE_HZ:
            x = resample(x, from_hz=rate_hz, to_hz=OPUS_RATE_HZ)
            rate_hz = OPUS_RATE_HZ
    elif bitrate_kbps is not None:
        raise ValueError(f"{format} takes no bitrate_kbps (got {bitrate_kbps!r})")
    container, subtype = _CONTAINERS[format]
    buffer = io.BytesIO()
    frames = x if x.ndim == 2 else x[:, None]
    with sf.SoundFile(
        buffer,
        mode="w",
        samplerate=int(rate_hz),
        channels=frames.shape[1],
        format=container,
        subtype=subtype,
        compression_level=level,
        bitrate_mode=mode,
    ) as handle:
        for start in range(0, frames.shape[0], _WRITE_BLOCK_FRAMES):  # one big write segfaults Vorbis
            handle.write(frames[start : start + _WRITE_BLOCK_FRAMES])
    return buffer.getvalue()


def _mp3_level(kbps: int, rate_hz: int) -> float:
    """libsndfile's CBR ``compression_level`` for ``kbps`` at ``rate_hz`` (see the module docstring)."""
    top, bottom = (320, 32) if rate_hz >= 32000 else (160, 8) if rate_hz >= 16000 else (64, 8)
    if not (isinstance(kbps, int) and bottom < kbps <= top):
        raise ValueError(f"mp3 bitrate_kbps at {rate_hz} Hz must be an int in ({bottom}, {top}], got {kbps!r}")
    return (top - kbps) / (top - bottom)


def _signal(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim not in (1, 2) or x.shape[0] == 0 or not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"expected a non-empty float (n_samples,) or (n_samples, channels) array, got {x.dtype} {x.shape}"
        )
    return x


def _samples(seconds: float, rate_hz: int, name: str) -> int:
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"{name} must be a non-negative number of seconds, got {seconds!r}")
    return round(seconds * rate_hz)


@dataclass(frozen=True)
class DistortionSpec:
    """One row of the benchmark's distortion table, callable as ``spec(x, rate_hz, seed)``.

    Attributes:
        name: the benchmark's label, e.g. ``"mp3_64"``.
        operation: the distortion function.
        params: its fixed keyword parameters.
        needs: which of ``"rate_hz"``, ``"from_hz"`` (both the input rate) and ``"seed"`` it also takes.
        out_rate_hz: the result's sample rate when it is not the input's (resampling, Opus).
    """

    name: str
    operation: Callable[..., np.ndarray | bytes]
    params: Mapping[str, object]
    needs: tuple[str, ...] = ()
    out_rate_hz: int | None = None

    def __call__(self, x: np.ndarray, rate_hz: int, seed: int) -> DistortionResult:
        """Apply to float ``x`` at ``rate_hz``; returns (float32 array or encoded bytes, its rate in Hz)."""
        context = {"rate_hz": rate_hz, "from_hz": rate_hz, "seed": seed}
        result = self.operation(x, **self.params, **{name: context[name] for name in self.needs})
        return result, self.out_rate_hz if self.out_rate_hz is not None else rate_hz


_RATE, _SEED = ("rate_hz",), ("seed",)
_TABLE: Final = (
    ("mp3_64", encode, {"format": "mp3", "bitrate_kbps": 64}, _RATE, None),
    ("mp3_128", encode, {"format": "mp3", "bitrate_kbps": 128}, _RATE, None),
    ("opus_64", encode, {"format": "ogg_opus", "bitrate_kbps": 64}, _RATE, OPUS_RATE_HZ),
    ("vorbis", encode, {"format": "ogg_vorbis"}, _RATE, None),
    ("gain_-10db", change_gain, {"db": -10.0}, (), None),
    ("gain_+6db", change_gain, {"db": 6.0}, (), None),
    ("noise_snr_20db", add_noise, {"snr_db": 20.0}, _SEED, None),
    ("noise_snr_10db", add_noise, {"snr_db": 10.0}, _SEED, None),
    ("noise_snr_5db", add_noise, {"snr_db": 5.0}, _SEED, None),
    ("trim_start_10s", trim, {"start_seconds": 10.0}, _RATE, None),
    ("trim_end_10s", trim, {"end_seconds": 10.0}, _RATE, None),
    ("pad_start_10s", pad, {"start_seconds": 10.0, "noise_dbfs": -70.0}, (*_RATE, *_SEED), None),
    ("resample_22050", resample, {"to_hz": 22050}, ("from_hz",), 22050),
    ("resample_48000", resample, {"to_hz": 48000}, ("from_hz",), 48000),
    ("stereo", to_stereo, {"balance_db": 3.0}, (), None),
    ("speed_+2%", change_speed, {"factor": 1.02}, (), None),
    ("speed_-2%", change_speed, {"factor": 0.98}, (), None),
    ("tempo_+2%", change_tempo, {"factor": 1.02}, _RATE, None),
    ("tempo_-2%", change_tempo, {"factor": 0.98}, _RATE, None),
)

DISTORTIONS: Final[Mapping[str, DistortionSpec]] = MappingProxyType(
    {
        name: DistortionSpec(name, operation, MappingProxyType(params), needs, out_rate_hz)
        for name, operation, params, needs, out_rate_hz in _TABLE
    }
)
"""What the fingerprint benchmark tests, in order: name → ``spec(x, rate_hz, seed) -> (audio, rate_hz)``."""
