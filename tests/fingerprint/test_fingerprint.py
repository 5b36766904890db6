"""Fingerprints on synthesized music: determinism, robustness to distortions, no false matches, search."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from catalog_er.fingerprint.audio import ANALYSIS_RATE_HZ, decode
from catalog_er.fingerprint.index import FingerprintIndex
from catalog_er.fingerprint.landmarks import find_peaks, log_spectrogram
from catalog_er.fingerprint.match import AudioRelation, _refit, is_match, is_usable, relation, verify
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples, signatures
from catalog_er.fingerprint.synthetic import render_song
from catalog_er.fingerprint.synthetic.distort import DISTORTIONS
from catalog_er.fingerprint.synthetic.negatives import reverse, shuffle_segments

RATE_HZ = 44100
SECONDS = 20.0


def _fingerprint(audio: np.ndarray | bytes, rate_hz: int = RATE_HZ) -> Fingerprint:
    if isinstance(audio, bytes):
        return fingerprint_samples(decode(audio))
    mono = audio if audio.ndim == 1 else audio.mean(axis=1)
    return fingerprint_samples(soxr.resample(mono.astype(np.float32), rate_hz, ANALYSIS_RATE_HZ).astype(np.float32))


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    return render_song(seed=11, seconds=SECONDS, rate_hz=RATE_HZ)


@pytest.fixture(scope="module")
def original(song: np.ndarray) -> Fingerprint:
    return _fingerprint(song)


def test_fingerprint_is_deterministic_and_dense(song: np.ndarray, original: Fingerprint) -> None:
    again = _fingerprint(song)
    assert np.array_equal(again.hashes, original.hashes)
    assert np.array_equal(again.frames, original.frames)
    assert original.hashes_per_second > 30
    assert original.hashes.dtype == np.uint32 and (np.diff(original.frames) >= 0).all()


@pytest.mark.parametrize("distortion", list(DISTORTIONS))
def test_every_catalog_distortion_still_matches(song: np.ndarray, original: Fingerprint, distortion: str) -> None:
    audio, rate_hz = DISTORTIONS[distortion](song, RATE_HZ, 3)
    result = verify(_fingerprint(audio, rate_hz), original)
    assert result.is_match, f"{distortion}: score {result.score}, share {result.share:.3f}"
    if distortion.startswith(("speed", "tempo")):
        factor = 1.02 if "+" in distortion else 0.98
        assert result.time_scale == pytest.approx(factor, abs=0.01)


def test_trimmed_start_reports_the_offset(song: np.ndarray, original: Fingerprint) -> None:
    audio, _ = DISTORTIONS["trim_start_10s"](song, RATE_HZ, 0)
    result = verify(_fingerprint(audio), original)
    assert result.offset_seconds == pytest.approx(10.0, abs=0.1)


def test_different_songs_live_takes_and_covers_do_not_match(original: Fingerprint) -> None:
    others = [render_song(seed=seed, seconds=SECONDS, rate_hz=RATE_HZ) for seed in range(100, 106)]
    live = render_song(seed=11, seconds=SECONDS, rate_hz=RATE_HZ, performance_seed=5)
    cover = render_song(seed=11, seconds=SECONDS, rate_hz=RATE_HZ, performance_seed=6, timbre=424242)
    for audio in [*others, live, cover]:
        assert not verify(_fingerprint(audio), original).is_match


def test_verification_is_symmetric_in_its_verdict(song: np.ndarray, original: Fingerprint) -> None:
    noisy = _fingerprint(DISTORTIONS["noise_snr_10db"](song, RATE_HZ, 1)[0])
    other = _fingerprint(render_song(seed=12, seconds=SECONDS, rate_hz=RATE_HZ))
    assert verify(noisy, original).is_match and verify(original, noisy).is_match  # a copy, from either side
    assert not verify(other, original).is_match and not verify(original, other).is_match  # another song


def test_index_finds_the_right_track_among_many() -> None:
    songs = [render_song(seed=seed, seconds=12.0, rate_hz=11025) for seed in range(40)]
    prints = [fingerprint_samples(s) for s in songs]
    index = FingerprintIndex.build([f"t{i}" for i in range(40)], prints)
    query_audio, rate_hz = DISTORTIONS["noise_snr_10db"](songs[17], 11025, 0)
    hits = index.search(_fingerprint(query_audio, rate_hz))
    assert hits and hits[0].track_id == "t17"
    assert len(index) == 40
    assert index.postings == sum(len(np.unique(p.hashes)) for p in prints)  # one posting per distinct hash


def test_signatures_are_minhash_rows_per_fingerprint(original: Fingerprint) -> None:
    matrix = signatures([original, original])
    assert matrix.shape == (2, 64) and np.array_equal(matrix[0], matrix[1])


def test_verdict_rule_asks_more_of_a_time_scaled_line() -> None:
    # The same weak evidence: accepted on the unit line (a noisy copy), refused at +2% time scale unless the
    # aligned hashes cover most of the overlap (a copy) rather than a stretch of it (a live take).
    assert is_match(score=30, share=0.015, distinctiveness=5.0, time_scale=1.0002, overlap_coverage=0.3)
    # …but not when the aligned hashes sit in a second or two of the overlap (a chance alignment)
    assert not is_match(score=30, share=0.015, distinctiveness=5.0, time_scale=1.0002, overlap_coverage=0.08)
    assert not is_match(score=30, share=0.015, distinctiveness=5.0, time_scale=1.02, overlap_coverage=0.9)
    assert not is_match(score=80, share=0.035, distinctiveness=5.0, time_scale=1.02, overlap_coverage=0.5)
    assert is_match(score=80, share=0.035, distinctiveness=5.0, time_scale=1.02, overlap_coverage=0.8)
    # a copy of a song that repeats a section aligns at two offsets: a clear share still matches
    assert not is_match(score=40, share=0.05, distinctiveness=1.2, time_scale=1.0, overlap_coverage=1.0)
    assert is_match(score=400, share=0.3, distinctiveness=1.2, time_scale=1.0, overlap_coverage=1.0)
    assert not is_match(score=11, share=0.5, distinctiveness=9.0, time_scale=1.0, overlap_coverage=1.0)


def test_refit_never_leaves_the_searched_time_scales() -> None:
    # inliers bunched in two frames fit any slope; the coarse line must be kept
    query = np.array([100.0, 100.0, 100.0, 101.0, 101.0, 101.0])
    reference = np.array([150.0, 150.0, 150.0, 152.1, 152.1, 152.1])  # a least-squares slope of 2.1
    scale, _ = _refit(query, reference, 1.0)
    assert scale == 1.0


def test_relation_levels_tell_copies_from_partial_alignments_and_hard_negatives(
        song: np.ndarray, original: Fingerprint) -> None:
    def relation_of(audio: np.ndarray | bytes, rate_hz: int = RATE_HZ) -> AudioRelation:
        return relation(_fingerprint(audio, rate_hz), original)

    assert relation_of(DISTORTIONS["mp3_128"](song, RATE_HZ, 0)[0]) is AudioRelation.ALIGNED
    assert relation_of(DISTORTIONS["trim_start_10s"](song, RATE_HZ, 0)[0]) is AudioRelation.ALIGNED  # half of it
    assert relation_of(*DISTORTIONS["speed_+2%"](song, RATE_HZ, 0)) is AudioRelation.PARTIAL
    longer = render_song(seed=11, seconds=60.0, rate_hz=RATE_HZ)
    longer_print = _fingerprint(longer)
    assert relation(original, longer_print) is AudioRelation.PARTIAL  # its first 20 s: an excerpt
    assert relation(longer_print, original) is AudioRelation.PARTIAL  # either way round (repeats beyond it)
    # every frame of the original is there, and it is still another recording
    assert relation_of(reverse(song)) is AudioRelation.NO_ALIGNMENT
    for seed in range(3):  # 2-5 s pieces of a minute; a re-cut in a few long pieces is not caught (see match.py)
        shuffled = _fingerprint(shuffle_segments(longer, rate_hz=RATE_HZ, seed=seed))
        assert relation(shuffled, longer_print) is AudioRelation.NO_ALIGNMENT
    other_take = render_song(seed=11, seconds=SECONDS, rate_hz=RATE_HZ, performance_seed=5)
    assert relation_of(other_take) is AudioRelation.NO_ALIGNMENT


def test_too_little_audio_to_judge_is_unusable_not_a_mismatch(song: np.ndarray, original: Fingerprint) -> None:
    short = _fingerprint(song[: 4 * RATE_HZ])
    assert is_usable(original) and not is_usable(short)
    assert relation(short, original) is AudioRelation.UNUSABLE
    tone = np.sin(2 * np.pi * 440.0 * np.arange(10 * RATE_HZ) / RATE_HZ).astype(np.float32)
    drone = _fingerprint(tone)
    assert drone.hashes_per_second < 10 and relation(drone, original) is AudioRelation.UNUSABLE


def test_shuffled_segments_keep_every_sample_and_move_every_piece(song: np.ndarray) -> None:
    shuffled = shuffle_segments(song, rate_hz=RATE_HZ, seed=4)
    assert shuffled.shape == song.shape and np.isclose(np.sort(shuffled, axis=None), np.sort(song, axis=None)).all()
    assert not np.array_equal(shuffled[: 2 * RATE_HZ], song[: 2 * RATE_HZ])
    assert np.array_equal(reverse(reverse(song)), song)


def test_peaks_found_a_chunk_at_a_time_equal_those_of_one_pass() -> None:
    """find_peaks filters whole seconds at a time to bound its memory: the chunking must not change a peak."""
    spectrogram = log_spectrogram(render_song(seed=11, seconds=40.0, rate_hz=ANALYSIS_RATE_HZ))
    whole = find_peaks(spectrogram, chunk_seconds=10_000)
    assert len(whole.frames) > 500
    for chunk_seconds in (1, 3, 7):
        chunked = find_peaks(spectrogram, chunk_seconds=chunk_seconds)
        np.testing.assert_array_equal(chunked.frames, whole.frames)
        np.testing.assert_array_equal(chunked.bins, whole.bins)
    with pytest.raises(ValueError, match="chunk_seconds"):
        find_peaks(spectrogram, chunk_seconds=0)
