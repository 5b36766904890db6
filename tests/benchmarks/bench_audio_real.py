"""Real-music audio benchmark: Debian-packaged songs delivered in every format, distorted with ffmpeg.

    python tests/benchmarks/bench_audio_real.py --out bench-out/audio-real [--songs N] [--processes 2]

``make bench-audio-real`` installs the corpus packages, ffmpeg and fpcalc with apt-get (see
``real_music.py``) and runs this. Measured, with the code as it is (``fingerprint.audio.decode`` →
``fingerprint_samples`` → ``match.verify``), every delivery verified against the song's shipped file:

1. recall per distortion × format: every format for the plain transcode, every distortion in
   ``--distortion-formats`` (default WAV and MP3: the full cross product costs ~4× the encoding time on two
   cores); a delivery that fails to decode is a miss, listed with its reason per format;
2. hard negatives — the song reversed and time-shuffled (2–5 s segments) — and, apart, the songs' stems
   (other recordings of the same song, time-aligned with the mix) against the mix;
3. false matches over all pairs of distinct songs and of every delivery against every other song;
4. cost per format: decode, fingerprint and verification CPU seconds (``time.process_time`` in the worker
   process) as × real time, fpcalc's CPU (child process) beside it;
5. the same verdicts from Chromaprint (``fpcalc`` + AcoustID's rule, ``chromaprint_peer.py``).

Writes ``OUT/results.json`` and ``OUT/results.md`` and prints the markdown; delivered files are cached
under ``OUT/cache``; ``--report-only`` rewrites the markdown from ``results.json``. Not collected by pytest
(the file name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench_audio import ONE_THREAD


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line of the benchmark."""
    from bench_audio_real_deliveries import DISTORTIONS, FORMATS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output directory (results + cache)")
    parser.add_argument("--songs", type=int, default=0, help="only the first N songs of the corpus (0: all)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes")
    parser.add_argument("--formats", default=",".join(FORMATS), help="formats of the plain transcode")
    parser.add_argument("--distortion-formats", default="wav,mp3", help="formats every distortion is made in")
    parser.add_argument("--no-chromaprint", action="store_true", help="skip the Chromaprint peer")
    parser.add_argument("--report-only", action="store_true",
                        help="measure nothing: rewrite OUT/results.md from OUT/results.json")
    args = parser.parse_args(argv)
    args.formats = [f for f in args.formats.split(",") if f]
    args.distortion_formats = [f for f in args.distortion_formats.split(",") if f]
    unknown = sorted(set(args.formats + args.distortion_formats) - set(FORMATS))
    if unknown or not args.formats or not args.distortion_formats:
        parser.error(f"formats must be a non-empty comma-separated subset of {list(FORMATS)}; unknown: {unknown}")
    if args.songs < 0 or args.processes < 1:
        parser.error(f"need --songs >= 0 and --processes >= 1, got {args.songs} and {args.processes}")
    args.distortions = list(DISTORTIONS)
    return args


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, pin numpy/BLAS to one thread, then measure."""
    os.environ.update(ONE_THREAD)
    args = parse_args(argv)
    if args.report_only:
        from bench_audio_real_report import markdown

        report = markdown(json.loads((args.out / "results.json").read_text()))
        (args.out / "results.md").write_text(report)
        print(report)
        return 0
    from bench_audio_real_run import run  # numpy starts only now, with the one-thread settings

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
