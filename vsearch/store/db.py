"""Open the library's SQLite database: WAL, foreign keys, busy timeout; refuse a newer schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from vsearch import log
from vsearch.errors import EnvironmentProblem
from vsearch.store import migrations

DB_NAME = "library.sqlite3"


class SchemaTooNew(EnvironmentProblem):
    """The library was written by a newer vsearch; we refuse to touch it."""


def connect(path: Path, *, readonly: bool = False, timeout: float = 30.0) -> sqlite3.Connection:
    """A connection with the pragmas every vsearch connection needs."""
    if readonly:
        uri = path.absolute().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    if not readonly:
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def open_database(folder: Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating and migrating if needed) the library database in *folder*.

    Raises:
        SchemaTooNew: the file was written by a newer vsearch.
        EnvironmentProblem: the file is not a database, or cannot be opened.
    """
    path = folder / DB_NAME
    try:
        if readonly:
            if not path.exists():
                raise EnvironmentProblem(f"no library at {folder}")
            conn = connect(path, readonly=True)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            conn = connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        raise EnvironmentProblem(f"cannot open library database {path}: {e}") from None
    except OSError as e:
        raise EnvironmentProblem(f"cannot open library folder {folder}: {e.strerror or e}") from None
    if version > migrations.SCHEMA_VERSION:
        conn.close()
        raise SchemaTooNew(
            f"library {folder} has schema version {version}, newer than this vsearch understands "
            f"({migrations.SCHEMA_VERSION}); upgrade vsearch or choose another library"
        )
    db = sqlite_utils.Database(conn)
    if not readonly:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            pending = migrations.MIGRATIONS.pending(db)
            if pending:
                log.store.info("migrating %s: %s", path, ", ".join(m.name for m in pending))
                migrations.MIGRATIONS.apply(db)
                conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION}")
        except sqlite3.OperationalError as e:
            raise EnvironmentProblem(f"cannot prepare library database {path}: {e}") from None
    elif version < migrations.SCHEMA_VERSION:
        raise EnvironmentProblem(
            f"library {folder} has an older schema ({version}) and is read-only; open it once with write access"
        )
    return db
