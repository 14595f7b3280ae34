"""A desktop attaches a shared dataset read-only and searches it with the local moment builder.

The shared frames table stands in for the local library and its ANN cache behind the same
narrow interface the Searcher uses (frames, videos, frame_count, video_vectors; search, count,
generation, sync), so moments come out of exactly the code that ranks local ones
(`vsearch.query.search.Searcher`, `vsearch.query.moments`). ANN candidates come from LanceDB
(its vector index, plus an exact scan of rows not yet indexed); the candidate videos'
vectors are then read in one request. Paths are rewritten from the cluster's mount to this
machine's (``--map /mnt/archive=/Volumes/Archive``).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from vsearch.cluster import REMEMBERED_FILE
from vsearch.embed.base import Embedder
from vsearch.errors import UserError
from vsearch.query.bank import QueryBank
from vsearch.query.moments import drop_near_duplicates
from vsearch.query.search import Searcher, SearchOptions, grew_little
from vsearch.store.library import ModelRow, ModelState, VideoRow, VideoStatus
from vsearch.store.shared import SharedActivation, SharedDataset, SharedModel, SharedVideo, frame_columns
from vsearch.types import Moment

NPROBES = 32  # IVF partitions an indexed query visits (LanceDB's default is 20)
#: shared tables up to this many frames answer the query bank by one exact pass (float32: 1 GB at 512-d)
EXACT_MANY = 500_000
#: candidate videos whose vectors one request fetches, read ahead of the moment builder: a k = 10
#: search scores 10 videos (median; at most 16) on the 1M synthetic table, and 32 read 16k rows it
#: did not use (1M: p50 126 -> 111 ms with 16; docs/PERFORMANCE.md, "Facility mode")
PREFETCH = 16
PREFETCH_FRAMES = 200_000  # candidate videos' vectors kept between queries (float16 as stored: ~200 MB at 512-d)


def parse_map(specs: Iterable[str]) -> list[tuple[str, str]]:
    """["/mnt/archive=/Volumes/Archive", ...] -> [(cluster prefix, local prefix)], longest first."""
    out = []
    for spec in specs:
        src, sep, dst = spec.partition("=")
        if not sep or not src or not dst:
            raise UserError(f"--map takes CLUSTER_PATH=LOCAL_PATH, not {spec!r}")
        out.append((src.rstrip("/\\") or "/", dst.rstrip("/\\") or "/"))
    out.sort(key=lambda p: -len(p[0]))
    return out


def map_path(path: str, mapping: Sequence[tuple[str, str]]) -> str:
    """The local path of a file as the cluster saw it (unchanged when no prefix matches)."""
    for src, dst in mapping:
        if path == src or path.startswith(src.rstrip("/") + "/"):
            rest = path[len(src) :].lstrip("/")
            return os.path.join(dst, *rest.split("/")) if rest else dst
    return path


def frame_key(video_id: int, t: float) -> int:
    """A frame's key in the shared dataset: a 63-bit hash of its video and time (the same on every run)."""
    h = hashlib.blake2b(f"{video_id}:{t!r}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") & 0x7FFF_FFFF_FFFF_FFFF


class SharedView:
    """The library side of a shared dataset, read-only, paths mapped (what Searcher reads)."""

    def __init__(self, ds: SharedDataset, model: SharedModel, mapping: Sequence[tuple[str, str]]) -> None:
        self.ds = ds
        self.model = model
        self.mapping = list(mapping)
        self._frames: dict[int, tuple[int, float]] = {}
        self._rows: dict[int, VideoRow] = {}
        self._vectors: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached = 0
        self._lock = threading.Lock()

    def remember(self, ids: np.ndarray, vids: np.ndarray, times: np.ndarray) -> None:
        """Note which (video, time) each returned frame id is, for :meth:`frames`."""
        with self._lock:
            if len(self._frames) > 1_000_000:
                self._frames.clear()
            for i, v, t in zip(ids, vids, times, strict=True):
                self._frames[int(i)] = (int(v), float(t))

    def forget(self) -> None:
        """Drop the cached video rows and vectors (a new snapshot of the dataset)."""
        with self._lock:
            self._rows.clear()
            self._vectors.clear()
            self._cached = 0

    def frames(self, ids: Sequence[int]) -> dict[int, tuple[int, float]]:
        """(video id, time) of each frame id a search returned and :meth:`remember` noted."""
        with self._lock:
            return {int(i): self._frames[int(i)] for i in ids if int(i) in self._frames}

    def frame_arrays(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(video ids, times, found) of frame ids, as arrays (the Library's interface)."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._lock:
            got = [self._frames.get(int(i)) for i in ids]
        found = np.array([g is not None for g in got], dtype=bool)
        vids = np.array([g[0] if g else -1 for g in got], dtype=np.int64)
        ts = np.array([g[1] if g else np.nan for g in got], dtype=np.float64)
        return vids, ts, found

    def _row(self, v: SharedVideo) -> VideoRow:
        return VideoRow(
            v.video_id, None, map_path(v.path, self.mapping), v.size, v.mtime, v.duration, v.fps,
            v.width, v.height, VideoStatus.INDEXED if v.status == "ok" else VideoStatus.FAILED, v.error,
            v.has_audio,
        )

    def videos(self, ids: Iterable[int] | None = None, *, folder: str | None = None) -> dict[int, VideoRow]:
        """Rows of the given (or all) indexed videos, paths mapped to this desktop, cached."""
        ids = [int(i) for i in ids] if ids is not None else None
        with self._lock:
            missing = [i for i in ids if i not in self._rows] if ids is not None else None
        if missing is None or missing:
            rows = {vid: self._row(v) for vid, v in self.ds.videos(missing).items() if v.status == "ok"}
            with self._lock:
                self._rows.update(rows)
        with self._lock:
            if ids is None:
                return dict(self._rows)
            return {i: self._rows[i] for i in ids if i in self._rows}

    def video(self, video_id: int) -> VideoRow | None:
        """One video's row, or None when the dataset does not hold it indexed."""
        return self.videos([video_id]).get(int(video_id))

    def prefetch(self, ids: Sequence[int]) -> None:
        """Read the vectors of every candidate video in one request (not one per video)."""
        with self._lock:
            todo = [int(i) for i in ids if int(i) not in self._vectors]
        if not todo:
            return
        got = self.ds.video_vectors(self.model, todo)
        with self._lock:
            for vid in todo:
                entry = got.get(vid, (np.zeros(0), np.zeros((0, self.model.dim), np.float16)))
                self._vectors[vid] = entry
                self._cached += len(entry[0])
            while self._cached > PREFETCH_FRAMES and len(self._vectors) > 1:
                _, (t_old, _) = self._vectors.popitem(last=False)
                self._cached -= len(t_old)

    def _entry(self, video_id: int) -> tuple[np.ndarray, np.ndarray]:
        self.prefetch([video_id])
        with self._lock:
            return self._vectors[int(video_id)]

    def frame_count(self, video_id: int) -> int:
        """How many frames of the video the dataset holds."""
        return len(self._entry(video_id)[0])

    def video_vectors(
        self, video_id: int, model_pk: int, dim: int, between: tuple[float, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame ids (zeros: the shared table has none), times, vectors) of a video, optionally within *between*."""
        times, vecs = self._entry(video_id)  # float16, as stored and cached
        if between is not None:
            keep = (times >= between[0]) & (times <= between[1])
            times, vecs = times[keep], vecs[keep]
        return np.zeros(len(times), dtype=np.int64), times, vecs.astype(np.float32)


class SharedAnn:
    """The ANN side: LanceDB's vector search over one model's frames table."""

    def __init__(self, view: SharedView) -> None:
        self.view = view
        self.table = view.ds.frames_table(view.model)
        self.generation = int(self.table.version)
        self.count = int(self.table.count_rows())

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k ids and similarities of many queries (the query bank's, at the first search).

        LanceDB has no batch call: one search each costs ~4 ms, 11 s for the bank's 2,644
        sentences even on a tiny table. Up to EXACT_MANY frames the table is read once and
        scored exactly in one matrix product instead (exact, as a small local library is).
        """
        q = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
        if 0 < self.count <= EXACT_MANY and len(q) > 1 and k > 0:
            return self._exact_many(q, k)
        got = [self.search(v, k) for v in q]
        width = min((len(i) for i, _ in got), default=0)
        ids = np.array([i[:width] for i, _ in got], dtype=np.int64).reshape(len(got), width)
        sims = np.array([v[:width] for _, v in got], dtype=np.float32).reshape(len(got), width)
        return ids, sims

    def _exact_many(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        tb = self.table.to_lance().to_table(columns=["video_id", "t", "vector"])
        vids, times, vecs = frame_columns(tb, self.view.model.dim)
        keys = np.array([frame_key(int(v), float(t)) for v, t in zip(vids, times, strict=True)], dtype=np.int64)
        self.view.remember(keys, vids, times)
        k = min(k, len(keys))
        ids = np.zeros((len(q), k), dtype=np.int64)
        sims = np.zeros((len(q), k), dtype=np.float32)
        step = max(8, min(256, 50_000_000 // len(keys)))  # queries x frames scored at a time: <= 200 MB
        for a in range(0, len(q), step):
            s = q[a : a + step] @ vecs.T
            top = np.argpartition(-s, k - 1, axis=1)[:, :k]  # k <= the frames here
            ts = np.take_along_axis(s, top, axis=1)
            order = np.argsort(-ts, axis=1, kind="stable")
            top, ts = np.take_along_axis(top, order, axis=1), np.take_along_axis(ts, order, axis=1)
            ids[a : a + len(s)], sims[a : a + len(s)] = keys[top], ts
        return ids, sims

    def sync(self, library: Any = None, model_pk: int = 0) -> tuple[int, int]:
        """Pick up new commits of the cluster (a new snapshot); caches drop when it changed."""
        self.table.checkout_latest()
        gen = int(self.table.version)
        if gen != self.generation:
            self.view.ds.refresh()
            self.view.forget()
            self.generation = gen
            old, self.count = self.count, int(self.table.count_rows())
            return max(0, self.count - old), max(0, old - self.count)
        return 0, 0

    def anchor_pool(self, q: np.ndarray) -> None:
        """None: the shared index has no anchors (its IVF-HNSW partitions are searched as they are)."""
        return None

    def search(self, q: np.ndarray, k: int, *, pool: None = None) -> tuple[np.ndarray, np.ndarray]:
        """The *k* nearest frames by dot product: (frame keys, similarities), best first."""
        if k <= 0 or self.count == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        res = (
            self.table.search(np.asarray(q, dtype=np.float32), vector_column_name="vector")
            .distance_type("dot")
            .nprobes(NPROBES)
            .limit(int(k))
            .select(["video_id", "t", "_distance"])  # named: Lance warns on every search otherwise
            .to_arrow()
        )
        vids = np.asarray(res.column("video_id").to_numpy(), dtype=np.int64)
        times = np.asarray(res.column("t").to_numpy(), dtype=np.float64)
        sims = 1.0 - np.asarray(res.column("_distance").to_numpy(), dtype=np.float32)  # dot distance = 1 - q.v
        ids = np.array([frame_key(int(v), float(t)) for v, t in zip(vids, times, strict=True)], dtype=np.int64)
        self.view.remember(ids, vids, times)
        order = np.argsort(-sims, kind="stable")
        return ids[order], sims[order]


class SharedSearcher(Searcher):
    """The local Searcher over a shared dataset; candidate videos' vectors read in one request."""

    def __init__(self, view: SharedView, ann: SharedAnn, embedder: Embedder) -> None:
        m = view.model
        row = ModelRow(0, m.model_id, m.name, m.dim, ModelState(m.state), ann.generation)
        super().__init__(view, row, ann, embedder)  # type: ignore[arg-type]  # SharedView/SharedAnn provide the Library/AnnIndex members Searcher reads
        self.view = view

    def _saved_activation(self, gen: int, count: int, deleted: int) -> tuple[set[tuple[int, int]], float] | None:
        """The activation set the cluster driver stored, when it is current (:func:`current_activation`).

        Computing it here searches the table once per bank sentence (2,644 LanceDB searches
        beyond EXACT_MANY frames: tens of seconds at a first search); the driver does it once per run.
        """
        act = current_activation(self)
        return (set(act.hubs), act.typical) if act is not None else None

    def _save_activation(self, gen: int, count: int, deleted: int, hubs: set[tuple[int, int]], typical: float) -> None:
        """Nothing: a desktop reads the shared dataset only (the driver stores it: :func:`store_activation`)."""

    def _candidates(self, q: np.ndarray, opts: SearchOptions) -> Iterator[tuple[VideoRow, float, float]]:
        """The base class's lazy stream, with the next candidates' vectors fetched in one request.

        The base yields videos as it reads them; the shared dataset answers many videos in one
        request far faster than one each, so the stream is read ahead PREFETCH videos at a time.
        """
        stream = super()._candidates(q, opts)
        while True:
            chunk = list(itertools.islice(stream, PREFETCH))
            if not chunk:
                return
            self.view.prefetch([row.id for row, _, _ in chunk])
            yield from chunk


def current_activation(searcher: SharedSearcher) -> SharedActivation | None:
    """The driver's stored activation, when it was computed for this bank and these frames.

    The frame count must match, or have grown a little since (:func:`grew_little`, the rule by
    which a local library reuses its own activation set).
    """
    if searcher.bank is None:
        return None
    act = searcher.view.ds.activation(searcher.view.model)
    if act is None or act.bank != searcher.bank.fingerprint or act.beta != searcher.bank.beta:
        return None
    n = int(searcher.ann.count)
    return act if n == act.frames or grew_little(act.frames, 0, n, 0) else None


def store_activation(ds: SharedDataset, model: SharedModel, embedder: Embedder, bank: QueryBank) -> bool:
    """Compute the query bank's activation over the shared frames and store it (the driver, after a run).

    Returns False when the stored one is current already (a re-run over an unchanged archive
    writes nothing) or there are no frames.
    """
    view = SharedView(ds, model, ())
    searcher = SharedSearcher(view, SharedAnn(view), embedder)
    searcher.bank = bank
    if searcher.ann.count == 0:
        return False
    act = current_activation(searcher)
    if act is not None and act.frames == searcher.ann.count:
        return False
    hubs, typical = searcher._activation()  # not current (above): computed in full
    ds.put_activation(
        model, SharedActivation(bank.fingerprint, bank.beta, int(searcher.ann.count), typical, frozenset(hubs))
    )
    return True


def open_shared(
    uri: str, embedder_for: Callable[[str], Embedder], mapping: Sequence[tuple[str, str]] = ()
) -> SharedSearcher | None:
    """A searcher over the shared dataset at *uri* (None while it holds no vectors).

    *embedder_for* loads a model by name (the Service's cache): the query is embedded by the
    model that embedded the frames, checked by model id like the local library's.
    """
    ds = SharedDataset(uri, readonly=True)
    model = ds.active_model()
    if model is None:
        return None
    emb = embedder_for(model.name)
    if emb.model_id != model.model_id:
        raise UserError(
            f"the shared library at {uri} was indexed with {model.model_id}, but model '{model.name}' "
            f"is {emb.model_id} here; install the same model version"
        )
    view = SharedView(ds, model, mapping)
    return SharedSearcher(view, SharedAnn(view), emb)


class CombinedVisual:
    """The visual expert over the local library (if any) and every attached shared library."""

    def __init__(self, local: Searcher | None, shared: Sequence[SharedSearcher]) -> None:
        self.local = local
        self.shared = list(shared)

    @property
    def bank(self) -> QueryBank | None:
        """The query bank the experts' scores are normalised with (the Service sets the same on all)."""
        if self.local is not None:
            return self.local.bank
        return self.shared[0].bank if self.shared else None

    def search(self, text: str, opts: SearchOptions) -> list[Moment]:
        """Local and shared moments for *text*, ranked together (a file in both counts once)."""
        mine = self.local.search(text, opts) if self.local is not None else []
        return merge(mine, [sh.search(text, opts) for sh in self.shared], opts.k)


def merge(local: Sequence[Moment], shared: Sequence[Sequence[Moment]], k: int) -> list[Moment]:
    """Local and shared moments ranked together by score; a file in both counts once."""
    allm = sorted([*local, *(m for ms in shared for m in ms)], key=lambda m: -m.score)
    allm = drop_near_duplicates(allm, lambda m: (m.start, m.end), lambda m: m.path)
    return allm[:k]


# -- remembered shared libraries (the desktop's settings; plain JSON, no lancedb needed) -------


def remembered(config_dir: str | os.PathLike[str]) -> list[tuple[str, list[str]]]:
    """The shared libraries this desktop searches by default: [(uri, ["CLUSTER=LOCAL", ...])]."""
    import json
    from pathlib import Path

    from vsearch import log

    path = Path(config_dir) / REMEMBERED_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [(str(d["uri"]), [str(m) for m in d.get("map", [])]) for d in data]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as e:
        log.store.warning("ignoring unreadable %s: %s", path, e)
        return []


def remember(config_dir: str | os.PathLike[str], uri: str, path_map: Sequence[str] = (), *, add: bool = True) -> None:
    """Add (or with add=False, drop) a shared library in the remembered list, saved atomically."""
    import json
    from pathlib import Path

    from vsearch.atomic import atomic_write

    parse_map(path_map)  # refuse a bad mapping before it is saved
    items = [(u, m) for u, m in remembered(config_dir) if u != uri]
    if add:
        items.append((uri, list(path_map)))
    path = Path(config_dir) / REMEMBERED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w") as fh:
        json.dump([{"uri": u, "map": m} for u, m in items], fh, indent=1)
