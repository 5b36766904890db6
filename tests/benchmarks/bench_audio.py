"""Audio fingerprint benchmark: catalog-er's fingerprints beside Chromaprint (``make bench-audio``).

    python tests/benchmarks/bench_audio.py --out bench-out/audio [--recordings 500] [--index-size 10000] [--seed S]

Measures, on seeded synthetic songs (30 s, 44.1 kHz):

1. recall per distortion (encoders, gain, noise, trims, padding, resampling, stereo, speed, tempo), every
   delivery decoded from its bytes by :func:`fingerprint.audio.decode` and verified against the original;
2. false matches over all pairs of distinct recordings and over hard negatives (live re-render, cover,
   another song in the same key and tempo);
3. fingerprinting speed on one core (decode included, and split), MP3 and WAV;
4. search latency and hit rate in an index of ``--index-size`` tracks (filler fingerprints cached under
   ``OUT/cache``);
5. storage per hour of audio;
6. the same with Chromaprint (``fpcalc`` + AcoustID's comparison, see ``chromaprint_peer.py``) when
   ``fpcalc`` is installed, plus a mid-track excerpt, a case where Chromaprint is weak.

Writes ``OUT/results.json`` and ``OUT/results.md`` and prints the markdown. numpy/BLAS are limited to one
thread per process before numpy is imported; the heavy sections use ``--processes`` worker processes.
Not collected by pytest (the file name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line of the benchmark (sizes default to the README's figures)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory (results + cache)")
    parser.add_argument("--recordings", type=int, default=500, help="distinct recordings for recall/false matches")
    parser.add_argument("--index-size", type=int, default=10_000, help="tracks in the search index")
    parser.add_argument("--seed", type=int, default=20261126, help="seed of every song and distortion")
    parser.add_argument("--hard-negatives", type=int, default=100,
                        help="recordings that also get a live re-render, a cover and a same-key-and-tempo song")
    parser.add_argument("--speed-files", type=int, default=50, help="MP3 and WAV files timed for speed")
    parser.add_argument("--excerpts", type=int, default=10, help="200 s songs for the mid-track excerpt case")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--no-chromaprint", action="store_true", help="skip the Chromaprint peer")
    args = parser.parse_args(argv)
    if args.recordings < 2 or args.index_size < args.recordings:
        parser.error(f"need 2 <= --recordings <= --index-size, got {args.recordings} and {args.index_size}")
    for name in ("hard_negatives", "speed_files", "excerpts"):
        if not 0 <= getattr(args, name) <= args.recordings:
            parser.error(f"--{name.replace('_', '-')} must be in [0, --recordings], got {getattr(args, name)}")
    if args.speed_files < 1:
        parser.error("--speed-files must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, pin numpy/BLAS to one thread, then run every section."""
    args = parse_args(argv)
    os.environ.update(ONE_THREAD)
    from bench_audio_run import run  # imported only now: numpy must start with the one-thread settings

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
