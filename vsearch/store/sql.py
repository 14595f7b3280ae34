"""SQL plumbing shared by the repositories in ``vsearch/store/``; nothing outside the store uses it.

One connection per library, serialised by a lock. A write is one ``BEGIN IMMEDIATE ... COMMIT``;
a write inside another write on the same thread joins it (only the outermost one commits,
beets' ``Transaction`` stack), so a repository method can be a step of a larger atomic change
(a scan's whole diff) or stand alone.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from vsearch.errors import EnvironmentProblem

#: Parameters of one statement: positional (``?``) or named (``:name``).
Params = Sequence[object] | Mapping[str, object]


def pack(vectors: np.ndarray) -> list[bytes]:
    """Rows of a float matrix as little-endian float16 blobs (how every vector is stored)."""
    v16 = np.ascontiguousarray(vectors, dtype="<f2")
    return [row.tobytes() for row in v16]


#: Stored vectors are unit length; float16 rounding moves the norm by well under 1e-3, so a
#: norm further from 1 than this is damage (a damaged page gave cosine scores of 17.6 and 795.8).
NORM_TOLERANCE = 0.01


def unpack_checked(blobs: Sequence[object], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(float32 vectors [n, dim], sound [n] bool) of stored vectors, each checked.

    A vector is sound when it is a blob of 2 * dim bytes whose values are finite and whose
    norm is 1 within NORM_TOLERANCE (or exactly 0: the embedders' output for an empty input).
    Unsound rows are zero in the result.
    """
    n = len(blobs)
    size = 2 * dim
    try:  # the usual case: every row a blob of the right size, read in one go
        same = n > 0 and set(map(len, blobs)) == {size}  # type: ignore[arg-type]  # len(None) raises
        joined = b"".join(blobs) if same else b""  # type: ignore[arg-type]  # so does a text row
    except TypeError:
        joined = b""
    if joined:
        v = np.frombuffer(joined, dtype="<f2").reshape(n, dim).astype(np.float32)
        norm2 = np.einsum("ij,ij->i", v, v)  # NaN or inf where a value is not finite
        ok = (np.abs(np.sqrt(norm2) - 1.0) <= NORM_TOLERANCE) | (norm2 == 0.0)
        if ok.all():
            return v, ok
    out = np.zeros((n, dim), dtype=np.float32)
    sound = np.zeros(n, dtype=bool)
    good = [(i, b) for i, b in enumerate(blobs) if isinstance(b, bytes | bytearray | memoryview) and len(b) == size]
    if not good:
        return out, sound
    v = np.frombuffer(b"".join(b for _, b in good), dtype="<f2").reshape(len(good), dim)
    v = v.astype(np.float32)
    finite = np.isfinite(v).all(axis=1)
    v[~finite] = 0.0
    norm = np.sqrt(np.einsum("ij,ij->i", v, v, dtype=np.float64))
    ok = finite & ((np.abs(norm - 1.0) <= NORM_TOLERANCE) | (norm == 0.0))
    idx = np.fromiter((i for i, _ in good), dtype=np.int64, count=len(good))[ok]
    out[idx] = v[ok]
    sound[idx] = True
    return out, sound


def unpack(blobs: Sequence[object], dim: int) -> np.ndarray:
    """float16 blobs back into a float32 matrix of *dim* columns.

    Damaged ones (see unpack_checked) are zero rows.
    """
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return unpack_checked(blobs, dim)[0]


class LibraryDamaged(EnvironmentProblem):
    """SQLite reports the database file as damaged (a disk or copy went wrong)."""


def is_damage(e: BaseException) -> bool:
    """Whether an error from sqlite3 says the file is damaged (not locked, not a constraint)."""
    if isinstance(e, UnicodeDecodeError):  # a damaged text value, or an error message quoting one
        return True
    if type(e) is sqlite3.DatabaseError:  # "database disk image is malformed", "file is not a database"
        return True
    return isinstance(e, sqlite3.OperationalError) and any(
        w in str(e) for w in ("malformed", "decode", "corrupt", "not a database", "no such table")
    )


def damaged(e: BaseException) -> LibraryDamaged:
    """The one-line error for a read or write that found the database damaged."""
    what = "unreadable text" if isinstance(e, UnicodeDecodeError) else " ".join(str(e).split())
    return LibraryDamaged(
        f"the library database is damaged ({what}); `vsearch status` shows what; "
        "restore a backup or start a new library"
    )


@contextlib.contextmanager
def _damage_as_one_line(rollback: sqlite3.Connection | None = None) -> Iterator[None]:
    """An sqlite3 error inside that means a damaged file becomes LibraryDamaged (rolling back *rollback*)."""
    try:
        yield
    except (sqlite3.DatabaseError, UnicodeDecodeError) as e:
        if not is_damage(e):
            raise
        if rollback is not None:
            with contextlib.suppress(sqlite3.Error):
                rollback.execute("ROLLBACK")
        raise damaged(e) from None


class Sql:
    """The library's connection with its lock, transactions and reads.

    Attributes:
        conn: the sqlite3 connection (autocommit mode; transactions are explicit).
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._lock = threading.RLock()
        self._depth = 0  # open write transactions (only the lock's owner thread changes it)

    def close(self) -> None:
        """Close the connection (errors while closing are ignored)."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self.conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: BEGIN IMMEDIATE ... COMMIT, rolled back on any error; nested calls join it."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException as e:
                self._depth = 0
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.DatabaseError | UnicodeDecodeError) and is_damage(e):
                    raise damaged(e) from None
                raise
            self._depth = 0
            try:
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as e:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
                raise EnvironmentProblem(f"cannot save to the library: {e}") from None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (one read transaction) even while another process writes."""
        with self._lock:
            if self._depth:  # inside a write: it already sees one consistent state
                yield self.conn
                return
            with _damage_as_one_line(self.conn):
                self.conn.execute("BEGIN")
                try:
                    yield self.conn
                finally:
                    self.conn.execute("COMMIT")

    def query(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """All rows; an error that means a damaged file is LibraryDamaged (one line)."""
        with self._lock, _damage_as_one_line():
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        """The first row, or None; damage is LibraryDamaged as in :meth:`query`."""
        with self._lock, _damage_as_one_line():
            row: tuple[Any, ...] | None = self.conn.execute(sql, params).fetchone()
            return row
