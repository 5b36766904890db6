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

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from catalog_er.service.cli import main
from catalog_er.service.config_file import load_config
from catalog_er.service.errors import MAX_PATH_BYTES
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


# --- paths -----------------------------------------------------------------------------------------------------------

LONG_PATH = "x" * 100_000
DEEP_PATH = "d/" * 50_000


@pytest.mark.parametrize("arguments", [
    ("resolve", "--tracks", LONG_PATH, "--out", "{tmp}/out"),
    ("resolve", "--tracks", "{tmp}/t.parquet", "--out", DEEP_PATH),
    ("resolve", "--tracks", "{tmp}/t.parquet", "--out", "{tmp}/out", "--config", LONG_PATH),
    ("import", "--db", DEEP_PATH, "--tracks", "{tmp}/t.parquet"),
    ("import", "--db", "{tmp}/s.sqlite", "--tracks", "{tmp}/t.parquet", "--rejected", LONG_PATH),
    ("serve", "--db", LONG_PATH),
    ("serve", "--db", "{tmp}/s.sqlite", "--tls-cert", LONG_PATH, "--tls-key", LONG_PATH),
    ("serve", "--db", "{tmp}/s.sqlite", "--token-file", LONG_PATH),
    ("fingerprint", LONG_PATH),
    ("evaluate", "--truth", "{tmp}", "--out", LONG_PATH),
    ("show", "--out", DEEP_PATH),
    ("synth", "--out", LONG_PATH, "--tracks", "10"),
    ("synth", "--out", "{tmp}/" + "n" * 300, "--tracks", "10"),
], ids=lambda arguments: " ".join(a if len(a) < 20 else f"<{len(a)} chars>" for a in arguments))
def test_a_path_the_file_system_cannot_take_is_exit_2(tmp_path: Path, arguments: tuple[str, ...]) -> None:
    done = run_cli(*(argument.replace("{tmp}", str(tmp_path)) for argument in arguments))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "is not a usable path" in done.stderr and "the limit is" in done.stderr
    assert len(done.stderr) < 2_000  # the path is quoted cut short, with its length
    assert list(tmp_path.iterdir()) == []  # refused while parsing: nothing created


def test_a_path_variable_the_file_system_cannot_take_is_exit_2(tmp_path: Path) -> None:
    done = run_cli("serve", "--db", str(tmp_path / "s.sqlite"),
                   env={"CATALOG_ER_TLS_CERT": "c" * (MAX_PATH_BYTES + 1), "CATALOG_ER_TLS_KEY": "k.pem"})
    assert_refused(done, "environment variable CATALOG_ER_TLS_CERT", "is not a usable path")


@pytest.mark.parametrize("arguments", [
    ("fingerprint", "song\0.wav"),
    ("resolve", "--tracks", "t\0.parquet", "--out", "out"),
    ("serve", "--db", "s\0.sqlite"),
])
def test_a_path_with_a_nul_is_exit_2(arguments: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    """A process's arguments cannot carry NUL, so this runs ``main`` in the test's process."""
    with pytest.raises(SystemExit) as exited:
        main(list(arguments))
    assert exited.value.code == 2
    assert "holds a NUL character" in capsys.readouterr().err


def test_an_audio_path_the_file_system_cannot_take_is_a_rejected_field(tmp_path: Path) -> None:
    """A dump's ``audio_path`` is a row's field: an unusable one is reported and nulled, the run goes on; one over
    the text limit drops its row like any over-long text."""
    tracks = tmp_path / "tracks.parquet"
    pq.write_table(pa.table({"track_id": ["nul", "long", "deep", "plain"],
                             "title": ["Kino - Gruppa krovi", "Kino – Gruppa Krovi", "Blood Type", "Sunrise"],
                             "artist": ["Kino", "Kino", "Kino", "Other"],
                             "audio_path": ["a\0b.wav", "x" * 100_000, "d/" * 3_000, None]}), tracks)
    done = run_cli("resolve", "--tracks", str(tracks), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == 0, done.stderr[-2000:]
    rejected = {row["id"]: row for row in pq.read_table(tmp_path / "out" / "rejected.parquet").to_pylist()}
    assert set(rejected) == {"nul", "long", "deep"}
    assert "NUL character" in rejected["nul"]["reason"] and rejected["nul"]["action"] == "field nulled"
    # a text over its field's limit (resolver/limits.py) is garbage: the row goes, whatever the field
    assert rejected["long"]["reason"] == "audio_path is 100000 characters long (limit 4096)"
    assert rejected["deep"]["reason"] == "audio_path is 6000 characters long (limit 4096)"
    assert {rejected[k]["action"] for k in ("long", "deep")} == {"row dropped"}
    assert all(row["field"] == "audio_path" and len(row["reason"]) < 300 for row in rejected.values())


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


# --- TLS files -------------------------------------------------------------------------------------------------------


def _openssl(*arguments: str) -> None:
    subprocess.run(["openssl", *arguments], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pem_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a certificate and its key (``cert.pem``, ``key.pem``), another pair's key (``other.key``),
    the key encrypted with a passphrase (``encrypted.key``) and unusable files of every kind."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make test certificates")
    folder = tmp_path_factory.mktemp("pem")
    for stem in ("key", "other"):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", str(folder / f"{stem}.key"), "-out", str(folder / f"{stem}.pem"), "-days", "1",
                 "-subj", "/CN=catalog.example.org")
    (folder / "key.pem").rename(folder / "cert.pem")
    _openssl("pkey", "-in", str(folder / "key.key"), "-aes256", "-passout", "pass:secret",
             "-out", str(folder / "encrypted.key"))
    (folder / "garbage.pem").write_text("garbage\n")
    (folder / "random.pem").write_bytes(bytes(range(256)) * 4)
    (folder / "bad-body.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIBzzzz\n-----END CERTIFICATE-----\n")
    (folder / "bad-body.key").write_text("-----BEGIN PRIVATE KEY-----\nMIIBzzzz\n-----END PRIVATE KEY-----\n")
    (folder / "a-folder").mkdir()
    return folder


PEM_CASES = {
    "garbage certificate": ("garbage.pem", "key.key", "garbage.pem holds no PEM certificate"),
    "random bytes as certificate": ("random.pem", "key.key", "random.pem holds no PEM certificate"),
    "undecodable certificate": ("bad-body.pem", "key.key", "bad-body.pem holds a certificate that cannot be decoded"),
    "garbage key": ("cert.pem", "garbage.pem", "garbage.pem holds no PEM private key"),
    "the certificate as key": ("cert.pem", "cert.pem", "cert.pem holds no PEM private key"),
    "undecodable key": ("cert.pem", "bad-body.key", "bad-body.key holds a private key that cannot be decoded"),
    "another certificate's key": ("cert.pem", "other.key", "other.key is not the private key of the certificate"),
    "encrypted key": ("cert.pem", "encrypted.key", "encrypted.key is encrypted with a passphrase"),
    "a folder": ("a-folder", "key.key", "a-folder is not a regular file"),
    "missing": ("absent.pem", "key.key", "absent.pem cannot be read: No such file or directory"),
}


@pytest.mark.parametrize("name", PEM_CASES)
def test_serve_refuses_unusable_tls_files_before_opening_the_database(pem_files: Path, tmp_path: Path,
                                                                     name: str) -> None:
    cert, key, expected = PEM_CASES[name]
    done = run_cli("serve", "--db", str(tmp_path / "s.sqlite"), "--port", "0",
                   "--tls-cert", str(pem_files / cert), "--tls-key", str(pem_files / key))
    assert_refused(done, expected)
    assert not (tmp_path / "s.sqlite").exists()
