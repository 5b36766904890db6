"""Decode whatever a catalog delivers to mono float32 at one analysis rate, through FFmpeg's libraries (PyAV).

One entry point, :func:`decode`, turns a path or the bytes of a file in any format FFmpeg reads — WAV, AIFF,
FLAC, ALAC and AAC (``.m4a``), MP3, Ogg Vorbis, Opus, WMA and more — into a ``(n_samples,)`` float32 array in
``[-1, 1]`` at ``rate_hz``. The format is detected from the content, never from a file name: FFmpeg is handed
a Python file object without a name. The first audio stream is decoded; other streams (cover art, video)
are skipped. Every way a delivery can be bad ends in one exception type, :class:`InvalidAudioError`, whose
``reason`` is a short machine-readable code; a raw PyAV/FFmpeg exception never escapes.

Cheap checks come first: the byte size (``stat`` for paths) before anything is read, then the duration the
container declares before any sample is decoded. Decoding streams frame by frame (downmix → streaming
``soxr`` resampler, "HQ" as before the switch to FFmpeg, so fingerprints stay comparable), so memory stays
at the size of the mono output and an over-long file with a lying header is stopped as soon as it passes
the limit.

How FFmpeg's behaviour maps onto reasons (FFmpeg 8.1 as bundled in the PyAV 18 wheels; other FFmpeg versions
differ in details such as how much audio a damaged frame costs, hence the pin):
- a file FFmpeg cannot open (no demuxer recognises it), that has no audio stream, or whose codec has no
  decoder is ``"unsupported_format"``; a file that starts like a container a distributor sends (RIFF, AIFF,
  FLAC, ID3, Ogg, MP4 ``ftyp``, ASF) but that FFmpeg cannot open is ``"corrupt"`` (an ``.m4a`` cut before its
  moov atom, a header cut short);
- encoder delay and padding are trimmed as the container declares them (MP3's LAME/Info header, Opus's
  pre-skip and end granule in Ogg, the MP4 edit list), so offsets between deliveries stay right. FFmpeg keeps
  the padding of the last frame of AAC in MP4 (< 1024 samples), WMA (< 2048) and Vorbis (a few samples):
  those decode up to one frame long at the end. The duration Ogg declares for Opus counts the pre-skip
  (312 samples at 48 kHz from libopus), so :attr:`AudioInfo.frames` does too;
- a truncated file decodes short of the duration its header declares; a shortfall of more than 1 % (or
  0.25 s) is ``"corrupt"`` (AIFF, FLAC, MP3 with a Xing/LAME header, MP4 with the moov atom first). For a cut
  ASF (WMA) FFmpeg estimates the duration from the bytes present, ~8 % beyond what decodes: caught in the
  cases measured, though not by design. FFmpeg clamps a truncated WAV to the bytes present, and Ogg declares
  no length: those decode as the shorter file they now are (as with libsndfile);
- damage: frames the demuxer cannot parse are skipped by FFmpeg itself (the audio gets shorter: a damaged
  Ogg page loses up to a second, which the truncation check then weighs); packets the decoder rejects are
  replaced by silence of their duration (so offsets stay right) and tolerated up to 3 plus 1 % of the
  packets read. Beyond that, or as soon as more than half the packets so far fail, the file is
  ``"corrupt"``, as it is when the demuxer itself fails;
- FFmpeg's log output is switched off (PyAV's default, set again here): decoders' warnings about damaged
  frames are noise, the reasons above say what matters.

:attr:`AudioInfo.format` and :attr:`AudioInfo.subtype` are FFmpeg's names: the demuxer (``"wav"``, ``"aiff"``,
``"flac"``, ``"mp3"``, ``"ogg"``, ``"asf"``; the ISO base media family FFmpeg calls ``"mov,mp4,m4a,3gp,3g2,mj2"``
is reported as ``"mp4"``; otherwise the first of a demuxer's comma-separated names) and the codec
(``"pcm_s16le"``, ``"flac"``, ``"alac"``, ``"mp3"``, ``"aac"``, ``"vorbis"``, ``"opus"``, ``"wmav2"``).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import av
import av.logging
import numpy as np
import soxr
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from catalog_er.fingerprint.landmarks import ANALYSIS_RATE_HZ

__all__ = [
    "ANALYSIS_RATE_HZ",
    "DEFAULT_LIMITS",
    "INVALID_AUDIO_REASONS",
    "AudioInfo",
    "AudioLimits",
    "AudioSource",
    "InvalidAudioError",
    "decode",
    "probe",
]


INVALID_AUDIO_REASONS: Final = frozenset(
    {"missing", "unsupported_format", "corrupt", "empty", "silent", "too_long", "too_short", "too_large"}
)

AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview

_BLOCK_FRAMES: Final = 1 << 16  # decoded frames are downmixed and resampled in blocks of >= 64 Ki samples
_RESAMPLE_QUALITY: Final = "HQ"  # soxr HQ: ~13,000x real time mono 44.1k → 11.025k; decoding dominates
_TRUNCATION_TOLERANCE: Final = 0.01  # decoded may fall short of the header's duration by 1 % ...
_TRUNCATION_TOLERANCE_SECONDS: Final = 0.25  # ... or 0.25 s (trailing tags, estimated lengths)
_DAMAGED_PACKETS_ALLOWED: Final = 3  # packets the decoder may reject (each replaced by silence), plus ...
_DAMAGED_PACKETS_SHARE: Final = 0.01  # ... 1 % of the packets read
_MIN_RATE_HZ: Final = 1000
_MAX_RATE_HZ: Final = 384_000
_MAX_CHANNELS: Final = 32  # a block is _BLOCK_FRAMES x channels samples: 8 MiB of float32 at 32 channels
# FFmpeg sample format (packed name) → numpy dtype, the value of silence, full scale
_SAMPLE_FORMATS: Final[dict[str, tuple[np.dtype, float, float]]] = {
    "u8": (np.dtype(np.uint8), 128.0, 128.0),
    "s16": (np.dtype(np.int16), 0.0, 32768.0),
    "s32": (np.dtype(np.int32), 0.0, 2.0**31),
    "s64": (np.dtype(np.int64), 0.0, 2.0**63),
    "flt": (np.dtype(np.float32), 0.0, 1.0),
    "dbl": (np.dtype(np.float64), 0.0, 1.0),
}
# (offset, bytes) that open the containers a distributor sends: WAV, AIFF, FLAC, MP3 with ID3 tags, Ogg, MP4, ASF
_AUDIO_SIGNATURES: Final = (
    (0, b"RIFF"), (0, b"FORM"), (0, b"fLaC"), (0, b"ID3"), (0, b"OggS"), (4, b"ftyp"),
    (0, bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")),
)  # fmt: skip
# What PyAV raises for FFmpeg's errors (FFmpegError), and for the file object's own (OSError).
_FFMPEG_ERRORS: Final = (av.FFmpegError, OSError)

av.logging.set_level(None)  # FFmpeg's log lines dropped (PyAV's default; set so this module's promise holds)


class InvalidAudioError(ValueError):
    """A delivery that cannot be decoded into usable audio.

    Attributes:
        reason: one of :data:`INVALID_AUDIO_REASONS` — ``"missing"`` (no readable file at the path),
            ``"unsupported_format"`` (not a format FFmpeg recognises, no audio stream, or no decoder for its
            codec), ``"corrupt"`` (recognised but damaged, truncated, or decodes to NaN/inf), ``"empty"`` (zero
            bytes or zero frames), ``"silent"``, ``"too_long"``, ``"too_short"``, ``"too_large"`` (byte size over
            the limit).
        source: a short description of the source (the path, or ``"<N bytes>"``).
    """

    def __init__(self, reason: str, message: str, *, source: str = "") -> None:
        if reason not in INVALID_AUDIO_REASONS:
            raise ValueError(
                f"unknown InvalidAudioError reason {reason!r}; expected one of {sorted(INVALID_AUDIO_REASONS)}"
            )
        super().__init__(message)
        self.reason = reason
        self.source = source


@dataclass(frozen=True)
class AudioLimits:
    """What :func:`decode` accepts.

    Attributes:
        max_bytes: largest accepted delivery, in bytes (checked before reading).
        max_seconds: longest accepted duration, in seconds (checked on the header, then while decoding).
        min_seconds: shortest accepted duration, in seconds (too little audio to fingerprint).
        silence_dbfs: RMS level over the whole signal, in dB relative to full scale (1.0), below which the
            audio is ``"silent"``. A full-scale sine has an RMS of -3 dBFS.
    """

    max_bytes: int = 200_000_000
    max_seconds: float = 3600.0
    min_seconds: float = 2.0
    silence_dbfs: float = -60.0

    def __post_init__(self) -> None:
        if isinstance(self.max_bytes, bool) or not isinstance(self.max_bytes, int) or self.max_bytes <= 0:
            raise ValueError(f"max_bytes must be a positive int, got {self.max_bytes!r}")
        for name in ("max_seconds", "min_seconds", "silence_dbfs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.max_seconds <= 0:
            raise ValueError(f"max_seconds must be > 0, got {self.max_seconds!r}")
        if self.min_seconds < 0:
            raise ValueError(f"min_seconds must be >= 0, got {self.min_seconds!r}")
        if self.min_seconds >= self.max_seconds:
            raise ValueError(f"min_seconds ({self.min_seconds!r}) must be < max_seconds ({self.max_seconds!r})")
        if self.silence_dbfs >= 0:
            raise ValueError(f"silence_dbfs must be < 0 dBFS, got {self.silence_dbfs!r}")


DEFAULT_LIMITS: Final = AudioLimits()


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, read without decoding the audio.

    Attributes:
        format: FFmpeg's demuxer name (see the module docstring), e.g. ``"wav"``, ``"flac"``, ``"mp4"``,
            ``"ogg"``, ``"mp3"``, ``"asf"``.
        subtype: FFmpeg's codec name, e.g. ``"pcm_s16le"``, ``"aac"``, ``"opus"``, ``"mp3"``, ``"wmav2"``.
        rate_hz: native sample rate of the first audio stream, in Hz.
        channels: number of channels.
        frames: frames per channel the container declares (an estimate for formats that only estimate, such
            as MP3 with neither a Xing/LAME header nor a known file size); ``-1`` when it does not say.
        seconds: ``frames / rate_hz``; ``nan`` when unknown.
        size_bytes: size of the delivery, in bytes.
    """

    format: str
    subtype: str
    rate_hz: int
    channels: int
    frames: int
    seconds: float
    size_bytes: int


def probe(source: AudioSource) -> AudioInfo:
    """Read the header of ``source`` (a path or the file's bytes) without decoding its audio.

    Raises:
        InvalidAudioError: ``"missing"``, ``"empty"``, ``"unsupported_format"`` or ``"corrupt"``.
    """
    with _opened(source, max_bytes=None) as (container, stream, name, size_bytes):
        return _header(container, stream, name, size_bytes)


def decode(
    source: AudioSource,
    *,
    limits: AudioLimits = DEFAULT_LIMITS,
    rate_hz: int = ANALYSIS_RATE_HZ,
) -> np.ndarray:
    """Decode ``source`` to mono float32 at ``rate_hz``.

    Args:
        source: a path (``str``/``os.PathLike``) or the file's bytes. The format is detected from the
            content; the file name plays no part.
        limits: size, duration and silence limits, see :class:`AudioLimits`.
        rate_hz: output sample rate, in Hz (default :data:`ANALYSIS_RATE_HZ`).

    Returns:
        ``(n_samples,)`` float32 in ``[-1, 1]`` at ``rate_hz``: the first audio stream, channels averaged,
        resampled with soxr (quality "HQ"). Deterministic: the same bytes give an identical array.

    Raises:
        InvalidAudioError: with ``reason`` saying why (see the class).
        ValueError: ``limits`` or ``rate_hz`` themselves are invalid.
    """
    if not isinstance(limits, AudioLimits):
        raise ValueError(f"limits must be an AudioLimits, got {type(limits).__name__}")
    _check_rate(rate_hz)
    with _opened(source, max_bytes=limits.max_bytes) as (container, stream, name, size_bytes):
        info = _header(container, stream, name, size_bytes)
        if not (_MIN_RATE_HZ <= info.rate_hz <= _MAX_RATE_HZ and info.channels <= _MAX_CHANNELS):
            raise InvalidAudioError(
                "unsupported_format",
                f"{name} is {info.rate_hz} Hz with {info.channels} channels; supported are "
                f"{_MIN_RATE_HZ}-{_MAX_RATE_HZ} Hz and at most {_MAX_CHANNELS} channels",
                source=name,
            )
        if info.frames == 0:
            raise InvalidAudioError("empty", f"{name} declares no audio frames", source=name)
        if info.frames > 0 and info.seconds > limits.max_seconds:
            raise InvalidAudioError(
                "too_long",
                f"{name} lasts {info.seconds:.1f} s by its header; the limit is {limits.max_seconds:g} s",
                source=name,
            )
        mono = _decode_mono(container, stream, info, name=name, limits=limits, rate_hz=rate_hz)
    _check_decoded(mono, info, name=name, limits=limits, rate_hz=rate_hz)
    return mono


def _check_rate(rate_hz: int) -> None:
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, int | np.integer):
        raise ValueError(f"rate_hz must be an int, got {rate_hz!r}")
    if not _MIN_RATE_HZ <= rate_hz <= _MAX_RATE_HZ:
        raise ValueError(f"rate_hz must be in [{_MIN_RATE_HZ}, {_MAX_RATE_HZ}] Hz, got {rate_hz}")


class _Nameless:
    """A binary file handed to FFmpeg without its name, so the format is detected from the content alone
    (PyAV passes a file object's ``name`` to FFmpeg, whose probing also scores file name extensions)."""

    def __init__(self, file: BinaryIO) -> None:
        self.read = file.read
        self.seek = file.seek
        self.tell = file.tell


@contextmanager
def _opened(
    source: AudioSource, *, max_bytes: int | None
) -> Iterator[tuple[InputContainer, AudioStream, str, int]]:
    """Yield ``source`` opened by FFmpeg, its first audio stream, its description and its byte size.

    Size checks happen before a byte is read. Paths are opened as Python file objects without a name
    (:class:`_Nameless`), so FFmpeg cannot guess the format from an extension.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        data = source if isinstance(source, bytes) else bytes(source)  # BytesIO shares bytes, copies the rest
        name = f"<{len(data)} bytes>"
        _check_size(len(data), name, max_bytes)
        with _audio_stream(io.BytesIO(data), name) as (container, stream):
            yield container, stream, name, len(data)
        return
    if not isinstance(source, str | os.PathLike):
        raise TypeError(f"source must be a path or bytes, got {type(source).__name__}")
    path = Path(source)
    name = str(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise InvalidAudioError(
            "missing", f"no audio file at {name}: {error.strerror or error}", source=name
        ) from error
    if not path.is_file():
        raise InvalidAudioError("missing", f"no audio file at {name}: not a regular file", source=name)
    _check_size(stat.st_size, name, max_bytes)
    try:
        file = path.open("rb")
    except OSError as error:
        raise InvalidAudioError("missing", f"cannot read {name}: {error.strerror or error}", source=name) from error
    with file, _audio_stream(_Nameless(file), name) as (container, stream):
        yield container, stream, name, stat.st_size


def _check_size(size_bytes: int, name: str, max_bytes: int | None) -> None:
    if size_bytes == 0:
        raise InvalidAudioError("empty", f"{name} is empty (0 bytes)", source=name)
    if max_bytes is not None and size_bytes > max_bytes:
        raise InvalidAudioError(
            "too_large", f"{name} is {size_bytes:,} bytes; the limit is {max_bytes:,} bytes", source=name
        )


@contextmanager
def _audio_stream(file: io.BytesIO | _Nameless, name: str) -> Iterator[tuple[InputContainer, AudioStream]]:
    """Open ``file`` with FFmpeg (format probed from the content) and yield it with its first audio stream."""
    try:
        container = av.open(file, mode="r", metadata_errors="ignore")
    except _FFMPEG_ERRORS as error:
        # FFmpeg says "invalid data" both when no demuxer recognises the bytes and when a recognised file's
        # header is damaged or missing (an .m4a cut before its moov atom); the first bytes tell the two apart.
        reason = "corrupt" if isinstance(error, av.EOFError) or _looks_like_audio(file) else "unsupported_format"
        raise InvalidAudioError(reason, f"{name} cannot be opened as audio: {_describe(error)}", source=name) from error
    try:
        streams = container.streams.audio
        if not streams:
            kinds: list[str] = sorted({stream.type for stream in container.streams}) or ["no streams"]
            raise InvalidAudioError(
                "unsupported_format",
                f"{name} ({_format_name(container)}) has no audio stream: {', '.join(kinds)}",
                source=name,
            )
        stream = streams[0]
        if stream.codec_context is None:
            raise InvalidAudioError(
                "unsupported_format", f"{name} ({_format_name(container)}): no decoder for its codec", source=name
            )
        yield container, stream
    finally:
        container.close()


def _looks_like_audio(file: io.BytesIO | _Nameless) -> bool:
    """Whether ``file`` starts like one of the containers in :data:`_AUDIO_SIGNATURES`."""
    try:
        file.seek(0)
        head = file.read(16)
    except OSError:
        return False
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _AUDIO_SIGNATURES)


def _describe(error: Exception) -> str:
    """FFmpeg's words for ``error``, without PyAV's call details."""
    text = getattr(error, "strerror", None) or str(error)
    return str(text).split(";")[0]


def _format_name(container: InputContainer) -> str:
    """FFmpeg's demuxer name, short: the MP4 family as ``"mp4"``, otherwise the first comma-separated name."""
    names = container.format.name
    return "mp4" if names.startswith("mov,mp4") else names.split(",")[0]


def _header(container: InputContainer, stream: AudioStream, name: str, size_bytes: int) -> AudioInfo:
    context = stream.codec_context
    rate_hz, channels = int(context.sample_rate), int(context.channels)
    if rate_hz <= 0 or channels <= 0:
        raise InvalidAudioError(
            "corrupt", f"{name} has an impossible header: {rate_hz} Hz, {channels} channels", source=name
        )
    if stream.duration is not None and stream.duration > 0:
        seconds = float(stream.duration * stream.time_base) if stream.time_base else math.nan
    elif container.duration is not None and container.duration > 0:
        seconds = container.duration / av.time_base
    else:
        seconds = math.nan
    frames = round(seconds * rate_hz) if math.isfinite(seconds) else -1
    return AudioInfo(
        format=_format_name(container),
        subtype=context.codec.canonical_name,
        rate_hz=rate_hz,
        channels=channels,
        frames=frames,
        seconds=seconds if frames >= 0 else math.nan,
        size_bytes=size_bytes,
    )


class _MonoResampler:
    """Decoded frames in, mono float32 at ``rate_hz`` out: frames are gathered into blocks of about
    ``_BLOCK_FRAMES`` samples, averaged over channels and fed to a streaming soxr resampler."""

    def __init__(self, native_hz: int, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self.native_hz = native_hz
        self.seconds = 0.0
        """Seconds of audio taken in so far (at the native rate)."""
        self._resampler = self._new_resampler(native_hz)
        self._layout: tuple[str, int] = ("", 0)  # (packed sample format, channels) of the pending frames
        self._pending: list[list[np.ndarray]] = []  # per frame: one array per plane
        self._pending_samples = 0
        self._pieces: list[np.ndarray] = []
        self._shapes: dict[tuple[str, str], tuple[tuple[str, int], bool]] = {}
        """(sample format, channel layout) names → ((packed format, channels), planar)."""

    def _new_resampler(self, native_hz: int) -> soxr.ResampleStream | None:
        if native_hz == self.rate_hz:
            return None
        return soxr.ResampleStream(native_hz, self.rate_hz, 1, dtype="float32", quality=_RESAMPLE_QUALITY)

    def add(self, frame: AudioFrame) -> None:
        """Take one decoded frame (any sample format, planar or packed, any channel layout)."""
        samples = frame.samples
        if samples <= 0:
            return
        names = (frame.format.name, frame.layout.name)  # two short strings: cheap to read per frame
        shape = self._shapes.get(names)
        if shape is None:  # the layout's objects cost ~5 µs a frame to read: once per distinct layout
            audio_format, channels = frame.format, frame.layout.nb_channels
            shape = self._shapes[names] = ((audio_format.packed.name, channels), audio_format.is_planar)
        layout, planar = shape
        if frame.sample_rate != self.native_hz:
            self._restart(frame.sample_rate)
        if layout != self._layout:
            self._flush_block()
            self._layout = layout
        dtype, channels = _SAMPLE_FORMATS[layout[0]][0], layout[1]
        planes = [memoryview(plane) for plane in frame.planes]
        if planar:
            self._pending.append([np.frombuffer(plane, dtype, count=samples) for plane in planes[:channels]])
        else:
            self._pending.append([np.frombuffer(planes[0], dtype, count=samples * channels)])
        self._pending_samples += samples
        self.seconds += samples / self.native_hz
        if self._pending_samples >= _BLOCK_FRAMES:
            self._flush_block()

    def add_silence(self, seconds: float) -> None:
        """Stand in for ``seconds`` of audio the decoder could not produce."""
        samples = round(seconds * self.native_hz)
        if samples > 0:
            self._flush_block()
            self._emit(np.zeros(samples, dtype=np.float32))
            self.seconds += samples / self.native_hz

    def finish(self) -> np.ndarray:
        """All output so far, the resampler flushed: float32 ``(n,)`` at ``rate_hz``."""
        self._restart(self.native_hz)
        if not self._pieces:
            return np.empty(0, dtype=np.float32)
        return np.concatenate(self._pieces) if len(self._pieces) > 1 else self._pieces[0]

    def _restart(self, native_hz: int) -> None:
        """Flush everything pending through the current resampler; continue at ``native_hz``."""
        self._flush_block()
        if self._resampler is not None:
            self._pieces.append(self._resampler.resample_chunk(np.empty(0, dtype=np.float32), last=True))
        self.native_hz = native_hz
        self._resampler = self._new_resampler(native_hz)

    def _flush_block(self) -> None:
        if not self._pending:
            return
        format_name, channels = self._layout
        _, silence, full_scale = _SAMPLE_FORMATS[format_name]
        if len(self._pending[0]) == channels:  # planar: one array per channel
            per_channel = [np.concatenate([frame[c] for frame in self._pending]) for c in range(channels)]
        else:  # packed: channels interleaved
            interleaved = np.concatenate([frame[0] for frame in self._pending]).reshape(-1, channels)
            per_channel = [interleaved[:, c] for c in range(channels)]
        mono = per_channel[0].astype(np.float32)
        for channel in per_channel[1:]:
            np.add(mono, channel, out=mono, casting="unsafe")
        if silence:
            mono -= np.float32(silence * channels)
        if full_scale * channels != 1.0:
            mono *= np.float32(1.0 / (full_scale * channels))
        self._pending, self._pending_samples = [], 0
        self._emit(mono)

    def _emit(self, mono: np.ndarray) -> None:
        self._pieces.append(self._resampler.resample_chunk(mono) if self._resampler is not None else mono)


def _decode_mono(
    container: InputContainer, stream: AudioStream, info: AudioInfo, *, name: str, limits: AudioLimits, rate_hz: int
) -> np.ndarray:
    """Decode ``stream`` packet by packet into a :class:`_MonoResampler`. Returns float32 ``(n,)`` at ``rate_hz``."""
    mono = _MonoResampler(info.rate_hz, rate_hz)
    packets = damaged = 0
    try:
        for packet in container.demux(stream):
            packets += packet.size > 0
            try:
                frames = packet.decode()
            except av.FFmpegError as error:
                damaged += 1
                if damaged > _DAMAGED_PACKETS_ALLOWED and 2 * damaged > packets:
                    raise InvalidAudioError(
                        "corrupt",
                        f"{name} is damaged: {damaged} of its first {packets} packets fail to decode "
                        f"({_describe(error)})",
                        source=name,
                    ) from error
                if packet.duration and packet.time_base:
                    mono.add_silence(float(packet.duration * packet.time_base))
                continue
            for frame in frames:
                mono.add(frame)
            if mono.seconds > limits.max_seconds:
                raise InvalidAudioError(
                    "too_long", f"{name} runs past the {limits.max_seconds:g} s limit while decoding", source=name
                )
    except _FFMPEG_ERRORS as error:
        raise InvalidAudioError(
            "corrupt",
            f"{name} is damaged: reading failed after {mono.seconds:.2f} s of audio ({_describe(error)})",
            source=name,
        ) from error
    if damaged > _DAMAGED_PACKETS_ALLOWED + _DAMAGED_PACKETS_SHARE * packets:
        raise InvalidAudioError(
            "corrupt", f"{name} is damaged: {damaged} of its {packets} packets fail to decode", source=name
        )
    if mono.seconds == 0:
        raise InvalidAudioError("empty", f"{name} decodes to no audio frames", source=name)
    if info.frames > 0:
        shortfall = info.seconds - mono.seconds
        if shortfall > max(_TRUNCATION_TOLERANCE * info.seconds, _TRUNCATION_TOLERANCE_SECONDS):
            raise InvalidAudioError(
                "corrupt",
                f"{name} is truncated or damaged: decoded {mono.seconds:.2f} s of the "
                f"{info.seconds:.2f} s its header declares",
                source=name,
            )
    out = mono.finish()
    if not np.isfinite(out).all():  # checked after resampling (4x fewer samples): NaN/inf spread through soxr
        raise InvalidAudioError("corrupt", f"{name} decodes to NaN or infinite samples", source=name)
    return np.clip(out, -1.0, 1.0, out=out).astype(np.float32, copy=False)


def _check_decoded(mono: np.ndarray, info: AudioInfo, *, name: str, limits: AudioLimits, rate_hz: int) -> None:
    seconds = mono.size / rate_hz
    if seconds < limits.min_seconds:
        raise InvalidAudioError(
            "too_short", f"{name} lasts {seconds:.2f} s; the minimum is {limits.min_seconds:g} s", source=name
        )
    chunks = range(0, mono.size, _BLOCK_FRAMES)  # float32 dot per block, summed in float64: exact enough, no copy
    mean_square = (
        sum(float(np.dot(mono[i : i + _BLOCK_FRAMES], mono[i : i + _BLOCK_FRAMES])) for i in chunks) / mono.size
    )
    level_dbfs = 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf
    if level_dbfs < limits.silence_dbfs:
        raise InvalidAudioError(
            "silent",
            f"{name} is silent: RMS {level_dbfs:.1f} dBFS is below {limits.silence_dbfs:g} dBFS",
            source=name,
        )
