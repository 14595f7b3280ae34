"""Vector index per model: exact search up to BRUTE_MAX vectors, faiss IVF + 8-bit quantiser beyond.

A cache of SQLite's vectors (SQLite is the truth), saved atomically with a manifest. Ids are
frame ids. Up to BRUTE_MAX vectors a query is one matrix-vector product over an in-memory
float32 copy (recall 1.0). Beyond, an inverted-file index with 8-bit scalar-quantised codes
(faiss ``IndexIVFScalarQuantizer``, inner product) holds 1 byte per dimension: 0.5 GB at 1M x 512
instead of 2 GB float32; a query scans the NPROBE lists nearest to it. The coarse quantiser is
exhaustive over the list centres, so a text query far from every frame still lands in the right
lists (greedy graph search, as in HNSW, can get trapped there).

The manifest records the model, dimension, count, kind and the model's generation in SQLite
when the file was written; on load, a mismatch is reconciled against SQLite (missing vectors
added, stale ones removed) or the index is rebuilt. One lock guards adds, deletes and searches.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vsearch import log
from vsearch.atomic import atomic_path, atomic_write

# Up to this many vectors a query is answered exactly (one matrix-vector product, ~10 ms at
# 100k x 512); the quantised index only takes over beyond it.
BRUTE_MAX = 100_000
# IVF parameters (see docs/PERFORMANCE.md and benchmarks/bench_search.py for the curve).
NPROBE = 128  # lists scanned per query (3% of 4096; text queries far from all frames need many)
LISTS_PER_SQRT = 4  # nlist = 4 * sqrt(vectors at training time) ...
MAX_LISTS = 4096  # ... at most (training time grows with nlist x training points)
TRAIN_PER_LIST = 40  # training points per list (faiss warns below 39)
TRAIN_ITER = 10  # k-means iterations (faiss's default 25 costs 2.5x the time for ~no recall)
RETRAIN_GROWTH = 4  # a writable library re-trains (on open) once it holds 4x the vectors trained on
MANIFEST_VERSION = 2  # 1: hnswlib (rebuilt once from SQLite on open)
EXACT, IVF = "exact", "ivf-sq8"
_LEGACY_SUFFIX = ".hnsw"


@dataclass(slots=True)
class Manifest:
    model_id: str
    dim: int
    count: int
    generation: int
    version: int = MANIFEST_VERSION
    kind: str = EXACT
    nlist: int = 0
    trained_on: int = 0


def _faiss():  # noqa: ANN202 - the faiss module
    """Import faiss (only libraries beyond BRUTE_MAX need it).

    On macOS and Windows the faiss-cpu and torch wheels each bundle an OpenMP runtime; two in one
    process abort (OMP error #15) or crash in a parallel region (faiss-wheels issue 73). There
    the duplicate is allowed and faiss runs on one thread (one query at a time needs no more).
    """
    import sys

    if sys.platform in ("darwin", "win32"):
        os.environ.setdefault("KMP_DUPLICATE_LIB_OK", "TRUE")
    import faiss

    if sys.platform in ("darwin", "win32"):
        faiss.omp_set_num_threads(1)
    return faiss


def _safe_name(model_id: str) -> str:
    import hashlib

    return hashlib.sha1(model_id.encode()).hexdigest()[:16]


def nlist_for(n: int) -> int:
    """Number of IVF lists for an index trained on *n* vectors."""
    return int(max(16, min(MAX_LISTS, LISTS_PER_SQRT * math.sqrt(max(n, 1)))))


def _in_sorted(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Boolean mask: which of *ids* are in the sorted unique array *sorted_ids*."""
    if len(sorted_ids) == 0:
        return np.zeros(len(ids), dtype=bool)
    pos = np.searchsorted(sorted_ids, ids)
    pos[pos >= len(sorted_ids)] = 0
    return sorted_ids[pos] == ids


class AnnIndex:
    """Top-k search over L2-normalised vectors (inner product = cosine), ids = frame ids."""

    def __init__(self, folder: Path, model_id: str, dim: int) -> None:
        self.folder = folder
        self.model_id = model_id
        self.dim = dim
        base = _safe_name(model_id)
        self.path = folder / f"{base}.vidx"
        self.manifest_path = folder / f"{base}.json"
        self._lock = threading.RLock()
        self._loaded = False
        # sorted unique int64 array of the ids present (a Python set of 1M ints costs ~60 MB)
        self._ids = np.zeros(0, dtype=np.int64)
        self.generation = -1
        self.dirty = False
        # exact mode: float32 copy as (labels, matrix) chunks, concatenated on the next search
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self._matrix: tuple[np.ndarray, np.ndarray] | None = None
        # quantised mode (count > BRUTE_MAX): a faiss IndexIVFScalarQuantizer
        self._ivf = None
        self._trained_on = 0

    # -- state ----------------------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self._ids = np.zeros(0, dtype=np.int64)
            self._chunks, self._matrix = [], None
            self._ivf, self._trained_on = None, 0
            self._loaded = True
            self.dirty = True

    @property
    def exact(self) -> bool:
        """Whether queries are answered by exact (brute-force) search."""
        return self._ivf is None

    @property
    def count(self) -> int:
        return len(self._ids)

    @property
    def nlist(self) -> int:
        """Number of IVF lists (0 in exact mode)."""
        return int(self._ivf.nlist) if self._ivf is not None else 0

    # -- changes --------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under frame ids; ids already present are skipped."""
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._lock:
            self._loaded = True
            _, first = np.unique(ids, return_index=True)
            sel = np.sort(first)
            sel = sel[~_in_sorted(self._ids, ids[sel])]
            if len(sel) == 0:
                return
            new_ids = ids[sel]
            new_vecs = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[sel])
            if len(self._ids) == 0:
                self._ids = np.sort(new_ids)
            elif new_ids.min() > self._ids[-1]:  # the usual case: new frames get higher ids
                self._ids = np.concatenate([self._ids, np.sort(new_ids)])
            else:
                self._ids = np.union1d(self._ids, new_ids)
            self.dirty = True
            if self._ivf is not None:
                self._ivf.add_with_ids(new_vecs, new_ids)
                return
            self._chunks.append((new_ids, new_vecs))
            self._matrix = None
            if len(self._ids) > BRUTE_MAX:
                labels, mat = self._exact_matrix()
                self._chunks, self._matrix = [], None
                self._ivf = self._train(mat, len(labels))
                for a in range(0, len(labels), 50_000):
                    self._ivf.add_with_ids(mat[a : a + 50_000], labels[a : a + 50_000])

    def delete(self, ids: np.ndarray) -> None:
        """Remove frame ids (those not present are ignored)."""
        ids = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        with self._lock:
            gone = ids[_in_sorted(self._ids, ids)]
            if len(gone) == 0:
                return
            self._ids = self._ids[~_in_sorted(gone, self._ids)]
            self.dirty = True
            if self._ivf is not None:
                self._ivf.remove_ids(_faiss().IDSelectorBatch(gone))
                return
            labels, mat = self._exact_matrix()
            keep = ~_in_sorted(gone, labels)
            self._chunks = [(labels[keep], mat[keep])]
            self._matrix = None

    def _train(self, sample: np.ndarray, n: int):  # noqa: ANN202 - faiss.IndexIVFScalarQuantizer
        """An empty IVF-SQ8 index trained on *sample* (rows of a library of *n* vectors)."""
        faiss = _faiss()

        nlist = nlist_for(n)
        nlist = max(1, min(nlist, len(sample) // (TRAIN_PER_LIST - 1)))  # faiss warns below 39 per list
        quantiser = faiss.IndexFlatIP(self.dim)
        idx = faiss.IndexIVFScalarQuantizer(
            quantiser, self.dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        idx.cp.niter = TRAIN_ITER
        idx.cp.max_points_per_centroid = max(TRAIN_PER_LIST * 2, 64)
        idx.cp.seed = 1234
        idx.train(np.ascontiguousarray(sample, dtype=np.float32))  # faiss keeps quantiser referenced
        idx.nprobe = NPROBE
        self._trained_on = n
        log.store.info("trained a %d-list quantised index on %d of %d vectors", nlist, len(sample), n)
        return idx

    # -- search ---------------------------------------------------------------------------
    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (frame ids, cosine similarities), best first. k is clamped to the count."""
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self._lock:
            n = len(self._ids)
            if n == 0 or k <= 0:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            k = min(k, n)
            if self._ivf is None:
                return self._search_exact(q, k)
            return self._search_ivf(q, k, self.nprobe_for(k))

    def nprobe_for(self, k: int, nprobe: int | None = None) -> int:
        """Lists to scan for top-*k*: NPROBE, more when k is large next to an average list."""
        nl = self.nlist
        per_list = max(1.0, len(self._ids) / max(nl, 1))
        return int(min(nl, max(nprobe or NPROBE, math.ceil(2 * k / per_list))))

    def _search_ivf(self, q: np.ndarray, k: int, nprobe: int) -> tuple[np.ndarray, np.ndarray]:
        params = _faiss().SearchParametersIVF(nprobe=nprobe)
        sims, labels = self._ivf.search(q.reshape(1, -1), k, params=params)
        ok = labels[0] >= 0
        return labels[0][ok].astype(np.int64), sims[0][ok].astype(np.float32)

    def _exact_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        if self._matrix is None:
            if len(self._chunks) == 1:
                self._matrix = self._chunks[0]
            else:
                labels = (
                    np.concatenate([c[0] for c in self._chunks]) if self._chunks else np.zeros(0, np.int64)
                )
                mat = (
                    np.concatenate([c[1] for c in self._chunks])
                    if self._chunks
                    else np.zeros((0, self.dim), np.float32)
                )
                self._matrix = (labels, mat)
                self._chunks = [self._matrix]
        return self._matrix

    def _search_exact(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        labels, mat = self._exact_matrix()
        sims = mat @ q
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return labels[top].astype(np.int64), sims[top].astype(np.float32)

    # -- persistence ----------------------------------------------------------------------
    def save(self, generation: int) -> None:
        """Write the index and then its manifest, each atomically; the old pair survives a failure.

        File layout: the sorted ids (.npy), then in exact mode the float16 vectors (.npy, in the
        order of a second ids array before them), in quantised mode faiss's own serialisation.
        """
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._remove_leftovers()
            with atomic_path(self.path) as tmp:
                try:
                    with open(tmp, "wb") as fh:
                        self._write(fh)
                        written = fh.tell()
                    size = tmp.stat().st_size
                except (OSError, RuntimeError) as e:
                    raise OSError(
                        f"the ANN index {self.path.name} was written incompletely (disk full?): {e}"
                    ) from e
                if size != written:
                    raise OSError(f"the ANN index {self.path.name} was written incompletely (disk full?)")
            man = Manifest(
                self.model_id,
                self.dim,
                len(self._ids),
                generation,
                kind=EXACT if self._ivf is None else IVF,
                nlist=self.nlist,
                trained_on=self._trained_on,
            )
            with atomic_write(self.manifest_path, "w") as fh:
                json.dump(asdict(man), fh)
            self.generation = generation
            self.dirty = False

    def _write(self, fh) -> None:  # noqa: ANN001 - a binary file
        np.save(fh, self._ids, allow_pickle=False)
        if self._ivf is None:
            labels, mat = self._exact_matrix()
            np.save(fh, labels, allow_pickle=False)
            np.save(fh, mat.astype(np.float16), allow_pickle=False)
        else:
            faiss = _faiss()
            faiss.write_index(self._ivf, faiss.PyCallbackIOWriter(fh.write))

    def _remove_leftovers(self) -> None:
        """Temp files of a save that was killed before its rename, and an hnswlib file of version 1.

        Only old temp files: another process (a search saving a re-synced cache) may be writing one now.
        """
        import time

        with contextlib.suppress(OSError):
            self.path.with_suffix(_LEGACY_SUFFIX).unlink(missing_ok=True)
        for pattern in (f".{self.path.name}.*.tmp", f".{self.manifest_path.name}.*.tmp"):
            for f in self.folder.glob(pattern):
                with contextlib.suppress(OSError):
                    if time.time() - f.stat().st_mtime > 3600:
                        f.unlink()

    def load(self) -> Manifest | None:
        """Load the saved index; None if absent, unreadable, of an older version or not this model's."""
        try:
            man = Manifest(**json.loads(self.manifest_path.read_text()))
        except (OSError, ValueError, TypeError):
            return None  # absent, or a version-1 (hnswlib) manifest: rebuilt from SQLite
        if man.model_id != self.model_id or man.dim != self.dim or man.version != MANIFEST_VERSION:
            return None
        try:
            ids, chunks, ivf = self._read(man)
        except (OSError, RuntimeError, ValueError, EOFError) as e:
            log.store.warning("ANN index %s unreadable (%s); rebuilding from the library", self.path, e)
            return None
        with self._lock:
            self._ids = ids
            self._chunks, self._matrix = chunks, None
            self._ivf, self._trained_on = ivf, man.trained_on
            self._loaded = True
            self.generation = man.generation if man.count == len(ids) else -1
            self.dirty = False
        return man

    def _read(self, man: Manifest) -> tuple[np.ndarray, list, object]:
        with open(self.path, "rb") as fh:
            ids = np.load(fh, allow_pickle=False)
            if ids.dtype != np.int64 or ids.ndim != 1 or (len(ids) > 1 and not (np.diff(ids) > 0).all()):
                raise ValueError("bad id array")
            if man.kind == EXACT:
                labels = np.load(fh, allow_pickle=False)
                mat = np.load(fh, allow_pickle=False)
                if mat.dtype != np.float16 or mat.shape != (len(ids), self.dim) or len(labels) != len(ids):
                    raise ValueError("vectors do not match the ids")
                if fh.read(1):
                    raise ValueError("trailing data")
                return ids, [(labels.astype(np.int64), mat.astype(np.float32))], None
            if man.kind != IVF:
                raise ValueError(f"unknown index kind {man.kind!r}")
            faiss = _faiss()

            size = os.fstat(fh.fileno()).st_size
            ivf = faiss.read_index(faiss.PyCallbackIOReader(fh.read))
            if fh.tell() != size:
                raise ValueError("trailing data")
        if not isinstance(ivf, faiss.IndexIVFScalarQuantizer) or ivf.d != self.dim or ivf.ntotal != len(ids):
            raise ValueError("the quantised index does not match the ids")
        ivf.nprobe = NPROBE
        return ids, [], ivf

    def sync(self, library: object, model_pk: int) -> tuple[int, int]:
        """Make the index agree with SQLite; returns (added, removed)."""
        from vsearch.store.library import Library

        assert isinstance(library, Library)
        gen = library.generation(model_pk)
        if gen == self.generation and self._loaded:
            return 0, 0
        truth = np.sort(library.vector_ids(model_pk))
        with self._lock:
            have = self._ids
        if self._ivf is not None and len(truth) <= BRUTE_MAX:
            self.clear()  # shrank below BRUTE_MAX: back to exact search
            have = self._ids
        elif (
            self._ivf is not None and not library.readonly and len(truth) > RETRAIN_GROWTH * self._trained_on
        ):
            # lists trained on far fewer vectors grow long (slower scans): re-train on what is there now
            log.store.info(
                "re-training the quantised index (%d vectors, trained on %d)", len(truth), self._trained_on
            )
            self.clear()
            have = self._ids
        missing = np.setdiff1d(truth, have, assume_unique=True)
        stale = np.setdiff1d(have, truth, assume_unique=True)
        if len(stale):
            self.delete(stale)
        if len(have) == 0 and len(missing) > BRUTE_MAX:
            self._build(library, model_pk, missing)
        else:
            for ids, vecs in library.iter_vectors(
                model_pk, self.dim, ids=missing if len(missing) < len(truth) else None
            ):
                self.add(ids, vecs)
        with self._lock:
            self._loaded = True
            self.generation = gen
            if len(missing) or len(stale):
                self.dirty = True
        return len(missing), len(stale)

    def _build(self, library: object, model_pk: int, ids: np.ndarray) -> None:
        """Build the quantised index straight from SQLite: train on a random sample, then stream all."""
        n = len(ids)
        want = min(n, nlist_for(n) * TRAIN_PER_LIST)
        rng = np.random.default_rng(0)
        pick = np.sort(rng.choice(ids, size=want, replace=False))
        sample = np.zeros((want, self.dim), dtype=np.float32)
        filled = 0
        for _, vecs in library.iter_vectors(model_pk, self.dim, ids=pick):  # type: ignore[attr-defined]
            sample[filled : filled + len(vecs)] = vecs
            filled += len(vecs)
        ivf = self._train(sample[:filled], n)
        del sample
        with self._lock:
            self._chunks, self._matrix = [], None
            self._ivf = ivf
        for chunk_ids, vecs in library.iter_vectors(model_pk, self.dim):  # type: ignore[attr-defined]
            self.add(chunk_ids, vecs)
