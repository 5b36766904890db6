"""Seeded music-like test audio and the distortions deliveries go through. Pure numpy; nothing touches disk.

:func:`render_song` turns a ``seed`` into a song — melody, 3–4-voice chords, bass and drums in a key and
tempo — and renders it with a band of instruments. The same call gives the same samples. Hard negatives for
fingerprinting come from keeping the composition and changing the recording:

- ``performance_seed``: a live take — same notes, its own micro-timing (±30 ms), tempo drift (±3 %),
  dynamics, room reverb and crowd noise;
- ``timbre``: a cover — same notes, other instruments and drum kit;
- different ``seed`` with the same ``key`` and ``tempo_bpm``: another song in the same key and tempo.

The knobs combine: ``timbre`` + ``performance_seed`` is another band playing the song live, the most
realistic cover (a studio cover keeps the original's quantised timing, so it shares more spectral peaks
with it than a live take does).

The distortions (:mod:`fingerprint.synthetic.distort`) and the phase-vocoder time stretch
(:mod:`fingerprint.synthetic.stretch`) are re-exported here; composition lives in
:mod:`fingerprint.synthetic.score`, instruments and rendering in :mod:`fingerprint.synthetic.voice`.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
import soxr
from scipy.signal import oaconvolve

from catalog_er.fingerprint.synthetic.distort import (
    DISTORTIONS,
    DistortionResult,
    DistortionSpec,
    EncodeFormat,
    add_noise,
    change_gain,
    change_speed,
    change_tempo,
    encode,
    pad,
    pink_noise,
    resample,
    to_mono,
    to_stereo,
    trim,
)
from catalog_er.fingerprint.synthetic.score import (
    BASS,
    BEATS_PER_BAR,
    CHORDS,
    MAX_TEMPO_BPM,
    MELODY,
    MIN_TEMPO_BPM,
    N_KEYS,
    compose,
    default_key_and_tempo,
    perform,
)
from catalog_er.fingerprint.synthetic.stretch import time_stretch
from catalog_er.fingerprint.synthetic.voice import make_band, render_drums, render_notes

__all__ = [
    "DISTORTIONS",
    "DistortionResult",
    "DistortionSpec",
    "EncodeFormat",
    "add_noise",
    "change_gain",
    "change_speed",
    "change_tempo",
    "default_timbre",
    "encode",
    "pad",
    "render_song",
    "resample",
    "time_stretch",
    "to_mono",
    "to_stereo",
    "trim",
]

PEAK_DBFS: Final = -3.0
MAX_SECONDS: Final = 3600.0
_SYNTH_MIN_RATE_HZ: Final = 44100  # render at ≥ 44.1 kHz so no harmonic aliases, then resample down
_PART_GAINS: Final = {MELODY: 0.32, CHORDS: 0.12, BASS: 0.38}  # linear, before peak normalisation
_DRUM_GAIN: Final = 0.8
_CROWD_DB: Final = -23.0  # live take: crowd noise RMS relative to the music's
_REVERB_WET: Final = 0.3


def default_timbre(seed: int) -> int:
    """The timbre id (band) a song is played with unless ``timbre`` is given."""
    return int(np.random.default_rng([seed, 0x5442]).integers(0, 2**31))


def render_song(
    *,
    seed: int,
    seconds: float = 30.0,
    rate_hz: int = 44100,
    timbre: int | None = None,
    tempo_bpm: float | None = None,
    key: int | None = None,
    performance_seed: int | None = None,
) -> np.ndarray:
    """Render the song ``seed``.

    Args:
        seed: the composition (form, chords, melody, bass line, groove; default key, tempo and band). ≥ 0.
        seconds: length of the result, in seconds, in (0, 3600].
        rate_hz: sample rate of the result, in Hz, in [8000, 192000].
        timbre: band id (≥ 0) playing the song; default :func:`default_timbre` of ``seed``. Another id = a cover.
        tempo_bpm: tempo in beats per minute, in [40, 240]; default from ``seed`` (70–160).
        key: ``0..23`` — tonic ``key % 12`` (0 = C), major below 12, natural minor from 12; default from
            ``seed``. Changing key transposes every part; crossing major/minor also re-harmonises.
        performance_seed: ``None`` for the quantised studio take; any int ≥ 0 for a live take of it.

    Returns:
        float32 ``(round(seconds * rate_hz),)`` mono, peak at -3 dBFS.
    """
    _check_int("seed", seed)
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
        raise ValueError(f"seconds must be in (0, {MAX_SECONDS:g}], got {seconds!r}")
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, int) or not 8000 <= rate_hz <= 192_000:
        raise ValueError(f"rate_hz must be an int in [8000, 192000], got {rate_hz!r}")
    default_key, default_tempo = default_key_and_tempo(seed)
    key = default_key if key is None else key
    _check_int("key", key, upper=N_KEYS - 1)
    tempo_bpm = default_tempo if tempo_bpm is None else tempo_bpm
    if not (math.isfinite(tempo_bpm) and MIN_TEMPO_BPM <= tempo_bpm <= MAX_TEMPO_BPM):
        raise ValueError(f"tempo_bpm must be in [{MIN_TEMPO_BPM:g}, {MAX_TEMPO_BPM:g}], got {tempo_bpm!r}")
    timbre = default_timbre(seed) if timbre is None else timbre
    _check_int("timbre", timbre)
    if performance_seed is not None:
        _check_int("performance_seed", performance_seed)

    synth_rate = max(rate_hz, _SYNTH_MIN_RATE_HZ)
    n_samples = round(seconds * synth_rate)
    n_bars = math.ceil(seconds * tempo_bpm / 60.0 * 1.04 / BEATS_PER_BAR) + 1  # 4 % spare for live drift
    composition = compose(seed=seed, n_bars=n_bars, key=key, tempo_bpm=float(tempo_bpm))
    notes, drums = perform(composition, performance_seed=performance_seed, seed=seed)
    band = make_band(timbre)
    take = [seed, timbre] + ([] if performance_seed is None else [performance_seed])
    mix = render_drums(
        drums, kit=band.kit, n_samples=n_samples, rate_hz=synth_rate, rng=np.random.default_rng([*take, 0x4452])
    )
    mix *= _DRUM_GAIN
    phases = np.random.default_rng([*take, 0x5048])
    for part, voice in ((MELODY, band.melody), (CHORDS, band.chords), (BASS, band.bass)):
        chosen = notes.part == part
        mix += _PART_GAINS[part] * render_notes(
            voice,
            onset_s=notes.onset[chosen],
            length_s=notes.length[chosen],
            pitch=notes.pitch[chosen],
            velocity=notes.velocity[chosen],
            n_samples=n_samples,
            rate_hz=synth_rate,
            rng=phases,
        )
    if performance_seed is not None:
        mix = _live_room(mix, rate_hz=synth_rate, rng=np.random.default_rng([*take, 0x524F]))
    if synth_rate != rate_hz:
        mix = soxr.resample(mix, synth_rate, rate_hz, quality="HQ")
    peak = float(np.abs(mix).max())
    if peak > 0:
        mix *= 10 ** (PEAK_DBFS / 20) / peak
    return mix.astype(np.float32)


def _live_room(mix: np.ndarray, *, rate_hz: int, rng: np.random.Generator) -> np.ndarray:
    """A live take's acoustics: a decaying-noise room reverb (RT60 0.6–1.4 s) and swelling crowd noise."""
    rt60 = rng.uniform(0.6, 1.4)
    t = np.arange(int(rt60 * rate_hz)) / rate_hz
    response = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60)
    response *= _REVERB_WET / np.sqrt(np.sum(response**2))
    response[0] += 1.0
    wet = oaconvolve(mix, response)[: mix.size]
    crowd = pink_noise(rng, mix.size)
    control = rng.uniform(0.3, 1.0, int(mix.size / rate_hz * 2) + 2)  # a new crowd level every 0.5 s
    crowd *= np.interp(np.arange(mix.size) / rate_hz * 2, np.arange(control.size), control)
    music_rms = float(np.sqrt(np.mean(wet**2))) or 1.0
    return wet + crowd * (music_rms * 10 ** (_CROWD_DB / 20) / float(np.sqrt(np.mean(crowd**2))))


def _check_int(name: str, value: object, *, upper: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if upper is not None and value > upper:
        raise ValueError(f"{name} must be in [0, {upper}], got {value!r}")
