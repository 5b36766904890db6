"""fingerprint.audio: every delivery decodes to mono float32 at the analysis rate, or fails with a reason."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
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
from catalog_er.fingerprint.synthetic import encode, render_song, to_stereo
from tests.fingerprint.audio_helpers import aligned_correlation, float_wav_bytes

RATE_HZ = 44100
SECONDS = 6.0
# label → (format, bitrate_kbps, minimum correlation with the original after alignment, end padding in native
# samples that FFmpeg leaves on the decoded audio). Encoder delays (MP3's LAME header, Opus pre-skip, the MP4
# edit list, Vorbis) are trimmed exactly; the padding of AAC's last 1024-sample frame and of the last
# 2048-sample WMA / long Vorbis block is not (measured: 616, 1640 and 40 samples).
FORMATS = {
    "wav": ("wav", None, 0.9999, 0),
    "aiff": ("aiff", None, 0.9999, 0),
    "flac": ("flac", None, 0.9999, 0),
    "alac": ("alac", None, 0.9999, 0),
    "mp3_128": ("mp3", 128, 0.995, 0),
    "mp3_64": ("mp3", 64, 0.99, 0),
    "aac_128": ("aac", 128, 0.99, 1024),
    "ogg_vorbis": ("ogg_vorbis", None, 0.995, 2048),
    "ogg_opus_64": ("ogg_opus", 64, 0.99, 0),
    "wma_128": ("wma", 128, 0.995, 2048),
}
OPUS_PRE_SKIP = 312  # samples at 48 kHz libopus puts before the audio; FFmpeg's Ogg duration counts them
# format → (FFmpeg's demuxer name as AudioInfo.format gives it, codec name)
FFMPEG_NAMES = {
    "wav": ("wav", "pcm_s16le"), "aiff": ("aiff", "pcm_s16be"), "flac": ("flac", "flac"), "alac": ("mp4", "alac"),
    "mp3": ("mp3", "mp3"), "aac": ("mp4", "aac"), "ogg_vorbis": ("ogg", "vorbis"), "ogg_opus": ("ogg", "opus"),
    "wma": ("asf", "wmav2"),
}  # fmt: skip


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    return render_song(seed=21, seconds=SECONDS)


@pytest.fixture(scope="module")
def reference(song: np.ndarray) -> np.ndarray:
    return soxr.resample(song, RATE_HZ, ANALYSIS_RATE_HZ)


@pytest.fixture(scope="module")
def encoded(song: np.ndarray) -> dict[str, bytes]:
    return {
        label: encode(song, rate_hz=RATE_HZ, format=fmt, bitrate_kbps=kbps)
        for label, (fmt, kbps, *_) in FORMATS.items()
    }


def dominant_hz(x: np.ndarray, rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), 1 << 20))
    return float(np.fft.rfftfreq(1 << 20, 1.0 / rate_hz)[np.argmax(spectrum)])


@pytest.mark.parametrize("label", list(FORMATS))
def test_round_trip_from_bytes_and_a_misleadingly_named_path(
    label: str, encoded: dict[str, bytes], reference: np.ndarray, tmp_path: Path
) -> None:
    fmt, _, floor, end_padding = FORMATS[label]
    data = encoded[label]
    path = tmp_path / ("delivery.mp3" if fmt != "mp3" else "delivery.wav")  # the format comes from the content
    path.write_bytes(data)
    from_bytes, from_path = decode(data), decode(path)
    assert from_bytes.dtype == np.float32 and from_bytes.ndim == 1
    assert np.array_equal(from_bytes, from_path)
    assert 0 <= from_bytes.size - reference.size <= math.ceil(end_padding * ANALYSIS_RATE_HZ / RATE_HZ)
    assert np.abs(from_bytes).max() <= 1.0
    correlation, lag = aligned_correlation(reference, from_bytes)
    assert correlation > floor, (label, correlation)
    assert lag == 0  # codec delay trimmed: offsets between deliveries stay right


@pytest.mark.parametrize("label", ["wav", "flac", "alac", "mp3_128", "aac_128", "ogg_vorbis", "ogg_opus_64", "wma_128"])
def test_stereo_deliveries_average_their_channels(label: str, song: np.ndarray, encoded: dict[str, bytes]) -> None:
    """Packed (wav, flac, mp3), planar integer (alac) and planar float (aac, vorbis, opus, wma) decoder output."""
    fmt, kbps, floor, _ = FORMATS[label]
    stereo = decode(encode(np.stack([song, 0.5 * song], axis=1), rate_hz=RATE_HZ, format=fmt, bitrate_kbps=kbps))
    mono = decode(encoded[label])
    assert stereo.size == mono.size
    correlation, lag = aligned_correlation(mono, stereo)
    assert correlation > floor and lag == 0
    assert np.sqrt(np.mean(stereo**2) / np.mean(mono**2)) == pytest.approx(0.75, rel=0.02)


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
    mono = decode(float_wav_bytes(song))
    left_only = decode(float_wav_bytes(np.stack([song, np.zeros_like(song)], axis=1)))
    np.testing.assert_allclose(left_only, 0.5 * mono, atol=1e-5)
    with pytest.raises(InvalidAudioError) as caught:
        decode(float_wav_bytes(np.stack([song, -song], axis=1)))  # opposite channels cancel
    assert caught.value.reason == "silent"


@pytest.mark.parametrize("native_hz", [8000, 22050, 44100, 48000, 96000])
def test_any_native_rate_lands_on_the_analysis_rate(native_hz: int) -> None:
    t = np.arange(int(4.0 * native_hz)) / native_hz
    tone = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    out = decode(float_wav_bytes(tone, rate_hz=native_hz))
    assert abs(out.size - 4.0 * ANALYSIS_RATE_HZ) <= 2
    assert dominant_hz(out, ANALYSIS_RATE_HZ) == pytest.approx(1000.0, abs=1.0)


def test_rate_hz_parameter(encoded: dict[str, bytes]) -> None:
    out = decode(encoded["aiff"], rate_hz=22050)
    assert out.size == round(SECONDS * 22050)


def test_output_is_clipped_to_full_scale(song: np.ndarray) -> None:
    out = decode(float_wav_bytes(2.0 * song / np.abs(song).max()))
    assert np.abs(out).max() <= 1.0


def test_probe_reads_the_header_only(encoded: dict[str, bytes]) -> None:
    info = probe(encoded["ogg_opus_64"])
    assert info == AudioInfo(
        format="ogg",
        subtype="opus",
        rate_hz=48000,
        channels=1,
        frames=round(SECONDS * 48000) + OPUS_PRE_SKIP,
        seconds=SECONDS + OPUS_PRE_SKIP / 48000,
        size_bytes=len(encoded["ogg_opus_64"]),
    )


@pytest.mark.parametrize("label", list(FORMATS))
def test_probe_names_ffmpegs_container_and_codec(label: str, encoded: dict[str, bytes]) -> None:
    fmt, _, _, end_padding = FORMATS[label]
    info = probe(encoded[label])
    assert (info.format, info.subtype) == FFMPEG_NAMES[fmt]
    assert info.rate_hz == (48000 if fmt == "ogg_opus" else RATE_HZ)
    assert info.channels == (2 if fmt == "ogg_vorbis" else 1)  # FFmpeg's Vorbis encoder writes stereo only
    # what the container declares beyond the audio: Opus's pre-skip; ASF's play duration counts the lead-in frame
    # distort.encode adds for FFmpeg's wmav2 decoder and the last frame's padding
    extra_seconds = {"ogg_opus": OPUS_PRE_SKIP / 48000, "wma": 2 * 2048 / RATE_HZ}.get(fmt, end_padding / RATE_HZ)
    assert SECONDS <= info.seconds <= SECONDS + extra_seconds


def test_truncated_wav_decodes_as_the_audio_present(encoded: dict[str, bytes]) -> None:
    """FFmpeg clamps a WAV's data chunk to the bytes present (so did libsndfile): nothing says it was cut."""
    truncated = encoded["wav"][: len(encoded["wav"]) // 2]
    whole, half = decode(encoded["wav"]), decode(truncated)
    assert probe(truncated).seconds == pytest.approx(SECONDS / 2, abs=0.01)
    assert half.size == round(probe(truncated).seconds * ANALYSIS_RATE_HZ)
    np.testing.assert_allclose(half[:-200], whole[: half.size - 200], atol=1e-5)  # the resampler's tail differs


def test_long_stereo_opus_decodes_in_full() -> None:
    song = render_song(seed=22, seconds=20.0, rate_hz=48000)
    out = decode(encode(to_stereo(song, balance_db=2.0), rate_hz=48000, format="ogg_opus", bitrate_kbps=96))
    reference = soxr.resample(song, 48000, ANALYSIS_RATE_HZ)
    assert out.size == reference.size
    last_two_seconds = slice(-2 * ANALYSIS_RATE_HZ, None)
    correlation, lag = aligned_correlation(reference[last_two_seconds], out[last_two_seconds])
    assert correlation > 0.98 and lag == 0


def _remux(source: Path, target: Path, *, options: dict[str, str]) -> None:
    """Copy ``source``'s audio packets into a new .m4a at ``target`` (FFmpeg's "ipod" muxer) with ``options``."""
    with av.open(str(source)) as given, av.open(str(target), "w", format="ipod", options=options) as remuxed:
        stream = remuxed.add_stream_from_template(given.streams.audio[0])
        for packet in given.demux(given.streams.audio[0]):
            if packet.dts is not None:
                packet.stream = stream
                remuxed.mux(packet)


def test_aac_m4a_decodes_from_a_path_with_the_moov_atom_at_either_end(
    encoded: dict[str, bytes], reference: np.ndarray, tmp_path: Path
) -> None:
    moov_last, moov_first = tmp_path / "moov_last.m4a", tmp_path / "moov_first.m4a"
    moov_last.write_bytes(encoded["aac_128"])  # FFmpeg's default MP4 muxing writes the index after the audio
    _remux(moov_last, moov_first, options={"movflags": "+faststart"})
    for path, moov_first_expected in ((moov_last, False), (moov_first, True)):
        data = path.read_bytes()
        assert (data.index(b"moov") < data.index(b"mdat")) == moov_first_expected
    out = decode(moov_first)
    assert np.array_equal(out, decode(moov_last))
    correlation, lag = aligned_correlation(reference, out)
    assert correlation > FORMATS["aac_128"][2] and lag == 0


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
    "truncated_aiff": (_half("aiff"), AudioLimits(), "corrupt"),
    "truncated_m4a": (_half("aac_128"), AudioLimits(), "corrupt"),  # cut before its moov atom
    "truncated_alac": (_half("alac"), AudioLimits(), "corrupt"),
    "truncated_header": (lambda e: e["ogg_vorbis"][:600], AudioLimits(), "corrupt"),
    "too_large": (lambda e: e["mp3_64"], AudioLimits(max_bytes=10_000), "too_large"),
    "too_long": (lambda e: e["wav"], AudioLimits(max_seconds=5.0, min_seconds=1.0), "too_long"),
    "too_short": (lambda e: e["wav"], AudioLimits(min_seconds=7.0), "too_short"),
    "silent": (lambda _: float_wav_bytes(np.zeros(5 * RATE_HZ, np.float32)), AudioLimits(), "silent"),
    "quiet": (
        lambda _: float_wav_bytes((_rng.standard_normal(5 * RATE_HZ) * 10**-3.5).astype(np.float32)),
        AudioLimits(),
        "silent",
    ),
    "nan": (lambda _: float_wav_bytes(np.full(5 * RATE_HZ, np.nan, np.float32)), AudioLimits(), "corrupt"),
    "inf": (
        lambda _: float_wav_bytes(np.r_[np.zeros(RATE_HZ * 3), np.inf].astype(np.float32)),
        AudioLimits(),
        "corrupt",
    ),
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
    assert decode(float_wav_bytes(noise)).size == 5 * ANALYSIS_RATE_HZ


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


@pytest.mark.parametrize("label", ["flac", "alac", "mp3_128", "aac_128", "wma_128"])
def test_a_damaged_spot_is_tolerated_but_a_mostly_damaged_file_is_corrupt(
    label: str, encoded: dict[str, bytes], reference: np.ndarray
) -> None:
    rng = np.random.default_rng(3)
    damaged = bytearray(encoded[label])
    middle = len(damaged) // 2
    damaged[middle : middle + 200] = rng.bytes(200)
    out = decode(bytes(damaged))  # the packets hit are dropped by the demuxer or replaced by silence
    assert abs(out.size - reference.size) <= 0.02 * reference.size
    head = reference.size * 2 // 5  # before the damage, the audio is what it was
    correlation, lag = aligned_correlation(reference[:head], out[:head])
    assert correlation > FORMATS[label][2] and lag == 0
    garbage = bytearray(encoded[label])
    garbage[len(garbage) // 10 :] = rng.bytes(len(garbage) - len(garbage) // 10)
    with pytest.raises(InvalidAudioError) as caught:
        decode(bytes(garbage))
    assert caught.value.reason == "corrupt"


def test_ffmpeg_logs_nothing_to_stderr(encoded: dict[str, bytes], capfd: pytest.CaptureFixture[str]) -> None:
    """Damaged frames make FFmpeg's decoders warn at C level; those lines are switched off, not printed."""
    damaged = bytearray(encoded["mp3_128"])
    damaged[len(damaged) // 2 : len(damaged) // 2 + 300] = bytes(300)
    decode(bytes(damaged))
    with pytest.raises(InvalidAudioError):
        decode(encoded["aac_128"][: len(encoded["aac_128"]) // 2])
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("label", ["flac", "alac", "mp3_64", "aac_128", "ogg_vorbis", "ogg_opus_64", "wma_128"])
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
