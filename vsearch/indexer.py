"""Indexer: scan -> diff -> probe -> sample (decoders) -> embed (batched) -> write (one writer).

A run has three stages, in the shape of beets' importer pipeline: ``Indexer._plan`` decides
what to decode and from where (resume points, threads or processes); a decoder pool
(``vsearch.decode_pool``) turns that plan into typed events, ``Batch | Done | Failed``, through
a bounded queue so memory stays flat; and one consumer (``_Consumer``) embeds each batch and
writes it. That consumer is the only writer: each batch of frames and vectors is one SQLite
transaction, a video is marked done only when all its frames are stored, every failure goes
through one path (``_Consumer._failed``), and ``ProgressTracker`` turns the events into
progress, rate and ETA. The ANN cache is saved atomically every ``ANN_SAVE_EVERY`` seconds (a
large one less often: ``ANN_SAVE_COST_FACTOR``) and at the end, a failed save being logged either
time (SQLite holds everything).
A kill at any point leaves a library that opens; the next run resumes each video after its
last stored frame.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vsearch import log
from vsearch.decode_pool import Batch, DecodeEvent, DecodeJob, Done, start_pool
from vsearch.embed.base import Embedder
from vsearch.embed.health import check_vectors
from vsearch.errors import MediaError
from vsearch.frames import SampleOptions, sampling_mode
from vsearch.probe import probe
from vsearch.scan import fingerprint, scan
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Diff, Library, ModelRow, VideoRow, warn_unreadable
from vsearch.types import CancelToken, FrameBatch, IndexStats, Progress, VideoInfo

ProgressFn = Callable[[Progress], None]
ANN_SAVE_EVERY = 30.0  # seconds
#: ... or, for a large index, this many times the last save's duration: hnswlib's save_index holds
#: Python's lock for the whole write (measured at 1M vectors: 6-7 s in which no other Python thread,
#: the app's window included, ran; benchmarks/bench_gil.py), so a big library saves rarely: at 1M
#: about every 10 minutes. SQLite holds every vector; after a crash the next open adds what the
#: saved cache lacks (10 minutes of indexing at 40x real time: ~12k vectors, ~1 s).
ANN_SAVE_COST_FACTOR = 100.0


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """How an indexing run samples, batches and decodes (from the settings; see SampleOptions)."""
    sampling: str = "keyframe"
    interval: float = 1.0
    batch: int = 32
    decode_workers: int = 0  # 0 = from the core count (see decode_plan)
    decode_timeout: float = 600.0
    skip_similar: float | None = None
    hwaccel: str | None = None  # FFmpeg hardware decoder device type, e.g. "cuda"
    decode_processes: bool | None = None  # None: processes when a GPU embeds and > 2 decoders


def _probe_file(path: str) -> VideoInfo | Exception:
    """probe() that returns its error instead of raising (run in a worker thread)."""
    try:
        if not os.path.exists(path):
            raise MediaError("file vanished during indexing")
        return probe(path)
    except Exception as e:  # noqa: BLE001 - one bad file never aborts a run
        return e


def decode_plan(requested: int, cores: int, device: str, videos: int) -> tuple[int, int]:
    """(decoder workers, threads per decoder) for a run.

    Each worker decodes one video at a time. When the model runs on a GPU the CPU does nothing
    but decode, so every core but one (the embed/write thread) gets a worker, one video each:
    keyframe decoding parallelises poorly inside a file but perfectly across files. When the
    model shares the CPU, half the cores (at most 4) decode and the rest embed.
    """
    if requested:
        workers = requested
    elif device in ("cuda", "mps"):
        workers = max(1, min(cores - 1, 32))
    else:
        workers = max(1, min(4, cores // 2))
    workers = max(1, min(workers, videos or 1))
    return workers, max(1, cores // workers)


class Indexer:
    """Brings one model's index of a library up to date with the folders on disk.

    Attributes:
        library: the library (SQLite).
        embedder_factory: builds the embedder on first need (no model load when nothing changed).
        health_check: probes a model new to the library before its first vectors are stored.
        options: sampling and batching.
    """

    def __init__(
        self,
        library: Library,
        embedder_factory: Callable[[], Embedder],
        *,
        model_name: str,
        ann_folder: os.PathLike[str] | str,
        ann_for: Callable[[ModelRow], AnnIndex] | None = None,
        options: IndexOptions = IndexOptions(),
        health_check: Callable[[Embedder], None] | None = None,
    ) -> None:
        self.library = library
        self._factory = embedder_factory
        self.health_check = health_check
        self._embedder: Embedder | None = None
        self.model_name = model_name
        self.ann_folder = ann_folder
        self._ann_for = ann_for  # the Service's shared index (searches in the same process see adds)
        self.options = options
        self.model: ModelRow | None = None
        self.ann: AnnIndex | None = None
        self._save_seconds = 0.0  # how long the last ANN save took (see ANN_SAVE_COST_FACTOR)

    @property
    def embedder(self) -> Embedder:
        """The embedder, built on first use."""
        if self._embedder is None:
            self._embedder = self._factory()
        return self._embedder

    # -- phase 1: scan and diff (no decoding) ----------------------------------------------
    def sync_folders(self, roots: Sequence[str], stats: IndexStats) -> None:
        """Scan each root and apply its diff to the library (new, changed, moved, gone); no decoding."""
        t0 = time.perf_counter()
        for path in roots:
            root = self.library.add_root(path)
            if not os.path.exists(path):
                # unplugged drive or unmounted share: keep its entries, they stay searchable
                log.scan.warning("%s is offline; keeping its %s", path, "entries")
                continue
            errors: list[tuple[str, str]] = []
            files = []
            for f in scan([path], errors):
                try:
                    f.path.encode("utf-8")
                except UnicodeEncodeError:
                    # SQLite text must be UTF-8: record it instead of aborting the whole run
                    errors.append((f.path, "file name is not valid UTF-8; rename the file to index it"))
                    continue
                files.append(f)
            if not files and not errors and self.library.videos_in_root(root.id):
                # an empty mount point left by an unplugged drive or share looks like "all deleted"
                log.scan.warning("%s is empty; treating it as offline and keeping its entries", path)
                continue
            for p, e in errors:
                stats.errors.append((p, e))
            d = self.library.diff(root.id, files)
            fps = self._recognise_moves(d)
            self.library.apply_diff(root.id, d, errors, fps)  # one transaction for the whole folder
            stats.scanned += len(files)
            stats.unchanged += len(d.unchanged)
            stats.moved += len(d.moved)
            stats.changed += len(d.changed)
            stats.new += len(d.new)
            stats.gone += len(d.gone)
        stats.stage_seconds["scan"] = stats.stage_seconds.get("scan", 0.0) + time.perf_counter() - t0

    def _recognise_moves(self, d: Diff) -> dict[str, str | None]:
        """Fingerprint the diff's new and changed files; a new one whose content a library video has moves it.

        That video must be missing, gone in this diff, or no longer at its path (a move between
        two library folders, whichever is scanned first); a copy beside its original is new.
        Returns the fingerprints by path, for the new and changed rows.
        """
        fps = {f.path: fingerprint(f.path, f.size) for f in [*d.new, *(f for _, f in d.changed)]}
        gone_ids = {r.id for r in d.gone}
        taken = {r.id for r, _ in d.moved}
        still_new = []
        for f in d.new:
            fp = fps[f.path]
            row = next(
                (
                    r
                    for r in (self.library.moved_candidates(fp) if fp else [])
                    if r.id not in taken and r.path != f.path
                    and (r.missing or r.id in gone_ids or not os.path.exists(r.path))
                ),
                None,
            )
            if row is None:
                still_new.append(f)
                continue
            taken.add(row.id)
            d.moved.append((row, f))
        d.new = still_new
        d.gone = [r for r in d.gone if r.id not in taken]
        return fps

    def pending(self, roots: Sequence[str]) -> list[VideoRow]:
        """Videos under the roots that still need work for this indexer's model."""
        rows: list[VideoRow] = []
        done = self.library.done_videos(self.model.id) if self.model else set()
        for path in roots:
            root = self.library.root(path)
            if root is None or not os.path.exists(path):
                continue
            for row in self.library.videos_in_root(root.id).values():
                if row.status == "failed" or row.id in done or row.missing:
                    continue
                rows.append(row)
        rows.sort(key=lambda r: r.path)
        return rows

    # -- phase 2: probe, decode, embed, write ----------------------------------------------
    def update(
        self,
        roots: Sequence[str],
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> IndexStats:
        """Bring the index of *roots* up to date: scan, then probe, decode, embed and store what is pending."""
        stats = IndexStats()
        cancel = cancel or CancelToken()
        with self.library.writer():
            self.sync_folders(roots, stats)
            model = self.library.model_by_name(self.model_name)
            self.model = model
            work = self.pending(roots)
            if not work:
                if model is not None:
                    self._open_ann(model)  # a cache that does not match SQLite is repaired here too
                    self._save_ann()
                    self._activate_if_complete(model, stats)  # a run killed after its last video
                return stats
            emb = self.embedder
            if model is None or model.model_id != emb.model_id:
                model = self.library.ensure_model(emb.model_id, self.model_name, emb.dim)
                self.model = model
                work = self.pending(roots)
            self._open_ann(model)
            try:
                self._run(work, stats, progress, cancel)
            finally:
                self._save_ann()
            self._activate_if_complete(model, stats)
        return stats

    def _activate_if_complete(self, model: ModelRow, stats: IndexStats) -> None:
        """A model being built becomes the active one once every video has its vectors."""
        if not stats.cancelled and model.state == "building":
            done, total = self.library.model_coverage(model.id)
            if done >= total:
                self.library.activate_model(model.id)

    def _open_ann(self, model: ModelRow) -> None:
        """The model's index, made to agree with SQLite (a damaged or lying cache is rebuilt)."""
        if self._ann_for is not None:
            self.ann = self._ann_for(model)
        else:
            self.ann = AnnIndex(Path(self.ann_folder), model.model_id, model.dim)
            self.ann.load()
        self.ann.sync(self.library, model.id)
        if self.ann.needs_compaction():
            self.ann.compact(self.library, model.id)

    def _save_ann(self) -> None:
        """Save the ANN cache with the generation it describes; a failure is logged, never fatal."""
        assert self.ann is not None
        if not self.ann.dirty:
            return
        try:
            t0 = time.perf_counter()
            self.ann.save(self.ann.generation)
            self._save_seconds = time.perf_counter() - t0
        except OSError as e:
            log.store.error("could not save the ANN index (%s); it will be rebuilt from the library", e)

    def _probe_all(
        self, work: list[VideoRow], stats: IndexStats, cancel: CancelToken
    ) -> list[tuple[VideoRow, VideoInfo]]:
        t0 = time.perf_counter()
        out = []
        todo = [r for r in work if r.duration is None or r.status == "pending"]
        # probing is mostly waiting on file reads and FFmpeg: a few threads overlap it (a first
        # run over a large folder probes every file); results are written here, in order
        with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 2))) as ex:
            probed = {r.id: ex.submit(_probe_file, r.path) for r in todo}
            for row in work:
                if cancel.checkpoint():
                    for f in probed.values():
                        f.cancel()
                    break
                if row.id not in probed:
                    info = VideoInfo(
                        row.duration or 0.0,
                        row.fps or 0.0,
                        row.width or 0,
                        row.height or 0,
                        has_audio=row.has_audio,
                    )
                    out.append((row, info))
                    continue
                result = probed[row.id].result()
                if isinstance(result, VideoInfo):
                    self.library.set_probe(row.id, result)
                    out.append((row, result))
                    continue
                msg = warn_unreadable(row.path, result)
                self.library.set_failed(
                    row.id, msg if isinstance(result, MediaError) else f"cannot read: {msg}"
                )
                stats.failed += 1
                stats.errors.append((row.path, msg))
        stats.stage_seconds["probe"] = time.perf_counter() - t0
        return out

    def _run(
        self, work: list[VideoRow], stats: IndexStats, progress: ProgressFn | None, cancel: CancelToken
    ) -> None:
        """Plan -> decoder pool -> typed events -> one consumer (the only writer)."""
        assert self.model is not None and self.ann is not None
        jobs = self._probe_all(work, stats, cancel)
        if cancel.cancelled:
            stats.cancelled = True
            return
        emb = self.embedder
        tracker = ProgressTracker([info.duration for _, info in jobs])
        plan = self._plan(jobs)
        pool = start_pool(plan.decode, plan.sampling, plan.workers, plan.processes)
        sink = _Consumer(self.library, self.ann, self.model, emb, jobs, stats, tracker)
        last_save = time.perf_counter()
        try:
            if self.health_check is not None and self.model.generation == 0:
                # a model new to this library is probed (NaN, constant or collapsed vectors) while
                # the decoders already fill the queue, so the probe's model load costs no wall time
                self.health_check(emb)
            for event in pool.events(lambda: _cancelled(cancel, stats), waited=sink.waited):
                path = sink.handle(event)
                if time.perf_counter() - last_save > max(ANN_SAVE_EVERY, ANN_SAVE_COST_FACTOR * self._save_seconds):
                    self._save_ann()
                    last_save = time.perf_counter()
                if progress is not None:
                    progress(tracker.progress(path))
        finally:
            pool.close()
            for k, v in sink.timings.items():
                stats.stage_seconds[k] = stats.stage_seconds.get(k, 0.0) + v
            stats.stage_seconds["total"] = tracker.elapsed()

    def _plan(self, jobs: list[tuple[VideoRow, VideoInfo]]) -> _Plan:
        """How to decode *jobs*: workers, threads or processes, sampling, and each video's resume point."""
        assert self.model is not None
        emb = self.embedder
        device = emb.device
        workers, threads = decode_plan(self.options.decode_workers, os.cpu_count() or 2, device, len(jobs))
        sampling = SampleOptions(
            mode=sampling_mode(self.options.sampling),
            interval=self.options.interval,
            skip_similar=self.options.skip_similar,
            short_side=emb.image_size,
            batch=self.options.batch,
            timeout=self.options.decode_timeout,
            threads=threads,
            hwaccel=self.options.hwaccel,
        )
        # near-duplicate skipping depends on the frames kept before: a resumed video is decoded
        # from its start (cheap) and only frames after the stored ones go on to the embedder,
        # so a killed and resumed run stores exactly what an unkilled one does
        skipping = sampling.skip_similar is not None
        decode = []
        for row, info in jobs:
            resume_t = self.library.last_frame_time(row.id, self.model.id)
            decode.append(
                DecodeJob(
                    row.path,
                    info,
                    start_after=None if skipping else resume_t,
                    keep_after=resume_t if skipping else None,
                )
            )
        processes = self.options.decode_processes
        if processes is None:
            processes = workers > 2 and device in ("cuda", "mps")
        return _Plan(decode, sampling, workers, processes)



def _cancelled(cancel: CancelToken, stats: IndexStats) -> bool:
    """Checked between events: True (and the run marked cancelled) once the user cancelled."""
    if cancel.checkpoint():
        stats.cancelled = True
        return True
    return False


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one run decodes and how (see Indexer._plan)."""

    decode: list[DecodeJob]
    sampling: SampleOptions
    workers: int
    processes: bool


class ProgressTracker:
    """Video-seconds covered so far, the rate and the ETA of one run.

    A video counts up to its last stored frame while it is decoded and in full once it is
    done or failed, so the total reaches ``total_seconds`` exactly when every video ended.

    Attributes:
        durations: probed duration per job (s).
        total_seconds: their sum (1.0 when all are zero, so rates stay finite).
        done_seconds: seconds covered so far.
        done_files: jobs ended (done or failed).
    """

    def __init__(self, durations: Sequence[float], clock: Callable[[], float] = time.perf_counter) -> None:
        self.durations = list(durations)
        self.total_seconds = sum(self.durations) or 1.0
        self.done_seconds = 0.0
        self.done_files = 0
        self._covered: dict[int, float] = {}
        self._clock = clock
        self._start = clock()

    def elapsed(self) -> float:
        """Seconds since the tracker was made."""
        return self._clock() - self._start

    def advanced(self, job: int, until: float) -> None:
        """Job *job* has its frames stored up to *until* seconds."""
        prev = self._covered.get(job, 0.0)
        self._covered[job] = max(prev, until)
        self.done_seconds += max(0.0, min(until, self.durations[job]) - prev)

    def ended(self, job: int) -> None:
        """Job *job* is done or failed: the rest of its duration counts as covered."""
        duration = self.durations[job]
        self.done_seconds += max(0.0, duration - self._covered.get(job, 0.0))
        self._covered[job] = duration
        self.done_files += 1

    def progress(self, current: str) -> Progress:
        """A report for the UI and CLI, *current* being the file the last event was about."""
        return Progress.timed(
            "index", self.done_files, len(self.durations), self.done_seconds, self.total_seconds, current,
            self.elapsed(),
        )


@dataclass(slots=True)
class _Consumer:
    """The one consumer of decoder events: embeds batches and writes them (SQLite, then the ANN).

    Attributes:
        jobs: (video row, probe result) per job index of the events.
        timings: seconds spent per stage ("decode_wait", "embed", "store").
    """

    library: Library
    ann: AnnIndex
    model: ModelRow
    embedder: Embedder
    jobs: list[tuple[VideoRow, VideoInfo]]
    stats: IndexStats
    tracker: ProgressTracker
    timings: dict[str, float] = field(default_factory=lambda: {"decode_wait": 0.0, "embed": 0.0, "store": 0.0})
    _checked: bool = False

    def waited(self, seconds: float) -> None:
        """Time spent waiting for the decoders before an event."""
        self.timings["decode_wait"] += seconds

    def handle(self, event: DecodeEvent) -> str:
        """Apply one event; returns the path of the video it was about."""
        row, info = self.jobs[event.job]
        if isinstance(event, Batch):
            self._batch(event.job, row, event.frames)
        elif isinstance(event, Done):
            if self.library.finish_video(row.id, self.model.id) == 0:
                self._failed(row, "no frames could be decoded")
            else:
                self.stats.indexed += 1
                self.stats.video_seconds += info.duration
            self.tracker.ended(event.job)
        else:
            self._failed(row, " ".join(event.reason.split()))
            self.tracker.ended(event.job)
        return row.path

    def _batch(self, job: int, row: VideoRow, batch: FrameBatch) -> None:
        emb = self.embedder
        t1 = time.perf_counter()
        vecs = emb.embed_images(list(batch.images))
        if not np.isfinite(vecs).all() or (not self._checked and len(vecs) > 1):
            check_vectors(vecs, model_id=emb.model_id)  # raises on NaN, zero or collapsed
            self._checked = True
        t2 = time.perf_counter()
        # the ANN gets exactly what SQLite stores (float16), so a rebuilt cache answers the same
        vecs = vecs.astype(np.float16).astype(np.float32)
        gen0 = self.library.generation(self.model.id)
        ids = self.library.add_frames(row.id, self.model.id, batch.times, vecs)
        self.ann.add(np.asarray(ids, dtype=np.int64), vecs)
        self.ann.advance(gen0, self.library.generation(self.model.id))  # its generation stays true
        t3 = time.perf_counter()
        self.timings["embed"] += t2 - t1
        self.timings["store"] += t3 - t2
        self.stats.frames += len(ids)
        self.tracker.advanced(job, float(batch.times[-1]))

    def _failed(self, row: VideoRow, reason: str) -> None:
        """The one failure path for a video: logged, recorded in the library, counted."""
        log.decode.warning("%s: %s", row.path, reason)
        self.library.set_failed(row.id, reason)
        self.stats.failed += 1
        self.stats.errors.append((row.path, reason))
