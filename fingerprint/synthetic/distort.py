"""Distortions a delivery goes through between master and catalog, and the benchmark's table of them.

Each distortion is a small function over a float signal with keyword-only parameters, seeded where random.
:data:`DISTORTIONS` lists exactly what the fingerprint benchmark tests, as one data table.

Encoding is FFmpeg's, through PyAV, in memory (FFmpeg 8.1 as bundled in the PyAV 18 wheel), measured on this
build (file size incl. headers over the decoded duration, rendered songs, 44.1 kHz unless said):
- ``wav``/``aiff``: 16-bit PCM; ``flac``: 16-bit FLAC; ``alac``: 16-bit ALAC in an ``.m4a`` (FFmpeg's "ipod"
  muxer, the one it picks for ``.m4a``: moov atom after the audio, as FFmpeg writes by default).
- ``mp3``: libmp3lame CBR; the bitrate is exact (64 → 64.2, 128 → 128.3 kbps, mono or stereo, also at 22.05 kHz).
  The LAME/Info header carries the encoder delay and padding, so FFmpeg decodes the exact length and alignment.
- ``aac``: FFmpeg's native AAC-LC encoder in an ``.m4a``; 64 → 66, 128 → 138–140 kbps (at 22.05 kHz mono it tops
  out near 92). The edit list trims the 1024 priming samples; the last frame's padding (< 1024 samples) is not
  trimmed, so the decoded length runs up to one frame long.
- ``ogg_vorbis``: FFmpeg's native Vorbis encoder (experimental; ~100 kbps at 44.1 kHz, ~62 at 22.05 kHz). It
  writes two channels only: mono input becomes two equal channels (which decode back to the same mono).
- ``ogg_opus``: libopus, constrained VBR (mono 32 → 33.1, 64 → 65.1 kbps; stereo doubles). ``bitrate_kbps`` is the
  total, split over channels. Opus only runs at 48 kHz, so input is resampled to 48 kHz first. Pre-skip and
  end trimming are in the Ogg stream: exact length and alignment.
- ``wma``: FFmpeg's wmav2 in ASF; bitrates come in coarse steps (64 → 69, 128 → 138 kbps). FFmpeg's wmav2
  decoder drops the first frame (2048 samples at 32–48 kHz) that its encoder writes, so one frame of silence
  is prepended: the decoded audio is then aligned, and up to one frame long.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Final, Literal, cast

import av
import numpy as np
import soxr
from av.audio.stream import AudioStream

from catalog_er.fingerprint.synthetic.stretch import time_stretch

EncodeFormat = Literal["wav", "aiff", "flac", "alac", "mp3", "aac", "ogg_vorbis", "ogg_opus", "wma"]
DistortionResult = tuple[np.ndarray | bytes, int]

OPUS_RATE_HZ: Final = 48000
_ENCODE_BLOCK_FRAMES: Final = 1 << 16


@dataclass(frozen=True)
class _Encoder:
    """How :func:`encode` writes one format with FFmpeg.

    Attributes:
        muxer: FFmpeg's muxer (container) name.
        codec: FFmpeg's encoder name.
        sample_format: the encoder's input sample format (PyAV converts the float input to it).
        rates_hz: the sample rates the encoder takes, when limited.
        stereo_only: the encoder takes two channels only; mono input is written as two equal channels.
        lead_in_frame: prepend one encoder frame of silence, which FFmpeg's own decoder drops again.
        options: encoder options.
    """

    muxer: str
    codec: str
    sample_format: str
    rates_hz: frozenset[int] | None = None
    stereo_only: bool = False
    lead_in_frame: bool = False
    options: tuple[tuple[str, str], ...] = ()


_MPEG_RATES_HZ: Final = frozenset({8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000})
_ENCODERS: Final[Mapping[str, _Encoder]] = MappingProxyType(
    {
        "wav": _Encoder("wav", "pcm_s16le", "s16"),
        "aiff": _Encoder("aiff", "pcm_s16be", "s16"),
        "flac": _Encoder("flac", "flac", "s16"),
        "alac": _Encoder("ipod", "alac", "s16p"),  # the "ipod" muxer is FFmpeg's choice for .m4a
        "mp3": _Encoder("mp3", "libmp3lame", "fltp", rates_hz=_MPEG_RATES_HZ),
        "aac": _Encoder("ipod", "aac", "fltp"),
        "ogg_vorbis": _Encoder("ogg", "vorbis", "fltp", stereo_only=True, options=(("strict", "experimental"),)),
        "ogg_opus": _Encoder("ogg", "libopus", "flt", options=(("vbr", "constrained"),)),
        "wma": _Encoder("asf", "wmav2", "fltp", rates_hz=_MPEG_RATES_HZ, lead_in_frame=True),
    }
)
# format → (default, lowest, highest kbps, whether those are per channel); mp3's range depends on the rate
_KBPS: Final[Mapping[str, tuple[int, int, int, bool]]] = MappingProxyType(
    {"mp3": (128, 32, 320, False), "aac": (128, 16, 320, False), "wma": (128, 24, 320, False),
     "ogg_opus": (64, 6, 256, True)}
)  # fmt: skip


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

    ``bitrate_kbps`` (total over channels) applies to the lossy formats with a bitrate target: ``mp3`` (CBR,
    default 128), ``aac`` (default 128), ``wma`` (default 128) and ``ogg_opus`` (default 64 per channel; input
    resampled to 48 kHz); lossless formats and ``ogg_vorbis`` reject it. Written by FFmpeg's encoders and muxers
    (PyAV), in memory; see the module docstring for the encoders, their bitrates and codec delays.
    """
    if format not in _ENCODERS:
        raise ValueError(f"format must be one of {sorted(_ENCODERS)}, got {format!r}")
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, int) or not 1000 <= rate_hz <= 384_000:
        raise ValueError(f"rate_hz must be an int in [1000, 384000], got {rate_hz!r}")
    spec = _ENCODERS[format]
    if spec.rates_hz is not None and rate_hz not in spec.rates_hz:
        raise ValueError(f"{format} needs rate_hz in {sorted(spec.rates_hz)}, got {rate_hz!r}; resample first")
    x = np.clip(_signal(x), -1.0, 1.0).astype(np.float32)
    frames = x if x.ndim == 2 else x[:, None]
    if frames.shape[1] > 2:
        raise ValueError(f"encode writes mono or stereo, got {frames.shape[1]} channels")
    kbps = _bitrate_kbps(format, bitrate_kbps, channels=frames.shape[1], rate_hz=rate_hz)
    if format == "ogg_opus" and rate_hz != OPUS_RATE_HZ:
        frames, rate_hz = resample(frames, from_hz=rate_hz, to_hz=OPUS_RATE_HZ), OPUS_RATE_HZ
    if spec.stereo_only and frames.shape[1] == 1:
        frames = np.repeat(frames, 2, axis=1)
    buffer = io.BytesIO()
    try:
        with av.open(buffer, mode="w", format=spec.muxer) as container:
            stream = cast(AudioStream, container.add_stream(spec.codec, rate=rate_hz))
            stream.layout = "mono" if frames.shape[1] == 1 else "stereo"
            stream.format = spec.sample_format
            if kbps is not None:
                stream.bit_rate = kbps * 1000
            stream.codec_context.options = dict(spec.options)
            stream.codec_context.open()
            if spec.lead_in_frame:  # FFmpeg's wmav2 decoder drops the first frame its encoder writes
                silence = np.zeros((stream.codec_context.frame_size, frames.shape[1]), np.float32)
                frames = np.concatenate([silence, frames])
            for start in range(0, frames.shape[0], _ENCODE_BLOCK_FRAMES):
                block = np.ascontiguousarray(frames[start : start + _ENCODE_BLOCK_FRAMES].T)
                frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=stream.layout)
                frame.sample_rate, frame.pts, frame.time_base = rate_hz, start, Fraction(1, rate_hz)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    except av.FFmpegError as error:
        raise ValueError(f"FFmpeg cannot encode {format} at {rate_hz} Hz, {kbps} kbps: {error}") from error
    return buffer.getvalue()


def _bitrate_kbps(format: str, kbps: int | None, *, channels: int, rate_hz: int) -> int | None:
    """The total bitrate to ask ``format``'s encoder for, validated; ``None`` for formats without a target."""
    limits = _KBPS.get(format)
    if limits is None:
        if kbps is not None:
            raise ValueError(f"{format} takes no bitrate_kbps (got {kbps!r})")
        return None
    default, low, high, per_channel = limits
    if format == "mp3":  # LAME's CBR bitrates depend on the MPEG version the rate selects
        low, high = (32, 320) if rate_hz >= 32000 else (8, 160) if rate_hz >= 16000 else (8, 64)
    scale = channels if per_channel else 1
    kbps = default * scale if kbps is None else kbps
    if isinstance(kbps, bool) or not isinstance(kbps, int) or not low * scale <= kbps <= high * scale:
        unit = f" for {channels} channel(s)" if per_channel else ""
        raise ValueError(f"{format} bitrate_kbps{unit} must be an int in [{low * scale}, {high * scale}], got {kbps!r}")
    return kbps


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
