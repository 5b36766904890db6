"""fingerprint.work: other recordings of a song (live, cover, other key and tempo, re-recording) are the same
work; unrelated songs in the same key and tempo are not; librosa is imported only when a profile is made."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ
from catalog_er.fingerprint.synthetic import default_timbre, render_song
from catalog_er.fingerprint.synthetic.score import default_key_and_tempo
from catalog_er.fingerprint.work import (
    ANALYSIS_SECONDS,
    MIN_BEATS,
    SAME_WORK_THRESHOLD,
    WorkProfile,
    _qmax,
    is_same_work,
    same_work_score,
    work_profile,
)

SONG = 2  # key 10 (B flat major), 100.7 bpm
SECONDS = 45.0


def render(**arguments: object) -> np.ndarray:
    return render_song(seconds=SECONDS, rate_hz=ANALYSIS_RATE_HZ, **arguments)  # type: ignore[arg-type]


def transposed(key: int, semitones: int) -> int:
    return (key % 12 + semitones) % 12 + 12 * (key >= 12)


@pytest.fixture(scope="module")
def original_audio() -> np.ndarray:
    return render(seed=SONG)


@pytest.fixture(scope="module")
def original(original_audio: np.ndarray) -> WorkProfile:
    return work_profile(original_audio)


KEY, TEMPO = default_key_and_tempo(SONG)
OTHER_RECORDINGS = {
    "live take": {"seed": SONG, "performance_seed": 1},
    "cover, other band live": {"seed": SONG, "timbre": default_timbre(SONG) + 1, "performance_seed": 2},
    "cover, +2 semitones, 8 % faster": {"seed": SONG, "timbre": default_timbre(SONG) + 2, "performance_seed": 3,
                                        "key": transposed(KEY, 2), "tempo_bpm": TEMPO * 1.08},
    "re-recording, 6 % slower": {"seed": SONG, "tempo_bpm": TEMPO * 0.94},
}
UNRELATED_SAME_KEY_AND_TEMPO = {
    "studio": {"seed": 11, "key": KEY, "tempo_bpm": TEMPO},
    "live": {"seed": 12, "key": KEY, "tempo_bpm": TEMPO, "performance_seed": 1},
}


@pytest.mark.parametrize("name", OTHER_RECORDINGS)
def test_another_recording_of_the_song_is_the_same_work(original: WorkProfile, name: str) -> None:
    score = same_work_score(original, work_profile(render(**OTHER_RECORDINGS[name])))
    assert is_same_work(score), f"{name}: {score:.3f} < {SAME_WORK_THRESHOLD}"


@pytest.mark.parametrize("name", UNRELATED_SAME_KEY_AND_TEMPO)
def test_an_unrelated_song_in_the_same_key_and_tempo_is_not(original: WorkProfile, name: str) -> None:
    score = same_work_score(original, work_profile(render(**UNRELATED_SAME_KEY_AND_TEMPO[name])))
    assert not is_same_work(score), f"{name}: {score:.3f} >= {SAME_WORK_THRESHOLD}"


def test_a_copy_scores_one_and_the_score_is_symmetric(original: WorkProfile) -> None:
    assert same_work_score(original, original) == pytest.approx(1.0)
    other = work_profile(render(**OTHER_RECORDINGS["live take"]))
    assert same_work_score(original, other) == same_work_score(other, original)


def test_a_transposed_profile_scores_as_the_untransposed_one(original: WorkProfile) -> None:
    """Key invariance: rotating one song's pitch classes (a transposition) does not change the score."""
    other = work_profile(render(**UNRELATED_SAME_KEY_AND_TEMPO["studio"]))
    expected = same_work_score(original, other)
    for shift in (1, 5, 11):
        rotated = WorkProfile(np.roll(other.chroma, shift, axis=1), other.tempo_bpm, other.analysed_seconds)
        assert same_work_score(original, rotated) == pytest.approx(expected, abs=1e-12)


def test_profile_is_compact_deterministic_and_beat_synchronous(
    original_audio: np.ndarray, original: WorkProfile
) -> None:
    again = work_profile(original_audio.copy())
    np.testing.assert_array_equal(again.chroma, original.chroma)
    assert original.chroma.dtype == np.uint8 and original.chroma.shape[1] == 12
    sounding = original.chroma.any(axis=1)
    assert (original.chroma[sounding].max(axis=1) == 255).all()
    assert original.tempo_bpm == pytest.approx(TEMPO, rel=0.06)
    # one row per beat, plus the stretches before the first and after the last beat
    assert abs(original.n_beats - SECONDS * TEMPO / 60) <= 3
    assert original.analysed_seconds == pytest.approx(SECONDS)


def test_only_the_first_analysis_seconds_are_analysed() -> None:
    seconds = ANALYSIS_SECONDS + 10
    t = np.arange(round(seconds * ANALYSIS_RATE_HZ)) / ANALYSIS_RATE_HZ
    pulses = (np.sin(2 * np.pi * 220 * t) * (np.mod(t, 0.5) < 0.1)).astype(np.float32)
    profile = work_profile(pulses)
    assert profile.analysed_seconds == pytest.approx(ANALYSIS_SECONDS)
    assert profile.tempo_bpm == pytest.approx(120, rel=0.03)
    assert profile.n_beats <= ANALYSIS_SECONDS * 2 + 2


def test_silence_gives_an_unusable_profile_that_cannot_be_scored(original: WorkProfile) -> None:
    silent = work_profile(np.zeros(10 * ANALYSIS_RATE_HZ, np.float32))
    assert not silent.is_usable and silent.n_sounding_beats < MIN_BEATS
    with pytest.raises(ValueError, match="too few beats with sound"):
        same_work_score(original, silent)
    assert not work_profile(np.zeros(100, np.float32)).is_usable  # shorter than one analysis frame


@pytest.mark.parametrize(
    ("samples", "rate_hz", "message"),
    [
        (np.zeros((2, 4000), np.float32), ANALYSIS_RATE_HZ, "1-D float array, got shape"),
        (np.zeros(4000, np.int16), ANALYSIS_RATE_HZ, "dtype int16"),
        (np.full(4000, np.nan, np.float32), ANALYSIS_RATE_HZ, "NaN"),
        (np.zeros(4000, np.float32), 4000, "rate_hz must be an int in"),
    ],
)
def test_bad_input_is_refused_with_the_bad_value(samples: np.ndarray, rate_hz: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        work_profile(samples, rate_hz=rate_hz)


def test_qmax_is_librosas_recurrence_quantification() -> None:
    """Our vectorised Qmax gives librosa.sequence.rqa's best score (knight moves, gap onset 5, extension 0.5)."""
    import librosa.sequence

    rng = np.random.default_rng(7)
    plots = [rng.random((int(n), int(m))) < rng.uniform(0.05, 0.6) for n, m in rng.integers(2, 40, (25, 2))]
    for plot in plots:
        expected = librosa.sequence.rqa(plot.astype(float), gap_onset=5.0, gap_extend=0.5, knight_moves=True,
                                        backtrack=False).max()
        assert _qmax(plot[None])[0] == pytest.approx(expected)


def test_importing_the_module_or_the_cli_does_not_import_librosa() -> None:
    code = ("import sys, catalog_er.fingerprint.work, catalog_er.service.cli; "
            "sys.exit(sorted(m for m in sys.modules if m.split('.')[0] in ('librosa', 'numba')) or 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
