"""The real-music corpus: full-length songs that Debian packages ship under free licences.

    python tests/benchmarks/real_music.py [--install] [--out corpus.json]

Rebuilding it: ``apt-get install -y`` the packages of :data:`PACKAGES` (``make bench-audio-real`` does) and
run this module; it lists what the installed packages hold. Per package it takes the files ``dpkg -L``
lists with an audio extension (Ogg, MP3, WAV, FLAC, Opus; tracker modules and MIDI are not recordings),
resolves symbolic links, keeps files of at least :data:`MIN_SONG_SECONDS` (jingles and sound effects are
shorter) and drops content duplicates (the same bytes under several names: Drascula ships one set of tracks
linked from each language's folder). A Frets on Fire song folder holds ``song.ogg`` (the mix the game plays)
and ``guitar.ogg`` / ``rhythm.ogg`` stems (the parts the player triggers, time-aligned with the mix): the
mix is the song's recording, a stem is listed apart as another recording of the same song. Durations come
from ``ffprobe`` (Debian ``ffmpeg``), licences from ``/usr/share/doc/<package>/copyright``. The order is
deterministic (package, then path).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

PACKAGES = ("fretsonfire-songs-muldjord", "fretsonfire-songs-sectoid", "fb-music-high", "asc-music",
            "drascula-music", "boswars-data")
"""Debian packages shipping music under free licences (fb-music-high holds one tracker module: no recording)."""
TOOL_PACKAGES = ("ffmpeg", "libchromaprint-tools")
"""Debian packages the benchmark runs: ffmpeg/ffprobe for the deliveries, fpcalc for the Chromaprint peer."""
AUDIO_EXTENSIONS = frozenset({".ogg", ".oga", ".mp3", ".wav", ".flac", ".opus", ".m4a", ".aiff", ".aif"})
MIN_SONG_SECONDS = 60.0
"""Shorter files are jingles, loops and effects, not songs."""
STEM_NAMES = frozenset({"guitar", "rhythm", "drums", "bass", "vocals"})
"""File stems of Frets on Fire part tracks; the folder's ``song`` file is the mix."""
_DOC = Path("/usr/share/doc")
_KNOWN_LICENCE_TEXTS = (
    ("Creative Commons Attribution ShareAlike licence 3.0", "CC-BY-SA-3.0"),
    ("Creative Commons Attribution-ShareAlike 3.0", "CC-BY-SA-3.0"),
    ("Permission is hereby granted, free of charge", "Expat (MIT)"),
    ("GNU General Public License, version 2 or later", "GPL-2+"),
    ("either version 2 of the License, or", "GPL-2+"),
)


class CorpusError(RuntimeError):
    """The corpus cannot be built (a package or a tool is missing); the message says what to install."""


@dataclass(frozen=True)
class Song:
    """One recording of the corpus.

    Attributes:
        song_id: stable short name, ``<package>/<file stem or folder>`` (unique in the corpus).
        package: the Debian package that ships the file.
        path: the file's real path (symbolic links resolved).
        licence: the licence of the package's music, from its ``copyright`` file.
        seconds: duration by ffprobe.
        rate_hz, channels: the stream's sample rate and channel count.
        sha256: digest of the file's bytes (what duplicates are found by, and what caches are keyed by).
        kind: ``"song"`` (a full mix) or ``"stem"`` (a part of the song ``mix_id``).
        mix_id: for a stem, the ``song_id`` of its folder's mix; empty for a song.
    """

    song_id: str
    package: str
    path: str
    licence: str
    seconds: float
    rate_hz: int
    channels: int
    sha256: str
    kind: str = "song"
    mix_id: str = ""


def install_command(packages: tuple[str, ...] = PACKAGES + TOOL_PACKAGES) -> list[str]:
    """The apt-get command line that installs the corpus and the tools."""
    return ["apt-get", "install", "-y", "-qq", *packages]


def package_files(package: str) -> list[Path]:
    """Every file ``dpkg -L`` lists for an installed package, in dpkg's order."""
    completed = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise CorpusError(f"Debian package {package} is not installed ({completed.stderr.strip()}); "
                          f"run: {' '.join(install_command())}")
    return [Path(line) for line in completed.stdout.splitlines() if line.startswith("/")]


def licence(package: str) -> str:
    """Licence of a package's content: the ``Files: *`` stanza of a machine-readable copyright file, else the
    first known licence text found in it, else a pointer to the file."""
    path = _DOC / package / "copyright"
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"unknown (no {path})"
    stanza = re.search(r"^Files:[ \t]*\*[ \t]*$.*?^License:[ \t]*(\S[^\n]*)$", text, flags=re.MULTILINE | re.DOTALL)
    if stanza:
        return stanza.group(1).strip()
    flat = " ".join(text.split())
    for phrase, name in _KNOWN_LICENCE_TEXTS:
        if phrase.lower() in flat.lower():
            return name
    return f"see {path}"


def probe_stream(path: Path) -> tuple[float, int, int]:
    """``(seconds, rate_hz, channels)`` of an audio file's first audio stream, by ffprobe."""
    completed = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels:"
         "format=duration", "-of", "json", str(path)], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise CorpusError(f"ffprobe cannot read {path}: {completed.stderr.strip()}")
    info = json.loads(completed.stdout)
    stream = info["streams"][0]
    return float(info["format"]["duration"]), int(stream["sample_rate"]), int(stream["channels"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _song_id(package: str, path: Path) -> str:
    name = path.parent.name if path.stem == "song" else path.stem
    if path.stem in STEM_NAMES:
        name = f"{path.parent.name}:{path.stem}"
    return f"{package}/{re.sub(r'[^A-Za-z0-9_.:-]+', '_', name)}"


def build_corpus(packages: tuple[str, ...] = PACKAGES, *, min_seconds: float = MIN_SONG_SECONDS) -> list[Song]:
    """Songs then stems of the installed ``packages``, deterministic, one entry per distinct file content."""
    seen: set[str] = set()
    songs: list[Song] = []
    for package in packages:
        package_licence = licence(package)
        paths = sorted({p.resolve() for p in package_files(package) if p.suffix.lower() in AUDIO_EXTENSIONS})
        for path in paths:
            if not path.is_file():
                continue
            digest = _sha256(path)
            if digest in seen:
                continue
            seconds, rate_hz, channels = probe_stream(path)
            if seconds < min_seconds:
                continue
            seen.add(digest)
            stem = path.stem in STEM_NAMES and (path.parent / "song.ogg").exists()
            songs.append(Song(
                song_id=_song_id(package, path), package=package, path=str(path), licence=package_licence,
                seconds=round(seconds, 3), rate_hz=rate_hz, channels=channels, sha256=digest,
                kind="stem" if stem else "song",
                mix_id=_song_id(package, path.parent / "song.ogg") if stem else ""))
    ids = [song.song_id for song in songs]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"two corpus files share a song id: {sorted(i for i in ids if ids.count(i) > 1)}")
    return [s for s in songs if s.kind == "song"] + [s for s in songs if s.kind == "stem"]


def main(argv: list[str] | None = None) -> int:
    """Print (or write) the corpus as JSON; ``--install`` first installs the packages with apt-get."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--install", action="store_true", help="apt-get install the packages first (root)")
    parser.add_argument("--out", type=Path, help="write the corpus here instead of printing it")
    args = parser.parse_args(argv)
    if args.install and subprocess.run(install_command(), check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # a fresh machine may have no package lists yet
        subprocess.run(install_command(), check=True)
    text = json.dumps([asdict(song) for song in build_corpus()], indent=2) + "\n"
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
