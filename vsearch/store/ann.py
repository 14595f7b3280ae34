"""Vector index per model: an HNSW graph (hnswlib) over the model's vectors, a cache of SQLite.

SQLite holds every vector and is the truth; this index is derived from it, kept current as each
batch is written (``add_items``, grown with ``resize_index``; forgotten or changed frames are
``mark_deleted``), compacted (rebuilt from SQLite and swapped in) once deleted entries pass
COMPACT_FRACTION, and rebuilt whenever the saved copy does not describe SQLite. Labels are frame ids.

Why anchors: frames of one video are near-duplicates, so the graph is made of tight per-video
cliques with few links between them, and hnswlib's greedy descent (ef = 1 above the base layer)
lands in one clique and stays there; a text query, far from every frame (CLIP's modality gap),
makes it worse. Measured on clustered synthetic data (benchmarks/bench_recall.py), plain HNSW
finds 0.3-0.5 of the top 10 whatever ef is. So each search also makes a small exact pass over
*anchors* (every ANCHOR_STRIDE-th frame id, kept as float32), asks the graph for the
neighbourhoods of the best anchors (in-distribution queries, which it answers well), and ranks
the union of those candidates and its own top hits exactly with the true query (vectors read
from SQLite in one indexed lookup, or from the graph without a library).

Files in ``ann/`` (one set per model, ``<base>`` from the model id):
``<base>-<token>.vidx`` hnswlib's own file; ``<base>-<token>.side`` live ids, anchor vectors;
``<base>.json`` the manifest naming the token, with sizes and CRC-32s of both files, counts and
the model's generation in SQLite that the pair describes. The data files are written under a new
token first (temp file, fsync, rename) and the manifest is replaced last, so a crash at any point
leaves a manifest naming a complete pair; old pairs are removed afterwards. On open the manifest
bounds every allocation (hnswlib's header and the side arrays are checked against it and the
file sizes before anything is read), the CRCs are checked, and ``sync`` compares a sample of
ids and vectors and the counts with SQLite; any mismatch rebuilds from SQLite. A faiss or exact
cache of manifest version 2 (or hnswlib version 1) is rebuilt once and replaced.

Threads: hnswlib's ``add_items``/``resize_index`` must not run while ``knn_query`` does, so a
reader-writer lock lets searches run together and changes alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, TYPE_CHECKING

import hnswlib
import numpy as np

from vsearch import log
from vsearch.atomic import atomic_path, atomic_write

if TYPE_CHECKING:
    from vsearch.store.library import Library

# Graph parameters (docs/PERFORMANCE.md, benchmarks/bench_recall.py for the curves).
M = 16
EF_CONSTRUCTION = 100
EF_SEARCH = 128  # beam width of a search (at least the number of results asked for)
ANCHOR_STRIDE = 16  # frame ids divisible by this are anchors (float32 copy: 1/16 of the vectors)
ANCHORS = 16  # best anchors whose neighbourhoods are searched
ANCHOR_K = 96  # neighbours asked of the graph per anchor
ANCHOR_MIX = 0.0  # the graph is asked for anchor + ANCHOR_MIX * query (measured: 0 is best)
COMPACT_FRACTION = 0.25  # deleted entries / all entries beyond which the graph is rebuilt
COMPACT_MIN = 1000  # ... and at least this many deleted entries
SAMPLE = 64  # ids (and their vectors) compared with SQLite when a saved index is opened
MANIFEST_VERSION = 3  # 1: hnswlib without a token, 2: exact / faiss IVF-SQ8; both rebuilt once
KIND = "hnsw"
_HEADER = struct.Struct("<QQQQQQiIQQQdQ")  # hnswlib HierarchicalNSW::saveIndex header (96 bytes)


@dataclass(slots=True)
class Manifest:
    """What the index files hold, written beside them (hnswlib's files carry no metadata): model, size, generation, checksums."""
    model_id: str
    dim: int
    count: int  # live vectors (elements minus deleted)
    generation: int  # the model's generation in SQLite that the files describe (-1: unknown)
    version: int = MANIFEST_VERSION
    kind: str = KIND
    token: str = ""
    elements: int = 0  # entries in the graph file, deleted ones included
    graph_size: int = 0
    graph_crc: int = 0
    side_size: int = 0
    side_crc: int = 0
    ids_crc: int = 0
    m: int = M
    ef_construction: int = EF_CONSTRUCTION
    # the graph file as this save left it: a load that finds the same file (inode, size and
    # modification time to the nanosecond) skips the checksum pass over it (2.3 s at 1M vectors)
    graph_ino: int = 0
    graph_mtime_ns: int = 0


class CacheMismatch(ValueError):
    """The saved index does not describe what the manifest or SQLite says."""


def _safe_name(model_id: str) -> str:
    return hashlib.sha1(model_id.encode()).hexdigest()[:16]


def _in_sorted(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Boolean mask: which of *ids* are in the sorted unique array *sorted_ids*."""
    if len(sorted_ids) == 0:
        return np.zeros(len(ids), dtype=bool)
    pos = np.searchsorted(sorted_ids, ids)
    pos[pos >= len(sorted_ids)] = 0
    mask: np.ndarray = sorted_ids[pos] == ids
    return mask


def _prefetch(path: Path) -> None:
    """Read *path* through once so that it sits in the page cache.

    hnswlib's ``load_index`` holds Python's lock for as long as it takes, so a graph file read from
    disk froze every other thread (the app's window) for the disk's time as well as hnswlib's:
    5.0 s against 2.4 s at 1M vectors after the cache was dropped (docs/PERFORMANCE.md). Python's
    reads release the lock, so the disk's share is paid here without freezing anything; on a
    file already cached it costs 0.25 s at 1M (2.2 GB).
    """
    buf = memoryview(bytearray(1 << 24))
    with contextlib.suppress(OSError), open(path, "rb", buffering=0) as fh:
        while fh.readinto(buf):
            pass


def _crc(path: Path) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            crc = zlib.crc32(chunk, crc)
    return crc


class _RWLock:
    """Many readers or one writer (writers are not starved: a waiting writer blocks new readers)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._waiting = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass(slots=True)
class _State:
    """One graph and what describes it; replaced as a whole by a rebuild (compaction)."""

    index: hnswlib.Index
    ids: np.ndarray  # sorted live labels
    anchor_ids: np.ndarray  # sorted live anchor labels
    anchors: np.ndarray  # their vectors, float32, in anchor_ids order


def _appended(view: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """*view* followed by *extra*, written in place into *view*'s buffer when it has room.

    The buffer grows by a quarter when full, so adding a batch costs the batch, not a copy of
    every id and anchor held (measured at 1M vectors: 60 ms per 32-vector batch with copies).
    Only rows past *view*'s end are written, so an older, shorter view stays valid.
    """
    n, m = len(view), len(extra)
    base = view.base
    if (
        isinstance(base, np.ndarray)
        and base.flags.c_contiguous
        and base.shape[1:] == view.shape[1:]
        and base.dtype == view.dtype
        and len(base) >= n + m
        and base.__array_interface__["data"][0] == view.__array_interface__["data"][0]
    ):
        base[n : n + m] = extra
        return base[: n + m]
    buf = np.empty((max(n + m, (n + m) * 5 // 4, 1024),) + view.shape[1:], dtype=view.dtype)
    buf[:n] = view
    buf[n : n + m] = extra
    return buf[: n + m]


def _new_graph(dim: int, capacity: int) -> hnswlib.Index:
    idx = hnswlib.Index(space="ip", dim=dim)
    idx.init_index(
        max_elements=max(int(capacity), 1024), ef_construction=EF_CONSTRUCTION, M=M, random_seed=100
    )
    idx.set_ef(EF_SEARCH)
    idx.set_num_threads(1)
    return idx


def _empty_state(dim: int) -> _State:
    return _State(
        _new_graph(dim, 1024), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    )


class AnnIndex:
    """Top-k search over L2-normalised vectors (inner product = cosine), ids = frame ids.

    Attributes:
        generation: the model's generation in SQLite that this index describes (-1: unknown).
        dirty: changed since it was last saved or loaded.
    """

    def __init__(self, folder: Path, model_id: str, dim: int) -> None:
        self.folder = Path(folder)
        self.model_id = model_id
        self.dim = dim
        self._base = _safe_name(model_id)
        self.manifest_path = self.folder / f"{self._base}.json"
        self.path = self.folder / f"{self._base}.vidx"  # the current graph file, once saved or loaded
        self._rw = _RWLock()
        self._mutate = threading.RLock()  # one change (or save, or swap) at a time
        self._s = _empty_state(dim)
        self._loaded = False
        self._verified = True  # a loaded index is compared with SQLite by the next sync()
        self._journal: list[tuple[str, np.ndarray, np.ndarray | None]] | None = None  # during compaction
        self._source: Callable[[np.ndarray], Iterator[tuple[np.ndarray, np.ndarray]]] | None = None
        self.generation = -1
        self.dirty = False
        self.threads = 1  # add_items threads (the indexer raises it for big builds)

    # -- state ----------------------------------------------------------------------------
    @property
    def _ids(self) -> np.ndarray:
        return self._s.ids

    @property
    def count(self) -> int:
        """Live vectors in the index."""
        return len(self._s.ids)

    @property
    def deleted(self) -> int:
        """Entries marked deleted and still in the graph."""
        return int(self._s.index.get_current_count()) - len(self._s.ids)

    def needs_compaction(self) -> bool:
        """Whether deleted entries are many enough (in number and share) to rebuild the graph without them."""
        dead = self.deleted
        total = dead + self.count
        return dead >= COMPACT_MIN and dead > COMPACT_FRACTION * total

    def clear(self) -> None:
        """Forget every vector (the next save writes an empty index)."""
        with self._mutate, self._rw.write():
            self._s = _empty_state(self.dim)
            self._loaded = True
            self._verified = True
            self.dirty = True

    def invalidate(self) -> None:
        """Say that this index no longer describes SQLite: the next sync() rebuilds it from SQLite."""
        self.clear()
        self.generation = -2

    def delete_files(self) -> None:
        """Remove this model's saved index (manifest first, so no manifest names missing files)."""
        with self._mutate:
            self.manifest_path.unlink(missing_ok=True)
            for f in self.folder.glob(f"{self._base}*"):
                with contextlib.suppress(OSError):
                    f.unlink()

    def advance(self, before: int, after: int) -> None:
        """The caller changed SQLite from generation *before* to *after* and this index the same way.

        If the index described *before* and SQLite moved one step (nobody else wrote in between), it
        now describes *after*; otherwise its generation becomes unknown, and
        a save records an unknown generation (reconciled with SQLite on the next open), never one
        that does not describe it.
        """
        self.generation = after if self.generation == before and after == before + 1 else -1

    # -- changes --------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under frame ids; ids already present are skipped, non-finite vectors refused."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) == 0:
            return
        vecs = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim))
        if not np.isfinite(vecs).all():
            raise ValueError("refusing to index non-finite vectors")
        with self._mutate:
            if self._journal is not None:
                self._journal.append(("add", ids, vecs))
            self._add(self._s, ids, vecs, lock=True)
            self._loaded = True
            self.dirty = True

    def _add(self, s: _State, ids: np.ndarray, vecs: np.ndarray, lock: bool) -> int:
        _, first = np.unique(ids, return_index=True)
        sel = np.sort(first)
        sel = sel[~_in_sorted(s.ids, ids[sel])]
        if len(sel) == 0:
            return 0
        new_ids, new_vecs = ids[sel], vecs[sel]
        with self._rw.write() if lock else contextlib.nullcontext():
            idx = s.index
            need = idx.get_current_count() + len(new_ids)
            if need > idx.get_max_elements():
                idx.resize_index(max(need, int(idx.get_max_elements() * 1.5)))
            # a label deleted earlier and added again is un-deleted and updated in place by hnswlib
            idx.add_items(new_vecs, new_ids, num_threads=self.threads)
            order = np.argsort(new_ids, kind="stable")
            if len(s.ids) == 0 or new_ids.min() > s.ids[-1]:
                s.ids = _appended(s.ids, new_ids[order])  # the indexer's case: new ids come last
            else:
                s.ids = np.union1d(s.ids, new_ids)
            anc = new_ids % ANCHOR_STRIDE == 0
            if anc.any():
                o = np.argsort(new_ids[anc], kind="stable")
                a_ids, a_vecs = new_ids[anc][o], new_vecs[anc][o]
                if len(s.anchor_ids) == 0 or a_ids[0] > s.anchor_ids[-1]:
                    s.anchor_ids = _appended(s.anchor_ids, a_ids)
                    s.anchors = _appended(s.anchors, np.asarray(a_vecs, dtype=np.float32))
                else:
                    all_ids = np.concatenate([s.anchor_ids, a_ids])
                    all_vecs = np.concatenate([s.anchors, a_vecs])
                    o = np.argsort(all_ids, kind="stable")
                    s.anchor_ids, s.anchors = all_ids[o], np.ascontiguousarray(all_vecs[o])
        return len(new_ids)

    def delete(self, ids: np.ndarray) -> None:
        """Remove frame ids (those not present are ignored): marked deleted in the graph."""
        ids = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        with self._mutate:
            if self._journal is not None:
                self._journal.append(("delete", ids, None))
            if self._delete(self._s, ids, lock=True):
                self.dirty = True

    def _delete(self, s: _State, ids: np.ndarray, lock: bool) -> int:
        gone = ids[_in_sorted(s.ids, ids)]
        if len(gone) == 0:
            return 0
        with self._rw.write() if lock else contextlib.nullcontext():
            for i in gone:
                s.index.mark_deleted(int(i))
            s.ids = s.ids[~_in_sorted(gone, s.ids)]
            keep = ~_in_sorted(gone, s.anchor_ids)
            s.anchor_ids, s.anchors = s.anchor_ids[keep], s.anchors[keep]
        return len(gone)

    # -- search ---------------------------------------------------------------------------
    def search(
        self,
        vector: np.ndarray,
        k: int,
        *,
        ef: int | None = None,
        pool: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (frame ids, cosine similarities), best first. k is clamped to the count.

        The graph's answers joined with the anchors' (:meth:`anchor_pool`); a caller that asks
        again for the same query with a larger k passes the *pool* it got, so the exact pass over
        the anchors runs once per query.
        """
        q = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        with self._rw.read():
            s = self._s
            n = len(s.ids)
            k = min(int(k), n)
            if k <= 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            labels, dists = self._knn(s.index, q, k, max(ef or EF_SEARCH, k))
            ids, sims = labels[0].astype(np.int64), (1.0 - dists[0]).astype(np.float32)
            if len(ids) == n:
                return ids, sims
            if pool is None:
                pool = self._anchor_pool(s, q[0])
        xi, xv = pool
        if len(xi):
            fresh = ~np.isin(xi, ids)
            ids = np.concatenate([ids, xi[fresh]])
            sims = np.concatenate([sims, xv[fresh]])
        top = np.argsort(-sims, kind="stable")[:k]
        return ids[top], sims[top]

    def anchor_pool(self, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(frame ids, exact cosines) of the best anchors' graph neighbourhoods, for :meth:`search`.

        Entry points from an exact pass over the anchors (every ANCHOR_STRIDE-th frame, kept as
        float32): the graph answers in-distribution queries (an anchor's own vector) well, and a
        text query, far from every image vector, badly (the modality gap).
        """
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self._rw.read():
            return self._anchor_pool(self._s, q)

    def _anchor_pool(self, s: _State, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(s.ids)
        if len(s.anchor_ids) == 0 or ANCHORS <= 0 or n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        a = min(ANCHORS, len(s.anchor_ids))
        asim = s.anchors @ q
        top = np.argpartition(-asim, a - 1)[:a] if a < len(asim) else np.arange(len(asim))
        ak = min(ANCHOR_K, n)
        steer = s.anchors[top] + ANCHOR_MIX * q if ANCHOR_MIX else s.anchors[top]
        al, _ = self._knn(s.index, np.ascontiguousarray(steer, dtype=np.float32), ak, ak)
        extra = np.unique(al.reshape(-1).astype(np.int64))
        extra = extra[extra >= 0]
        if not len(extra):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        xi, xv = self._vectors(s, extra)
        return xi, (xv @ q).astype(np.float32)

    def search_many(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (frame ids [n, k], cosine similarities [n, k]) of many queries in one graph pass.

        The graph alone, without the anchors' exact pass: for bulk questions (which frames do a
        query bank's sentences land on) where one batched call beats n single searches by far.
        """
        q = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1))
        with self._rw.read():
            s = self._s
            k = min(int(k), len(s.ids))
            if k <= 0 or len(q) == 0:
                return np.zeros((len(q), 0), dtype=np.int64), np.zeros((len(q), 0), dtype=np.float32)
            labels, dists = self._knn(s.index, q, k, max(EF_SEARCH, k))
        return labels.astype(np.int64), (1.0 - dists).astype(np.float32)

    @staticmethod
    def _knn(idx: hnswlib.Index, q: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        """knn_query; when deleted entries leave fewer than k in the beam, a wider beam, then fewer."""
        ef = max(ef, k)
        while True:
            idx.set_ef(ef)
            try:
                labels, dists = idx.knn_query(q, k=k, num_threads=1)
                return labels, dists
            except RuntimeError:  # "Cannot return the results in a contiguous 2D array"
                total = int(idx.get_current_count())
                if ef < total:
                    ef = min(total, max(2 * ef, 4 * k))
                elif k > 1:
                    k //= 2
                else:
                    return np.zeros((len(q), 0), np.uint64), np.zeros((len(q), 0), np.float32)

    def _vectors(self, s: _State, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, float32 vectors) of candidates: from SQLite when a library is bound, else from the graph.

        hnswlib's get_items costs ~60 us a vector (it builds Python lists); one indexed SQLite
        lookup of the same float16 values costs a fraction of that.
        """
        ids = ids.astype(np.int64)
        if self._source is not None:
            got_ids, got = [], []
            for i, v in self._source(ids):
                got_ids.append(i)
                got.append(v)
            if got_ids:
                out = np.concatenate(got_ids)
                vecs = np.concatenate(got).astype(np.float32)
                keep = _in_sorted(s.ids, out)  # SQLite may be a write ahead: only what the graph holds
                return out[keep], vecs[keep]
            return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
        return ids, np.asarray(s.index.get_items(ids, return_type="numpy"), dtype=np.float32)

    # -- the query bank's activation set, kept beside the graph ----------------------------
    @property
    def activation_path(self) -> Path:
        """Where the Searcher keeps the query bank's activation set for this index (a JSON cache)."""
        return self.folder / f"{self._base}.activation.json"

    def save_activation(self, record: dict[str, object]) -> None:
        """Write the activation record atomically; a folder that cannot be written is not an error."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_write(self.activation_path, "w") as fh:
                json.dump(record, fh)
        except OSError as e:
            log.store.debug("activation set not saved: %s", e)

    def load_activation(self) -> dict[str, object] | None:
        """The saved activation record, or None (absent or unreadable: it is computed again)."""
        try:
            raw = json.loads(self.activation_path.read_text())
        except (OSError, ValueError):
            return None
        return raw if isinstance(raw, dict) else None

    # -- persistence ----------------------------------------------------------------------
    def _files(self, token: str) -> tuple[Path, Path]:
        return self.folder / f"{self._base}-{token}.vidx", self.folder / f"{self._base}-{token}.side"

    def save(self, generation: int | None = None) -> None:
        """Write the index under a new token, then the manifest naming it; the old set survives a failure.

        *generation* is what the caller knows the index to describe (default: ``self.generation``).
        """
        gen = self.generation if generation is None else int(generation)
        with self._mutate:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._remove_leftovers()
            s = self._s
            token = os.urandom(6).hex()
            graph, side = self._files(token)
            try:
                with self._rw.read():
                    with atomic_path(graph) as tmp:
                        s.index.save_index(str(tmp))
                        # hnswlib ignores write errors (a full disk leaves a short file): check first
                        if tmp.stat().st_size != s.index.index_file_size():
                            raise OSError(f"the ANN index {graph.name} was written incompletely (disk full?)")
                        graph_crc = _crc(tmp)
                    elements = int(s.index.get_current_count())
                    with atomic_write(side) as fh:
                        np.save(fh, s.ids, allow_pickle=False)
                        np.save(fh, s.anchor_ids, allow_pickle=False)
                        np.save(fh, s.anchors.astype(np.float32), allow_pickle=False)
                    count, ids_crc = len(s.ids), zlib.crc32(s.ids.tobytes())
                if side.stat().st_size == 0:
                    raise OSError(f"the ANN index {side.name} was written incompletely (disk full?)")
                st = graph.stat()
                man = Manifest(
                    self.model_id,
                    self.dim,
                    count,
                    gen,
                    token=token,
                    elements=elements,
                    graph_size=st.st_size,
                    graph_crc=graph_crc,
                    graph_ino=st.st_ino,
                    graph_mtime_ns=st.st_mtime_ns,
                    side_size=side.stat().st_size,
                    side_crc=_crc(side),
                    ids_crc=ids_crc,
                )
                old = self._read_manifest(quiet=True)
                with atomic_write(self.manifest_path, "w") as fh:
                    json.dump(asdict(man), fh)
            except BaseException:
                for f in (graph, side):
                    with contextlib.suppress(OSError):
                        f.unlink()
                raise
            self.path = graph
            self.generation = gen
            self.dirty = False
            self._remove_old(token, old)

    def _remove_old(self, keep: str, old: Manifest | None) -> None:
        """Files of the set this save replaced, and of the formats before version 3."""
        for f in (self.folder / f"{self._base}.vidx", self.folder / f"{self._base}.hnsw"):
            with contextlib.suppress(OSError):
                f.unlink(missing_ok=True)
        if old is not None and old.token and old.token != keep:
            for f in self._files(old.token):
                with contextlib.suppress(OSError):
                    f.unlink(missing_ok=True)
        # sets left by saves killed between their data files and the manifest (old enough that no
        # other process is still writing them)
        for f in self.folder.glob(f"{self._base}-*"):
            if keep in f.name:
                continue
            with contextlib.suppress(OSError):
                if time.time() - f.stat().st_mtime > 3600:
                    f.unlink()

    def _remove_leftovers(self) -> None:
        """Temp files of a save that was killed before its rename (only old ones: see _remove_old)."""
        for f in self.folder.glob(f".{self._base}*.tmp"):
            with contextlib.suppress(OSError):
                if time.time() - f.stat().st_mtime > 3600:
                    f.unlink()

    def _read_manifest(self, quiet: bool = False) -> Manifest | None:
        """The manifest, if it is one of this version (older formats and damage: None)."""
        try:
            raw = json.loads(self.manifest_path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(raw, dict):
            return None
        if raw.get("version") != MANIFEST_VERSION or raw.get("kind", KIND) != KIND:
            if quiet:
                return None
            log.store.info(
                "ANN index %s is of an older format (version %s); rebuilding it once from the library",
                self.manifest_path.name,
                raw.get("version"),
            )
            return None
        try:
            if set(raw) - {f.name for f in fields(Manifest)}:
                raise TypeError("unknown fields")
            man = Manifest(**raw)
            ints = (
                man.dim, man.count, man.generation, man.elements, man.graph_size, man.side_size,
                man.graph_ino, man.graph_mtime_ns,
            )
            if not all(isinstance(v, int) for v in ints) or not isinstance(man.token, str):
                raise TypeError("bad field types")
        except TypeError:
            log.store.warning("ANN manifest %s unreadable; rebuilding from the library", self.manifest_path)
            return None
        return man

    def load(self) -> Manifest | None:
        """Load the saved index; None if absent, damaged, of an older format or not this model's.

        The result is trusted only after ``sync`` has compared it with SQLite.
        """
        man = self._read_manifest()
        if man is None or man.model_id != self.model_id or man.dim != self.dim:
            return None
        try:
            s = self._read(man)
        except (OSError, RuntimeError, ValueError, EOFError, MemoryError) as e:
            log.store.warning(
                "ANN index %s damaged (%s); rebuilding from the library", self.manifest_path.name, e
            )
            return None
        with self._mutate, self._rw.write():
            self._s = s
            self._loaded = True
            self._verified = False
            self.path = self._files(man.token)[0]
            self.generation = man.generation
            self.dirty = False
        return man

    def _read(self, man: Manifest) -> _State:
        if not man.token or not all(c in "0123456789abcdef" for c in man.token):
            raise CacheMismatch("bad token")
        graph, side = self._files(man.token)
        st = graph.stat()
        if st.st_size != man.graph_size or side.stat().st_size != man.side_size:
            raise CacheMismatch("file sizes differ from the manifest")
        if not (0 <= man.count <= man.elements):
            raise CacheMismatch("counts out of range")
        if _crc(side) != man.side_crc:
            raise CacheMismatch("checksum mismatch (side file)")
        with open(side, "rb") as fh:
            ids = _read_npy(fh, np.int64, (man.count,), man.side_size)
            a_ids = _read_npy(fh, np.int64, None, man.side_size)
            anchors = _read_npy(fh, np.float32, (len(a_ids), self.dim), man.side_size)
            if fh.read(1):
                raise CacheMismatch("trailing data")
        if zlib.crc32(ids.tobytes()) != man.ids_crc:
            raise CacheMismatch("id checksum mismatch")
        if len(ids) > 1 and not (np.diff(ids) > 0).all():
            raise CacheMismatch("ids not sorted")
        if not _in_sorted(ids, a_ids).all() or not np.isfinite(anchors).all():
            raise CacheMismatch("anchors do not match the ids")
        untouched = bool(man.graph_mtime_ns) and (st.st_ino, st.st_mtime_ns) == (man.graph_ino, man.graph_mtime_ns)
        live = self._scan_graph(graph, man, full=not untouched)
        if live is not None and (len(live) != len(ids) or not np.array_equal(np.sort(live), ids)):
            raise CacheMismatch("the graph's live labels differ from the ids")
        if untouched:
            _prefetch(graph)  # a full scan above has just read it
        idx = hnswlib.Index(space="ip", dim=self.dim)
        # max_elements bounded by the manifest (checked against the header and the file size)
        idx.load_index(str(graph), max_elements=man.elements + max(1024, man.elements // 8))
        idx.set_ef(EF_SEARCH)
        idx.set_num_threads(1)
        if idx.get_current_count() != man.elements:
            raise CacheMismatch("element count differs from the manifest")
        return _State(idx, ids, a_ids, anchors)

    def _scan_graph(self, graph: Path, man: Manifest, full: bool = True) -> np.ndarray | None:
        """Check hnswlib's file before hnswlib reads it; returns the labels not marked deleted.

        hnswlib allocates what its header says, so the header is checked against the manifest and
        the file size first; then (if *full*) one pass over the file checks its CRC-32 and, per
        element of the base layer, that the vector is finite and where the label and deleted mark
        are. Without *full* (the file is the one the manifest's save wrote, untouched since) only
        the header is checked and None returned.
        """
        with open(graph, "rb") as fh:
            raw = fh.read(_HEADER.size)
            if len(raw) != _HEADER.size:
                raise CacheMismatch("short graph file")
            off0, max_el, cur, per_el, label_off, data_off, _lvl, entry, max_m, max_m0, m, _mult, efc = (
                _HEADER.unpack(raw)
            )
            if (
                off0 != 0
                or cur != man.elements
                or max_el < cur
                or m != man.m
                or max_m != m
                or max_m0 != 2 * m
                or data_off != max_m0 * 4 + 4
                or label_off != data_off + self.dim * 4
                or per_el != label_off + 8
                or (cur and entry >= cur)
                or _HEADER.size + cur * per_el > man.graph_size
                or efc != man.ef_construction
            ):
                raise CacheMismatch("graph header does not match the manifest")
            if not full:
                return None
            crc = zlib.crc32(raw)
            labels = np.zeros(cur, np.int64)
            dead = np.zeros(cur, bool)
            step = max(1, (32 << 20) // per_el)
            for a in range(0, cur, step):
                n = min(step, cur - a)
                buf = fh.read(n * per_el)
                if len(buf) != n * per_el:
                    raise CacheMismatch("short graph file")
                crc = zlib.crc32(buf, crc)
                el = np.frombuffer(buf, np.uint8).reshape(n, per_el)
                if not np.isfinite(el[:, data_off:label_off].view(np.float32)).all():
                    raise CacheMismatch("non-finite vectors in the graph")
                labels[a : a + n] = el[:, label_off:per_el].view(np.int64)[:, 0]
                dead[a : a + n] = (el[:, 2] & 1).astype(bool)
            while chunk := fh.read(1 << 24):
                crc = zlib.crc32(chunk, crc)
        if crc != man.graph_crc:
            raise CacheMismatch("checksum mismatch (graph)")
        return labels[~dead]

    # -- agreement with SQLite -------------------------------------------------------------
    def bind(self, library: Library, model_pk: int) -> None:
        """Read candidates' vectors from this library (exact re-ranking without hnswlib's get_items)."""
        dim = self.dim

        def source(ids: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
            return library.iter_vectors(model_pk, dim, ids=ids)

        self._source = source

    def _verify(self, library: Library, model_pk: int) -> None:
        """A loaded index against SQLite: the count and a sample of ids and their vectors."""
        s = self._s
        if self.generation == library.generation(model_pk):
            n = library.vector_count(model_pk)
            if n != len(s.ids):
                raise CacheMismatch(f"{len(s.ids)} vectors in the cache, {n} in the library")
        if len(s.ids) == 0:
            return
        rng = np.random.default_rng(len(s.ids))
        pick = np.unique(rng.choice(s.ids, size=min(SAMPLE, len(s.ids)), replace=False))
        with self._rw.read():
            mine = np.asarray(s.index.get_items(pick, return_type="numpy"), dtype=np.float32)
        if not np.isfinite(mine).all():
            raise CacheMismatch("non-finite vectors")
        theirs: dict[int, np.ndarray] = {}
        for i, v in library.iter_vectors(model_pk, self.dim, ids=pick):
            for a, b in zip(i.tolist(), v, strict=True):
                theirs[a] = b
        present = [j for j, i in enumerate(pick.tolist()) if i in theirs]
        if len(present) < len(pick) // 2:
            raise CacheMismatch("sampled ids are not in the library")
        for j in present:
            if not np.allclose(mine[j], theirs[int(pick[j])], atol=2e-3):
                raise CacheMismatch("sampled vectors differ from the library's")

    def sync(self, library: Library, model_pk: int) -> tuple[int, int]:
        """Make the index agree with SQLite; returns (added, removed)."""
        self.bind(library, model_pk)
        if not self._verified:
            try:
                self._verify(library, model_pk)
            except CacheMismatch as e:
                log.store.warning(
                    "ANN index of %s does not match the library (%s); rebuilding", self.model_id, e
                )
                self.invalidate()
            self._verified = True
        if library.generation(model_pk) == self.generation and self._loaded:
            return 0, 0  # the usual case, without waiting for a writer
        with self._mutate:
            # SQLite read under the lock: an add() between reading the truth and looking at what
            # the graph holds would make the indexer's newest vectors look stale (and deleted)
            gen = library.generation(model_pk)
            if gen == self.generation and self._loaded:
                return 0, 0
            truth = np.unique(library.vector_ids(model_pk))
            have = self._s.ids
            missing = np.setdiff1d(truth, have, assume_unique=True)
            stale = np.setdiff1d(have, truth, assume_unique=True)
            if len(have) == 0 and len(missing) > 20_000:
                self._rebuild_into(library, model_pk, truth)
            else:
                if len(stale):
                    self.delete(stale)
                for ids, vecs in library.iter_vectors(
                    model_pk, self.dim, ids=missing if len(missing) < len(truth) else None
                ):
                    self.add(ids, vecs)
            self._loaded = True
            self.generation = gen
            self.dirty = True  # at least the generation it describes changed
        return len(missing), len(stale)

    def _build(self, library: Library, model_pk: int, truth: np.ndarray) -> _State:
        """A fresh graph from SQLite, inserted in a shuffled order (more links between videos)."""
        s = _State(
            _new_graph(self.dim, len(truth) + 1024),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, self.dim), np.float32),
        )
        threads = max(1, os.cpu_count() or 1)
        old, self.threads = self.threads, threads
        try:
            for ids, vecs in library.iter_vectors(model_pk, self.dim):
                keep = _in_sorted(truth, ids)
                ids, vecs = ids[keep], vecs[keep]
                perm = np.random.default_rng(int(ids[0]) if len(ids) else 0).permutation(len(ids))
                self._add(s, ids[perm], np.ascontiguousarray(vecs[perm], dtype=np.float32), lock=False)
        finally:
            self.threads = old
        return s

    def _rebuild_into(self, library: Library, model_pk: int, truth: np.ndarray) -> None:
        s = self._build(library, model_pk, truth)
        with self._rw.write():
            self._s = s
        self.dirty = True

    def compact(self, library: Library, model_pk: int) -> bool:
        """Rebuild the graph from SQLite without its deleted entries and swap it in.

        Searches keep using the old graph meanwhile; changes made during the rebuild are replayed
        onto the new one before the swap. Returns whether it compacted.
        """
        with self._mutate:
            if self._journal is not None:
                return False
            self._journal = []
            truth = np.unique(library.vector_ids(model_pk))
        try:
            s = self._build(library, model_pk, truth)
            with self._mutate:
                for op, ids, vecs in self._journal:
                    if op == "add":
                        assert vecs is not None  # an "add" entry always carries its vectors
                        self._add(s, ids, vecs, lock=False)
                    else:
                        self._delete(s, ids, lock=False)
                with self._rw.write():
                    self._s = s
                self.dirty = True
        finally:
            with self._mutate:
                self._journal = None
        log.store.info("compacted the ANN index of %s (%d vectors)", self.model_id, len(s.ids))
        return True


def _read_npy(fh: IO[bytes], dtype: type, shape: tuple[int, ...] | None, limit: int) -> np.ndarray:
    """One .npy array, refused before allocating when its header is not what is expected or too big."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise CacheMismatch(f"unsupported npy version {version}")
    if fortran or got_dtype != np.dtype(dtype):
        raise CacheMismatch("unexpected array type")
    if shape is not None and tuple(got_shape) != tuple(shape):
        raise CacheMismatch(f"array of shape {got_shape}, expected {shape}")
    n = int(np.prod(got_shape, dtype=np.int64)) if len(got_shape) else 1
    nbytes = n * np.dtype(dtype).itemsize
    if n < 0 or nbytes > limit:
        raise CacheMismatch("array larger than its file")
    data = fh.read(nbytes)
    if len(data) != nbytes:
        raise CacheMismatch("short array")
    return np.frombuffer(data, dtype=dtype).reshape(got_shape).copy()
