"""Background work for the app: the index worker on its own QThread, and short jobs on a thread pool.

Nothing here touches widgets. Workers forward every exception as a ``failed`` signal (a worker
thread has nobody else to tell), and emit plain values (dataclasses, QImage, bytes), never QPixmap.
"""

from __future__ import annotations

import itertools
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QThread, QThreadPool, Signal, Slot

from vsearch import log
from vsearch.errors import VSearchError
from vsearch.types import CancelToken, IndexStats, Progress
from vsearch.ui.qtcompat import emit


@dataclass(frozen=True, slots=True)
class Failure:
    """An exception from a worker, made safe to carry across threads.

    Attributes:
        message: one line for the user.
        expected: True for vsearch's own errors (user input, environment), False for a bug.
        details: the traceback (for the log and the "details" part of a message box).
    """

    message: str
    expected: bool
    details: str = ""

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        expected = isinstance(exc, VSearchError)
        msg = str(exc) or type(exc).__name__
        if not expected:
            msg = f"{type(exc).__name__}: {msg}"
        return cls(msg, expected, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))


class IndexWorker(QObject):
    """Runs ``service.index`` for one batch of folders; lives on the controller's QThread.

    Signals:
        started(list): indexing of these folders (empty list: every folder) began.
        progressed(Progress): one report per batch, from the worker thread.
        finished(IndexStats): the run ended (possibly cancelled: ``stats.cancelled``).
        failed(Failure): the run raised; the library is left consistent by the service.
    """

    started = Signal(list)
    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, service: Any) -> None:
        super().__init__()
        self._service = service

    @Slot(object, object)
    def run(self, paths: list[str] | None, token: CancelToken) -> None:
        emit(self.started, list(paths or []))
        try:
            stats = self._service.index(paths, progress=partial(emit, self.progressed), cancel=token)
        except BaseException as exc:  # noqa: BLE001 - forwarded, never swallowed
            log.ui.error("indexing failed", exc_info=exc)
            emit(self.failed, Failure.from_exception(exc))
            return
        if stats is None:
            stats = IndexStats(cancelled=token.cancelled)
        emit(self.finished, stats)


class IndexController(QObject):
    """Owns the index worker's QThread and a queue of folders waiting to be indexed.

    One run at a time (the library has one writer); folders added while a run is going
    wait in the queue and start when it ends. Pause, resume and cancel act on the running
    job through its CancelToken. :meth:`shutdown` cancels, waits for the thread and returns
    only when the service has left the library consistent.

    Signals:
        busyChanged(bool): a run started or the queue drained.
        progressed(Progress), finished(IndexStats), failed(Failure): re-emitted from the worker.
        pausedChanged(bool).
        queueChanged(int): number of jobs waiting (not counting the running one).
    """

    busyChanged = Signal(bool)
    progressed = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    pausedChanged = Signal(bool)
    queueChanged = Signal(int)
    _runRequested = Signal(object, object)

    def __init__(self, service: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName("vsearch-index")
        self._worker = IndexWorker(service)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._runRequested.connect(self._worker.run)  # queued: the worker lives on the thread
        self._worker.progressed.connect(self._on_worker_progressed)
        self._worker.finished.connect(self._on_worker_finished)
        self._worker.failed.connect(self._on_worker_failed)
        self._queue: deque[list[str] | None] = deque()
        self._token: CancelToken | None = None
        self._running: list[str] | None = None
        self._busy = False
        self._stopping = False
        self._thread.start()

    # --- state ------------------------------------------------------------------------
    def is_busy(self) -> bool:
        return self._busy

    def is_paused(self) -> bool:
        return self._token is not None and self._token.paused

    def queued(self) -> list[list[str] | None]:
        return list(self._queue)

    def running(self) -> list[str] | None:
        return self._running

    # --- commands -----------------------------------------------------------------------
    def enqueue(self, paths: Sequence[str] | None = None) -> None:
        """Index *paths* (None: every folder) now, or after the running job."""
        if self._stopping:
            return
        job = None if paths is None else [str(p) for p in paths]
        if job is not None and not job:
            return
        if job in self._queue or (self._busy and job == self._running and job is not None):
            return  # already waiting or running
        self._queue.append(job)
        emit(self.queueChanged, len(self._queue) - (0 if self._busy else 1))
        if not self._busy:
            self._start_next()

    def pause(self) -> None:
        if self._token is not None and not self._token.paused:
            self._token.pause()
            emit(self.pausedChanged, True)

    def resume(self) -> None:
        if self._token is not None and self._token.paused:
            self._token.resume()
            emit(self.pausedChanged, False)

    def cancel(self, clear_queue: bool = True) -> None:
        """Stop the running job at its next batch boundary; drop waiting jobs too by default."""
        if clear_queue and self._queue:
            self._queue.clear()
            emit(self.queueChanged, 0)
        if self._token is not None:
            was_paused = self._token.paused
            self._token.cancel()
            if was_paused:
                emit(self.pausedChanged, False)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything and stop the thread; True if it stopped within *timeout_ms*."""
        self._stopping = True
        self.cancel(clear_queue=True)
        self._thread.quit()
        ok = self._thread.wait(timeout_ms)
        if not ok:
            log.ui.warning("index thread did not stop within %d ms", timeout_ms)
        return bool(ok)

    # --- internals ----------------------------------------------------------------------
    def _start_next(self) -> None:
        if self._stopping or not self._queue:
            if self._busy:
                self._busy = False
                emit(self.busyChanged, False)
            return
        job = self._queue.popleft()
        self._token = CancelToken()
        self._running = job
        if not self._busy:
            self._busy = True
            emit(self.busyChanged, True)
        emit(self.queueChanged, len(self._queue))
        emit(self._runRequested, job, self._token)

    @Slot(object)
    def _on_worker_progressed(self, progress: Progress) -> None:
        emit(self.progressed, progress)

    @Slot(object)
    def _on_worker_finished(self, stats: IndexStats) -> None:
        self._token = None
        self._running = None
        emit(self.finished, stats)
        self._start_next()

    @Slot(object)
    def _on_worker_failed(self, failure: Failure) -> None:
        self._token = None
        self._running = None
        emit(self.failed, failure)
        self._start_next()


class TaskRunner(QObject):
    """Runs short blocking calls (search, thumbnails, similarity curves) on a QThreadPool.

    ``submit(fn, *args, on_done=..., on_error=...)`` runs ``fn(*args)`` on a pool thread; the
    result (or a :class:`Failure`) comes back through a queued signal and the callback runs
    on the GUI thread (Picard's ``run_task`` shape). Callbacks of jobs that finish after
    :meth:`shutdown` are dropped. Errors without an ``on_error`` go to ``failed``.

    Signals:
        failed(Failure): a job raised and had no error callback.
    """

    failed = Signal(object)
    _done = Signal(int, object, object)

    def __init__(self, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(max(1, max_threads))
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[Callable[[Any], None] | None, Callable[[Failure], None] | None]] = {}
        self._closed = False
        self._done.connect(self._on_job_done)

    def pool(self) -> QThreadPool:
        return self._pool

    def pending(self) -> int:
        return len(self._callbacks)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[Failure], None] | None = None,
        priority: int = 0,
    ) -> int:
        if self._closed:
            return 0
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error)
        done = self._done

        def job() -> None:
            try:
                result = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - forwarded
                emit(done, job_id, None, Failure.from_exception(exc))
                return
            emit(done, job_id, result, None)

        self._pool.start(job, priority)  # PySide6 wraps the callable and keeps it alive
        return job_id

    @Slot(int, object, object)
    def _on_job_done(self, job_id: int, result: Any, failure: Failure | None) -> None:
        callbacks = self._callbacks.pop(job_id, None)
        if callbacks is None or self._closed:
            return
        on_done, on_error = callbacks
        if failure is not None:
            if not failure.expected:
                log.ui.error("background job failed: %s\n%s", failure.message, failure.details)
            if on_error is not None:
                on_error(failure)
            else:
                emit(self.failed, failure)
        elif on_done is not None:
            on_done(result)

    def wait(self, timeout_ms: int = -1) -> bool:
        return bool(self._pool.waitForDone(timeout_ms))

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Drop queued jobs, wait for running ones, forget callbacks."""
        self._closed = True
        self._pool.clear()
        ok = self._pool.waitForDone(timeout_ms)
        self._callbacks.clear()
        return bool(ok)
