"""Seeded compositions (what is played) and performances (when and how loud it is played).

A composition is a list of note events in *beats*: a melody, chords (3–4 voices), a bass line and a drum
pattern, in 4/4, organised in 8-bar sections following a form such as AABA. Every random choice of the
composition is drawn from generators keyed by the song ``seed`` only, so overriding the key or tempo
transposes or re-times the same notes, and a live performance (``performance_seed``) plays the very same
notes with its own micro-timing, tempo drift and dynamics.

Keys are integers ``0..23``: tonic pitch class ``key % 12`` (0 = C), major for ``key < 12``, natural minor
for ``key >= 12``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np

BEATS_PER_BAR: Final = 4
BARS_PER_SECTION: Final = 8
MIN_TEMPO_BPM: Final = 40.0
MAX_TEMPO_BPM: Final = 240.0
DEFAULT_TEMPO_RANGE_BPM: Final = (70.0, 160.0)
N_KEYS: Final = 24

MELODY, CHORDS, BASS = 0, 1, 2
KICK, SNARE, HAT, OPEN_HAT = 0, 1, 2, 3

_MAJOR: Final = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR: Final = np.array([0, 2, 3, 5, 7, 8, 10])
_FORMS: Final = ("AABA", "ABAB", "AABB", "ABAC", "ABCA", "AAB")
# Chord roots as scale degrees (0 = I/i), one chord per bar, played twice per 8-bar section.
_PROGRESSIONS_MAJOR: Final = ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (1, 4, 0, 5), (0, 3, 4, 3), (0, 3, 5, 4))
_PROGRESSIONS_MINOR: Final = ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (5, 6, 0, 0), (0, 4, 5, 3))
# Melody rhythms: note lengths in eighth notes filling one bar.
_RHYTHMS: Final = (
    (2, 2, 2, 2),
    (1, 1, 2, 2, 2),
    (3, 1, 2, 2),
    (2, 1, 1, 4),
    (1, 1, 1, 1, 2, 2),
    (4, 2, 2),
    (2, 2, 4),
    (3, 3, 2),
    (1, 1, 1, 1, 1, 1, 2),
    (6, 2),
    (2, 2, 1, 1, 2),
)
# Bass patterns: (onset, length) in beats within a bar; the second note of a pair may play the fifth.
_BASS_PATTERNS: Final = (
    ((0, 1), (1, 1), (2, 1), (3, 1)),
    ((0, 1.5), (1.5, 0.5), (2, 1.5), (3.5, 0.5)),
    ((0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 0.5), (2.5, 0.5), (3, 0.5), (3.5, 0.5)),
    ((0, 2), (2, 2)),
    ((0, 0.75), (0.75, 0.75), (2, 1), (3, 0.5), (3.5, 0.5)),
)
# Chord rhythms: (onset, length) in beats within a bar.
_CHORD_PATTERNS: Final = (
    ((0, 4),),
    ((0, 2), (2, 2)),
    ((0.5, 0.4), (1.5, 0.4), (2.5, 0.4), (3.5, 0.4)),
    ((0, 1.5), (1.5, 2.5)),
    ((0, 1), (1, 1), (2, 1), (3, 1)),
)


@dataclass(frozen=True)
class NoteEvents:
    """Pitched notes of one song, one row per note, parallel arrays of equal length.

    Attributes:
        onset: float64, start (beats in a composition, seconds in a performance).
        length: float64, held length, same unit as ``onset``.
        pitch: float64, MIDI note number (69 = A4 = 440 Hz).
        velocity: float64 in (0, 1].
        part: int8, :data:`MELODY`, :data:`CHORDS` or :data:`BASS`.
    """

    onset: np.ndarray
    length: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    part: np.ndarray


@dataclass(frozen=True)
class DrumEvents:
    """Drum hits, parallel arrays: ``onset`` (beats or seconds), ``kind`` (int8 :data:`KICK`...), ``velocity``."""

    onset: np.ndarray
    kind: np.ndarray
    velocity: np.ndarray


@dataclass(frozen=True)
class Composition:
    """A song's notes in beats, with the key and tempo it is performed in."""

    key: int
    tempo_bpm: float
    notes: NoteEvents
    drums: DrumEvents
    n_bars: int


def default_key_and_tempo(seed: int) -> tuple[int, float]:
    """The key (``0..23``) and tempo (bpm, 70–160) a song plays in unless overridden."""
    rng = np.random.default_rng([seed, 0x4B45])
    return int(rng.integers(0, N_KEYS)), float(np.round(rng.uniform(*DEFAULT_TEMPO_RANGE_BPM), 1))


def compose(*, seed: int, n_bars: int, key: int, tempo_bpm: float) -> Composition:
    """Write ``n_bars`` bars of the song ``seed`` in ``key`` at ``tempo_bpm`` (onsets in beats)."""
    if n_bars < 1:
        raise ValueError(f"n_bars must be >= 1, got {n_bars!r}")
    if not 0 <= key < N_KEYS:
        raise ValueError(f"key must be in [0, {N_KEYS - 1}], got {key!r}")
    song = np.random.default_rng([seed, 0x534F])
    minor = key >= 12
    scale = _MINOR if minor else _MAJOR
    form = _FORMS[int(song.integers(len(_FORMS)))]
    progressions = _PROGRESSIONS_MINOR if minor else _PROGRESSIONS_MAJOR
    letters = sorted(set(form))
    sections = {
        letter: _section(
            np.random.default_rng([seed, 0x5345, index]),
            progressions,
            chord_style=int(song.integers(len(_CHORD_PATTERNS))),
        )
        for index, letter in enumerate(letters)
    }
    bass_pattern = _BASS_PATTERNS[int(song.integers(len(_BASS_PATTERNS)))]
    order = [form[i % len(form)] for i in range(math.ceil(n_bars / BARS_PER_SECTION))]
    written_bars = len(order) * BARS_PER_SECTION

    def joined(field: str) -> np.ndarray:
        return np.concatenate([getattr(sections[letter], field) for letter in order])

    section_of = np.repeat(np.arange(len(order)), [sections[letter].onset.size for letter in order])
    onset = joined("onset") + section_of * BARS_PER_SECTION * BEATS_PER_BAR
    degree, part = joined("degree"), joined("part")
    tonic = key % 12
    pitch = np.where(part == MELODY, 60.0, 48.0) + tonic + 12 * np.floor_divide(degree, 7) + scale[np.mod(degree, 7)]
    bass = _bass(chord_roots=joined("roots"), pattern=bass_pattern, n_bars=written_bars)
    bass_pitch = 36.0 + np.mod(tonic + scale[np.mod(bass.degree, 7)], 12)  # folded into one octave, C2..B2
    notes = NoteEvents(
        onset=np.concatenate([onset, bass.onset]),
        length=np.concatenate([joined("length"), bass.length]),
        pitch=np.concatenate([pitch, bass_pitch]),
        velocity=np.concatenate([joined("velocity"), bass.velocity]),
        part=np.concatenate([part, np.full(bass.degree.size, BASS)]).astype(np.int8),
    )
    drums = _drums(np.random.default_rng([seed, 0x4452]), n_bars=written_bars)
    keep = notes.onset < n_bars * BEATS_PER_BAR
    notes = NoteEvents(*(getattr(notes, f)[keep] for f in ("onset", "length", "pitch", "velocity", "part")))
    keep_drums = drums.onset < n_bars * BEATS_PER_BAR
    drums = DrumEvents(drums.onset[keep_drums], drums.kind[keep_drums], drums.velocity[keep_drums])
    return Composition(key=key, tempo_bpm=tempo_bpm, notes=notes, drums=drums, n_bars=n_bars)


class _Section(NamedTuple):
    """One 8-bar section's melody and chord notes; onsets/lengths in beats from the section start."""

    degree: np.ndarray  # scale degree relative to the tonic (0 = tonic, 7 = an octave up)
    onset: np.ndarray
    length: np.ndarray
    part: np.ndarray  # MELODY or CHORDS
    velocity: np.ndarray
    roots: np.ndarray  # (8,) chord root degree per bar


class _Bass(NamedTuple):
    degree: np.ndarray
    onset: np.ndarray
    length: np.ndarray
    velocity: np.ndarray


def _section(rng: np.random.Generator, progressions: tuple[tuple[int, ...], ...], *, chord_style: int) -> _Section:
    """One 8-bar section: a call-and-answer melody over a chord progression played twice."""
    roots = np.array(progressions[int(rng.integers(len(progressions)))] * 2)
    if rng.random() < 0.5:  # vary the turnaround so the two halves are not identical
        roots[-1] = int(rng.choice([4, 3, 6]))
    # Melody: one rhythm per bar, a call phrase (bars 0-3) and a varied answer (bars 4-7).
    rhythms = [_RHYTHMS[int(i)] for i in rng.integers(len(_RHYTHMS), size=4)]
    rhythms += [rhythms[i] if rng.random() < 0.6 else _RHYTHMS[int(rng.integers(len(_RHYTHMS)))] for i in range(4)]
    lengths_eighths = np.concatenate([np.asarray(r, dtype=float) for r in rhythms])
    bar_of_note = np.repeat(np.arange(8), [len(r) for r in rhythms])
    starts_eighths = np.concatenate([np.cumsum((0, *r[:-1])) for r in rhythms]) + 8 * bar_of_note
    steps = rng.choice([-3, -2, -1, -1, 0, 1, 1, 2, 3], size=lengths_eighths.size)
    walk = np.clip(np.cumsum(steps) + int(rng.integers(2, 7)), -2, 11)
    on_downbeat = starts_eighths % 8 == 0
    chord_tones = roots[bar_of_note][:, None] + np.array([0, 2, 4, 7, -3, -5])[None, :]
    nearest = chord_tones[np.arange(walk.size), np.argmin(np.abs(chord_tones - walk[:, None]), axis=1)]
    melody_degree = np.where(on_downbeat, nearest, walk)
    sounding = rng.random(walk.size) > 0.08
    melody_velocity = np.clip(0.7 + 0.2 * on_downbeat + rng.normal(0, 0.06, walk.size), 0.3, 1.0)
    # Chords: 3 or 4 voices on the bar's pattern, voiced upward from the root.
    chord_pattern = _CHORD_PATTERNS[chord_style]
    n_voices = 4 if rng.random() < 0.4 else 3
    voice_degrees = np.array([0, 2, 4, 6])[:n_voices]
    hits = np.array(chord_pattern, dtype=float)
    bar_grid = np.repeat(np.arange(8), len(hits))
    hit_grid = np.tile(np.arange(len(hits)), 8)
    chord_onset = np.repeat(bar_grid * BEATS_PER_BAR + hits[hit_grid, 0], n_voices)
    chord_length = np.repeat(hits[hit_grid, 1], n_voices)
    chord_degree = np.repeat(roots[bar_grid], n_voices) + np.tile(voice_degrees, bar_grid.size)
    chord_velocity = np.repeat(np.clip(0.6 + rng.normal(0, 0.05, bar_grid.size), 0.3, 1.0), n_voices)
    degree = np.concatenate([melody_degree[sounding], chord_degree])
    onset = np.concatenate([starts_eighths[sounding] / 2.0, chord_onset])
    length = np.concatenate([lengths_eighths[sounding] / 2.0 * 0.92, chord_length * 0.95])
    part = np.concatenate([np.full(int(sounding.sum()), MELODY), np.full(chord_degree.size, CHORDS)])
    velocity = np.concatenate([melody_velocity[sounding], chord_velocity])
    return _Section(degree, onset, length, part.astype(np.int8), velocity, roots)


def _bass(*, chord_roots: np.ndarray, pattern: tuple[tuple[float, float], ...], n_bars: int) -> _Bass:
    """Bass notes on ``pattern`` every bar: the bar's chord root, alternating with its fifth on 4–5-note patterns."""
    hits = np.array(pattern, dtype=float)
    bars = np.repeat(np.arange(n_bars), len(hits))
    index = np.tile(np.arange(len(hits)), n_bars)
    fifth = (index % 2 == 1) & (len(hits) in (4, 5))
    degree = chord_roots[bars] + np.where(fifth, 4, 0)
    onset = bars * BEATS_PER_BAR + hits[index, 0]
    length = hits[index, 1] * 0.9
    velocity = np.where(index == 0, 0.9, 0.75)
    return _Bass(degree, onset, length, velocity)


def _drums(rng: np.random.Generator, *, n_bars: int) -> DrumEvents:
    """A one-bar 16-step groove (kick, snare, hats) repeated, with a snare fill closing every section."""
    steps = np.arange(16)
    kick = (steps % 8 == 0) | (rng.random(16) < np.where(steps % 2 == 0, 0.18, 0.06))
    kick[4] = kick[12] = False
    half_time = rng.random() < 0.2
    snare = steps == 8 if half_time else (steps == 4) | (steps == 12)
    hat_every = 1 if rng.random() < 0.35 else 2
    hat = steps % hat_every == 0
    open_hat = np.zeros(16, dtype=bool)
    if rng.random() < 0.5:
        open_hat[int(rng.choice([6, 14]))] = True
        hat &= ~open_hat
    grid = np.stack([kick, snare, hat, open_hat])  # (4 kinds, 16 steps)
    accent = np.where(steps % 4 == 0, 1.0, np.where(steps % 2 == 0, 0.8, 0.6))
    kinds, step_of = np.nonzero(np.tile(grid, (1, n_bars)))
    bars, within = np.divmod(step_of, 16)
    onset = bars * BEATS_PER_BAR + within / 4.0
    velocity = np.where(kinds == HAT, accent[within] * 0.8, 0.9) + rng.normal(0, 0.04, kinds.size)
    fill_bars = np.arange(BARS_PER_SECTION - 1, n_bars, BARS_PER_SECTION)
    fill_onset = (fill_bars[:, None] * BEATS_PER_BAR + 3 + np.arange(4)[None, :] / 4.0).ravel()
    return DrumEvents(
        onset=np.concatenate([onset, fill_onset]),
        kind=np.concatenate([kinds, np.full(fill_onset.size, SNARE)]).astype(np.int8),
        velocity=np.clip(np.concatenate([velocity, np.tile([0.55, 0.65, 0.75, 0.9], fill_bars.size)]), 0.2, 1.0),
    )


def perform(composition: Composition, *, performance_seed: int | None, seed: int) -> tuple[NoteEvents, DrumEvents]:
    """Map beats to seconds: a quantised studio take, or a live take with ``performance_seed``.

    A live take keeps every note but plays it with a tempo that drifts smoothly within ±3 % (a random offset
    plus a per-bar random walk), note onsets and releases jittered uniformly within ±30 ms (a chord's voices
    start together), drum hits within ±20 ms, and velocities scaled by 0.7–1.2.
    """
    notes, drums = composition.notes, composition.drums
    seconds_per_beat = 60.0 / composition.tempo_bpm
    if performance_seed is None:
        return (
            NoteEvents(
                notes.onset * seconds_per_beat, notes.length * seconds_per_beat, notes.pitch, notes.velocity, notes.part
            ),
            DrumEvents(drums.onset * seconds_per_beat, drums.kind, drums.velocity),
        )
    rng = np.random.default_rng([seed, 0x4C49, performance_seed])
    n_beats = composition.n_bars * BEATS_PER_BAR + 1
    bar_drift = np.clip(rng.uniform(-0.02, 0.02) + np.cumsum(rng.normal(0, 0.012, composition.n_bars + 2)), -0.03, 0.03)
    beat_drift = np.interp(np.arange(n_beats) / BEATS_PER_BAR, np.arange(bar_drift.size), bar_drift)
    beat_seconds = np.concatenate([[0.0], np.cumsum(seconds_per_beat / (1.0 + beat_drift))])

    def to_seconds(beats: np.ndarray) -> np.ndarray:
        return np.interp(beats, np.arange(beat_seconds.size), beat_seconds)

    # Notes starting together (a chord) share one jitter: key the jitter on the quantised onset and part.
    groups, inverse = np.unique(np.round(notes.onset * 4) * 4 + notes.part, return_inverse=True)
    group_jitter = rng.uniform(-0.03, 0.03, groups.size)
    start = to_seconds(notes.onset) + group_jitter[inverse]
    end = to_seconds(notes.onset + notes.length) + rng.uniform(-0.03, 0.03, notes.onset.size)
    live_notes = NoteEvents(
        onset=np.maximum(start, 0.0),
        length=np.maximum(end - start, 0.05),
        pitch=notes.pitch,
        velocity=np.clip(notes.velocity * rng.uniform(0.7, 1.2, notes.velocity.size), 0.1, 1.0),
        part=notes.part,
    )
    drum_jitter = rng.uniform(-0.02, 0.02, drums.onset.size)
    live_drums = DrumEvents(
        onset=np.maximum(to_seconds(drums.onset) + drum_jitter, 0.0),
        kind=drums.kind,
        velocity=np.clip(drums.velocity * rng.uniform(0.7, 1.2, drums.velocity.size), 0.1, 1.0),
    )
    return live_notes, live_drums
