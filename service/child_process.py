"""What the server's child processes share: how they start, and how they die with the server."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>

SPAWN = multiprocessing.get_context("spawn")
"""Children start as fresh interpreters: a fork of the threaded gRPC server would copy its locks mid-use."""


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this process when its parent (``parent_pid``) dies, even by ``kill -9``: no orphan goes on
    computing. Elsewhere the child ends when it next uses its pipe to the dead parent."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before the request took effect: this is an orphan already
        os._exit(1)
