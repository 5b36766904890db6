"""fingerprint.audio: every delivery decodes to mono float32 at the analysis rate, or fails with a reason."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from catalog_er.fingerprint.audio import (
    ANALYSIS_RATE_HZ,
    INVALID_AUDIO_REASONS,
    AudioInfo,
    AudioLimits,
    InvalidAudioError,
    decode,
    probe,
)
from catalog_er.fingerprint.synthetic import encode, render_song
from tests.fingerprint.audio_helpers import aligned_correlation

RATE_HZ = 44100
SECONDS = 6.0
# label → (format, bitrate_kbps, minimum correlation with the original after alignment)
FORMATS = {
    "wav": ("wav", None, 0.999),
    "flac": ("flac", None, 0.999),
    "mp3_128": ("mp3", 128, 0.97),
    "mp3_64": ("mp3", 64, 0.95),
    "ogg_vorbis": ("ogg_vorbis", None, 0.97),
    "ogg_opus_64": ("ogg_opus", 64, 0.95),
}


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    return render_song(seed=21, seconds=SECONDS, rate_hz=RATE_HZ)


@pytest.fixture(scope="module")
def reference(song: np.ndarray) -> np.ndarray:
    return soxr.resample(song, RATE_HZ, ANALYSIS_RATE_HZ)


@pytest.fixture(scope="module")
def encoded(song: np.ndarray) -> dict[str, bytes]:
    return {
        label: encode(song, rate_hz=RATE_HZ, format=fmt, bitrate_kbps=kbps) for label, (fmt, kbps, _) in FORMATS.items()
    }


def wav_bytes(x: np.ndarray, *, rate_hz: int = RATE_HZ, subtype: str = "FLOAT", format: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, x, rate_hz, subtype=subtype, format=format)
    return buffer.getvalue()


def dominant_hz(x: np.ndarray, rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), 1 << 20))
    return float(np.fft.rfftfreq(1 << 20, 1.0 / rate_hz)[np.argmax(spectrum)])


@pytest.mark.parametrize("label", list(FORMATS))
def test_round_trip_from_bytes_and_path(
    label: str, encoded: dict[str, bytes], reference: np.ndarray, tmp_path: Path
) -> None:
    data = encoded[label]
    path = tmp_path / "delivery.bin"  # no telling extension: the format comes from the content
    path.write_bytes(data)
    from_bytes, from_path = decode(data), decode(path)
    assert from_bytes.dtype == np.float32 and from_bytes.ndim == 1
    assert np.array_equal(from_bytes, from_path)
    assert abs(from_bytes.size - reference.size) <= 0.005 * reference.size
    assert np.abs(from_bytes).max() <= 1.0
    correlation, lag = aligned_correlation(reference, from_bytes)
    assert correlation > FORMATS[label][2], (label, correlation)
    assert abs(lag) < 50


def test_misleading_extension_and_buffer_types(encoded: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "track.mp3"
    path.write_bytes(encoded["flac"])
    expected = decode(encoded["flac"])
    assert np.array_equal(decode(str(path)), expected)
    assert np.array_equal(decode(bytearray(encoded["flac"])), expected)
    assert np.array_equal(decode(memoryview(encoded["flac"])), expected)


@pytest.mark.parametrize("label", ["mp3_64", "ogg_vorbis", "ogg_opus_64"])
def test_decode_is_deterministic(label: str, encoded: dict[str, bytes]) -> None:
    assert np.array_equal(decode(encoded[label]), decode(encoded[label]))


def test_channels_are_averaged(song: np.ndarray) -> None:
    mono = decode(wav_bytes(song))
    left_only = decode(wav_bytes(np.stack([song, np.zeros_like(song)], axis=1)))
    np.testing.assert_allclose(left_only, 0.5 * mono, atol=1e-5)
    with pytest.raises(InvalidAudioError) as caught:
        decode(wav_bytes(np.stack([song, -song], axis=1)))  # opposite channels cancel
    assert caught.value.reason == "silent"


@pytest.mark.parametrize("native_hz", [8000, 22050, 44100, 48000, 96000])
def test_any_native_rate_lands_on_the_analysis_rate(native_hz: int) -> None:
    t = np.arange(int(4.0 * native_hz)) / native_hz
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    out = decode(wav_bytes(tone, rate_hz=native_hz))
    assert abs(out.size - 4.0 * ANALYSIS_RATE_HZ) <= 2
    assert dominant_hz(out, ANALYSIS_RATE_HZ) == pytest.approx(1000.0, abs=1.0)


def test_rate_hz_parameter_and_aiff(song: np.ndarray) -> None:
    out = decode(wav_bytes(song, subtype="PCM_16", format="AIFF"), rate_hz=22050)
    assert out.size == round(SECONDS * 22050)


def test_output_is_clipped_to_full_scale(song: np.ndarray) -> None:
    out = decode(wav_bytes(2.0 * song / np.abs(song).max()))
    assert np.abs(out).max() <= 1.0


def test_probe_reads_the_header_only(encoded: dict[str, bytes]) -> None:
    info = probe(encoded["ogg_opus_64"])
    assert info == AudioInfo(
        format="OGG",
        subtype="OPUS",
        rate_hz=48000,
        channels=1,
        frames=round(SECONDS * 48000),
        seconds=SECONDS,
        size_bytes=len(encoded["ogg_opus_64"]),
    )
    mp3 = probe(encoded["mp3_128"])
    assert (mp3.format, mp3.subtype, mp3.rate_hz, mp3.seconds) == ("MP3", "MPEG_LAYER_III", RATE_HZ, SECONDS)


def _half(label: str) -> Callable[[dict[str, bytes]], bytes]:
    return lambda encoded: encoded[label][: len(encoded[label]) // 2]


_rng = np.random.default_rng(5)
# case → (delivery built from the encoded fixtures, limits, expected reason)
BAD_BYTES: dict[str, tuple[Callable[[dict[str, bytes]], bytes], AudioLimits, str]] = {
    "garbage": (lambda _: _rng.bytes(50_000), AudioLimits(), "unsupported_format"),
    "text": (lambda _: b"title,artist\nYesterday,The Beatles\n" * 40, AudioLimits(), "unsupported_format"),
    "png": (lambda _: b"\x89PNG\r\n\x1a\n" + bytes(2000), AudioLimits(), "unsupported_format"),
    "zero_bytes": (lambda _: b"", AudioLimits(), "empty"),
    "truncated_mp3": (_half("mp3_128"), AudioLimits(), "corrupt"),
    "truncated_flac": (_half("flac"), AudioLimits(), "corrupt"),
    "truncated_header": (lambda e: e["ogg_vorbis"][:600], AudioLimits(), "corrupt"),
    "too_large": (lambda e: e["mp3_64"], AudioLimits(max_bytes=10_000), "too_large"),
    "too_long": (lambda e: e["wav"], AudioLimits(max_seconds=5.0, min_seconds=1.0), "too_long"),
    "too_short": (lambda e: e["wav"], AudioLimits(min_seconds=7.0), "too_short"),
    "silent": (lambda _: wav_bytes(np.zeros(5 * RATE_HZ, np.float32)), AudioLimits(), "silent"),
    "quiet": (
        lambda _: wav_bytes((_rng.standard_normal(5 * RATE_HZ) * 10**-3.5).astype(np.float32)),
        AudioLimits(),
        "silent",
    ),
    "nan": (lambda _: wav_bytes(np.full(5 * RATE_HZ, np.nan, np.float32)), AudioLimits(), "corrupt"),
    "inf": (lambda _: wav_bytes(np.r_[np.zeros(RATE_HZ * 3), np.inf].astype(np.float32)), AudioLimits(), "corrupt"),
}


@pytest.mark.parametrize("case", list(BAD_BYTES))
def test_bad_bytes_fail_with_a_reason(case: str, encoded: dict[str, bytes]) -> None:
    build, limits, reason = BAD_BYTES[case]
    with pytest.raises(InvalidAudioError) as caught:
        decode(build(encoded), limits=limits)
    assert caught.value.reason == reason
    assert "bytes>" in str(caught.value)


def test_duration_limit_is_checked_on_the_header_before_decoding(encoded: dict[str, bytes]) -> None:
    truncated = encoded["mp3_128"][: len(encoded["mp3_128"]) // 2]  # header says 6 s; decoding would fail
    with pytest.raises(InvalidAudioError) as caught:
        decode(truncated, limits=AudioLimits(max_seconds=4.0, min_seconds=1.0))
    assert caught.value.reason == "too_long"
    assert "by its header" in str(caught.value)


def test_quiet_but_audible_passes() -> None:
    noise = (np.random.default_rng(1).standard_normal(5 * RATE_HZ) * 10**-2.5).astype(np.float32)  # -50 dBFS
    assert decode(wav_bytes(noise)).size == 5 * ANALYSIS_RATE_HZ


@pytest.mark.parametrize(
    ("setup", "limits", "reason"),
    [
        (lambda d: d / "nowhere" / "song.flac", AudioLimits(), "missing"),
        (lambda d: d, AudioLimits(), "missing"),
        (lambda d: _write(d / "empty.wav", b""), AudioLimits(), "empty"),
        (lambda d: _write(d / "notes.txt", b"not audio at all\n" * 100), AudioLimits(), "unsupported_format"),
        (lambda d: _write(d / "big.wav", bytes(5000)), AudioLimits(max_bytes=4999), "too_large"),
    ],
    ids=["missing", "directory", "zero_bytes", "text_file", "too_large"],
)
def test_bad_paths_fail_with_a_reason_naming_the_path(
    setup: Callable[[Path], Path], limits: AudioLimits, reason: str, tmp_path: Path
) -> None:
    path = setup(tmp_path)
    with pytest.raises(InvalidAudioError) as caught:
        decode(path, limits=limits)
    assert caught.value.reason == reason
    assert str(path) in str(caught.value)
    assert caught.value.source == str(path)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_invalid_audio_error_is_a_value_error_with_known_reasons() -> None:
    assert issubclass(InvalidAudioError, ValueError)
    assert {"missing", "unsupported_format", "corrupt", "empty", "silent", "too_long", "too_short", "too_large"} == set(
        INVALID_AUDIO_REASONS
    )
    with pytest.raises(ValueError, match="bogus"):
        InvalidAudioError("bogus", "message")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_bytes", 0),
        ("max_bytes", 1.5),
        ("max_seconds", -1.0),
        ("max_seconds", float("nan")),
        ("min_seconds", -0.5),
        ("min_seconds", 4000.0),
        ("silence_dbfs", 3.0),
        ("silence_dbfs", float("inf")),
    ],
)
def test_limits_are_validated(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        AudioLimits(**{field: value})


def test_arguments_are_validated(encoded: dict[str, bytes]) -> None:
    with pytest.raises(ValueError, match="rate_hz"):
        decode(encoded["wav"], rate_hz=0)
    with pytest.raises(TypeError, match="int"):
        decode(12345)  # type: ignore[arg-type]


@pytest.mark.parametrize("label", ["flac", "mp3_64", "ogg_vorbis", "ogg_opus_64"])
def test_damaged_deliveries_never_escape_as_raw_errors(label: str, encoded: dict[str, bytes]) -> None:
    rng = np.random.default_rng(len(label))
    for _ in range(25):
        data = bytearray(encoded[label])
        start = int(rng.integers(0, len(data)))
        data[start : start + int(rng.integers(1, 400))] = rng.bytes(int(rng.integers(1, 400)))
        try:
            out = decode(bytes(data))
        except InvalidAudioError as error:
            assert error.reason in INVALID_AUDIO_REASONS
        else:
            assert out.dtype == np.float32 and np.isfinite(out).all()
