"""Exceptions raised at the edge when the user's files cannot be used.

Every ``CatalogInputError`` message is complete on its own (it names the file and, where it applies, the
column, its type and the bad value), so the CLI prints it without a traceback and exits with code 2.
Problems with single rows are not exceptions: they go to the rejected report (see ``service.io.validation``).
Two helpers keep such messages and paths safe: :func:`shown` quotes a user's value cut short, and
:func:`path_problem` says why the file system could not take a path before it is tried.
"""

from __future__ import annotations

import os
from pathlib import Path


class CatalogInputError(Exception):
    """A problem with the user's files that the user can fix; ``path`` is the file concerned."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)


class InputFileError(CatalogInputError):
    """The input file is missing, a directory, unreadable, or not (intact) Parquet."""


class SchemaError(CatalogInputError):
    """A required column is missing, or a column's type cannot be used at all."""


class EmptyInputError(CatalogInputError):
    """The input file holds no rows."""


class OutputFileError(CatalogInputError):
    """An output file cannot be written (for example, its directory is not writable)."""


SHOWN_CHARS = 80
"""Most characters of a user's value quoted in an error message; a longer value is cut and its length given."""


def shown(value: str, limit: int = SHOWN_CHARS) -> str:
    """``value`` quoted for a message (``repr``, so control characters and NUL are visible), cut to ``limit``
    characters with its full length appended when it is longer."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value):,} characters)"


MAX_PATH_BYTES = 4096
"""Longest path accepted from the user (options, environment, a dump's ``audio_path``), in bytes of its
file-system encoding: Linux's PATH_MAX."""
MAX_NAME_BYTES = 255
"""Longest single name (between slashes) in such a path, in bytes: Linux's NAME_MAX."""


def path_problem(text: str) -> str | None:
    """Why the file system cannot take ``text`` as a path (a NUL character, over ``MAX_PATH_BYTES``, a name over
    ``MAX_NAME_BYTES``), or None when it can. Checked before a path is used, so no OS error is left to surface."""
    if "\0" in text:
        return f"it holds a NUL character at position {text.index(chr(0))}"
    size = len(os.fsencode(text))
    if size > MAX_PATH_BYTES:
        return f"it is {size:,} bytes long; the limit is {MAX_PATH_BYTES:,}"
    longest = max(len(os.fsencode(name)) for name in text.split("/"))
    if longest > MAX_NAME_BYTES:
        return f"one of its names is {longest:,} bytes long; the limit is {MAX_NAME_BYTES}"
    return None
