"""Is librosa's spectral front end as fast as ours? (issue 12; the README quotes the result.)

    python tests/benchmarks/bench_spectral_front_end.py [--songs 10] [--seconds 60]

Times, on one thread and in x real time per CPU second over ``--songs`` synthetic songs at 11025 Hz:

- ours: :func:`fingerprint.landmarks.log_spectrogram` (frames, window, float32 rfft, magnitude, log-bin maxima, log);
- ``librosa.stft`` alone with the same FFT size, hop and window (centred frames off), complex64 out;
- ``librosa.stft`` + the same magnitude, log-bin maxima and log as ours (a drop-in replacement);
- ``librosa.feature.chroma_stft`` and ``chroma_cqt`` as used for work profiles (:mod:`fingerprint.work`).

Prints a markdown table. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402  (after the one-thread settings)

from catalog_er.fingerprint import landmarks  # noqa: E402
from catalog_er.fingerprint.synthetic import render_song  # noqa: E402


def librosa_log_spectrogram(samples: np.ndarray) -> np.ndarray:
    """Ours with librosa.stft as the FFT: same frames, window, log bins and log."""
    import librosa

    window = landmarks._window(landmarks.FFT_SIZE)
    spectrum = librosa.stft(samples, n_fft=landmarks.FFT_SIZE, hop_length=landmarks.HOP_SIZE, window=window,
                            center=False).T
    first_fft_bin, log_bins, group_starts = landmarks._log_groups(landmarks.ANALYSIS_RATE_HZ, landmarks.FFT_SIZE)
    magnitude = np.abs(spectrum[:, first_fft_bin : first_fft_bin + len(log_bins)])
    out = np.zeros((len(spectrum), int(log_bins[-1]) + 1), dtype=np.float32)
    out[:, log_bins[group_starts]] = np.maximum.reduceat(magnitude, group_starts, axis=1)
    return np.log(out + 1e-6)


def main() -> None:
    """Render the songs, warm every method up once, then time each over all songs."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--songs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    import librosa

    rate = landmarks.ANALYSIS_RATE_HZ
    songs = [render_song(seed=seed, seconds=args.seconds, rate_hz=rate) for seed in range(args.songs)]
    methods: dict[str, Callable[[np.ndarray], object]] = {
        "ours: landmarks.log_spectrogram (1024/128)": landmarks.log_spectrogram,
        "librosa.stft alone (1024/128, complex64)": lambda y: librosa.stft(
            y, n_fft=landmarks.FFT_SIZE, hop_length=landmarks.HOP_SIZE, center=False),
        "librosa.stft + our log bins (drop-in)": librosa_log_spectrogram,
        "librosa.feature.chroma_stft (2048/512)": lambda y: librosa.feature.chroma_stft(
            y=y, sr=rate, n_fft=2048, hop_length=512, norm=None),
        "librosa.feature.chroma_cqt (hop 512)": lambda y: librosa.feature.chroma_cqt(y=y, sr=rate, hop_length=512),
    }
    np.testing.assert_allclose(librosa_log_spectrogram(songs[0]), landmarks.log_spectrogram(songs[0]), atol=1e-3)
    print("| front end | x real time per CPU second |\n|---|---:|")
    for name, method in methods.items():
        method(songs[0])
        start = time.process_time()
        for song in songs:
            method(song)
        print(f"| {name} | {args.songs * args.seconds / (time.process_time() - start):,.0f} |")


if __name__ == "__main__":
    main()
