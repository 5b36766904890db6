"""Deliveries of a real song: every format a distributor sends, every distortion, made with the ffmpeg CLI.

A delivery is a *recipe* — a distortion (an ffmpeg filter chain on the shipped file, or samples prepared
with numpy for the ones ffmpeg has no exact filter for: white noise at a set SNR and the time-shuffle) —
encoded in a *format* (codec + container). ffmpeg runs as ``ffmpeg -nostdin -loglevel error``. Compressed
deliveries are cached as files under ``OUT/cache/deliveries-<digest>/<song sha256>/`` (the digest covers
this module and the ffmpeg build); PCM ones (WAV, AIFF) are made again on demand, as cheap as a copy.
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from real_music import Song

_HERE = Path(__file__).resolve()
_FFMPEG = ("ffmpeg", "-nostdin", "-loglevel", "error", "-y")


@dataclass(frozen=True)
class Format:
    """A delivery format: file extension and ffmpeg codec options."""

    name: str
    extension: str
    codec: tuple[str, ...]
    cached: bool = True


FORMATS = {f.name: f for f in (
    Format("wav", "wav", ("-c:a", "pcm_s16le"), cached=False),
    Format("aiff", "aiff", ("-c:a", "pcm_s16be"), cached=False),
    Format("flac", "flac", ("-c:a", "flac", "-sample_fmt", "s16")),
    Format("alac", "m4a", ("-c:a", "alac", "-sample_fmt", "s16p")),
    Format("mp3", "mp3", ("-c:a", "libmp3lame", "-b:a", "128k")),
    Format("aac", "m4a", ("-c:a", "aac", "-b:a", "128k")),
    Format("vorbis", "ogg", ("-c:a", "libvorbis", "-q:a", "4")),
    Format("opus", "opus", ("-c:a", "libopus", "-b:a", "96k")),
    Format("wma", "wma", ("-c:a", "wmav2", "-b:a", "128k")),
)}
"""WAV, AIFF, FLAC and ALAC (M4A) at 16 bits,
MP3 128k, AAC 128k (M4A), Ogg Vorbis (q4, ~128k), Opus 96k, WMA v2 128k."""


@dataclass(frozen=True)
class Distortion:
    """A change to the song before encoding. ``filters(song)`` gives the ffmpeg ``-af`` chain (empty: none);
    ``numpy`` names a sample-level change made in :func:`_numpy_samples` instead."""

    name: str
    family: str
    af: str = ""
    numpy: str = ""
    speed: float = 1.0

    def filters(self, song: Song) -> str:
        """The filter chain for ``song`` (placeholders: ``{rate}`` native rate, ``{fast_rate}`` the rate the
        samples are relabelled with for a speed change, ``{end}`` and ``{mid}`` seconds)."""
        return self.af.format(rate=song.rate_hz, fast_rate=round(song.rate_hz * self.speed),
                              end=max(song.seconds - 10.0, 1.0),
                              mid=max(song.seconds / 2 - 15.0, 0.0))


def _speed(percent: int) -> Distortion:
    return Distortion(f"speed_{percent:+d}%", "speed (pitch + tempo)", "asetrate={fast_rate},aresample={rate}",
                      speed=1 + percent / 100)


def _tempo(percent: int) -> Distortion:
    return Distortion(f"tempo_{percent:+d}%", "tempo only", f"atempo={1 + percent / 100}")


PLAIN = Distortion("transcode", "transcode")
DISTORTIONS = {d.name: d for d in (
    PLAIN,
    Distortion("gain_+6dB", "gain", "volume=6dB"),
    Distortion("gain_-6dB", "gain", "volume=-6dB"),
    Distortion("noise_20dB_snr", "noise", numpy="noise_20"),
    Distortion("noise_10dB_snr", "noise", numpy="noise_10"),
    Distortion("trim_start_10s", "trim", "atrim=start=10,asetpts=PTS-STARTPTS"),
    Distortion("trim_end_10s", "trim", "atrim=end={end}"),
    Distortion("resample_22050Hz", "resample", "aresample=22050"),
    Distortion("resample_48000Hz", "resample", "aresample=48000"),
    Distortion("stereo_to_mono", "channels", "aformat=channel_layouts=mono"),
    Distortion("mono_to_stereo", "channels", "aformat=channel_layouts=mono,aformat=channel_layouts=stereo"),
    *(_speed(p) for p in (-3, -2, -1, 1, 2, 3)),
    *(_tempo(p) for p in (-5, -2, 2, 5)),
    Distortion("excerpt_30s_middle", "excerpt", "atrim=start={mid}:duration=30,asetpts=PTS-STARTPTS"),
)}
"""Distortions that keep the recording: every delivery of these must verify as the same recording."""
HARD_NEGATIVES = {d.name: d for d in (
    Distortion("reversed", "hard negative", "areverse"),
    Distortion("time_shuffled", "hard negative", numpy="shuffle"),
)}
"""Deliveries made from the song that are *not* the recording: they must never verify as it."""
SHUFFLE_SEGMENT_SECONDS = (2.0, 5.0)


def _digest() -> str:
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=False).stdout
    return hashlib.sha256(_HERE.read_bytes() + version.split("\n", 1)[0].encode()).hexdigest()[:10]


class DeliveryError(RuntimeError):
    """ffmpeg could not make a delivery (the message carries the command's stderr)."""


def _seed(song: Song, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{song.sha256}/{name}".encode()).digest()[:8], "little")


def decode_pcm(song: Song) -> np.ndarray:
    """The shipped file as float32 ``(n, channels)`` at its native rate (ffmpeg's decoder)."""
    completed = subprocess.run([*_FFMPEG, "-i", song.path, "-f", "f32le", "-c:a", "pcm_f32le", "-"],
                               capture_output=True, check=False)
    if completed.returncode != 0:
        raise DeliveryError(f"ffmpeg cannot decode {song.path}: {completed.stderr.decode(errors='replace')}")
    return np.frombuffer(completed.stdout, np.float32).reshape(-1, song.channels)


def _numpy_samples(song: Song, distortion: Distortion) -> np.ndarray:
    """White Gaussian noise at ``noise_<snr>`` dB SNR over the whole song, or the song cut into 2–5 s segments
    put in a seeded random order (``shuffle``)."""
    samples = decode_pcm(song)
    rng = np.random.default_rng(_seed(song, distortion.name))
    if distortion.numpy.startswith("noise_"):
        snr_db = float(distortion.numpy.removeprefix("noise_"))
        signal_rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
        noise = rng.standard_normal(samples.shape).astype(np.float32) * signal_rms * 10 ** (-snr_db / 20)
        return np.clip(samples + noise, -1.0, 1.0)
    if distortion.numpy == "shuffle":
        low, high = (int(s * song.rate_hz) for s in SHUFFLE_SEGMENT_SECONDS)
        bounds = [0]
        while bounds[-1] < len(samples):
            bounds.append(bounds[-1] + int(rng.integers(low, high + 1)))
        segments = [samples[a:b] for a, b in itertools.pairwise(bounds)]
        return np.concatenate([segments[i] for i in rng.permutation(len(segments))])
    raise ValueError(f"unknown numpy distortion {distortion.numpy!r} of {distortion.name}")


def _encode(song: Song, distortion: Distortion, fmt: Format, target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_audio_real_") as directory:
        if distortion.numpy:
            source = Path(directory) / "input.wav"
            sf.write(source, _numpy_samples(song, distortion), song.rate_hz, subtype="FLOAT")
            command = [*_FFMPEG, "-i", str(source)]
        else:
            command = [*_FFMPEG, "-i", song.path]
            chain = distortion.filters(song)
            command += ["-af", chain] if chain else []
        partial = target.with_name(f"partial.{target.name}")
        completed = subprocess.run([*command, "-vn", "-map_metadata", "-1", *fmt.codec, str(partial)],
                                   capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        partial.unlink(missing_ok=True)
        raise DeliveryError(f"ffmpeg failed on {song.song_id} {distortion.name} {fmt.name}: {completed.stderr}")
    partial.rename(target)


class Deliveries:
    """Makes (or finds in the cache) a song's delivery files; ``scratch`` holds the uncached ones."""

    def __init__(self, cache_dir: Path, scratch: Path) -> None:
        self.cache_dir = cache_dir / f"deliveries-{_digest()}"
        self.scratch = scratch

    def path(self, song: Song, distortion: Distortion, fmt: Format) -> tuple[Path, bool]:
        """``(file, came_from_cache)``; the caller removes uncached files (:meth:`release`)."""
        folder = self.cache_dir / song.sha256[:16] if fmt.cached else self.scratch
        target = folder / f"{distortion.name}.{fmt.name}.{fmt.extension}"
        if fmt.cached and target.exists():
            return target, True
        folder.mkdir(parents=True, exist_ok=True)
        _encode(song, distortion, fmt, target)
        return target, False

    @staticmethod
    def release(path: Path, fmt: Format) -> None:
        """Delete an uncached (PCM) delivery once it has been measured."""
        if not fmt.cached:
            path.unlink(missing_ok=True)
