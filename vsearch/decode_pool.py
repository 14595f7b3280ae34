"""Decoder pools for the indexer: threads (few cores) or processes (many cores, GPU embedding).

Both take a list of :class:`DecodeJob` and deliver, through one bounded queue, typed events
(:data:`DecodeEvent`): for job ``i``, ``Batch(i, FrameBatch)`` any number of times, then
``Done(i)`` or ``Failed(i, one-line reason)``. The events are small frozen dataclasses, so they
pickle across the process pool unchanged. Frames are resized where they are decoded, so only
model-sized pictures cross a thread or process boundary (~270 KB per 1080p frame).

Threads share one interpreter: with more than a few decoders the GIL, not the decoder, sets
the pace (H200 host, 16 cores: 358x real time decoding keyframes with 15 threads). Processes
started with "spawn" (safe beside CUDA and the parent's threads) each own a core; they exit
when the parent stops them, and on their own when the parent dies.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from vsearch.errors import MediaError
from vsearch.frames import SampleOptions, iter_frames
from vsearch.types import FrameBatch, VideoInfo

_PUT_WAIT = 0.2  # seconds between checks of the stop flag while the queue is full


@dataclass(frozen=True, slots=True)
class DecodeJob:
    """One video to decode.

    Attributes:
        path: the file.
        info: its probe result.
        start_after: seek here and yield only later frames (resume without skipping), or None.
        keep_after: drop frames at or before this time after decoding from the start (resume
            with near-duplicate skipping, which depends on the frames before), or None.
    """

    path: str
    info: VideoInfo
    start_after: float | None = None
    keep_after: float | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """Decoded frames of job ``job`` (more may follow).

    Attributes:
        job: index of the job in the list the pool was started with.
        frames: the frames, resized and upright.
    """

    job: int
    frames: FrameBatch


@dataclass(frozen=True, slots=True)
class Done:
    """Job ``job`` was decoded to its end; no more events for it follow."""

    job: int


@dataclass(frozen=True, slots=True)
class Failed:
    """Job ``job`` could not be decoded (the batches already sent stay valid); none follow.

    Attributes:
        job: index of the job.
        reason: one line, for the user and the library's record.
    """

    job: int
    reason: str


DecodeEvent: TypeAlias = Batch | Done | Failed
"""What a decoder pool delivers."""


def decode_job(job: DecodeJob, opts: SampleOptions) -> Iterator[FrameBatch]:
    """The batches of one job, resume filtering applied. Raises MediaError and others."""
    for batch in iter_frames(job.path, job.info, opts, start_after=job.start_after):
        if job.keep_after is not None:
            keep = batch.times > job.keep_after + 1e-6
            if not keep.any():
                continue
            batch = FrameBatch(batch.times[keep], batch.images[keep])
        yield batch


def _put_until(out: Any, item: DecodeEvent, stopping: Callable[[], bool]) -> bool:
    """Put *item* on the bounded queue *out*, waiting while it is full; False once stopping."""
    while not stopping():
        try:
            out.put(item, timeout=_PUT_WAIT)
            return True
        except queue.Full:
            continue
    return False


def _run_job(job: DecodeJob, opts: SampleOptions, put: Callable[[DecodeEvent], bool], i: int) -> bool:
    """Decode one job into *put*; False once the pool is stopping."""
    try:
        for batch in decode_job(job, opts):
            if not put(Batch(i, batch)):
                return False
        return put(Done(i))
    except MediaError as e:
        return put(Failed(i, str(e)))
    except Exception as e:  # noqa: BLE001 - one bad file never ends the run
        return put(Failed(i, f"cannot decode: {type(e).__name__}: {e}"))


class DecodePool:
    """Common interface: ``events()`` (or ``get(timeout)`` one), ``alive()``, ``close()``.

    Attributes:
        jobs: how many jobs the pool was started with.
    """

    out: Any
    jobs: int

    def get(self, timeout: float) -> DecodeEvent:
        """The next event; raises queue.Empty after *timeout* seconds without one."""
        event: DecodeEvent = self.out.get(timeout=timeout)
        return event

    def events(
        self,
        stopping: Callable[[], bool] = lambda: False,
        *,
        timeout: float = 0.5,
        waited: Callable[[float], None] | None = None,
    ) -> Iterator[DecodeEvent]:
        """The events until every job ended, ``stopping()`` (asked before each wait) or the decoders died.

        Args:
            stopping: polled at least every *timeout* seconds; True ends the iteration.
            timeout: seconds of one wait on the queue.
            waited: told the seconds of each wait that brought an event.
        """
        remaining = self.jobs
        while remaining:
            if stopping():
                return
            t0 = time.perf_counter()
            try:
                event = self.get(timeout)
            except queue.Empty:
                if not self.alive():
                    return
                continue
            if waited is not None:
                waited(time.perf_counter() - t0)
            if not isinstance(event, Batch):
                remaining -= 1
            yield event

    def alive(self) -> bool:
        """True while any decoder still runs."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the decoders and wait for them."""
        raise NotImplementedError


class ThreadDecodePool(DecodePool):
    """Decoder threads (PyAV releases the GIL while it decodes)."""

    def __init__(self, jobs: Sequence[DecodeJob], opts: SampleOptions, workers: int) -> None:
        self.jobs = len(jobs)
        self.out: queue.Queue[DecodeEvent] = queue.Queue(maxsize=max(4, workers * 2))
        self._jobs: queue.Queue[tuple[int, DecodeJob]] = queue.Queue()
        for i, job in enumerate(jobs):
            self._jobs.put((i, job))
        self._stop = threading.Event()
        self._opts = opts
        self._threads = [
            threading.Thread(target=self._work, name=f"decode-{n}", daemon=True) for n in range(workers)
        ]
        for th in self._threads:
            th.start()

    def _put(self, item: DecodeEvent) -> bool:
        return _put_until(self.out, item, self._stop.is_set)

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                i, job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not _run_job(job, self._opts, self._put, i):
                return

    def alive(self) -> bool:
        """True while any decoder thread still runs."""
        return any(th.is_alive() for th in self._threads)

    def close(self) -> None:
        """Stop the threads (each ends at its next bounded put) and join them."""
        self._stop.set()
        for th in self._threads:
            th.join(timeout=5)


def _process_main(jobs: Any, out: Any, stop: Any, opts: SampleOptions, parent: int) -> None:
    """A decoder process: take jobs until the sentinel, the stop flag or the parent's death."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle

    def stopping() -> bool:
        return stop.is_set() or os.getppid() != parent

    def put(item: DecodeEvent) -> bool:
        return _put_until(out, item, stopping)

    while not stopping():
        try:
            task = jobs.get(timeout=_PUT_WAIT)
        except queue.Empty:
            continue
        if task is None:
            return
        i, job = task
        if not _run_job(job, opts, put, i):
            return


class ProcessDecodePool(DecodePool):
    """Decoder processes, one video each at a time."""

    def __init__(self, jobs: Sequence[DecodeJob], opts: SampleOptions, workers: int) -> None:
        self.jobs = len(jobs)
        ctx = mp.get_context("spawn")
        self.out = ctx.Queue(maxsize=max(4, workers * 2))
        self._jobs = ctx.Queue()
        for i, job in enumerate(jobs):
            self._jobs.put((i, job))
        for _ in range(workers):
            self._jobs.put(None)
        self._stop = ctx.Event()
        self._procs = [
            ctx.Process(
                target=_process_main,
                args=(self._jobs, self.out, self._stop, opts, os.getpid()),
                name=f"vsearch-decode-{n}",
                daemon=True,
            )
            for n in range(workers)
        ]
        for p in self._procs:
            p.start()

    def alive(self) -> bool:
        """True while any decoder process still runs."""
        return any(p.is_alive() for p in self._procs)

    def close(self) -> None:
        """Stop the processes (terminated when they do not exit in 2 s) and close the queues."""
        self._stop.set()
        # drain so that workers blocked on a full queue see the stop flag and exit
        with contextlib.suppress(Exception):
            while True:
                self.out.get_nowait()
        for p in self._procs:
            p.join(timeout=2)
            if p.is_alive():
                p.terminate()
                p.join(timeout=2)
        for q in (self.out, self._jobs):
            q.cancel_join_thread()
            q.close()


def start_pool(jobs: Sequence[DecodeJob], opts: SampleOptions, workers: int, processes: bool) -> DecodePool:
    """A started pool of *workers* decoders over *jobs*."""
    if processes:
        return ProcessDecodePool(jobs, opts, workers)
    return ThreadDecodePool(jobs, opts, workers)
