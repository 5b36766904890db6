"""Exceptions raised at the edge when the user's files cannot be used.

Every ``CatalogInputError`` message is complete on its own (it names the file and, where it applies, the
column, its type and the bad value), so the CLI prints it without a traceback and exits with code 2.
Problems with single rows are not exceptions: they go to the rejected report (see ``service.io.validation``).
"""

from __future__ import annotations

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
