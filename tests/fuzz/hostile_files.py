"""Hypothesis strategies for the catalog dumps a careless exporter or a hostile party hands the CLI: CSV, TSV,
JSON Lines and Parquet (and gzip of the text ones) whose rows hold hostile values, wrong types, unknown or missing
columns, deep nesting, or whose bytes are not the format their name says."""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from catalog_er.resolver.records import TRACK_SCHEMA
from tests.fuzz.proto_strategies import hostile_text

SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet", ".csv.gz", ".jsonl.gz")
MAX_ROWS = 12


@dataclass(frozen=True)
class HostileFile:
    """A dump to write as ``tracks<suffix>``: its suffix and bytes."""

    suffix: str
    data: bytes

    def __repr__(self) -> str:  # hypothesis prints failing examples: keep them readable
        return f"HostileFile({self.suffix!r}, {self.data[:120]!r}{'…' if len(self.data) > 120 else ''} " \
               f"[{len(self.data)} bytes])"


def _value() -> st.SearchStrategy:
    """A cell: hostile text, a number of any size, a bool, null, or a nested list/object (up to 60 deep)."""
    nested = st.integers(1, 60).map(lambda depth: json.loads("[" * depth + "1" + "]" * depth))
    return st.one_of(hostile_text(), st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.none(), nested,
                     st.lists(hostile_text(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                             max_size=2))


def _rows() -> st.SearchStrategy[list[dict]]:
    columns = st.sampled_from([*TRACK_SCHEMA.names, "unknown", "", "track_id ", "TITLE", "\ufeffartist"])
    row = st.dictionaries(columns, _value(), max_size=8)
    valid = st.builds(lambda k, title: {"track_id": f"t{k}", "title": title, "artist": "Nina Vale"},
                      st.integers(0, 5), hostile_text())
    return st.lists(st.one_of(row, valid), max_size=MAX_ROWS)


def _cell(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _delimited(rows: list[dict], delimiter: str) -> bytes:
    names = sorted({name for row in rows for name in row}) or ["track_id"]
    lines = [delimiter.join(names)] + [delimiter.join(_cell(row.get(name, "")) for name in names) for row in rows]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


def _json_lines(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(row, default=str) for row in rows).encode("utf-8", "surrogatepass")


def _parquet(rows: list[dict]) -> bytes:
    """Each column typed as its values allow (strings, ints out of int64 as text, nested lists as they are)."""
    names = sorted({name for row in rows for name in row}) or ["track_id"]
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            columns[name] = pa.array([None if v is None else _cell(v) for v in values], pa.string())
    table = pa.table(columns) if columns else pa.table({"track_id": pa.array([], pa.string())})
    sink = io.BytesIO()
    try:
        pq.write_table(table, sink)
    except pa.ArrowException:  # a type Parquet cannot hold (a struct without fields, from an empty object)
        sink = io.BytesIO()
        pq.write_table(pa.table({name: pa.array([None if v is None else _cell(v) for v in table[name].to_pylist()],
                                                pa.string()) for name in table.column_names}), sink)
    return sink.getvalue()


def _encoded(suffix: str, rows: list[dict]) -> bytes:
    if suffix.startswith(".csv"):
        data = _delimited(rows, ",")
    elif suffix == ".tsv":
        data = _delimited(rows, "\t")
    elif suffix.startswith(".jsonl"):
        data = _json_lines(rows)
    else:
        data = _parquet(rows)
    return gzip.compress(data) if suffix.endswith(".gz") else data


def hostile_files() -> st.SearchStrategy[HostileFile]:
    """Well-formed files with hostile rows; the same cut short or with bytes changed; or bytes of anything."""
    formed = st.builds(lambda suffix, rows: HostileFile(suffix, _encoded(suffix, rows)),
                       st.sampled_from(SUFFIXES), _rows())
    damaged = formed.flatmap(lambda f: st.tuples(st.integers(0, max(len(f.data) - 1, 0)), st.binary(max_size=8)).map(
        lambda edit: HostileFile(f.suffix, f.data[: edit[0]] + edit[1] + f.data[edit[0] + len(edit[1]):])))
    cut = formed.flatmap(lambda f: st.integers(0, len(f.data)).map(lambda n: HostileFile(f.suffix, f.data[:n])))
    anything = st.builds(HostileFile, st.sampled_from(SUFFIXES), st.binary(max_size=400))
    return st.one_of(formed, damaged, cut, anything)
