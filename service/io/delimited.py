"""CSV and TSV: read one delimited text file of a dump with ``pyarrow.csv`` (streaming, one batch at a time).

The first record must name the columns. Every contract column is read as raw bytes (``binary``): nothing is
inferred, so ``"007"`` and ``"1999"`` stay text and the validator converts each column exactly as it converts
a Parquet text column (the dump reader first reads the bytes as UTF-8, or those that are not in the file's likely
legacy encoding: :func:`service.io.parts.with_text_decoded`; never an error about the whole file). Quoted values
may hold the delimiter, quotes (doubled) and line breaks. A record with more or fewer fields than the header is a
dropped row in the rejected report. Row numbers are 0-based record numbers after the header (a quoted value
spanning lines is one record; blank lines are skipped).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from catalog_er.service.errors import EmptyInputError, InputFileError
from catalog_er.service.io.parts import TSV, PartFile, RawPart, check_columns, malformed_rows

BLOCK_BYTES = 16 << 20
"""Bytes parsed at a time: bounds the memory of one batch; a record longer than this cannot be read."""


def read_delimited_part(file: PartFile, schema: pa.Schema, required: Sequence[str]) -> RawPart:
    """Read the contract columns (``schema``) that the CSV or TSV ``file`` holds, after checking ``required`` ones.

    Raises ``SchemaError`` (a missing or repeated column), ``EmptyInputError`` (no header) or ``InputFileError``
    (the file cannot be read).
    """
    delimiter = "\t" if file.format == TSV else ","
    header = _header(file, delimiter)
    check_columns(file, header, schema.names, required)
    present = [name for name in schema.names if name in header]
    malformed: list[tuple[int, str, str]] = []
    try:
        table = _read(file, delimiter, present, malformed, encoding="utf8")
    except _UndecodableMalformedRow:
        # pyarrow cannot quote a malformed row that is not UTF-8 (it decodes the row for the handler and fails the
        # read): read the file again as Latin-1, which any byte sequence is, and take each value's bytes back
        malformed.clear()
        table = _latin1_undone(_read(file, delimiter, present, malformed, encoding="latin-1"))
    records = table.num_rows + len(malformed)
    bad_rows = np.array([row for row, _, _ in malformed], dtype=np.int64)
    rows = np.delete(np.arange(records, dtype=np.int64), bad_rows)
    rejected = malformed_rows(file, bad_rows.tolist(), [problem for _, problem, _ in malformed],
                              [text for _, _, text in malformed])
    return RawPart(table, rows, rejected)


class _UndecodableMalformedRow(Exception):
    """A row with the wrong number of fields holds bytes that are not UTF-8 (see :func:`_read`)."""


def _read(file: PartFile, delimiter: str, present: list[str], malformed: list[tuple[int, str, str]], *,
          encoding: str) -> pa.Table:
    """The ``present`` columns of ``file`` as binary, the rows with a wrong number of fields left out and listed in
    ``malformed`` as ``(record number, problem, text)``. ``encoding``: what pyarrow decodes the file as (``utf8``:
    the bytes as they are; another: transcoded to UTF-8 first, see :func:`_latin1_undone`)."""

    def skip_malformed(row: pcsv.InvalidRow) -> str:
        if row.number is None:  # only known when parsing in one thread, which this reader does
            return "error"
        fields = f"{row.actual_columns} field{'s' * (row.actual_columns != 1)}"
        problem = f"row has {fields}, expected {row.expected_columns}"
        malformed.append((row.number - 2, problem, row.text))
        return "skip"

    try:
        with _undecodable_malformed_rows() as undecodable:
            reader = pcsv.open_csv(
                file.path,
                read_options=pcsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES, encoding=encoding),
                parse_options=pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                                invalid_row_handler=skip_malformed),
                convert_options=pcsv.ConvertOptions(include_columns=present,
                                                    column_types={name: pa.binary() for name in present}),
            )
            return reader.read_all()
    except (pa.ArrowException, OSError) as error:
        if undecodable:
            raise _UndecodableMalformedRow from error
        raise InputFileError(f"{file.label}: cannot be read ({error})", path=file.path) from error


def _latin1_undone(table: pa.Table) -> pa.Table:
    """A table read from a file transcoded as Latin-1 with each value's original bytes back (Latin-1 maps every
    byte to one character, so the UTF-8 pyarrow made of it decodes and re-encodes to the bytes of the file)."""
    for index, name in enumerate(table.column_names):
        values = [None if value is None else value.decode("utf-8").encode("latin-1")
                  for value in table[name].to_pylist()]
        table = table.set_column(index, name, pa.array(values, pa.binary()))
    return table


@contextmanager
def _undecodable_malformed_rows() -> Iterator[list[BaseException]]:
    """Collect, instead of printing, the error pyarrow (26) hits when a malformed row holds bytes that are not UTF-8.

    pyarrow decodes such a row's text for the invalid-row handler before calling it; the decoding fails inside
    pyarrow, which prints "Exception ignored in ..." with a traceback and then fails the read. The read's own
    error still says which row; this keeps the traceback off the user's terminal and lets the message say why.
    """
    caught: list[BaseException] = []
    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        if isinstance(unraisable.exc_value, UnicodeDecodeError):
            caught.append(unraisable.exc_value)
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield caught
    finally:
        sys.unraisablehook = previous


def _header(file: PartFile, delimiter: str) -> list[str]:
    """The column names: the first record (read as pyarrow reads it: UTF-8, a leading BOM dropped, quotes)."""
    try:
        with pa.input_stream(file.path, compression="detect") as stream:
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
            header = next(csv.reader(text, delimiter=delimiter), None)
    except (pa.ArrowException, OSError, csv.Error) as error:
        raise InputFileError(f"{file.label}: cannot be read ({error})", path=file.path) from error
    if not header:
        raise EmptyInputError(f"{file.label}: the file has no header line (expected the column names)",
                              path=file.path)
    return header
