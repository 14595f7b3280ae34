"""hnswlib index per model: a cache of SQLite's vectors, saved atomically with a manifest.

Labels are frame ids. The manifest records the model, dimension, count and the model's
generation in SQLite when the file was written; on load, a mismatch is reconciled against
SQLite (missing vectors added, stale ones marked deleted) or the index is rebuilt.
hnswlib is not thread-safe between add_items and knn_query, so one lock guards both.
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import hnswlib
import numpy as np

from vsearch import log
from vsearch.atomic import atomic_path, atomic_write

# HNSW parameters (see docs/PERFORMANCE.md for the recall/latency curve they come from).
M = 16
EF_CONSTRUCTION = 100
EF_SEARCH = 128
# Below this many vectors a query is answered exactly (one matrix-vector product, ~10 ms at
# 100k x 512); HNSW only takes over beyond it. Exact search has recall 1.0 on any data, also
# for text queries that lie far from every frame, where greedy graph search can get stuck.
BRUTE_MAX = 100_000
MANIFEST_VERSION = 1


@dataclass(slots=True)
class Manifest:
    model_id: str
    dim: int
    count: int
    generation: int
    version: int = MANIFEST_VERSION
    m: int = M
    ef_construction: int = EF_CONSTRUCTION


def _safe_name(model_id: str) -> str:
    import hashlib

    return hashlib.sha1(model_id.encode()).hexdigest()[:16]


class AnnIndex:
    """An HNSW index over L2-normalised vectors (inner-product space), labels = frame ids."""

    def __init__(self, folder: Path, model_id: str, dim: int) -> None:
        self.folder = folder
        self.model_id = model_id
        self.dim = dim
        base = _safe_name(model_id)
        self.path = folder / f"{base}.hnsw"
        self.manifest_path = folder / f"{base}.json"
        self._lock = threading.RLock()
        self._index: hnswlib.Index | None = None
        self._ids: set[int] = set()
        self.generation = -1
        self.dirty = False
        # exact-search copy of the vectors (only while count <= BRUTE_MAX)
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self._deleted: set[int] = set()
        self._exact_complete = True
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None

    # -- building -------------------------------------------------------------------------
    def _new(self, capacity: int) -> hnswlib.Index:
        idx = hnswlib.Index(space="ip", dim=self.dim)
        idx.init_index(max_elements=max(capacity, 1024), ef_construction=EF_CONSTRUCTION, M=M, allow_replace_deleted=True)
        idx.set_ef(EF_SEARCH)
        idx.set_num_threads(1)
        return idx

    def clear(self) -> None:
        with self._lock:
            self._index = self._new(1024)
            self._ids = set()
            self._reset_exact(complete=True)
            self.dirty = True

    def _reset_exact(self, complete: bool) -> None:
        self._chunks = []
        self._deleted = set()
        self._matrix = None
        self._exact_complete = complete

    @property
    def exact(self) -> bool:
        """Whether queries are answered by exact (brute-force) search."""
        return self._exact_complete and len(self._ids) <= BRUTE_MAX

    @property
    def count(self) -> int:
        return len(self._ids)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        with self._lock:
            if self._index is None:
                self._index = self._new(len(ids) * 2)
            idx = self._index
            need = idx.get_current_count() + len(ids)
            if need > idx.get_max_elements():
                idx.resize_index(max(need, int(idx.get_max_elements() * 1.5)))
            fresh = []
            for i in ids:
                i = int(i)
                if i in self._ids:
                    continue
                fresh.append(i)
            if not fresh:
                return
            sel = np.isin(ids, np.array(fresh, dtype=np.int64))
            new_vecs = np.asarray(vectors, dtype=np.float32)[sel]
            new_ids = np.asarray(ids, dtype=np.int64)[sel]
            idx.add_items(new_vecs, new_ids, replace_deleted=True)
            self._ids.update(fresh)
            self.dirty = True
            if self._exact_complete:
                if len(self._ids) > BRUTE_MAX:
                    self._reset_exact(complete=False)
                else:
                    self._chunks.append((new_ids, new_vecs))
                    self._deleted.difference_update(fresh)
                    self._matrix = None

    def delete(self, ids: np.ndarray) -> None:
        with self._lock:
            if self._index is None:
                return
            for i in ids:
                i = int(i)
                if i in self._ids:
                    with contextlib.suppress(RuntimeError):
                        self._index.mark_deleted(i)
                    self._ids.discard(i)
                    self._deleted.add(i)
                    self._matrix = None
                    self.dirty = True

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (frame ids, cosine similarities), best first. k is clamped to the count."""
        with self._lock:
            n = len(self._ids)
            if self._index is None or n == 0 or k <= 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            k = min(k, n)
            if self.exact:
                return self._search_exact(np.asarray(vector, dtype=np.float32).reshape(-1), k)
            self._index.set_ef(max(EF_SEARCH, k + 1))
            try:
                labels, dists = self._index.knn_query(np.asarray(vector, dtype=np.float32).reshape(1, -1), k=k)
            except RuntimeError:
                # fewer reachable elements than k (deleted ones): ask for fewer
                labels, dists = self._index.knn_query(np.asarray(vector, dtype=np.float32).reshape(1, -1), k=max(1, k // 2))
            return labels[0].astype(np.int64), (1.0 - dists[0]).astype(np.float32)

    def _search_exact(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._matrix is None:
            labels = np.concatenate([c[0] for c in self._chunks]) if self._chunks else np.zeros(0, np.int64)
            mat = np.concatenate([c[1] for c in self._chunks]) if self._chunks else np.zeros((0, self.dim), np.float32)
            if self._deleted:
                keep = ~np.isin(labels, np.fromiter(self._deleted, dtype=np.int64))
                labels, mat = labels[keep], mat[keep]
            # keep the latest copy of a label that was replaced
            _, first = np.unique(labels[::-1], return_index=True)
            pick = np.sort(len(labels) - 1 - first)
            labels, mat = labels[pick], np.ascontiguousarray(mat[pick])
            self._chunks = [(labels, mat)]
            self._deleted = set()
            self._matrix = (labels, mat)
        labels, mat = self._matrix
        sims = mat @ q
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return labels[top].astype(np.int64), sims[top].astype(np.float32)

    # -- persistence ----------------------------------------------------------------------
    def save(self, generation: int) -> None:
        """Write the index and then its manifest, each atomically; the old pair survives a failure."""
        with self._lock:
            if self._index is None:
                self._index = self._new(1024)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._remove_leftovers()
            with atomic_path(self.path) as tmp:
                self._index.save_index(str(tmp))
                # hnswlib ignores write errors (a full disk leaves a short file): check before the rename
                if tmp.stat().st_size != self._index.index_file_size():
                    raise OSError(f"the ANN index {self.path.name} was written incompletely (disk full?)")
            man = Manifest(self.model_id, self.dim, len(self._ids), generation)
            with atomic_write(self.manifest_path, "w") as fh:
                json.dump(asdict(man), fh)
            self.generation = generation
            self.dirty = False

    def _remove_leftovers(self) -> None:
        """Temp files of a save that was killed before its rename (harmless, but they take space).

        Only old ones: another process (a search saving a re-synced cache) may be writing one now.
        """
        import time

        for pattern in (f".{self.path.name}.*.tmp", f".{self.manifest_path.name}.*.tmp"):
            for f in self.folder.glob(pattern):
                with contextlib.suppress(OSError):
                    if time.time() - f.stat().st_mtime > 3600:
                        f.unlink()

    def load(self) -> Manifest | None:
        """Load the saved index; None if absent, unreadable or not this model's."""
        try:
            man = Manifest(**json.loads(self.manifest_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if man.model_id != self.model_id or man.dim != self.dim or man.version != MANIFEST_VERSION:
            return None
        try:
            idx = hnswlib.Index(space="ip", dim=self.dim)
            idx.load_index(str(self.path), max_elements=0, allow_replace_deleted=True)
            idx.set_ef(EF_SEARCH)
            idx.set_num_threads(1)
            ids = set(int(i) for i in idx.get_ids_list())
            # labels marked deleted are still listed; the manifest count tells whether that matters
        except (OSError, RuntimeError, ValueError) as e:
            log.store.warning("ANN index %s unreadable (%s); rebuilding from the library", self.path, e)
            return None
        with self._lock:
            self._index = idx
            self._ids = ids
            self._reset_exact(complete=False)  # filled from SQLite by sync() when small enough
            # labels marked deleted come back from get_ids_list(): if there are any, reconcile on sync
            self.generation = man.generation if man.count == len(ids) else -1
            self.dirty = False
        return man

    def sync(self, library: object, model_pk: int) -> tuple[int, int]:
        """Make the index agree with SQLite; returns (added, removed)."""
        from vsearch.store.library import Library

        assert isinstance(library, Library)
        gen = library.generation(model_pk)
        if not self._exact_complete and len(self._ids) <= BRUTE_MAX:
            # a loaded index: take the exact-search copy from SQLite (one pass, small libraries only)
            with self._lock:
                self._reset_exact(complete=True)
                for ids, vecs in library.iter_vectors(model_pk, self.dim):
                    keep = np.fromiter((int(i) in self._ids for i in ids), dtype=bool, count=len(ids))
                    self._chunks.append((ids[keep], vecs[keep]))
        if gen == self.generation and self._index is not None:
            return 0, 0
        truth = library.vector_ids(model_pk)
        with self._lock:
            have = np.fromiter(self._ids, dtype=np.int64, count=len(self._ids))
        missing = np.setdiff1d(truth, have, assume_unique=True)
        stale = np.setdiff1d(have, truth, assume_unique=True)
        if len(stale):
            self.delete(stale)
        for ids, vecs in library.iter_vectors(model_pk, self.dim, ids=missing if len(missing) < len(truth) else None):
            self.add(ids, vecs)
        if self._index is None:
            self.clear()
        self.generation = gen
        if len(missing) or len(stale):
            self.dirty = True
        return len(missing), len(stale)

