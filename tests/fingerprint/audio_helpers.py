"""Helpers shared by the audio tests."""

from __future__ import annotations

import struct

import numpy as np


def aligned_correlation(a: np.ndarray, b: np.ndarray, *, max_lag: int = 2000) -> tuple[float, int]:
    """Pearson correlation of ``a`` and ``b`` at the lag (|lag| ≤ max_lag samples) that maximises it,
    and that lag."""
    n = min(a.size, b.size)
    a, b = a[:n].astype(np.float64), b[:n].astype(np.float64)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    cross = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    lags = np.r_[0 : max_lag + 1, -max_lag:0]
    lag = int(lags[np.argmax(cross[lags])])
    a, b = (a[lag:], b[: n - lag]) if lag >= 0 else (a[: n + lag], b[-lag:])
    return float(np.corrcoef(a, b)[0, 1]), lag


def float_wav_bytes(x: np.ndarray, *, rate_hz: int = 44100) -> bytes:
    """A 32-bit float WAV (IEEE float, format tag 3) of ``x`` — ``(n,)`` or ``(n, channels)`` — written
    as is: samples beyond full scale, NaN and inf are kept, which no encoder in the package writes."""
    frames = np.asarray(x, dtype="<f4")
    frames = frames[:, None] if frames.ndim == 1 else frames
    channels = frames.shape[1]
    data = frames.tobytes()
    fmt = struct.pack("<HHIIHH", 3, channels, rate_hz, rate_hz * 4 * channels, 4 * channels, 32)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks
