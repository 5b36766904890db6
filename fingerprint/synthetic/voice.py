"""Instrument timbres and vectorized rendering of note and drum events to samples.

A timbre id seeds a whole band: a melody voice, a chord voice, a bass voice and a drum kit. A voice is a
harmonic spectrum split over two single-cycle wavetables — harmonics 1–3 ("body") and 4..n ("brightness",
which decays faster, so a note loses its upper harmonics as it rings) — shaped by an ADSR envelope, with
vibrato on the melody. Spectra differ per timbre in number of harmonics, spectral tilt, odd/even balance
and a formant bump; envelopes differ from plucked to bowed.

Rendering is vectorized, with no per-sample Python: each note contributes a contiguous run of samples; the
runs of a few consecutive notes (~128 Ki samples, so temporaries stay in cache) are concatenated into flat
arrays of local sample indices; oscillator phases are fixed-point integers (exact, no drift, a random start
phase per note); the envelope curves (attack/decay, brightness fade, release, vibrato) are tabulated once per
voice and gathered by sample index; the runs are summed into the output with ``np.bincount``. Drums are
short pre-rendered templates (a few noise variants each) placed at every hit the same way.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from catalog_er.fingerprint.synthetic.score import HAT, KICK, OPEN_HAT, SNARE, DrumEvents

TABLE_BITS: Final = 12
TABLE_SIZE: Final = 1 << TABLE_BITS
_PHASE_BITS: Final = 32  # fixed-point phase: one cycle = 2**32
_RELEASE_TAIL: Final = 1.5  # render a note's release for 1.5x its release time (~ -60 dB)
_DRUM_VARIANTS: Final = 3
_CHUNK_SAMPLES: Final = 1 << 17  # render notes in ~128 Ki-sample chunks: temporaries stay in cache


@dataclass(frozen=True)
class Voice:
    """One pitched instrument.

    Attributes:
        body: float32 ``(TABLE_SIZE,)``, one cycle of harmonics 1–3.
        brightness: float32 ``(TABLE_SIZE,)``, one cycle of harmonics 4..n; fades with ``bright_decay_s``.
        attack_s, decay_s, release_s: envelope times, in seconds (release: time to fall 40 dB).
        sustain: sustain level as a fraction of the peak, in [0, 1].
        bright_decay_s: time constant of the upper harmonics' extra decay, in seconds.
        vibrato_depth: peak frequency deviation as a fraction of the note's frequency (0.004 = ±0.4 %).
        vibrato_hz: vibrato rate, in Hz.
        n_harmonics: number of partials in ``body`` + ``brightness``.
    """

    body: np.ndarray
    brightness: np.ndarray
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float
    bright_decay_s: float
    vibrato_depth: float
    vibrato_hz: float
    n_harmonics: int


@dataclass(frozen=True)
class Band:
    """Everything a timbre id decides: three voices and a drum kit's parameters."""

    melody: Voice
    chords: Voice
    bass: Voice
    kit: dict[str, float]


def make_band(timbre: int) -> Band:
    """The instruments of timbre ``timbre`` (any non-negative int; each id is a different band)."""
    rng = np.random.default_rng([timbre, 0x5449])
    plucked = rng.random() < 0.35
    melody = _voice(
        rng,
        n_harmonics=int(rng.integers(6, 15)),
        attack_s=rng.uniform(0.003, 0.015) if plucked else rng.uniform(0.01, 0.08),
        decay_s=rng.uniform(0.15, 0.6) if plucked else rng.uniform(0.3, 1.5),
        sustain=rng.uniform(0.05, 0.25) if plucked else rng.uniform(0.45, 0.9),
        vibrato_depth=0.0 if plucked else rng.uniform(0.002, 0.008),
    )
    chords = _voice(
        rng,
        n_harmonics=int(rng.integers(4, 11)),
        attack_s=rng.uniform(0.005, 0.2),
        decay_s=rng.uniform(0.4, 2.0),
        sustain=rng.uniform(0.2, 0.8),
        vibrato_depth=0.0,
    )
    bass = _voice(
        rng,
        n_harmonics=int(rng.integers(3, 8)),
        attack_s=rng.uniform(0.003, 0.02),
        decay_s=rng.uniform(0.2, 0.8),
        sustain=rng.uniform(0.3, 0.8),
        vibrato_depth=0.0,
    )
    kit = {
        "kick_start_hz": rng.uniform(90, 170),
        "kick_end_hz": rng.uniform(38, 62),
        "kick_sweep_s": rng.uniform(0.015, 0.05),
        "kick_decay_s": rng.uniform(0.1, 0.3),
        "kick_phase": rng.uniform(0, 2 * np.pi),
        "snare_tone_hz": rng.uniform(160, 250),
        "snare_phase": rng.uniform(0, 2 * np.pi),
        "snare_low_hz": rng.uniform(700, 2000),
        "snare_high_hz": rng.uniform(4500, 9000),
        "snare_decay_s": rng.uniform(0.04, 0.12),
        "hat_low_hz": rng.uniform(5000, 9000),
        "hat_decay_s": rng.uniform(0.01, 0.035),
        "open_hat_decay_s": rng.uniform(0.08, 0.22),
    }
    return Band(melody=melody, chords=chords, bass=bass, kit=kit)


def _voice(
    rng: np.random.Generator, *, n_harmonics: int, attack_s: float, decay_s: float, sustain: float, vibrato_depth: float
) -> Voice:
    k = np.arange(1, n_harmonics + 1, dtype=np.float64)
    amplitude = k ** -rng.uniform(0.6, 1.8) * rng.uniform(0.5, 1.0, n_harmonics)
    if rng.random() < 0.4:  # hollow, clarinet-like: weak even harmonics
        amplitude[1::2] *= rng.uniform(0.05, 0.4)
    formant = rng.uniform(2, max(3, n_harmonics))
    amplitude *= 1.0 + rng.uniform(0, 1.5) * np.exp(-(((k - formant) / 1.5) ** 2))
    amplitude[0] = max(amplitude[0], 0.6 * amplitude.max())  # the fundamental carries the pitch
    phases = rng.uniform(0, 2 * np.pi, n_harmonics)
    cycle = np.arange(TABLE_SIZE) / TABLE_SIZE
    partials = amplitude[:, None] * np.sin(2 * np.pi * k[:, None] * cycle[None, :] + phases[:, None])
    scale = np.abs(partials.sum(axis=0)).max()
    return Voice(
        body=(partials[:3].sum(axis=0) / scale).astype(np.float32),
        brightness=(partials[3:].sum(axis=0) / scale).astype(np.float32),
        attack_s=float(attack_s),
        decay_s=float(decay_s),
        sustain=float(sustain),
        release_s=float(rng.uniform(0.05, 0.35)),
        bright_decay_s=float(rng.uniform(0.08, 0.8)),
        vibrato_depth=float(vibrato_depth),
        vibrato_hz=float(rng.uniform(4.5, 6.5)),
        n_harmonics=n_harmonics,
    )


def render_notes(
    voice: Voice,
    *,
    onset_s: np.ndarray,
    length_s: np.ndarray,
    pitch: np.ndarray,
    velocity: np.ndarray,
    n_samples: int,
    rate_hz: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Sum the notes played on ``voice`` into a float64 ``(n_samples,)`` signal at ``rate_hz``.

    ``onset_s``/``length_s`` are seconds, ``pitch`` MIDI note numbers, ``velocity`` linear gains in (0, 1].
    Each note starts its oscillator at a random phase drawn from ``rng``, as a played instrument does.
    Notes starting at or past the end are dropped; notes ringing past the end are cut. Render at ≥ 44.1 kHz:
    the brightest melody partials reach ~21 kHz.
    """
    start = np.round(onset_s * rate_hz).astype(np.int64)
    held = np.round(length_s * rate_hz).astype(np.int64)
    tail = math.ceil(_RELEASE_TAIL * voice.release_s * rate_hz)
    run = np.minimum(held + tail, n_samples - start)
    keep = run > 0
    order = np.argsort(start[keep], kind="stable")
    start, held, run = start[keep][order], held[keep][order], run[keep][order]
    pitch, velocity = pitch[keep][order], velocity[keep][order]
    start_phase = rng.integers(0, 2**_PHASE_BITS, size=start.size, dtype=np.int64)
    out = np.zeros(n_samples)
    if start.size == 0:
        return out
    tables = _envelope_tables(voice, n=int(run.max()), tail=tail, rate_hz=rate_hz)
    frequency = 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)
    increment = np.round(frequency / rate_hz * 2.0**_PHASE_BITS).astype(np.int64)
    swing = (frequency * voice.vibrato_depth / (2 * np.pi * voice.vibrato_hz) * 2.0**_PHASE_BITS).astype(np.float32)
    chunk_of = (np.cumsum(run) - run) // _CHUNK_SAMPLES  # consecutive notes, ~_CHUNK_SAMPLES samples per chunk
    bounds = np.flatnonzero(np.diff(chunk_of, prepend=-1, append=chunk_of[-1] + 1))
    for first, last in itertools.pairwise(bounds):
        notes = slice(first, last)
        low = int(start[notes].min())
        high = int((start[notes] + run[notes]).max())
        out[low:high] += _render_chunk(
            voice,
            tables,
            start=start[notes] - low,
            held=held[notes],
            run=run[notes],
            increment=increment[notes],
            start_phase=start_phase[notes],
            swing=swing[notes],
            velocity=velocity[notes].astype(np.float32),
            n_samples=high - low,
        )
    return out


def _envelope_tables(voice: Voice, *, n: int, tail: int, rate_hz: int) -> dict[str, np.ndarray]:
    """Per-sample curves every note of ``voice`` shares, indexed by samples since onset (or release)."""
    t = np.arange(n, dtype=np.float64) / rate_hz
    attack = np.minimum(t / voice.attack_s, 1.0)
    decay = voice.sustain + (1 - voice.sustain) * np.exp(-np.maximum(t - voice.attack_s, 0) / voice.decay_s)
    release = np.exp(-np.arange(tail + 1) / rate_hz * (4.6 / voice.release_s))
    release[-1] = 0.0  # index ``tail`` = past the rendered release
    wobble = 1.0 - np.cos(2 * np.pi * voice.vibrato_hz * t)
    return {
        "envelope": (attack * decay).astype(np.float32),
        "bright": np.exp(-t / voice.bright_decay_s).astype(np.float32),
        "release": release.astype(np.float32),
        "wobble": wobble.astype(np.float32),
    }


def _render_chunk(
    voice: Voice,
    tables: dict[str, np.ndarray],
    *,
    start: np.ndarray,
    held: np.ndarray,
    run: np.ndarray,
    increment: np.ndarray,
    start_phase: np.ndarray,
    swing: np.ndarray,
    velocity: np.ndarray,
    n_samples: int,
) -> np.ndarray:
    """Render a few consecutive notes into a float64 ``(n_samples,)`` buffer (starts relative to it)."""
    total = int(run.sum())
    local = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(run) - run, run)
    phase = local * np.repeat(increment, run) + np.repeat(start_phase, run)
    if voice.vibrato_depth > 0:
        # phase of f·(1 + d·sin(2π·v·t)) is f·t + f·d/(2π·v)·(1 − cos(2π·v·t)) cycles
        phase += (np.repeat(swing, run) * tables["wobble"][local]).astype(np.int64)
    index = (phase >> (_PHASE_BITS - TABLE_BITS)) & (TABLE_SIZE - 1)
    since_release = np.clip(local - np.repeat(held, run), 0, tables["release"].size - 1)
    gain = tables["envelope"][local] * tables["release"][since_release] * np.repeat(velocity, run)
    samples = gain * (voice.body[index] + tables["bright"][local] * voice.brightness[index])
    return np.bincount(local + np.repeat(start, run), weights=samples, minlength=n_samples)


def render_drums(
    drums: DrumEvents, *, kit: dict[str, float], n_samples: int, rate_hz: int, rng: np.random.Generator
) -> np.ndarray:
    """Sum every drum hit (onsets in seconds) into a float64 ``(n_samples,)`` signal at ``rate_hz``."""
    templates = _kit_templates(kit, rate_hz=rate_hz, rng=rng)
    out = np.zeros(n_samples)
    start = np.round(drums.onset * rate_hz).astype(np.int64)
    for kind, bank in templates.items():
        chosen = (drums.kind == kind) & (start < n_samples)
        if not chosen.any():
            continue
        variant = rng.integers(0, bank.shape[0], size=int(chosen.sum()))
        positions = start[chosen][:, None] + np.arange(bank.shape[1])[None, :]
        values = drums.velocity[chosen][:, None] * bank[variant]
        inside = positions < n_samples
        out += np.bincount(positions[inside], weights=values[inside], minlength=n_samples)
    return out


def _kit_templates(kit: dict[str, float], *, rate_hz: int, rng: np.random.Generator) -> dict[int, np.ndarray]:
    """``kind → (variants, samples)`` float64 one-shots: a swept sine kick and filtered-noise snare/hats."""

    def times(seconds: float) -> np.ndarray:
        return np.arange(int(seconds * rate_hz)) / rate_hz

    def band_noise(seconds: float, low_hz: float, high_hz: float) -> np.ndarray:
        n = int(seconds * rate_hz)
        spectrum = np.fft.rfft(rng.standard_normal((_DRUM_VARIANTS, n)), axis=1)
        hz = np.fft.rfftfreq(n, 1.0 / rate_hz)
        spectrum *= ((hz >= low_hz) & (hz <= high_hz))[None, :]
        noise = np.fft.irfft(spectrum, n=n, axis=1)
        return noise / np.abs(noise).max(axis=1, keepdims=True)

    t = times(0.45)
    sweep = kit["kick_end_hz"] * t + (kit["kick_start_hz"] - kit["kick_end_hz"]) * kit["kick_sweep_s"] * (
        1 - np.exp(-t / kit["kick_sweep_s"])
    )
    kick = np.sin(2 * np.pi * sweep + kit["kick_phase"]) * np.exp(-t / kit["kick_decay_s"]) * np.minimum(t / 0.001, 1)
    click = band_noise(0.45, 1000, 8000) * np.exp(-t / 0.002)[None, :] * 0.3
    t = times(0.3)
    snare_body = 0.5 * np.sin(2 * np.pi * kit["snare_tone_hz"] * t + kit["snare_phase"]) * np.exp(-t / 0.04)
    snare_noise = band_noise(0.3, kit["snare_low_hz"], kit["snare_high_hz"]) * np.exp(-t / kit["snare_decay_s"])
    nyquist = rate_hz / 2 - 1
    t_hat = times(0.12)
    hat = band_noise(0.12, kit["hat_low_hz"], nyquist) * np.exp(-t_hat / kit["hat_decay_s"])
    t_open = times(0.5)
    open_hat = band_noise(0.5, kit["hat_low_hz"], nyquist) * np.exp(-t_open / kit["open_hat_decay_s"])
    return {
        KICK: 0.9 * (kick[None, :] + click),
        SNARE: 0.35 * (snare_body[None, :] + snare_noise),
        HAT: 0.16 * hat,
        OPEN_HAT: 0.14 * open_hat,
    }
