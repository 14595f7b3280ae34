"""Open the library's SQLite database: WAL, foreign keys, busy timeout; refuse a newer schema."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import sqlite_utils

from vsearch import log
from vsearch.errors import EnvironmentProblem
from vsearch.store import migrations
from vsearch.store.sql import LibraryDamaged

DB_NAME = "library.sqlite3"


class SchemaTooNew(EnvironmentProblem):
    """The library was written by a newer vsearch; we refuse to touch it."""


def damaged(path: Path, e: BaseException) -> LibraryDamaged:
    """The one-line error for a database file that cannot be opened because it is damaged."""
    what = " ".join(str(e).split()) if not isinstance(e, UnicodeDecodeError) else "unreadable error text"
    return LibraryDamaged(
        f"cannot open library database {path}: it is damaged ({what}); restore a backup or start a new library"
    )


def connect(
    path: Path, *, readonly: bool = False, immutable: bool = False, timeout: float = 30.0
) -> sqlite3.Connection:
    """A connection with the pragmas every vsearch connection needs.

    *readonly* opens with ``mode=ro``; *immutable* (a folder nobody can write: a read-only
    share, a DVD, a mode-555 archive) adds ``immutable=1``, so SQLite needs neither a -shm
    file nor locks, which a WAL database would otherwise have to create next to it.
    """
    if readonly:
        uri = path.absolute().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), timeout=timeout, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    if not readonly:
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def open_database(
    folder: Path, *, readonly: bool = False, notices: list[str] | None = None
) -> sqlite_utils.Database:
    """Open (creating and migrating if needed) the library database in *folder*.

    A read-only library in a folder that cannot be written is opened immutable (see
    :func:`connect`). A database file of 0 bytes (a copy or a disk that failed) is not a
    library: read-only it is refused; writable it becomes a new, empty library, its stale
    ``ann/`` caches are removed and a line saying so is appended to *notices*.

    Raises:
        SchemaTooNew: the file was written by a newer vsearch.
        EnvironmentProblem: the file is not a database, or cannot be opened.
    """
    path = folder / DB_NAME
    notices = notices if notices is not None else []
    try:
        empty = path.is_file() and path.stat().st_size == 0
        if readonly:
            if not path.exists():
                raise EnvironmentProblem(f"no library at {folder}")
            if empty:
                raise EnvironmentProblem(f"{path} is empty (0 bytes): not a library")
            immutable = not os.access(folder, os.W_OK)
            wal = folder / (DB_NAME + "-wal")
            if immutable and wal.is_file() and wal.stat().st_size > 0:
                notices.append(
                    f"{wal.name} holds changes that cannot be read from a folder that cannot be "
                    "written; searching what was saved before them"
                )
            conn = connect(path, readonly=True, immutable=immutable)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            if empty:
                _forget_caches(folder)
                notices.append(
                    f"{path} was empty (0 bytes), so this is a new, empty library; "
                    "index your folders again"
                )
                log.store.warning("%s is 0 bytes: starting a new library, ANN caches removed", path)
            conn = connect(path)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except UnicodeDecodeError as e:  # SQLite's message quoted damaged bytes
        raise damaged(path, e) from None
    except sqlite3.DatabaseError as e:
        if type(e) is sqlite3.DatabaseError or "malformed" in str(e):
            raise damaged(path, e) from None
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
        except UnicodeDecodeError as e:
            raise damaged(path, e) from None
        except sqlite3.DatabaseError as e:
            if type(e) is sqlite3.DatabaseError or "malformed" in str(e):
                raise damaged(path, e) from None
            raise EnvironmentProblem(f"cannot prepare library database {path}: {e}") from None
    elif version < migrations.SCHEMA_VERSION:
        conn.close()
        raise EnvironmentProblem(
            f"library {folder} has an older schema ({version}) and is read-only; open it once with write access"
        )
    return db


def _forget_caches(folder: Path) -> None:
    """Remove the ANN caches of a library whose database is gone (they describe nothing now)."""
    ann = folder / "ann"
    if ann.is_dir():
        shutil.rmtree(ann, ignore_errors=True)
