"""JSON Lines: read one file of a dump, one JSON object per line, with ``pyarrow.json``.

Values keep their JSON types (``"007"`` is text, ``7`` a number the validator writes as text), lists may be
nested JSON arrays (``"artist_ids": ["a1", "a2"]``) or ``;``-separated text, and a key missing from a line is a
null. Row numbers are 0-based positions among the file's objects (blank lines are not counted).

The whole file is parsed at once. When pyarrow refuses it, the file is parsed again piece by piece, following
the line pyarrow names: a line pyarrow cannot read on its own (not a JSON object, a repeated key, a list mixing
text and numbers) becomes a dropped row in the rejected report, and pieces whose values differ in type (``7``
in one line, ``"7a"`` in the next) are read apart and joined as :func:`service.io.parts.join_parts` joins part
files. A string value that is not valid UTF-8 makes pyarrow read its column as binary, which is then read as a
CSV file's columns are (UTF-8, or the file's likely legacy encoding).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from catalog_er.service.errors import InputFileError
from catalog_er.service.io.parts import PartFile, RawPart, check_columns, join_parts, malformed_rows

BLOCK_BYTES = 16 << 20
"""Bytes parsed at a time: a line longer than this is read on its own (slower, still read)."""
_FAILED_ROW = re.compile(r"^(?:JSON parse error: )?(?P<problem>.*?)(?: in row (?P<row>\d+))?$", re.DOTALL)
_BLANK = np.isin(np.arange(256), list(b" \t\r\n"))
"""Whether each byte value is JSON whitespace."""


def read_json_lines_part(file: PartFile, schema: pa.Schema, required: Sequence[str]) -> RawPart:
    """Read the contract columns (``schema``) of the JSON Lines ``file``, after checking the ``required`` ones
    (the keys of all lines together).

    Raises ``SchemaError`` (a missing required key) or ``InputFileError`` (the file cannot be read, or holds a
    JSON array rather than one object per line).
    """
    try:
        tables = [pj.read_json(file.path, read_options=pj.ReadOptions(block_size=BLOCK_BYTES))]
        rows, rejected = np.arange(tables[0].num_rows, dtype=np.int64), malformed_rows(file, [], [], [])
    except pa.ArrowInvalid:
        tables, rows, rejected = _read_by_pieces(file)
    except (pa.ArrowException, OSError) as error:
        raise InputFileError(f"{file.label}: cannot be read ({error})", path=file.path) from error
    if sum(table.num_rows for table in tables) + rejected.num_rows == 0:
        return RawPart(pa.table({}), rows, rejected)  # blank lines only: the file has no rows
    if not tables:  # no line could be read: every one is in the report
        tables = [pa.table({name: pa.array([], pa.string()) for name in required})]
    names = [_column_names(file, table) for table in tables]
    check_columns(file, list(dict.fromkeys(name for table_names in names for name in table_names)),
                  schema.names, required)
    present = [name for name in schema.names if any(name in table_names for table_names in names)]
    pieces = [table.select([name for name in present if name in table_names])
              for table, table_names in zip(tables, names, strict=True)]
    table = join_parts(pieces, schema, label=file.label)
    return RawPart(pa.table({name: _invalid_utf8_as_binary(table[name]) for name in present}), rows, rejected)


def _column_names(file: PartFile, table: pa.Table) -> list[str]:
    """The keys pyarrow read; a key that is not valid UTF-8 makes the file unreadable (pyarrow cannot name it)."""
    try:
        return table.column_names
    except UnicodeDecodeError as error:
        raise InputFileError(f"{file.label}: a key is not valid UTF-8 ({error})", path=file.path) from error


def _read_by_pieces(file: PartFile) -> tuple[list[pa.Table], np.ndarray, pa.Table]:
    """Parse the file's lines in pieces, splitting a piece where pyarrow names a failing line (see the module).

    Returns the tables read, in line order, each row's object number, and the rejected lines.
    """
    try:
        with pa.input_stream(file.path, compression="detect") as stream:
            data = stream.read()
    except (pa.ArrowException, OSError) as error:
        raise InputFileError(f"{file.label}: cannot be read ({error})", path=file.path) from error
    if data.lstrip()[:1] == b"[":
        raise InputFileError(f"{file.label}: holds a JSON array; write one JSON object per line (JSON Lines)",
                             path=file.path)
    starts, ends = _object_lines(data)
    whole = pa.py_buffer(data)
    pending = _pieces_of_at_most(starts, ends, BLOCK_BYTES)
    read: list[tuple[int, pa.Table]] = []
    bad: dict[int, str] = {}
    while pending:
        first, stop = pending.pop()
        piece = whole.slice(starts[first], ends[stop - 1] - starts[first])
        try:  # one block for the piece, so a failing row is numbered from the piece's first line
            read.append((first, pj.read_json(pa.BufferReader(piece), read_options=pj.ReadOptions(
                block_size=max(piece.size + 1, 1 << 10)))))
            continue
        except pa.ArrowException as error:
            failed = _FAILED_ROW.match(str(error))
            problem = failed["problem"] if failed else str(error)
            row = int(failed["row"]) if failed and failed["row"] else None
        if stop - first == 1:
            bad[first] = problem
        elif row is None or not 0 <= row < stop - first:
            middle = (first + stop) // 2
            pending += [(middle, stop), (first, middle)]
        else:  # the lines before the failing one are read together; the failing one is tried on its own
            pending += [(first + row + 1, stop), (first + row, first + row + 1), (first, first + row)]
        pending = [(a, b) for a, b in pending if a < b]
    read.sort(key=lambda piece: piece[0])
    rows = [np.arange(first, first + table.num_rows, dtype=np.int64) for first, table in read]
    bad_rows = sorted(bad)
    problems = [f"line cannot be read as JSON ({bad[row]})" for row in bad_rows]
    texts = [data[starts[row]:ends[row]].decode("utf-8", errors="replace") for row in bad_rows]
    return ([table for _, table in read], np.concatenate([np.zeros(0, dtype=np.int64), *rows]),
            malformed_rows(file, bad_rows, problems, texts))


def _object_lines(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the lines of ``data`` holding something other than whitespace."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == ord("\n"))
    starts = np.concatenate([[0], newlines + 1])
    ends = np.concatenate([newlines, [len(buffer)]])
    starts, ends = starts[starts < len(buffer)], ends[starts < len(buffer)]
    if len(starts) == 0:
        return starts, ends
    filled = np.logical_or.reduceat(~_BLANK[buffer], starts)  # per line: any byte that is not whitespace
    return starts[filled], ends[filled]


def _pieces_of_at_most(starts: np.ndarray, ends: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Consecutive line ranges ``(first, stop)`` of about ``size`` bytes each (a longer line on its own)."""
    if len(starts) == 0:
        return []
    cuts = np.unique(np.searchsorted(ends, np.arange(starts[0] + size, ends[-1], size), side="right"))
    bounds = [0, *[int(cut) for cut in cuts if 0 < cut < len(starts)], len(starts)]
    return list(itertools.pairwise(bounds))[::-1]


def _invalid_utf8_as_binary(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """pyarrow.json does not check that strings are UTF-8: a text column holding invalid UTF-8 is viewed as
    binary (lists of text as lists of binary), which the validator reads value by value."""
    try:
        column.validate(full=True)
    except pa.ArrowInvalid:
        kind = column.type
        if pa.types.is_string(kind):
            return pa.chunked_array([chunk.view(pa.binary()) for chunk in column.chunks], pa.binary())
        if pa.types.is_list(kind) and pa.types.is_string(kind.value_type):
            return pa.chunked_array([chunk.view(pa.list_(pa.binary())) for chunk in column.chunks],
                                    pa.list_(pa.binary()))
    return column  # other types: the validator refuses them as a whole
