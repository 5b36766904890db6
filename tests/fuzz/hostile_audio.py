"""Audio a hostile or careless client sends: files that are cheap in bytes and dear in work, that lie in their
headers, are cut, damaged, or are not audio at all. Made once per process with FFmpeg (PyAV) and numpy."""

from __future__ import annotations

import struct

import numpy as np

from catalog_er.fingerprint.synthetic import encode, render_song

_RATE_HZ = 8_000


def _wav_header(*, rate_hz: int, channels: int, bits: int, data_bytes: int, format_tag: int = 1) -> bytes:
    """A RIFF/WAVE header declaring ``data_bytes`` of audio (which may be a lie)."""
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", min(36 + data_bytes, 2**32 - 1)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, format_tag, channels, rate_hz, min(rate_hz * block, 2**32 - 1),
                          block % 65_536, bits)
            + b"data" + struct.pack("<I", min(data_bytes, 2**32 - 1)))


def _hostile_audio() -> tuple[bytes, ...]:
    song = render_song(seed=1, seconds=6.0, rate_hz=_RATE_HZ)
    lossy_kbps = {"mp3": 32, "aac": 32, "ogg_opus": 24}
    good = {format_name: encode(song, rate_hz=_RATE_HZ, format=format_name, bitrate_kbps=lossy_kbps.get(format_name))
            for format_name in ("wav", "flac", "mp3", "aac", "ogg_opus")}
    quiet_hour = encode(np.zeros(_RATE_HZ * 3_600, np.float32), rate_hz=_RATE_HZ, format="flac")  # ~0.2 MB
    quiet_40_minutes = encode(np.full(_RATE_HZ * 2_400, 1e-4, np.float32), rate_hz=_RATE_HZ, format="flac")
    nan_floats = _wav_header(rate_hz=_RATE_HZ, channels=1, bits=32, data_bytes=4_000, format_tag=3) + (
        np.full(1_000, np.nan, np.float32).tobytes())
    lying_wav = _wav_header(rate_hz=_RATE_HZ, channels=1, bits=16, data_bytes=2**32 - 1) + good["wav"][44:]
    many_channels = _wav_header(rate_hz=_RATE_HZ, channels=65_535, bits=16, data_bytes=1_000) + bytes(1_000)
    odd_rate = _wav_header(rate_hz=1, channels=1, bits=16, data_bytes=2_000) + bytes(2_000)
    cut = [data[: len(data) // 2] for data in good.values()]
    damaged = [data[:200] + bytes(len(data) - 400) + data[-200:] for data in good.values()]
    magic_only = [magic + bytes(64) for magic in (b"RIFF", b"fLaC", b"OggS", b"ID3\x04", b"\x00\x00\x00\x18ftypM4A ")]
    return (*good.values(), quiet_hour, quiet_40_minutes, nan_floats, lying_wav, many_channels, odd_rate, *cut,
            *damaged, *magic_only, b"", b"\x00")


HOSTILE_AUDIO = _hostile_audio()
"""Six kinds: valid short songs in five formats (so the happy path is fuzzed too), an hour of silence and 40 minutes
of near-silence (small FLAC files, long audio), WAVs whose header lies (NaN samples, 4 GB declared, 65,535
channels, 1 Hz), files cut in half or zeroed in the middle, container magic with nothing after it, and nothing."""
