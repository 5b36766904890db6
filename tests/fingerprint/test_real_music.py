"""Real music: two full-length songs from a Debian package verify as themselves after delivery, not as each other.

The songs are the MP3s of Debian's ``asc-music`` (GPL-2+, 22.05 kHz stereo, 4.8 and 5.4 min), which
``make test`` installs with apt-get. Without them this test fails — it does not skip — and says how to
install them. Deliveries are made in-process (libsndfile encoders) from the songs' first 150 s (to keep the
test fast): an Ogg Vorbis transcode, a FLAC at −6 dB and a WAV missing its first 10 s, each decoded from its
bytes by the real decode path and verified against the whole shipped song.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from catalog_er.fingerprint.audio import decode
from catalog_er.fingerprint.match import verify
from catalog_er.fingerprint.signature import Fingerprint, fingerprint_samples
from catalog_er.fingerprint.synthetic import encode

PACKAGE = "asc-music"
"""Debian package of the songs (``make test`` installs it; keep the Makefile's TEST_MUSIC_PACKAGE equal)."""
SONG_FILES = ("machine_wars.mp3", "time_to_strike.mp3")
NATIVE_RATE_HZ = 22050
TRIM_SECONDS = 10
DELIVERY_SECONDS = 150


def _installed_song(name: str) -> Path:
    try:
        listing = subprocess.run(["dpkg", "-L", PACKAGE], capture_output=True, text=True, check=False)
        problem = listing.stderr.strip() or f"it lists no {name}"
        paths = [Path(line) for line in listing.stdout.splitlines() if line.endswith(f"/{name}")]
    except FileNotFoundError:
        problem, paths = "dpkg is not available: not a Debian system", []
    if not paths or not paths[0].is_file():
        pytest.fail(f"the real-music test needs {name} from the Debian package {PACKAGE}, which is not installed "
                    f"(dpkg -L: {problem}). `make test` installs it with apt-get (as root, with the Debian archive "
                    f"reachable); by hand: apt-get install -y {PACKAGE}")
    return paths[0]


class Song:
    """A shipped song: its file, its first 150 s at the native rate (mono) and the whole song's fingerprint."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.native = decode(path, rate_hz=NATIVE_RATE_HZ)[: DELIVERY_SECONDS * NATIVE_RATE_HZ]
        self.fingerprint = fingerprint_samples(decode(path))


@pytest.fixture(scope="module")
def songs() -> list[Song]:
    """Both songs, decoded and fingerprinted once."""
    return [Song(_installed_song(name)) for name in SONG_FILES]


def _delivered(data: bytes) -> Fingerprint:
    return fingerprint_samples(decode(data))


DELIVERIES: dict[str, Callable[[np.ndarray], bytes]] = {
    "ogg_vorbis_transcode": lambda x: encode(x, rate_hz=NATIVE_RATE_HZ, format="ogg_vorbis"),
    "flac_gain_-6dB": lambda x: encode(x * 10 ** (-6 / 20), rate_hz=NATIVE_RATE_HZ, format="flac"),
    "wav_first_10s_trimmed": lambda x: encode(x[TRIM_SECONDS * NATIVE_RATE_HZ:], rate_hz=NATIVE_RATE_HZ, format="wav"),
}


@pytest.mark.parametrize("delivery", list(DELIVERIES))
def test_a_delivery_of_a_real_song_verifies_as_the_same_recording(songs: list[Song], delivery: str) -> None:
    for song in songs:
        result = verify(_delivered(DELIVERIES[delivery](song.native)), song.fingerprint)
        assert result.is_match, f"{delivery} of {song.path.name} did not verify: {result}"
        expected_offset = TRIM_SECONDS if delivery == "wav_first_10s_trimmed" else 0.0
        assert result.offset_seconds == pytest.approx(expected_offset, abs=0.1)  # codec delays are < 0.1 s
        assert result.time_scale == pytest.approx(1.0, abs=0.001)


def test_two_different_real_songs_do_not_verify_as_one(songs: list[Song]) -> None:
    first, second = songs
    trimmed = _delivered(DELIVERIES["wav_first_10s_trimmed"](first.native))
    for query, reference in ((first.fingerprint, second.fingerprint), (second.fingerprint, first.fingerprint),
                             (trimmed, second.fingerprint)):
        result = verify(query, reference)
        assert not result.is_match, f"distinct songs {first.path.name} and {second.path.name} matched: {result}"
