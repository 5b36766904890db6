"""Hostile dump files through the CLI's ``import`` and ``resolve`` (issue 13): every file ends in an exit status and a
message — 0 (rows read, the bad ones in the rejected report), or 2 naming the file — never a traceback or a hang.

The CLI's ``main`` runs in this process (a child process per file would cost ~2 s of start-up each); an exception
escaping it is what a user would see as a traceback. ``CATALOG_ER_FUZZ_EXAMPLES`` sets the number of files
(default 25; ``make fuzz``: 500), every fifth of which is also resolved.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given

from catalog_er.service.cli import main
from tests.fuzz.fuzz_settings import FUZZ_SETTINGS
from tests.fuzz.hostile_audio import HOSTILE_AUDIO
from tests.fuzz.hostile_files import HostileFile, hostile_files

RESOLVE_EVERY = 5
"""Every this-many files also go through ``resolve`` (1-2 s each; ``import`` reads and validates alike)."""


def _exit_status(command: list[str]) -> int:
    """``catalog-er COMMAND`` run in this process: its exit status (argparse and friends exit by SystemExit); any
    other exception escapes, as a traceback would reach the user."""
    try:
        return main(command)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_no_hostile_dump_makes_the_cli_fail_with_a_traceback(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    counter = itertools.count()

    @FUZZ_SETTINGS
    @given(hostile_files())
    def run_once(hostile: HostileFile) -> None:
        k = next(counter)
        dump = tmp_path / f"case{k}" / f"tracks{hostile.suffix}"
        dump.parent.mkdir()
        dump.write_bytes(hostile.data)
        commands = [["import", "--db", str(dump.parent / "catalog.sqlite"), "--tracks", str(dump),
                     "--rejected", str(dump.parent / "rejected.parquet")]]
        if k % RESOLVE_EVERY == 0:
            commands.append(["resolve", "--tracks", str(dump), "--out", str(dump.parent / "out"), "-q"])
        for command in commands:
            status = _exit_status(command)
            message = capsys.readouterr().err
            assert status in (0, 2), (command[0], status, message[-500:])
            if status == 2:
                assert str(dump.name) in message or "tracks" in message, message[-500:]

    run_once()


@pytest.mark.parametrize("index", range(len(HOSTILE_AUDIO)))
def test_hostile_audio_through_the_fingerprint_command_is_a_status_not_a_traceback(
        index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio = tmp_path / f"delivery{index}.bin"
    audio.write_bytes(HOSTILE_AUDIO[index])
    for command in (["fingerprint", str(audio)], ["fingerprint", str(audio), str(audio)]):
        status = _exit_status(command)
        message = capsys.readouterr().err
        assert status in (0, 2), (status, message[-500:])
        if status == 2:
            assert audio.name in message, message[-500:]
