"""fingerprint.synthetic: seeded songs, their hard negatives, and distortions that do what they claim."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ, decode, probe
from catalog_er.fingerprint.synthetic import (
    DISTORTIONS,
    add_noise,
    change_gain,
    change_speed,
    change_tempo,
    default_timbre,
    encode,
    pad,
    render_song,
    resample,
    to_mono,
    to_stereo,
    trim,
)
from catalog_er.fingerprint.synthetic.distort import pink_noise
from catalog_er.fingerprint.synthetic.score import (
    BASS,
    CHORDS,
    DEFAULT_TEMPO_RANGE_BPM,
    HAT,
    KICK,
    MELODY,
    SNARE,
    compose,
    default_key_and_tempo,
    perform,
)
from catalog_er.fingerprint.synthetic.voice import make_band
from tests.fingerprint.audio_helpers import aligned_correlation

RATE_HZ = 44100
SECONDS = 8.0
PEAK = 10 ** (-3 / 20)


@pytest.fixture(scope="module")
def original() -> np.ndarray:
    return render_song(seed=7, seconds=SECONDS)


@pytest.fixture(scope="module")
def long_song() -> np.ndarray:
    return render_song(seed=8, seconds=12.0)


def chroma(x: np.ndarray, rate_hz: int = RATE_HZ) -> np.ndarray:
    """Unit-norm 12-bin pitch-class energy of ``x`` (300 Hz–2 kHz), bin 0 = C."""
    y = soxr.resample(x, rate_hz, ANALYSIS_RATE_HZ)
    frames = np.lib.stride_tricks.sliding_window_view(y, 4096)[::1024] * np.hanning(4096)
    power = (np.abs(np.fft.rfft(frames, axis=1)) ** 2).mean(axis=0)
    hz = np.fft.rfftfreq(4096, 1.0 / ANALYSIS_RATE_HZ)
    band = (hz > 300) & (hz < 2000)  # above the drums' pitched bodies (kick sweep, snare tone)
    pitch_class = np.round(12 * np.log2(hz[band] / 440.0) + 69).astype(int) % 12
    energy = np.bincount(pitch_class, weights=power[band], minlength=12)
    return energy / np.linalg.norm(energy)


def dominant_hz(x: np.ndarray, rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), 1 << 21))
    return float(np.fft.rfftfreq(1 << 21, 1.0 / rate_hz)[np.argmax(spectrum)])


def tone(hz: float, *, seconds: float = 4.0, rate_hz: int = RATE_HZ) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate_hz)) / rate_hz)).astype(np.float32)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    clean64 = clean.astype(np.float64)
    return float(10 * np.log10(np.sum(clean64**2) / np.sum((noisy.astype(np.float64) - clean64) ** 2)))


# --- songs -------------------------------------------------------------------------------------------------


def test_render_song_is_deterministic_with_the_promised_shape(original: np.ndarray) -> None:
    assert original.dtype == np.float32 and original.shape == (round(SECONDS * RATE_HZ),)
    assert np.abs(original).max() == pytest.approx(PEAK, rel=1e-4)
    assert np.array_equal(original, render_song(seed=7, seconds=SECONDS))
    live = render_song(seed=7, seconds=4.0, performance_seed=3)
    assert np.array_equal(live, render_song(seed=7, seconds=4.0, performance_seed=3))
    assert render_song(seed=7, seconds=2.5, rate_hz=22050).shape == (round(2.5 * 22050),)


def test_songs_are_busy_and_not_clipped(original: np.ndarray) -> None:
    rms_db = 20 * np.log10(np.sqrt(np.mean(original.astype(np.float64) ** 2)))
    assert -25.0 < rms_db < -6.0
    frames = original[: original.size // 4410 * 4410].reshape(-1, 4410)  # 100 ms frames
    assert (np.sqrt(np.mean(frames**2, axis=1)) > 1e-3).all()  # no silent gaps


@pytest.mark.parametrize(
    ("variant", "kwargs"),
    [
        ("live", {"seed": 7, "performance_seed": 1}),
        ("another live", {"seed": 7, "performance_seed": 2}),
        ("cover", {"seed": 7, "timbre": 12345}),
        ("same key and tempo", {"seed": 8}),
        ("other song", {"seed": 9}),
    ],
)
def test_hard_negatives_are_different_recordings(original: np.ndarray, variant: str, kwargs: dict) -> None:
    if variant == "same key and tempo":
        key, tempo = default_key_and_tempo(7)
        kwargs = {**kwargs, "key": key, "tempo_bpm": tempo}
    other = render_song(seconds=SECONDS, **kwargs)
    assert aligned_correlation(original, other, max_lag=4000)[0] < 0.5, variant


def test_live_take_and_cover_keep_the_composition(original: np.ndarray) -> None:
    reference = chroma(original)
    other_song = float(reference @ chroma(render_song(seed=9, seconds=SECONDS)))
    # a cover's other harmonic spectra reweigh the pitch classes more than a live take's room and crowd do
    for kwargs, floor in (({"performance_seed": 1}, 0.85), ({"performance_seed": 2}, 0.85), ({"timbre": 12345}, 0.75)):
        similarity = float(reference @ chroma(render_song(seed=7, seconds=SECONDS, **kwargs)))
        assert similarity > max(floor, other_song + 0.2), kwargs


def test_key_override_transposes(original: np.ndarray) -> None:
    key, tempo = default_key_and_tempo(7)
    up_two = (key % 12 + 2) % 12 + 12 * (key >= 12)  # same mode, two semitones up
    before = compose(seed=7, n_bars=16, key=key, tempo_bpm=tempo).notes
    after = compose(seed=7, n_bars=16, key=up_two, tempo_bpm=tempo).notes
    assert np.array_equal(before.onset, after.onset)
    assert (np.mod(after.pitch - before.pitch, 12) == 2).all()
    transposed = chroma(render_song(seed=7, seconds=SECONDS, key=up_two))
    rolled = float(np.roll(chroma(original), 2) @ transposed)
    assert rolled > 0.95
    assert rolled > float(chroma(original) @ transposed)


def test_defaults_cover_the_promised_ranges() -> None:
    draws = [default_key_and_tempo(seed) for seed in range(200)]
    keys, tempos = np.array([k for k, _ in draws]), np.array([t for _, t in draws])
    assert set(keys) <= set(range(24)) and len(set(keys)) > 15
    assert DEFAULT_TEMPO_RANGE_BPM[0] <= tempos.min() and tempos.max() <= DEFAULT_TEMPO_RANGE_BPM[1]
    assert tempos.max() - tempos.min() > 60
    assert len({default_timbre(seed) for seed in range(50)}) == 50


def test_composition_has_melody_chords_bass_and_drums() -> None:
    song = compose(seed=3, n_bars=16, key=5, tempo_bpm=120.0)
    notes, drums = song.notes, song.drums
    for part in (MELODY, CHORDS, BASS):
        assert (notes.part == part).sum() >= 16
    chord_onsets = notes.onset[notes.part == CHORDS]
    _, voices = np.unique(chord_onsets, return_counts=True)
    assert set(voices) <= {2, 3, 4}
    assert ((notes.pitch[notes.part == BASS] >= 36) & (notes.pitch[notes.part == BASS] <= 47)).all()
    assert notes.pitch[notes.part == MELODY].mean() > notes.pitch[notes.part == CHORDS].mean()
    assert {KICK, SNARE, HAT} <= set(drums.kind.tolist())
    assert notes.onset.max() < 16 * 4 and drums.onset.max() < 16 * 4


def test_live_performance_moves_onsets_within_the_stated_bounds() -> None:
    song = compose(seed=3, n_bars=16, key=5, tempo_bpm=100.0)
    studio, studio_drums = perform(song, performance_seed=None, seed=3)
    live, live_drums = perform(song, performance_seed=4, seed=3)
    assert np.array_equal(studio.pitch, live.pitch) and np.array_equal(studio.part, live.part)
    assert np.allclose(studio_drums.onset * 100.0 / 60.0 * 4, np.round(studio_drums.onset * 100.0 / 60.0 * 4))
    moved = np.abs(live.onset - studio.onset)
    assert moved.max() > 0.005
    assert (moved <= 0.03 * studio.onset + 0.031).all()  # ±3 % drift accumulated + ±30 ms jitter
    assert not np.allclose(live.velocity, studio.velocity)
    assert np.abs(live_drums.onset - studio_drums.onset).max() > 0.005


def test_timbres_are_different_bands() -> None:
    first, second = make_band(1), make_band(2)
    assert not np.allclose(first.melody.body, second.melody.body)
    assert first.kit != second.kit


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seed": -1},
        {"seed": 1, "key": 24},
        {"seed": 1, "tempo_bpm": 300.0},
        {"seed": 1, "seconds": 0.0},
        {"seed": 1, "rate_hz": 1000},
        {"seed": 1, "timbre": -2},
        {"seed": 1, "performance_seed": 1.5},
    ],
)
def test_render_song_validates(kwargs: dict) -> None:
    name = next(k for k in kwargs if k != "seed") if len(kwargs) > 1 else "seed"
    with pytest.raises(ValueError, match=name):
        render_song(**kwargs)


# --- distortions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("color", ["white", "pink"])
@pytest.mark.parametrize("target_db", [20.0, 10.0, 5.0])
def test_add_noise_hits_the_snr(original: np.ndarray, color: str, target_db: float) -> None:
    noisy = add_noise(original, snr_db=target_db, seed=1, color=color)
    assert noisy.dtype == np.float32
    assert snr_db(original, noisy) == pytest.approx(target_db, abs=0.5)
    assert np.array_equal(noisy, add_noise(original, snr_db=target_db, seed=1, color=color))
    assert not np.array_equal(noisy, add_noise(original, snr_db=target_db, seed=2, color=color))


def test_pink_noise_has_equal_power_per_octave() -> None:
    noise = pink_noise(np.random.default_rng(0), 1 << 18)
    power = np.abs(np.fft.rfft(noise)) ** 2
    hz = np.fft.rfftfreq(noise.size, 1.0 / RATE_HZ)
    octave = [power[(hz >= low) & (hz < 2 * low)].sum() for low in (250, 1000, 4000)]
    assert np.ptp(10 * np.log10(octave)) < 1.0


def test_change_gain(original: np.ndarray) -> None:
    quieter = change_gain(original, db=-10.0)
    level = 20 * np.log10(np.sqrt(np.mean(quieter.astype(np.float64) ** 2) / np.mean(original.astype(np.float64) ** 2)))
    assert level == pytest.approx(-10.0, abs=0.01)
    louder = change_gain(original, db=6.0)
    assert np.abs(louder).max() == 1.0  # -3 dBFS peaks pushed to +3 dBFS are clipped


def test_trim_and_pad(original: np.ndarray) -> None:
    trimmed = trim(original, rate_hz=RATE_HZ, start_seconds=2.0, end_seconds=1.0)
    assert np.array_equal(trimmed, original[2 * RATE_HZ : original.size - RATE_HZ])
    silent = pad(original, rate_hz=RATE_HZ, start_seconds=3.0, end_seconds=0.5)
    assert silent.size == original.size + 3.5 * RATE_HZ
    assert not silent[: 3 * RATE_HZ].any() and np.array_equal(
        silent[3 * RATE_HZ : 3 * RATE_HZ + original.size], original
    )
    hiss = pad(original, rate_hz=RATE_HZ, start_seconds=3.0, noise_dbfs=-70.0, seed=1)
    assert 20 * np.log10(np.sqrt(np.mean(hiss[: 3 * RATE_HZ].astype(np.float64) ** 2))) == pytest.approx(-70, abs=0.5)
    with pytest.raises(ValueError, match="leaves nothing"):
        trim(original, rate_hz=RATE_HZ, start_seconds=5.0, end_seconds=5.0)


def test_resample_keeps_duration_and_pitch() -> None:
    out = resample(tone(1000.0), from_hz=RATE_HZ, to_hz=22050)
    assert out.size == 2 * 22050 * 2
    assert dominant_hz(out, 22050) == pytest.approx(1000.0, abs=0.5)


def test_stereo_round_trip(original: np.ndarray) -> None:
    stereo = to_stereo(original)
    assert stereo.shape == (original.size, 2) and np.array_equal(to_mono(stereo), original)
    balanced = to_stereo(original, balance_db=3.0)
    level = 20 * np.log10(np.abs(balanced[:, 1]).max() / np.abs(balanced[:, 0]).max())
    assert level == pytest.approx(3.0, abs=0.01)


@pytest.mark.parametrize("factor", [1.02, 0.98])
def test_change_speed_shifts_tempo_and_pitch(factor: float) -> None:
    source = tone(1000.0)
    out = change_speed(source, factor=factor)
    assert abs(out.size - source.size / factor) <= 1
    assert dominant_hz(out[RATE_HZ:-RATE_HZ], RATE_HZ) == pytest.approx(1000.0 * factor, rel=1e-3)


@pytest.mark.parametrize("factor", [1.02, 0.98, 1.25])
def test_change_tempo_keeps_pitch(factor: float) -> None:
    source = tone(440.0)
    out = change_tempo(source, rate_hz=RATE_HZ, factor=factor)
    assert out.size == round(source.size / factor)
    assert dominant_hz(out[RATE_HZ:-RATE_HZ], RATE_HZ) == pytest.approx(440.0, rel=0.01)
    assert np.sqrt(np.mean(out[RATE_HZ:-RATE_HZ] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_change_tempo_keeps_a_song_recognisable(original: np.ndarray) -> None:
    stretched = change_tempo(original, rate_hz=RATE_HZ, factor=1.02)
    assert float(chroma(original) @ chroma(stretched)) > 0.97
    back = change_tempo(stretched, rate_hz=RATE_HZ, factor=1 / 1.02)

    def log_spectrogram(x: np.ndarray) -> np.ndarray:
        y = soxr.resample(x, RATE_HZ, ANALYSIS_RATE_HZ)
        frames = np.lib.stride_tricks.sliding_window_view(y, 1024)[::256] * np.hanning(1024)
        return np.log(np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-6)

    a, b = log_spectrogram(original), log_spectrogram(back)
    rows = min(len(a), len(b))
    assert np.corrcoef(a[:rows].ravel(), b[:rows].ravel())[0, 1] > 0.9


@pytest.mark.parametrize(
    ("fmt", "kbps", "channels", "tolerance"),
    [
        ("mp3", 64, 1, 0.06),
        ("mp3", 128, 2, 0.06),
        ("ogg_opus", 64, 1, 0.06),
        ("ogg_opus", 128, 2, 0.06),
        ("aac", 64, 1, 0.1),  # FFmpeg's AAC encoder runs a little over its target
        ("aac", 128, 2, 0.1),
        ("wma", 128, 2, 0.1),  # wmav2 takes bitrates in coarse steps: 128 → 138 kbps
    ],
)
def test_encode_hits_the_bitrate(long_song: np.ndarray, fmt: str, kbps: int, channels: int, tolerance: float) -> None:
    signal = long_song if channels == 1 else to_stereo(long_song)
    data = encode(signal, rate_hz=RATE_HZ, format=fmt, bitrate_kbps=kbps)
    info = probe(data)
    assert info.channels == channels
    assert len(data) * 8 / info.seconds / 1000 == pytest.approx(kbps, rel=tolerance)


@pytest.mark.parametrize(
    ("fmt", "end_padding"), [("wav", 0), ("aiff", 0), ("flac", 0), ("alac", 0), ("ogg_vorbis", 2048)]
)
def test_encode_without_bitrate(original: np.ndarray, fmt: str, end_padding: int) -> None:
    info = probe(encode(original, rate_hz=RATE_HZ, format=fmt))
    assert info.rate_hz == RATE_HZ and 0 <= info.frames - original.size <= end_padding
    with pytest.raises(ValueError, match="bitrate"):
        encode(original, rate_hz=RATE_HZ, format=fmt, bitrate_kbps=128)


@pytest.mark.parametrize("fmt", ["wav", "aiff", "flac", "alac", "mp3", "aac", "ogg_vorbis", "ogg_opus", "wma"])
@pytest.mark.parametrize(("rate_hz", "channels"), [(22050, 1), (48000, 2)])
def test_encode_writes_every_format_at_common_rates(fmt: str, rate_hz: int, channels: int) -> None:
    song = render_song(seed=9, seconds=2.5, rate_hz=rate_hz)
    info = probe(encode(song if channels == 1 else to_stereo(song), rate_hz=rate_hz, format=fmt))
    assert info.rate_hz == (48000 if fmt == "ogg_opus" else rate_hz)
    assert info.channels == (2 if fmt == "ogg_vorbis" else channels)  # FFmpeg's Vorbis encoder is stereo only
    assert decode(encode(song, rate_hz=rate_hz, format=fmt)).size >= 2.5 * ANALYSIS_RATE_HZ - 1


def test_encode_validates(original: np.ndarray) -> None:
    with pytest.raises(ValueError, match="format"):
        encode(original, rate_hz=RATE_HZ, format="m4a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rate_hz"):
        encode(original, rate_hz=96000, format="wma")  # wmav2 stops at 48 kHz
    with pytest.raises(ValueError, match="bitrate_kbps"):
        encode(original, rate_hz=RATE_HZ, format="aac", bitrate_kbps=4)
    with pytest.raises(ValueError, match="mono or stereo"):
        encode(np.stack([original] * 3, axis=1), rate_hz=RATE_HZ, format="flac")
    with pytest.raises(ValueError, match="bitrate_kbps"):
        encode(original, rate_hz=RATE_HZ, format="mp3", bitrate_kbps=500)
    with pytest.raises(ValueError, match="bitrate_kbps"):
        encode(original, rate_hz=RATE_HZ, format="ogg_opus", bitrate_kbps=2)
    with pytest.raises(ValueError, match="rate_hz"):
        encode(original, rate_hz=96000, format="mp3")  # MPEG audio stops at 48 kHz


EXPECTED_DISTORTIONS = [
    "mp3_64", "mp3_128", "opus_64", "vorbis", "gain_-10db", "gain_+6db", "noise_snr_20db", "noise_snr_10db",
    "noise_snr_5db", "trim_start_10s", "trim_end_10s", "pad_start_10s", "resample_22050", "resample_48000",
    "stereo", "speed_+2%", "speed_-2%", "tempo_+2%", "tempo_-2%",
]  # fmt: skip


def test_distortion_table_lists_exactly_the_benchmark() -> None:
    assert list(DISTORTIONS) == EXPECTED_DISTORTIONS
    assert all(spec.name == name for name, spec in DISTORTIONS.items())


@pytest.mark.parametrize("name", EXPECTED_DISTORTIONS)
def test_each_distortion_yields_decodable_audio_of_the_expected_length(long_song: np.ndarray, name: str) -> None:
    audio, rate_hz = DISTORTIONS[name](long_song, RATE_HZ, 3)
    expected_seconds = 12.0 * {
        "trim_start_10s": 2 / 12, "trim_end_10s": 2 / 12, "pad_start_10s": 22 / 12,
        "speed_+2%": 1 / 1.02, "speed_-2%": 1 / 0.98, "tempo_+2%": 1 / 1.02, "tempo_-2%": 1 / 0.98,
    }.get(name, 1.0)  # fmt: skip
    if isinstance(audio, bytes):
        assert probe(audio).rate_hz == rate_hz
        samples = decode(audio)
        assert samples.size / ANALYSIS_RATE_HZ == pytest.approx(expected_seconds, abs=0.01)
    else:
        assert audio.dtype == np.float32 and np.isfinite(audio).all()
        assert audio.shape[0] / rate_hz == pytest.approx(expected_seconds, abs=1e-3)
        assert audio.ndim == (2 if name == "stereo" else 1)
    assert rate_hz == {"resample_22050": 22050, "resample_48000": 48000, "opus_64": 48000}.get(name, RATE_HZ)
