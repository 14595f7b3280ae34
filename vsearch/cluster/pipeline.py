"""`vsearch cluster index`: a Ray Data pipeline from an archive's files to the shared dataset.

Stages (docs/CLUSTER.md):

1. **plan** (driver): walk the roots with the local scanner (`vsearch.scan`), compare size and
   mtime with the shared ``videos`` and ``coverage`` tables: unchanged files are skipped,
   changed and gone ones lose their old rows, the rest is the work list.
2. **decode** (Ray tasks, one video each, ``num_cpus`` per task): `vsearch.probe.probe` and
   `vsearch.frames.iter_frames` with the same SampleOptions as the local indexer, frames
   resized where they are decoded; a file that cannot be read yields one "error" row.
3. **embed** (a Ray actor pool, ``num_gpus`` per actor when the cluster has GPUs): the same
   Embedder class the desktop uses (`vsearch.embed.registry.load_embedder`), vectors float16.
4. **commit** (driver, the single writer): a video is written once all its frames are in
   (its decode task ends with a "done" row carrying the frame count), in groups every few
   seconds: coverage "writing" -> frames -> videos -> coverage "done". Ray retries a killed
   task or actor; frames are keyed by (video, time) while they wait here, so a retried task's
   repeats collapse, and a driver killed between commits leaves "writing" rows whose frames
   the next run deletes first. Nothing is doubled, nothing lost, and an unchanged archive
   makes a re-run a no-op.

Vectors cross the object store to the driver (1 KB per frame at 512-d, float16); Ray's own
Lance writer (`Dataset.write_lance`) would commit once at the very end, so a stopped run
would keep nothing.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vsearch import log
from vsearch.cluster import require
from vsearch.errors import MediaError, UserError
from vsearch.store.shared import SharedDataset, SharedModel, SharedVideo, video_key
from vsearch.types import CancelToken, IndexStats, Progress, VideoFile, VideoInfo

ProgressFn = Callable[[Progress], None]
COMMIT_EVERY = 5.0  # seconds between commits of finished videos
COMMIT_FRAMES = 50_000  # ... or as soon as this many frames wait
DECODE_MEMORY = 256 * 1024 * 1024  # bytes of node memory a decode task reserves


@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """How a cluster run samples, embeds and spreads its work.

    Attributes:
        model: model name as the desktop takes it (`vsearch models`).
        models_dir: where nodes find downloaded or imported weights (the same path on every
            node: shared storage, or a copy at that path).
        sampling, interval, skip_similar, batch, decode_timeout: as the local indexer's settings.
        embed_workers: embedding actors (None: one per GPU, else one).
        gpus_per_worker: GPUs per embedding actor (None: 1 when the cluster has GPUs, else 0).
        decode_cpus: CPUs each decode task reserves.
        device, precision: passed to the embedder on the nodes ("auto": each node's best).
    """

    model: str
    models_dir: str
    sampling: str = "keyframe"
    interval: float = 1.0
    skip_similar: float | None = 0.02
    batch: int = 32
    decode_timeout: float = 600.0
    embed_workers: int | None = None
    gpus_per_worker: float | None = None
    decode_cpus: float = 1.0
    device: str = "auto"
    precision: str = "auto"


@dataclass(slots=True)
class Plan:
    """What a run has to do."""

    todo: list[VideoFile]
    gone: list[int]
    changed: list[int]
    rewrite: list[int]  # "writing" coverage rows: frames to delete before writing again
    stats: IndexStats


def plan(ds: SharedDataset, roots: Sequence[str], model: SharedModel | None) -> Plan:
    """Scan the roots and diff them against the shared dataset (stat only, nothing decoded)."""
    from vsearch.scan import scan

    stats = IndexStats()
    t0 = time.perf_counter()
    existing = ds.videos()
    cover = ds.coverage(model.model_id) if model is not None else {}
    todo: list[VideoFile] = []
    found: set[int] = set()
    changed: list[int] = []
    scanned_roots = []
    for root in roots:
        if not os.path.exists(root):
            log.scan.warning("%s is offline; keeping its entries", root)
            continue
        errors: list[tuple[str, str]] = []
        files = list(scan([root], errors))
        prefix = root.rstrip(os.sep) + os.sep
        if not files and not errors and any(v.path.startswith(prefix) for v in existing.values()):
            log.scan.warning("%s is empty; treating it as offline and keeping its entries", root)
            continue
        scanned_roots.append(prefix)
        stats.errors.extend(errors)
        for f in files:
            vid = video_key(f.path)
            found.add(vid)
            stats.scanned += 1
            v = existing.get(vid)
            if v is None:
                stats.new += 1
                todo.append(f)
                continue
            if v.size != f.size or v.mtime != f.mtime:
                stats.changed += 1
                changed.append(vid)
                todo.append(f)
                continue
            c = cover.get(vid)
            if v.status == "failed" or (c is not None and c[0] == "done"):
                stats.unchanged += 1
                continue
            todo.append(f)  # known file, not yet covered by this model (a model switch, or a resume)
    gone = [
        vid
        for vid, v in existing.items()
        if vid not in found and any(v.path.startswith(p) for p in scanned_roots)
    ]
    stats.gone = len(gone)
    rewrite = [vid for vid, c in cover.items() if c[0] == "writing" and vid not in set(changed)]
    todo.sort(key=lambda f: f.path)
    stats.stage_seconds["scan"] = time.perf_counter() - t0
    return Plan(todo, gone, changed, rewrite, stats)


# -- the Ray stages (run on the nodes) --------------------------------------------------------
_COLUMNS = ("video_id", "t", "kind", "n", "info", "error")


def _rows(vid: int, kind: str, *, t: np.ndarray | None = None, n: int = 0, info: str = "", error: str = "",
          images: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """One decode-stage batch: *kind* rows of video *vid*, with *images* (image, h, w), or none."""
    m = 1 if t is None else len(t)
    out = {
        "video_id": np.full(m, vid, dtype=np.int64),
        "t": np.zeros(1) if t is None else np.asarray(t, dtype=np.float64),
        "kind": np.array([kind] * m, dtype=object),
        "n": np.full(m, n, dtype=np.int64),
        "info": np.array([info] * m, dtype=object),
        "error": np.array([error] * m, dtype=object),
    }
    out.update(_no_image(m) if images is None else images)
    return out


def _no_image(m: int) -> dict[str, np.ndarray]:
    return {
        "image": np.array([b""] * m, dtype=object),
        "h": np.zeros(m, dtype=np.int32),
        "w": np.zeros(m, dtype=np.int32),
    }


def decode_videos(batch: dict[str, np.ndarray], sample: dict[str, Any]) -> Iterator[dict[str, np.ndarray]]:
    """Ray Data stage: probe and sample each video of *batch* exactly as the local indexer does.

    Yields frame rows (raw RGB bytes at the embedder's size) and, per video, one last row:
    kind "done" with the frame count and probe results, or kind "error" with the reason.
    """
    from vsearch.frames import SampleOptions, iter_frames
    from vsearch.probe import probe
    from vsearch.store.library import warn_unreadable

    opts = SampleOptions(**sample)
    for vid, path in zip(batch["video_id"], batch["path"], strict=True):
        vid, path = int(vid), str(path)
        try:
            if not os.path.exists(path):
                raise MediaError("file vanished during indexing")
            info = probe(path)
        except Exception as e:  # noqa: BLE001 - one bad file never aborts a run
            msg = warn_unreadable(path, e)
            yield _rows(vid, "error", error=msg if isinstance(e, MediaError) else f"cannot read: {msg}")
            continue
        n = 0
        try:
            for fb in iter_frames(path, info, opts):
                imgs = np.ascontiguousarray(fb.images)
                m, h, w = imgs.shape[0], imgs.shape[1], imgs.shape[2]
                yield _rows(
                    vid,
                    "frame",
                    t=fb.times,
                    images={
                        "image": np.array([imgs[i].tobytes() for i in range(m)], dtype=object),
                        "h": np.full(m, h, dtype=np.int32),
                        "w": np.full(m, w, dtype=np.int32),
                    },
                )
                n += m
        except MediaError as e:
            yield _rows(vid, "error", error=" ".join(str(e).split()))
            continue
        except Exception as e:  # noqa: BLE001
            yield _rows(vid, "error", error=f"cannot decode: {type(e).__name__}: {e}")
            continue
        if n == 0:
            yield _rows(vid, "error", error="no frames could be decoded")
        else:
            yield _rows(vid, "done", n=n, info=json.dumps(asdict(info)))


class EmbedFrames:
    """Ray Data actor: the desktop's Embedder, loaded once per actor, on the actor's GPU if any."""

    def __init__(self, name: str, models_dir: str, device: str, precision: str) -> None:
        from vsearch.embed.registry import load_embedder

        self.embedder = load_embedder(name, models_dir=Path(models_dir), device=device, precision=precision)
        self.checked = False

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Embed the batch's frame rows as float16 vector bytes (other rows get none); bad vectors raise."""
        from vsearch.embed.health import check_vectors

        kinds = batch["kind"]
        idx = [i for i, k in enumerate(kinds) if k == "frame"]
        out = np.array([b""] * len(kinds), dtype=object)
        if idx:
            images = [
                np.frombuffer(batch["image"][i], dtype=np.uint8).reshape(int(batch["h"][i]), int(batch["w"][i]), 3)
                for i in idx
            ]
            vecs = self.embedder.embed_images(images)
            if not np.isfinite(vecs).all() or (not self.checked and len(vecs) > 1):
                check_vectors(vecs, model_id=self.embedder.model_id)  # raises on NaN, zero or collapsed
                self.checked = True
            v16 = vecs.astype(np.float16)
            for j, i in enumerate(idx):
                out[i] = v16[j].tobytes()
        res = {c: batch[c] for c in _COLUMNS}
        res["vector"] = out
        return res


# -- the driver --------------------------------------------------------------------------------
def connect(address: str | None, *, temp_dir: str | None = None) -> bool:
    """Attach to the Ray cluster at *address*, or start a one-machine cluster here.

    *address* is "auto", "HOST:PORT" or "ray://HOST:10001"; "local" or None starts one. Returns
    True when this call started Ray (and should stop it).
    """
    require("ray", "ray.data")
    import ray

    if ray.is_initialized():
        return False
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    with warnings.catch_warnings():
        # lance warns when a process that loaded it forks; ray.init forks only to exec its daemons
        warnings.filterwarnings("ignore", message=".*fork", category=RuntimeWarning)
        if address in (None, "", "local"):
            if temp_dir:
                kw["_temp_dir"] = temp_dir
            ray.init(**kw)
        else:
            try:
                ray.init(address=address, **kw)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise UserError(f"cannot reach the Ray cluster at {address}: {e}") from None
    return True


def _cluster_gpus() -> int:
    import ray

    return int(ray.cluster_resources().get("GPU", 0))  # type: ignore[no-untyped-call]  # ray leaves it unannotated


def _cluster_cpus() -> float:
    import ray

    return float(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]  # ray leaves it unannotated


class _Waiting:
    """Frames of videos whose decode task has not finished, keyed by time (retries collapse)."""

    def __init__(self) -> None:
        self.frames: dict[int, dict[float, bytes]] = {}
        self.ends: dict[int, tuple[str, int, str, str]] = {}

    def add(self, b: dict[str, np.ndarray]) -> None:
        for vid, t, kind, n, info, err, vec in zip(
            b["video_id"], b["t"], b["kind"], b["n"], b["info"], b["error"], b["vector"], strict=True
        ):
            vid = int(vid)
            if kind == "frame":
                self.frames.setdefault(vid, {})[float(t)] = vec
            else:
                self.ends[vid] = (str(kind), int(n), str(info), str(err))

    def finished(self) -> list[int]:
        out = []
        for vid, (kind, n, _, _) in self.ends.items():
            if kind == "error" or len(self.frames.get(vid, ())) >= n:
                out.append(vid)
        return out

    def pop(self, vid: int) -> tuple[tuple[str, int, str, str], dict[float, bytes]]:
        return self.ends.pop(vid), self.frames.pop(vid, {})


def index(
    uri: str,
    roots: Sequence[str],
    options: ClusterOptions,
    *,
    address: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    ray_temp_dir: str | None = None,
) -> IndexStats:
    """Bring the shared dataset at *uri* up to date with *roots* for one model, on a Ray cluster."""
    from vsearch.embed.registry import load_embedder

    cancel = cancel or CancelToken()
    roots = [os.path.abspath(r) for r in roots]
    ds = SharedDataset(uri, readonly=False)
    # building an Embedder reads no weights: enough for its identity on the driver
    emb = load_embedder(options.model, models_dir=Path(options.models_dir), device="cpu")
    model = ds.ensure_model(emb.model_id, options.model, emb.dim)
    p = plan(ds, roots, model)
    stats = p.stats
    if p.gone:
        ds.remove_videos(p.gone)
    if p.changed:
        ds.remove_videos(p.changed)
    if p.rewrite:
        ds.delete_frames(model, p.rewrite)
    t_start = time.perf_counter()
    if p.todo and not cancel.cancelled:
        started = connect(address, temp_dir=ray_temp_dir)
        try:
            _run(ds, model, emb, p.todo, options, stats, progress, cancel)
        finally:
            if started:
                import ray

                ray.shutdown()
    if not stats.cancelled:
        ds_videos = ds.videos()
        ok = {vid for vid, v in ds_videos.items() if v.status == "ok"}
        done = {vid for vid, c in ds.coverage(model.model_id).items() if c[0] == "done"}
        if model.state != "active" and ok and ok <= done:
            ds.activate(model)
        t0 = time.perf_counter()
        what = ds.update_index(model)
        stats.stage_seconds["ann"] = time.perf_counter() - t0
        log.store.info("shared library ANN index: %s", what)
    stats.stage_seconds["total"] = time.perf_counter() - t_start
    return stats


def _run(
    ds: SharedDataset,
    model: SharedModel,
    emb: Any,
    todo: list[VideoFile],
    options: ClusterOptions,
    stats: IndexStats,
    progress: ProgressFn | None,
    cancel: CancelToken,
) -> None:
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    gpus = _cluster_gpus()
    per_gpu = options.gpus_per_worker if options.gpus_per_worker is not None else (1.0 if gpus else 0.0)
    workers = options.embed_workers or (max(1, int(gpus / per_gpu)) if per_gpu else 1)
    sample = {
        "mode": options.sampling,
        "interval": options.interval,
        "skip_similar": options.skip_similar,
        "short_side": emb.image_size,
        "batch": options.batch,
        "timeout": options.decode_timeout,
        "threads": max(1, int(options.decode_cpus)),
    }
    files = {video_key(f.path): f for f in todo}
    items = [{"video_id": vid, "path": f.path} for vid, f in files.items()]
    pipe = (
        ray.data.from_items(items, override_num_blocks=len(items))
        # the memory request is real (a decoder holds a batch of frames and FFmpeg's buffers) and
        # keeps Ray from fusing decoding into the embedding actors: decoding then runs in as many
        # tasks as there are free CPUs, ahead of the actors
        .map_batches(
            # Ray types the function as one-argument; fn_kwargs below supplies *sample*
            decode_videos,  # type: ignore[arg-type]
            batch_size=1,
            fn_kwargs={"sample": sample},
            num_cpus=min(options.decode_cpus, _cluster_cpus() / 2),
            memory=DECODE_MEMORY,
        )
        .map_batches(
            EmbedFrames,
            fn_constructor_kwargs={
                "name": options.model,
                "models_dir": options.models_dir,
                "device": options.device if per_gpu or options.device != "auto" else "cpu",
                "precision": options.precision,
            },
            batch_size=options.batch,
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_gpus=per_gpu,
            # on CPUs an actor reserves one core, but never all of them: decoding needs one too
            num_cpus=0 if per_gpu else min(1.0, _cluster_cpus() / (2 * workers)),
        )
    )
    total_bytes = sum(f.size for f in todo) or 1
    done_bytes = 0
    waiting = _Waiting()
    ready: list[tuple[int, tuple[str, int, str, str], dict[float, bytes]]] = []
    ready_frames = 0
    last_commit = time.perf_counter()
    t_start = time.perf_counter()
    done_files = 0
    done_video_s = 0.0
    current = ""

    def commit() -> None:
        nonlocal ready, ready_frames, last_commit
        if ready:
            stats.frames += _commit(ds, model, files, ready, stats)
        ready, ready_frames, last_commit = [], 0, time.perf_counter()

    it = pipe.iter_batches(batch_size=None, batch_format="numpy", prefetch_batches=1)
    try:
        for b in it:
            waiting.add(b)
            for vid in waiting.finished():
                end, frames = waiting.pop(vid)
                ready.append((vid, end, frames))
                ready_frames += len(frames)
                done_files += 1
                done_bytes += files[vid].size
                current = files[vid].path
                if end[0] == "done":
                    done_video_s += float(json.loads(end[2])["duration"])
            if ready and (time.perf_counter() - last_commit > COMMIT_EVERY or ready_frames >= COMMIT_FRAMES):
                commit()
            if progress is not None:
                elapsed = time.perf_counter() - t_start
                rate = done_video_s / elapsed if elapsed > 0 else 0.0
                frac = done_bytes / total_bytes
                eta = elapsed * (1 - frac) / frac if frac > 0 else None
                progress(
                    Progress(
                        stage="cluster",
                        done_files=done_files,
                        total_files=len(files),
                        done_seconds=frac,
                        total_seconds=1.0,
                        current=current,
                        rate=rate,
                        eta=eta,
                    )
                )
            if cancel.checkpoint():
                stats.cancelled = True
                break
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
        commit()  # finished videos are kept whatever stopped the run


def _commit(
    ds: SharedDataset,
    model: SharedModel,
    files: dict[int, VideoFile],
    ready: list[tuple[int, tuple[str, int, str, str], dict[float, bytes]]],
    stats: IndexStats,
) -> int:
    """Write finished videos: coverage "writing" -> frames -> videos -> coverage "done"."""
    ok = [(vid, end, fr) for vid, end, fr in ready if end[0] == "done"]
    marks = [(vid, files[vid].size, files[vid].mtime, len(fr)) for vid, _, fr in ok]
    ds.mark(model, marks, "writing")
    vids, times, vecs = [], [], []
    for vid, _, fr in ok:
        ts = sorted(fr)
        vids.append(np.full(len(ts), vid, dtype=np.int64))
        times.append(np.asarray(ts, dtype=np.float64))
        vecs.append(np.frombuffer(b"".join(fr[t] for t in ts), dtype=np.float16).reshape(len(ts), model.dim))
    n = 0
    if ok:
        n = sum(len(t) for t in times)
        ds.add_frames(model, np.concatenate(vids), np.concatenate(times), np.concatenate(vecs))
    rows = []
    for vid, (kind, _, info, err), _ in ready:
        f = files[vid]
        if kind == "done":
            vi = VideoInfo(**json.loads(info))
            rows.append(
                SharedVideo(vid, f.path, f.size, f.mtime, vi.duration, vi.fps, vi.width, vi.height, vi.has_audio)
            )
            stats.indexed += 1
            stats.video_seconds += vi.duration
        else:
            log.decode.warning("%s: %s", f.path, err)
            rows.append(SharedVideo(vid, f.path, f.size, f.mtime, status="failed", error=err))
            stats.failed += 1
            stats.errors.append((f.path, err))
    ds.put_videos(rows)
    ds.mark(model, marks, "done")
    return n
