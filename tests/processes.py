"""Processes as ``/proc`` shows them: a process's live children, and whether processes have ended."""

from __future__ import annotations

import time
from pathlib import Path


def live_stat(pid: int) -> list[str] | None:
    """``/proc/PID/stat``'s fields after the command name (state first, then the parent's pid), or None when the
    process is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields


def children_of(pid: int) -> set[int]:
    """The live processes whose parent is ``pid``."""
    return {int(path.name) for path in Path("/proc").glob("[0-9]*")
            if (fields := live_stat(int(path.name))) is not None and int(fields[1]) == pid}


def outlived(children: set[int], seconds: float = 10.0) -> set[int]:
    """Those of ``children`` still running after ``seconds`` (their parent was killed)."""
    deadline = time.monotonic() + seconds
    while children and time.monotonic() < deadline:
        children = {pid for pid in children if live_stat(pid) is not None}
        time.sleep(0.1)
    return children
