"""The library: roots, videos, sampled frames and their vectors in SQLite (the source of truth)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from vsearch import log
from vsearch.errors import EnvironmentProblem, LibraryLocked
from vsearch.store import migrations
from vsearch.store.db import open_database
from vsearch.store.screen_text import ScreenTextStore
from vsearch.store.speech import SpeechStore
from vsearch.store.sql import NORM_TOLERANCE, LibraryDamaged, Sql, pack, unpack, unpack_checked
from vsearch.types import VideoFile, VideoInfo

__all__ = [
    "Counts", "Diff", "Library", "ModelRow", "ModelState", "Root", "VideoRow", "VideoStatus", "WriteLock",
    "pack", "unpack", "unpack_checked", "NORM_TOLERANCE", "LibraryDamaged", "Health", "warn_unreadable",
]  # fmt: skip

LOCK_NAME = "write.lock"


class VideoStatus(StrEnum):
    """``videos.status``: a StrEnum, so it equals (and is stored as) its text."""

    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"
    GONE = "gone"


class ModelState(StrEnum):
    """``models.state``: building (being embedded), active (answers searches) or retired (kept)."""

    BUILDING = "building"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class Root:
    """A folder the user added."""
    id: int
    path: str
    added: float
    last_scan: float | None


@dataclass(frozen=True, slots=True)
class VideoRow:
    """A video file as the library knows it: identity, probe results and indexing status."""
    id: int
    root_id: int | None
    path: str
    size: int
    mtime: float
    duration: float | None
    fps: float | None
    width: int | None
    height: int | None
    status: VideoStatus
    error: str | None
    has_audio: bool = False
    fingerprint: str | None = None  # vsearch.scan.fingerprint of the file when it was last seen
    missing: bool = False  # the file was not found at the last scan (row and vectors kept)


@dataclass(frozen=True, slots=True)
class ModelRow:
    """An embedding model of the library: its vectors' width, state and generation."""
    id: int
    model_id: str
    name: str
    dim: int
    state: ModelState
    generation: int


@dataclass(frozen=True, slots=True)
class Counts:
    """Videos by status and stored frames, of the whole library or of one folder.

    ``partial`` counts the pending videos that already have frames stored (a cancelled or
    killed run stopped inside them): they are among ``pending`` and already show in results.
    """

    indexed: int = 0
    failed: int = 0
    pending: int = 0
    gone: int = 0
    frames: int = 0
    partial: int = 0

    @property
    def videos(self) -> int:
        """Every video the counts cover."""
        return self.indexed + self.failed + self.pending + self.gone


@dataclass(slots=True)
class Diff:
    """How the files found on disk relate to what the library holds for one root."""

    new: list[VideoFile] = field(default_factory=list)
    changed: list[tuple[VideoRow, VideoFile]] = field(default_factory=list)
    unchanged: list[VideoRow] = field(default_factory=list)
    gone: list[VideoRow] = field(default_factory=list)
    moved: list[tuple[VideoRow, VideoFile]] = field(default_factory=list)


_VIDEO_COLS = (
    "id, root_id, path, size, mtime, duration, fps, width, height, status, error, has_audio, fingerprint, "
    "missing IS NOT NULL"
)


E = TypeVar("E", bound=StrEnum)


def _enum(kind: type[E], text: str) -> E:
    """The member for a stored text; an unknown text (a damaged row) is kept as it is, never fatal."""
    try:
        return kind(text)
    except ValueError:
        # a plain str where a member is declared: it still compares and prints like one
        return text  # type: ignore[return-value]


def _video(row: Sequence[Any]) -> VideoRow:
    return VideoRow(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8],
        _enum(VideoStatus, row[9]), row[10], has_audio=bool(row[11]), fingerprint=row[12], missing=bool(row[13]),
    )  # fmt: skip


_MODEL_COLS = "id, model_id, name, dim, state, generation"


def _model(row: Sequence[Any]) -> ModelRow:
    return ModelRow(row[0], row[1], row[2], row[3], _enum(ModelState, row[4]), row[5])


def _counts(by_status: dict[str, int], frames: int, partial: int = 0) -> Counts:
    return Counts(
        indexed=by_status.get(VideoStatus.INDEXED, 0),
        failed=by_status.get(VideoStatus.FAILED, 0),
        pending=by_status.get(VideoStatus.PENDING, 0),
        gone=by_status.get(VideoStatus.GONE, 0),
        frames=frames,
        partial=partial,
    )


# pending videos with frames stored already (frames' UNIQUE (video_id, t) index answers EXISTS)
#: Pending videos (their files present) that already have frames stored: whole library, per root.
_PARTIAL_WHERE = (
    "FROM videos v WHERE v.status = 'pending' AND v.missing IS NULL "
    "AND EXISTS (SELECT 1 FROM frames f WHERE f.video_id = v.id)"
)
_PARTIAL = "SELECT count(*) " + _PARTIAL_WHERE
_PARTIAL_BY_ROOT = "SELECT v.root_id, count(*) " + _PARTIAL_WHERE + " GROUP BY v.root_id"


def _like_prefix(folder: str) -> str:
    """A LIKE pattern matching every path inside *folder* (with % and _ escaped)."""
    folder = folder.rstrip(os.sep) + os.sep
    return folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True, slots=True)
class Health:
    """What a check of the library found.

    Attributes:
        database: SQLite's integrity_check lines (empty when it says ok).
        damaged: video id -> how many of its vectors are damaged (length, finite, unit norm).
        vectors: how many vectors were checked.
    """

    database: list[str]
    damaged: dict[int, int]
    vectors: int

    @property
    def ok(self) -> bool:
        """Whether the check found nothing wrong."""
        return not self.database and not self.damaged


class WriteLock:
    """An advisory, process-wide lock file: one writer per library at a time."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock; raises LibraryLocked when another process holds it, EnvironmentProblem when unwritable."""
        try:
            fh = open(self.path, "a+")
        except OSError as e:
            raise EnvironmentProblem(f"cannot write to library {self.path.parent}: {e.strerror}") from None
        try:
            if sys.platform == "win32":  # pragma: no cover
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            who = f" (pid {holder})" if holder else ""
            raise LibraryLocked(
                f"another vsearch process{who} is updating this library; wait for it to finish or stop it"
            ) from None
        try:
            fh.seek(0)
            fh.write(str(os.getpid()))
            fh.flush()
            fh.truncate()
        except OSError as e:  # a full disk: the pid is only a courtesy, but say why we stop
            fh.close()
            raise EnvironmentProblem(f"cannot write to library {self.path.parent}: {e.strerror}") from None
        self._fh = fh

    def release(self) -> None:
        """Let the lock go (a no-op when not held)."""
        fh = self._fh
        self._fh = None
        if fh is not None:
            with contextlib.suppress(OSError):
                fh.truncate(0)
            fh.close()  # closing drops the flock

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._fh is not None


FRAME_MAP_CHUNK = 50_000  # frame rows read at a time into the in-memory frame map (Library.frames)

class Library:
    """Data access for one library folder. Thread-safe: one connection, serialised by a lock.

    Every SQL statement of vsearch lives in ``vsearch/store/``: this class (roots, videos,
    frames, vectors, models) and one repository per expert (``speech``, ``screen_text``). Nothing outside the
    store sees a connection or a transaction.

    Attributes:
        folder: the library folder (database, ANN caches, lock file).
        readonly: opened without write access (searching still works).
        notices: one-line warnings about the open (a 0-byte database started afresh, ...).
        speech: the speech expert's tables (transcripts and spoken sentences).
        screen_text: the on-screen text expert's tables (OCR runs and text spans).
    """

    def __init__(self, folder: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.folder = Path(folder)
        self.readonly = readonly
        self.notices: list[str] = []  # what the user should hear about this open (one line each)
        self.damaged: dict[int, int] = {}  # frame id -> video id of vectors found damaged when read
        self._db = open_database(self.folder, readonly=readonly, notices=self.notices)
        self._sql = Sql(self._db.conn)
        self._write_lock = WriteLock(self.folder)
        self._writer_thread: int | None = None  # the thread inside writer(), if any
        self._writer_guard = threading.Lock()
        self.speech = SpeechStore(self._sql)
        self.screen_text = ScreenTextStore(self._sql)
        # each forgets a changed video's data in reset_video
        self._experts = (self.speech, self.screen_text)
        # frame id -> (video id, time) of every frame read so far (see frames())
        self._map_lock = threading.Lock()
        self._fmap: tuple[np.ndarray, np.ndarray, np.ndarray] = (
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
        )

    # -- plumbing -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the writer lock and close the database."""
        with self._writer_guard:
            self._write_lock.release()
            self._writer_thread = None
        self._sql.close()

    @contextlib.contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the library's write lock: one writer per library, across processes and threads.

        Every change to the library (indexing, adding or forgetting a folder, removing a model,
        rebuilding the ANN caches) runs inside it. Re-entrant on the thread that holds it.

        Raises:
            LibraryLocked: another process, or another thread of this one, is writing.
            EnvironmentProblem: the library is open read-only.
        """
        if self.readonly:
            raise EnvironmentProblem("this library is open read-only")
        me = threading.get_ident()
        with self._writer_guard:
            if self._writer_thread == me:
                owner = False
            elif self._writer_thread is not None:
                raise LibraryLocked(
                    "this library is being updated (indexing in this app); wait for it to finish or stop it"
                )
            else:
                self._write_lock.acquire()  # raises LibraryLocked when another process writes
                self._writer_thread = me
                owner = True
        try:
            yield
        finally:
            if owner:
                with self._writer_guard:
                    self._writer_thread = None
                    self._write_lock.release()

    def integrity_ok(self) -> bool:
        """True when SQLite's integrity check finds nothing wrong."""
        return bool(self._sql.query("PRAGMA integrity_check")[0][0] == "ok")

    def schema_version(self) -> int:
        """The schema version stored in the database."""
        return int(self._sql.query("PRAGMA user_version")[0][0])

    def pending_migrations(self) -> list[str]:
        """Names of the schema migrations this library still lacks (none once opened for writing)."""
        return [m.name for m in migrations.MIGRATIONS.pending(self._db)]

    # -- damage -----------------------------------------------------------------------------
    def _damaged_rows(self, frame_ids: np.ndarray, video_id: int | None = None) -> None:
        """Remember (and log once) vectors found damaged when read; they are never served."""
        new = [int(f) for f in frame_ids if int(f) not in self.damaged]
        if not new:
            return
        if video_id is None:
            known = self.frames(new)
        for f in new:
            self.damaged[f] = video_id if video_id is not None else known.get(f, (-1, 0.0))[0]
        log.store.warning(
            "%d damaged vector(s) skipped (frame ids %s%s); `vsearch index` re-embeds their videos",
            len(new),
            ", ".join(map(str, new[:5])),
            ", ..." if len(new) > 5 else "",
        )

    def health(self, models: Sequence[ModelRow] | None = None, *, database: bool = True) -> Health:
        """Check every vector and, with *database*, SQLite's integrity_check (first 10 problems)."""
        lines = ["ok"]
        if database:
            try:
                lines = [r[0] for r in self._sql.query("PRAGMA integrity_check(10)")]
            except LibraryDamaged as e:
                lines = [str(e)]
        database_lines = [] if lines == ["ok"] else lines
        before = dict(self.damaged)
        self.damaged.clear()
        n = 0
        try:
            for m in models if models is not None else self.models():
                for ids, _ in self.iter_vectors(m.id, m.dim):
                    n += len(ids)
        except LibraryDamaged as e:
            database_lines.append(str(e))
        found = dict(self.damaged)
        self.damaged.update(before)
        damaged: dict[int, int] = {}
        for vid in found.values():
            damaged[vid] = damaged.get(vid, 0) + 1
        return Health(database=database_lines, damaged=damaged, vectors=n)

    def requeue(self, video_ids: Iterable[int | None], model_pk: int) -> int:
        """Drop one model's vectors of these videos and mark them for indexing again."""
        ids = sorted({int(v) for v in video_ids if v is not None and v >= 0})
        if not ids:
            return 0
        with self._sql.transaction() as c:
            for vid in ids:
                c.execute(
                    "DELETE FROM vectors WHERE model = ? AND frame_id IN (SELECT id FROM frames WHERE video_id = ?)",
                    (model_pk, vid),
                )
                c.execute("DELETE FROM video_models WHERE video_id = ? AND model = ?", (vid, model_pk))
                c.execute(
                    "UPDATE videos SET status = 'pending', error = NULL, updated = ? WHERE id = ? AND status != 'gone'",
                    (time.time(), vid),
                )
            c.execute("UPDATE models SET generation = generation + 1 WHERE id = ?", (model_pk,))
        self.damaged = {f: v for f, v in self.damaged.items() if v not in ids}
        return len(ids)

    # -- roots ----------------------------------------------------------------------------
    def add_root(self, path: str) -> Root:
        """The root for *path*, added when new."""
        with self._sql.transaction() as c:
            c.execute("INSERT OR IGNORE INTO roots(path, added) VALUES (?, ?)", (path, time.time()))
        return self.root(path)  # type: ignore[return-value]  # the row exists: inserted just above

    def root(self, path: str) -> Root | None:
        """The root for *path*, or None."""
        rows = self._sql.query("SELECT id, path, added, last_scan FROM roots WHERE path = ?", (path,))
        return Root(*rows[0]) if rows else None

    def roots(self) -> list[Root]:
        """Every root, by path."""
        return [
            Root(*r) for r in self._sql.query("SELECT id, path, added, last_scan FROM roots ORDER BY path")
        ]

    def remove_root(self, path: str) -> int:
        """Forget a root and everything under it; returns how many videos were dropped."""
        with self._sql.transaction() as c:
            row = c.execute("SELECT id FROM roots WHERE path = ?", (path,)).fetchone()
            if row is None:
                # forget a sub-folder or a single file that lies under a root
                n = c.execute(
                    "DELETE FROM videos WHERE path = ? OR path LIKE ? ESCAPE '\\'", (path, _like_prefix(path))
                ).rowcount
            else:
                n = c.execute("SELECT count(*) FROM videos WHERE root_id = ?", (row[0],)).fetchone()[0]
                c.execute("DELETE FROM videos WHERE root_id = ?", (row[0],))
                c.execute("DELETE FROM roots WHERE id = ?", (row[0],))
            if n:
                c.execute("UPDATE models SET generation = generation + 1")
        return n

    def mark_scanned(self, root_id: int) -> None:
        """Record that the root was just scanned."""
        with self._sql.transaction() as c:
            c.execute("UPDATE roots SET last_scan = ? WHERE id = ?", (time.time(), root_id))

    # -- models ---------------------------------------------------------------------------
    def ensure_model(self, model_id: str, name: str, dim: int) -> ModelRow:
        """The model row for *model_id*, added (state building) when new."""
        with self._sql.transaction() as c:
            c.execute(
                "INSERT OR IGNORE INTO models(model_id, name, dim, state, created) VALUES (?, ?, ?, 'building', ?)",
                (model_id, name, dim, time.time()),
            )
        return self.model(model_id)  # type: ignore[return-value]  # the row exists: inserted just above

    def model(self, model_id: str) -> ModelRow | None:
        """The model row for *model_id*, or None."""
        rows = self._sql.query(f"SELECT {_MODEL_COLS} FROM models WHERE model_id = ?", (model_id,))
        return _model(rows[0]) if rows else None

    def model_by_name(self, name: str) -> ModelRow | None:
        """The newest model row recorded under a registry name."""
        rows = self._sql.query(
            f"SELECT {_MODEL_COLS} FROM models WHERE name = ? ORDER BY id DESC LIMIT 1",
            (name,),
        )
        return _model(rows[0]) if rows else None

    def models(self) -> list[ModelRow]:
        """Every model of the library, oldest first."""
        rows = self._sql.query(f"SELECT {_MODEL_COLS} FROM models ORDER BY id")
        return [_model(r) for r in rows]

    def active_model(self) -> ModelRow | None:
        """The model searches use (the last activated), or None."""
        rows = self._sql.query(
            f"SELECT {_MODEL_COLS} FROM models WHERE state = 'active' ORDER BY activated DESC LIMIT 1"
        )
        return _model(rows[0]) if rows else None

    def activate_model(self, model_pk: int) -> None:
        """Make a model the one searches use; the previous one is kept (retired), not deleted."""
        with self._sql.transaction() as c:
            c.execute("UPDATE models SET state = 'retired' WHERE state = 'active' AND id != ?", (model_pk,))
            c.execute(
                "UPDATE models SET state = 'active', activated = ? WHERE id = ?", (time.time(), model_pk)
            )

    def remove_model(self, model_pk: int) -> None:
        """Delete a model with all its vectors."""
        with self._sql.transaction() as c:
            c.execute("DELETE FROM vectors WHERE model = ?", (model_pk,))
            c.execute("DELETE FROM video_models WHERE model = ?", (model_pk,))
            c.execute("DELETE FROM models WHERE id = ?", (model_pk,))

    def generation(self, model_pk: int) -> int:
        """The model's generation (bumped by every change to its vectors); -1 for an unknown model."""
        rows = self._sql.query("SELECT generation FROM models WHERE id = ?", (model_pk,))
        return rows[0][0] if rows else -1

    def model_coverage(self, model_pk: int) -> tuple[int, int]:
        """(videos embedded with this model, videos that should be) among readable videos."""
        done = self._sql.query(
            "SELECT count(*) FROM video_models vm JOIN videos v ON v.id = vm.video_id "
            "WHERE vm.model = ? AND v.status = 'indexed'",
            (model_pk,),
        )[0][0]
        total = self._sql.query("SELECT count(*) FROM videos WHERE status IN ('indexed', 'pending')")[0][0]
        return done, total

    # -- videos ---------------------------------------------------------------------------
    def videos_in_root(self, root_id: int) -> dict[str, VideoRow]:
        """The videos of a root, by path."""
        rows = self._sql.query(f"SELECT {_VIDEO_COLS} FROM videos WHERE root_id = ?", (root_id,))
        return {r[2]: _video(r) for r in rows}

    def video(self, video_id: int) -> VideoRow | None:
        """The video with id *video_id*, or None."""
        rows = self._sql.query(f"SELECT {_VIDEO_COLS} FROM videos WHERE id = ?", (video_id,))
        return _video(rows[0]) if rows else None

    def video_by_path(self, path: str) -> VideoRow | None:
        """The video at *path*, or None."""
        rows = self._sql.query(f"SELECT {_VIDEO_COLS} FROM videos WHERE path = ?", (path,))
        return _video(rows[0]) if rows else None

    def videos(self, ids: Iterable[int] | None = None, *, folder: str | None = None) -> dict[int, VideoRow]:
        """Videos by id: those of *ids*, those under *folder*, or all."""
        if ids is not None:
            ids = list(ids)
            out: dict[int, VideoRow] = {}
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                marks = ",".join("?" * len(chunk))
                for r in self._sql.query(f"SELECT {_VIDEO_COLS} FROM videos WHERE id IN ({marks})", chunk):
                    out[r[0]] = _video(r)
            return out
        if folder is not None:
            rows = self._sql.query(
                f"SELECT {_VIDEO_COLS} FROM videos WHERE path LIKE ? ESCAPE '\\'", (_like_prefix(folder),)
            )
        else:
            rows = self._sql.query(f"SELECT {_VIDEO_COLS} FROM videos")
        return {r[0]: _video(r) for r in rows}

    def diff(self, root_id: int, files: Iterable[VideoFile]) -> Diff:
        """Compare what the scanner found under a root with what the library holds (mark and sweep)."""
        known = self.videos_in_root(root_id)
        d = Diff()
        seen: set[str] = set()
        for f in files:
            seen.add(f.path)
            row = known.get(f.path)
            if row is None:
                d.new.append(f)
            elif row.size != f.size or abs(row.mtime - f.mtime) > 1e-6 or row.status == VideoStatus.GONE:
                d.changed.append((row, f))
            else:
                d.unchanged.append(row)
        # a file already missing stays missing (it is not gone again); one found again is unchanged
        gone = [row for path, row in known.items() if path not in seen and not row.missing]
        # a gone file and a new file with the same size, mtime and name moved: keep its vectors
        by_key: dict[tuple[int, float, str], VideoRow] = {
            (r.size, round(r.mtime, 3), os.path.basename(r.path)): r
            for r in gone
            if r.status == VideoStatus.INDEXED
        }
        still_new = []
        for f in d.new:
            row = by_key.pop((f.size, round(f.mtime, 3), os.path.basename(f.path)), None)
            if row is not None:
                d.moved.append((row, f))
            else:
                still_new.append(f)
        d.new = still_new
        moved_ids = {row.id for row, _ in d.moved}
        d.gone = [r for r in gone if r.id not in moved_ids]
        return d

    def add_video(self, f: VideoFile, root_id: int | None, fingerprint: str | None = None) -> int:
        """Add a new file (status pending); returns its id."""
        with self._sql.transaction() as c:
            cur = c.execute(
                "INSERT INTO videos(root_id, path, size, mtime, status, added, fingerprint) "
                "VALUES (?, ?, ?, ?, 'pending', ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, "
                "root_id = excluded.root_id, status = 'pending', error = NULL, "
                "fingerprint = excluded.fingerprint, missing = NULL "
                "RETURNING id",
                (root_id, f.path, f.size, f.mtime, time.time(), fingerprint),
            )
            return int(cur.fetchone()[0])

    def apply_diff(
        self,
        root_id: int,
        d: Diff,
        problems: Sequence[tuple[str, str]] = (),
        fingerprints: Mapping[str, str | None] | None = None,
    ) -> None:
        """Record a scan's outcome for one root in one transaction.

        Moved files are re-pointed (vectors kept), changed ones reset, new ones added (with their
        *fingerprints*, by path, when known), gone ones marked missing (kept: a later scan or
        ``Service.locate`` may find them again), missing ones found again unmarked; *problems*,
        (path, reason) of what the scan could not take, replace the root's previous ones.
        """
        fps = fingerprints or {}
        with self._sql.transaction() as c:
            self.set_scan_problems(root_id, problems)
            for row, f in d.moved:
                self.move_video(row.id, f, root_id)
            for row, f in d.changed:
                self.reset_video(row.id, f, fps.get(f.path))
            for f in d.new:
                self.add_video(f, root_id, fps.get(f.path))
            found = [(r.id,) for r in d.unchanged if r.missing]
            c.executemany("UPDATE videos SET missing = NULL WHERE id = ?", found)
            if d.gone:
                self.mark_missing([r.id for r in d.gone])
            self.mark_scanned(root_id)

    def mark_missing(self, ids: Sequence[int]) -> None:
        """Mark videos whose files are gone as missing; their rows, vectors and transcripts stay."""
        now = time.time()
        with self._sql.transaction() as c:
            c.executemany("UPDATE videos SET missing = ? WHERE id = ? AND missing IS NULL", [(now, i) for i in ids])

    def missing_ids(self) -> set[int]:
        """Ids of the videos whose files are missing."""
        return {int(r[0]) for r in self._sql.query("SELECT id FROM videos WHERE missing IS NOT NULL")}

    def moved_candidates(self, fingerprint: str) -> list[VideoRow]:
        """Videos with this content fingerprint (the rows a moved or renamed file may be), by id."""
        rows = self._sql.query(f"SELECT {_VIDEO_COLS} FROM videos WHERE fingerprint = ? ORDER BY id", (fingerprint,))
        return [_video(r) for r in rows]

    def set_fingerprints(self, fingerprints: Mapping[int, str]) -> None:
        """Store content fingerprints of videos (by id) that have none yet."""
        with self._sql.transaction() as c:
            c.executemany(
                "UPDATE videos SET fingerprint = ? WHERE id = ? AND fingerprint IS NULL",
                [(fp, vid) for vid, fp in fingerprints.items()],
            )

    def reset_video(self, video_id: int, f: VideoFile, fingerprint: str | None = None) -> None:
        """A changed file: drop its frames, vectors and every expert's data (transcript, screen text); index it again."""
        with self._sql.transaction() as c:
            c.execute("DELETE FROM frames WHERE video_id = ?", (video_id,))
            c.execute("DELETE FROM video_models WHERE video_id = ?", (video_id,))
            for expert in self._experts:
                expert.forget_video(video_id)
            c.execute(
                "UPDATE videos SET size = ?, mtime = ?, status = 'pending', error = NULL, updated = ?, "
                "fingerprint = ?, missing = NULL WHERE id = ?",
                (f.size, f.mtime, time.time(), fingerprint, video_id),
            )
            c.execute("UPDATE models SET generation = generation + 1")

    def move_video(self, video_id: int, f: VideoFile, root_id: int | None) -> None:
        """Record that a video's file moved to *f* (its frames, vectors and transcripts stay)."""
        with self._sql.transaction() as c:
            c.execute(
                "UPDATE videos SET path = ?, root_id = ?, mtime = ?, updated = ?, missing = NULL WHERE id = ?",
                (f.path, root_id, f.mtime, time.time(), video_id),
            )

    def delete_videos(self, ids: Sequence[int]) -> None:
        """Delete videos (their frames, vectors and transcripts go with them: foreign keys cascade)."""
        if not ids:
            return
        with self._sql.transaction() as c:
            c.executemany("DELETE FROM videos WHERE id = ?", [(i,) for i in ids])
            c.execute("UPDATE models SET generation = generation + 1")

    def set_probe(self, video_id: int, info: VideoInfo) -> None:
        """Store a video's probe results."""
        with self._sql.transaction() as c:
            c.execute(
                "UPDATE videos SET duration = ?, fps = ?, width = ?, height = ?, rotation = ?, codec = ?, "
                "has_audio = ?, updated = ? WHERE id = ?",
                (
                    info.duration,
                    info.fps,
                    info.width,
                    info.height,
                    info.rotation,
                    info.codec,
                    int(info.has_audio),
                    time.time(),
                    video_id,
                ),
            )

    def set_failed(self, video_id: int, error: str) -> None:
        """Mark a video failed with a one-line reason (at most 500 characters)."""
        error = " ".join(str(error).split())[:500]
        with self._sql.transaction() as c:
            c.execute(
                "UPDATE videos SET status = 'failed', error = ?, updated = ? WHERE id = ?",
                (error, time.time(), video_id),
            )

    def set_status(self, video_id: int, status: VideoStatus) -> None:
        """Set a video's status."""
        with self._sql.transaction() as c:
            c.execute(
                "UPDATE videos SET status = ?, updated = ? WHERE id = ?",
                (str(VideoStatus(status)), time.time(), video_id),
            )

    def set_scan_problems(self, root_id: int, problems: Sequence[tuple[str, str]]) -> None:
        """Replace a root's scan problems with *problems*, (path, one-line reason) of its latest scan.

        Paths are stored as their bytes (``os.fsencode``): a name that is not valid UTF-8 comes
        from the scanner with surrogate escapes and cannot be SQLite text.
        """
        now = time.time()
        with self._sql.transaction() as c:
            c.execute("DELETE FROM scan_problems WHERE root_id = ?", (root_id,))
            c.executemany(
                "INSERT OR REPLACE INTO scan_problems(root_id, path, error, seen) VALUES (?, ?, ?, ?)",
                [(root_id, os.fsencode(p), " ".join(e.split())[:500], now) for p, e in problems],
            )

    def scan_problems(self, folder: str | None = None) -> list[tuple[str, str]]:
        r"""(path, reason) of what the last scans could not take (under *folder* when given), by path.

        A path that is not valid UTF-8 is shown with its stray bytes backslash-escaped
        (``caf\\xe9.mp4``): printable, and safe for every output and for Qt.
        """
        rows = self._sql.query("SELECT path, error FROM scan_problems ORDER BY path")
        inside = os.fsencode(folder.rstrip(os.sep) + os.sep) if folder else None
        return [
            (bytes(raw).decode("utf-8", "backslashreplace"), err)
            for raw, err in rows
            if inside is None or bytes(raw).startswith(inside)
        ]

    def failures(self, folder: str | None = None) -> list[tuple[str, str]]:
        """(path, reason) of the failed videos, under *folder* when given."""
        if folder:
            rows = self._sql.query(
                "SELECT path, error FROM videos WHERE status = 'failed' AND path LIKE ? ESCAPE '\\' ORDER BY path",
                (_like_prefix(folder),),
            )
        else:
            rows = self._sql.query("SELECT path, error FROM videos WHERE status = 'failed' ORDER BY path")
        return [(p, e or "unknown error") for p, e in rows]

    # -- frames and vectors ---------------------------------------------------------------
    def add_frames(self, video_id: int, model_pk: int, times: np.ndarray, vectors: np.ndarray) -> list[int]:
        """Store one batch of sampled frames and their vectors in one transaction."""
        blobs = pack(vectors)
        ts = [round(float(t), 4) for t in times]
        with self._sql.transaction() as c:
            c.executemany(
                "INSERT OR IGNORE INTO frames(video_id, t) VALUES (?, ?)", [(video_id, t) for t in ts]
            )
            ids = [
                c.execute("SELECT id FROM frames WHERE video_id = ? AND t = ?", (video_id, t)).fetchone()[0]
                for t in ts
            ]
            c.executemany(
                "INSERT OR REPLACE INTO vectors(frame_id, model, vec) VALUES (?, ?, ?)",
                [(fid, model_pk, b) for fid, b in zip(ids, blobs, strict=True)],
            )
            c.execute("UPDATE models SET generation = generation + 1 WHERE id = ?", (model_pk,))
        return ids

    def finish_video(self, video_id: int, model_pk: int) -> int:
        """Mark a video fully embedded for a model; returns its frame count."""
        with self._sql.transaction() as c:
            n = c.execute(
                "SELECT count(*) FROM vectors v JOIN frames f ON f.id = v.frame_id "
                "WHERE f.video_id = ? AND v.model = ?",
                (video_id, model_pk),
            ).fetchone()[0]
            c.execute(
                "INSERT OR REPLACE INTO video_models(video_id, model, frames, done) VALUES (?, ?, ?, ?)",
                (video_id, model_pk, n, time.time()),
            )
            c.execute(
                "UPDATE videos SET status = 'indexed', error = NULL, updated = ? WHERE id = ?",
                (time.time(), video_id),
            )
        return int(n)

    def done_videos(self, model_pk: int) -> set[int]:
        """Ids of the videos fully indexed for the model."""
        return {
            r[0] for r in self._sql.query("SELECT video_id FROM video_models WHERE model = ?", (model_pk,))
        }

    def last_frame_time(self, video_id: int, model_pk: int) -> float | None:
        """Resume point: the latest frame already embedded for this video and model."""
        row = self._sql.query(
            "SELECT max(f.t) FROM frames f JOIN vectors v ON v.frame_id = f.id WHERE f.video_id = ? AND v.model = ?",
            (video_id, model_pk),
        )
        return row[0][0] if row and row[0][0] is not None else None

    def video_vectors(
        self, video_id: int, model_pk: int, dim: int, between: tuple[float, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame ids, times, vectors) of one video (or of its frames between two times), in time order."""
        lo, hi = between if between is not None else (-1.0, float("inf"))
        # CAST: a damaged record may claim its blob is text, which Python would try to decode
        rows = self._sql.query(
            "SELECT f.id, f.t, CAST(v.vec AS BLOB) FROM frames f JOIN vectors v ON v.frame_id = f.id "
            "WHERE f.video_id = ? AND v.model = ? AND f.t BETWEEN ? AND ? ORDER BY f.t",
            (video_id, model_pk, lo, hi),
        )
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        ts = np.array([r[1] if isinstance(r[1], float | int) else np.nan for r in rows], dtype=np.float64)
        vecs, sound = unpack_checked([r[2] for r in rows], dim)
        sound &= np.isfinite(ts)
        if not sound.all():
            self._damaged_rows(ids[~sound], video_id)
            ids, ts, vecs = ids[sound], ts[sound], vecs[sound]
        return ids, ts, vecs

    def frame_count(self, video_id: int) -> int:
        """Frames stored for a video."""
        return int(self._sql.query("SELECT count(*) FROM frames WHERE video_id = ?", (video_id,))[0][0])

    def vector_ids(self, model_pk: int) -> np.ndarray:
        """Ids of the frames that have a vector of the model."""
        rows = self._sql.query("SELECT frame_id FROM vectors WHERE model = ?", (model_pk,))
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def vector_count(self, model_pk: int) -> int:
        """How many vectors a model has (the ANN cache is checked against it on open)."""
        return int(self._sql.query("SELECT count(*) FROM vectors WHERE model = ?", (model_pk,))[0][0])

    def iter_vectors(
        self, model_pk: int, dim: int, ids: np.ndarray | None = None, batch: int = 50_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stream (frame ids, vectors) of a model, optionally only the given ids."""
        if ids is not None:
            for i in range(0, len(ids), 900):
                chunk = [int(x) for x in ids[i : i + 900]]
                marks = ",".join("?" * len(chunk))
                rows = self._sql.query(
                    f"SELECT frame_id, CAST(vec AS BLOB) FROM vectors WHERE model = ? AND frame_id IN ({marks})",
                    [model_pk, *chunk],
                )
                got = self._sound(rows, dim) if rows else None
                if got is not None and len(got[0]):
                    yield got
            return
        last = -1
        while True:
            rows = self._sql.query(
                "SELECT frame_id, CAST(vec AS BLOB) FROM vectors WHERE model = ? AND frame_id > ? "
                "ORDER BY frame_id LIMIT ?",
                (model_pk, last, batch),
            )
            if not rows:
                return
            last = rows[-1][0]
            got = self._sound(rows, dim)
            if len(got[0]):
                yield got

    def _sound(self, rows: Sequence[tuple[Any, ...]], dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(frame ids, vectors) of (frame id, blob) rows, without (and reporting) damaged vectors."""
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vecs, sound = unpack_checked([r[1] for r in rows], dim)
        if not sound.all():
            self._damaged_rows(ids[~sound])
            ids, vecs = ids[sound], vecs[sound]
        return ids, vecs

    def frames(self, ids: Iterable[int]) -> dict[int, tuple[int, float]]:
        """Frame id -> (video id, time) (see :meth:`frame_arrays`)."""
        want = np.fromiter((int(i) for i in ids), dtype=np.int64)
        vids, ts, found = self.frame_arrays(want)
        return dict(
            zip(want[found].tolist(), zip(vids[found].tolist(), ts[found].tolist(), strict=True), strict=True)
        )

    def frame_arrays(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(video ids, times, found) of frame ids, as arrays in the order given.

        Answered from an in-memory map of every frame (built on first use, 24 bytes a frame:
        0.8 s and 24 MB at 1M frames), extended by the frames written since; a search asks for
        thousands of frame ids, which cost 17 ms a query at 1M as SQLite lookups. Frame rows
        are never changed, only added (with ever larger ids) or deleted, so the map can only
        hold extra rows, of deleted frames (the ANN index no longer returns them); an id the map
        lacks is looked up in SQLite.
        """
        want = np.asarray(ids, dtype=np.int64).reshape(-1)
        vids = np.full(len(want), -1, np.int64)
        ts = np.full(len(want), np.nan)
        if len(want) == 0:
            return vids, ts, np.zeros(0, bool)
        fids, mv, mt = self._frame_map(int(want.max()))
        if len(fids):
            pos = np.minimum(np.searchsorted(fids, want), len(fids) - 1)
            found = fids[pos] == want
            vids[found], ts[found] = mv[pos[found]], mt[pos[found]]
        else:
            found = np.zeros(len(want), bool)
        rest = np.flatnonzero(~found)
        if len(rest):
            where: dict[int, tuple[int, float]] = {}
            chunk_ids = want[rest].tolist()
            for i in range(0, len(chunk_ids), 900):
                chunk = chunk_ids[i : i + 900]
                marks = ",".join("?" * len(chunk))
                for fid, vid, t in self._sql.query(
                    f"SELECT id, video_id, t FROM frames WHERE id IN ({marks})", chunk
                ):
                    where[int(fid)] = (int(vid), float(t) if isinstance(t, float | int) else np.nan)
            for j, fid in zip(rest.tolist(), chunk_ids, strict=True):
                got = where.get(fid)
                if got is not None:
                    vids[j], ts[j], found[j] = got[0], got[1], True
        return vids, ts, found

    def _frame_map(self, upto: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame ids sorted, their video ids, their times), holding at least the frames up to id *upto*."""
        with self._map_lock:
            fids, vids, ts = self._fmap
            top = int(fids[-1]) if len(fids) else 0
            if upto <= top:
                return self._fmap
            # a damaged time (not a number) reads as NaN, as video_vectors treats it; in chunks,
            # so the rows' Python objects never add up to much (1M rows at once: ~150 MB more peak)
            parts = [(fids, vids, ts)]
            while True:
                rows = self._sql.query(
                    "SELECT id, video_id, CASE WHEN typeof(t) IN ('real', 'integer') THEN t END "
                    "FROM frames WHERE id > ? ORDER BY id LIMIT ?",
                    (top, FRAME_MAP_CHUNK),
                )
                if not rows:
                    break
                arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
                parts.append((arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2]))
                top = int(arr[-1, 0])
                if len(rows) < FRAME_MAP_CHUNK:
                    break
            if len(parts) > 1:
                self._fmap = (
                    np.concatenate([p[0] for p in parts]),
                    np.concatenate([p[1] for p in parts]),
                    np.concatenate([p[2] for p in parts]),
                )
            return self._fmap

    # -- summaries ------------------------------------------------------------------------
    def counts(self) -> Counts:
        """The whole library's videos by status and its stored frames (one consistent read)."""
        with self._sql.snapshot() as c:
            # a video counts by its status, or as "gone" while its file is missing
            by_status = dict(c.execute(
                "SELECT CASE WHEN missing IS NOT NULL THEN 'gone' ELSE status END AS b, count(*) FROM videos GROUP BY b"
            ).fetchall())
            frames = c.execute("SELECT count(*) FROM frames").fetchone()[0]
            partial = c.execute(_PARTIAL).fetchone()[0]
        return _counts(by_status, frames, partial)

    def root_counts(self) -> dict[int, Counts]:
        """Per root id: its videos by status and stored frames (roots without videos are absent)."""
        by_root: dict[int, dict[str, int]] = {}
        frames: dict[int, int] = {}
        with self._sql.snapshot() as c:
            for root_id, status, n in c.execute(
                "SELECT root_id, CASE WHEN missing IS NOT NULL THEN 'gone' ELSE status END AS b, count(*) "
                "FROM videos GROUP BY root_id, b"
            ):
                by_root.setdefault(root_id, {})[status] = n
            for root_id, n in c.execute(
                "SELECT v.root_id, count(*) FROM frames f JOIN videos v ON v.id = f.video_id GROUP BY v.root_id"
            ):
                frames[root_id] = n
            partial = dict(c.execute(_PARTIAL_BY_ROOT).fetchall())
        return {
            rid: _counts(by_root.get(rid, {}), frames.get(rid, 0), partial.get(rid, 0))
            for rid in by_root.keys() | frames.keys()
        }


def warn_unreadable(path: str, err: BaseException) -> str:
    """Log that *path* cannot be read; returns the reason as one line."""
    msg = " ".join(str(err).split()) or type(err).__name__
    log.index.warning("%s: %s", path, msg)
    return msg
