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
from collections.abc import Iterator, Sequence

import numpy as np

from vsearch.errors import EnvironmentProblem


def pack(vectors: np.ndarray) -> list[bytes]:
    """Rows of a float matrix as little-endian float16 blobs (how every vector is stored)."""
    v16 = np.ascontiguousarray(vectors, dtype="<f2")
    return [row.tobytes() for row in v16]


def unpack(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """float16 blobs back into a float32 matrix of *dim* columns."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype="<f2").reshape(len(blobs), dim).astype(np.float32)


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
            except BaseException:
                self._depth = 0
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
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
            self.conn.execute("BEGIN")
            try:
                yield self.conn
            finally:
                self.conn.execute("COMMIT")

    def query(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence | dict = ()) -> tuple | None:
        with self._lock:
            return self.conn.execute(sql, params).fetchone()
