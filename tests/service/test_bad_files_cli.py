"""Hostile files and paths through the real ``catalog-er`` CLI (issue 13): every damaged database, bad certificate,
bad config or unusable path ends in exit 2 with one message naming the file and the problem, never a traceback;
a database that is refused is left as it was."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from catalog_er.service.config_file import load_config
from tests.service.test_cli import run_cli


def assert_refused(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 2, no traceback, and one ``catalog-er: error:`` line holding every fragment."""
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if ": error:" in line]
    assert len(errors) == 1, done.stderr[-2000:]
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0][:500])


# --- config files ----------------------------------------------------------------------------------------------------

CONFIGS: dict[str, tuple[bytes, str]] = {
    "null": (b"null", "must hold a JSON object of sections, got null"),
    "a list": (b"[1, 2]", "got an array"),
    "not UTF-8": (b'{"clustering": {"merge_threshold": 0.\xff}}', "is not UTF-8 text (byte 37)"),
    "deeply nested object": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    "deeply nested array": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "number beyond a float": (b'{"blocking": {"num_perm": 1e999}}', "blocking.num_perm must be a whole number"),
    "number far out of range": (b'{"blocking": {"num_perm": 1' + b"0" * 40 + b"}}",
                                "blocking.num_perm must be between 8 and 1024"),
    "a 5,000-digit number": (b'{"blocking": {"num_perm": ' + b"9" * 5000 + b"}}", "a number has too many digits"),
    "NaN": (b'{"scoring": {"em_tolerance": NaN}}', "NaN is not a JSON number"),
    "repeated key": (b'{"clustering": {}, "clustering": {"merge_threshold": 0.7}}', "'clustering' is given twice"),
    "null section": (b'{"clustering": null}', "config section 'clustering' must be an object of settings"),
    "over a mebibyte": (b'{"clustering": {}}' + b" " * (1 << 20), "the limit is 1,048,576"),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_a_bad_config_file_is_exit_2_naming_the_file(tmp_path: Path, name: str) -> None:
    content, expected = CONFIGS[name]
    config = tmp_path / "config.json"
    config.write_bytes(content)
    done = run_cli("resolve", "--tracks", str(tmp_path / "tracks.parquet"), "--out", str(tmp_path / "out"),
                   "--config", str(config), "-q")
    assert_refused(done, f"config file {config}", expected)
    assert len(done.stderr) < 1_000  # the bad value is quoted in a few dozen characters at most


def test_serve_refuses_a_bad_config_before_touching_the_database(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text("[]")
    done = run_cli("serve", "--db", str(tmp_path / "s.sqlite"), "--port", "0", "--config", str(config))
    assert_refused(done, f"config file {config}", "got an array")
    assert not (tmp_path / "s.sqlite").exists()


def test_a_config_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """What Windows editors write is JSON with a BOM; it is taken, not refused."""
    config = tmp_path / "config.json"
    config.write_bytes(b'\xef\xbb\xbf{"clustering": {"merge_threshold": 0.6}}')
    assert load_config(config).clustering.merge_threshold == 0.6


# --- databases -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_database(catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog-er database of the 4k-track catalog, written by ``catalog-er import``."""
    path = tmp_path_factory.mktemp("database") / "catalog.sqlite"
    done = run_cli("import", "--db", str(path), "--tracks", str(catalog_dir / "tracks.parquet"))
    assert done.returncode == 0, done.stderr
    return path


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as file:
        file.seek(offset)
        file.write(data)


def _sqlite(path: Path, script: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.executescript(script)


def _damaged_pages(path: Path) -> None:
    """Four pages in the middle of the file overwritten with a repeated byte."""
    page = 4096
    middle = (path.stat().st_size // page // 2) * page
    _overwrite(path, middle, b"\x5a" * (4 * page))


DATABASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "plain text": (lambda path: path.write_text("tracks, artists\n" * 400), "is not a SQLite database"),
    "damaged header": (lambda path: _overwrite(path, 0, b"\x00" * 16), "is not a SQLite database"),
    "truncated": (lambda path: path.write_bytes(path.read_bytes()[:path.stat().st_size // 2]), "is damaged"),
    "damaged pages": (_damaged_pages, "is damaged"),
    "another program's tables": (lambda path: (path.unlink(), _sqlite(path, "CREATE TABLE invoices (id INTEGER);")),
                                 "holds tables catalog-er does not use (invoices)"),
    "another program's id": (lambda path: (path.unlink(), _sqlite(path, "PRAGMA application_id = 1234;")),
                             "belongs to another program (SQLite application id 0x4d2)"),
    "other record schema": (lambda path: (path.unlink(), _sqlite(path, "CREATE TABLE tracks (x INTEGER);")),
                            "table tracks lacks the required column 'track_id'"),
    "other proposal schema": (lambda path: (path.unlink(), _sqlite(path, "CREATE TABLE proposals (id TEXT);")),
                              "table proposals lacks the column(s) proposal_id, entity_type"),
}


@pytest.mark.parametrize("name", DATABASES)
def test_serve_refuses_an_unusable_database_and_leaves_it_unchanged(real_database: Path, tmp_path: Path,
                                                                   name: str) -> None:
    damage, expected = DATABASES[name]
    path = tmp_path / "catalog.sqlite"
    shutil.copyfile(real_database, path)
    damage(path)
    before = path.read_bytes()
    done = run_cli("serve", "--db", str(path), "--port", "0")
    assert_refused(done, f"database {path}", expected)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.sqlite"]  # no -wal or -shm left behind


@pytest.mark.parametrize("name", ["truncated", "another program's tables"])
def test_import_refuses_an_unusable_database(real_database: Path, tmp_path: Path, catalog_dir: Path,
                                             name: str) -> None:
    damage, expected = DATABASES[name]
    path = tmp_path / "catalog.sqlite"
    shutil.copyfile(real_database, path)
    damage(path)
    done = run_cli("import", "--db", str(path), "--tracks", str(catalog_dir / "tracks.parquet"))
    assert_refused(done, f"database {path}", expected)


def test_an_empty_file_is_a_new_database(tmp_path: Path, catalog_dir: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    path.touch()
    done = run_cli("import", "--db", str(path), "--tracks", str(catalog_dir / "tracks.parquet"))
    assert done.returncode == 0, done.stderr
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x63455231
        assert db.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 4_000
