"""Opening the service's SQLite file safely: every way it can be unusable is found before anything is written.

A file that is not SQLite, is damaged (SQLite's ``quick_check``), belongs to another program (another SQLite
application id, or tables catalog-er does not use) or lacks columns this version reads raises
:class:`UnusableDatabaseError` naming the file and the problem, so ``serve`` and ``import`` end with exit 2 and
a message, not a traceback, and the file is left as it was. A new or accepted file is stamped with
``APPLICATION_ID``.
"""

from __future__ import annotations

import functools
import sqlite3
from contextlib import closing
from pathlib import Path

from catalog_er.service.errors import InputFileError
from catalog_er.service.record_tables import RECORD_TABLES

APPLICATION_ID = 0x63455231
"""SQLite header's application id of a catalog-er database ("cER1"): written when the file is created (or first
opened by a version that checks it), so another program's SQLite file is told apart before anything is written."""


class UnusableDatabaseError(InputFileError):
    """The database file cannot be opened or used: not SQLite, damaged, another program's, of an incompatible
    layout, locked or not writable. The message names the file and says which."""


_SQLITE_PROBLEMS = {
    "SQLITE_NOTADB": "is not a SQLite database (or is encrypted)",
    "SQLITE_CORRUPT": "is damaged",
    "SQLITE_BUSY": "is locked by another process (is another server using it?)",
    "SQLITE_READONLY": "cannot be written (read-only file or folder)",
    "SQLITE_CANTOPEN": "cannot be opened (missing folder or no permission)",
    "SQLITE_PERM": "cannot be opened: permission denied",
    "SQLITE_FULL": "cannot be written: the disk is full",
    "SQLITE_IOERR": "cannot be read or written (input/output error)",
}
"""What each SQLite error code that can meet a database on opening means for the user."""
_DAMAGED_ADVICE = "restore it from a backup or give a new file"


def _unusable(path: Path, error: sqlite3.Error | OSError | ValueError) -> UnusableDatabaseError:
    """``error`` (raised while opening ``path``) as the user's problem, naming the file."""
    if not isinstance(error, sqlite3.Error):
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        return UnusableDatabaseError(f"database {path} cannot be opened: {reason}", path=path)
    code = getattr(error, "sqlite_errorname", "")
    advice = f"; {_DAMAGED_ADVICE}" if code == "SQLITE_CORRUPT" else ""
    return UnusableDatabaseError(f"database {path} {_SQLITE_PROBLEMS.get(code, 'cannot be used')} (SQLite: {error})"
                                 f"{advice}", path=path)


@functools.cache
def _expected_columns(schema: str) -> dict[str, tuple[str, ...]]:
    """Each table ``schema`` creates and its columns, as a new database lays them out."""
    with closing(sqlite3.connect(":memory:")) as reference:
        reference.executescript(schema)
        tables = [row[0] for row in reference.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                                      "name NOT LIKE 'sqlite_%'")]
        return {table: tuple(row[1] for row in reference.execute(f"PRAGMA table_info({table})")) for table in tables}


def _check_integrity(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged file (SQLite's ``quick_check``: every page and record readable; linear in the file's
    size, about 4 ms a megabyte)."""
    verdict = db.execute("PRAGMA quick_check(1)").fetchone()[0]
    if verdict != "ok":
        first_problem = str(verdict).replace("*** in database main ***", "").strip().splitlines()[0]
        raise UnusableDatabaseError(f"database {path} is damaged (SQLite: {first_problem}); {_DAMAGED_ADVICE}",
                                    path=path)


def _check_ownership(db: sqlite3.Connection, path: Path, expected: dict[str, tuple[str, ...]]) -> None:
    """Refuse another program's SQLite file: one stamped with another application id, or (unstamped, as
    catalog-er wrote them before it stamped its files) one holding tables catalog-er does not know."""
    application_id = db.execute("PRAGMA application_id").fetchone()[0]
    if application_id not in (0, APPLICATION_ID):
        raise UnusableDatabaseError(f"database {path} belongs to another program (SQLite application id "
                                    f"{application_id:#x}); give a catalog-er database or a new file", path=path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                           "name NOT LIKE 'sqlite_%'")}
    foreign = sorted(tables - set(expected))
    if foreign:
        listed = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise UnusableDatabaseError(f"database {path} holds tables catalog-er does not use ({listed}): it looks "
                                    "like another program's database; give a catalog-er database or a new file",
                                    path=path)


def _check_layout(db: sqlite3.Connection, path: Path, expected: dict[str, tuple[str, ...]]) -> None:
    """Refuse a database whose existing tables lack columns this version reads, before anything is written: a
    record table may lack the nullable columns declared since it was written (``_add_missing_columns`` adds them),
    any other table must have them all."""
    record_tables = {table.name: table for table in RECORD_TABLES}
    for name, columns in expected.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({name})")}
        if not present:
            continue  # not there yet: created with its columns
        if name in record_tables:
            try:
                record_tables[name].add_column_sql(present)  # refuses a missing column that cannot be added
            except ValueError as error:
                raise UnusableDatabaseError(f"database {path}: {error}", path=path) from None
            continue
        missing = [column for column in columns if column not in present]
        if missing:
            raise UnusableDatabaseError(f"database {path}: table {name} lacks the column(s) {', '.join(missing)}: "
                                        "the database was written by an incompatible version", path=path)


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Bring a database written by an earlier version up to the record schemas: a nullable column declared
    since then is added (empty for the rows already stored)."""
    for table in RECORD_TABLES:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table.name})")}
        for statement in table.add_column_sql(present):
            db.execute(statement)


def open_database(path: Path, schema: str) -> sqlite3.Connection:
    """The catalog-er database at ``path`` (created with the tables of ``schema``, SQL ``CREATE ... IF NOT
    EXISTS`` statements, when missing or empty), checked before use: a file that is not SQLite, is damaged,
    belongs to another program or lacks columns this version reads raises ``UnusableDatabaseError`` naming the
    file and the problem, and is left unchanged."""
    expected = _expected_columns(schema)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except (OSError, ValueError, sqlite3.Error) as error:  # ValueError: a NUL in the path
        raise _unusable(path, error) from None
    try:
        _check_integrity(db, path)
        _check_ownership(db, path, expected)
        _check_layout(db, path, expected)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.executescript(schema)
        _add_missing_columns(db)
        if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    except sqlite3.Error as error:
        db.close()
        raise _unusable(path, error) from None
    except BaseException:
        db.close()
        raise
    return db
