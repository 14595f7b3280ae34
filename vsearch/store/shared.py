"""The shared dataset: LanceDB tables on shared storage that the cluster writes and desktops read.

(Facility mode, docs/CLUSTER.md. It lives in the store layer with the rest of the storage access;
lancedb is imported only when a shared library is opened.)

Layout under the dataset URI (a folder on a shared filesystem, or an object-store URI):

- ``videos``: one row per file as the cluster saw it (path, size, mtime, probe results,
  status "ok" or "failed", error). Key: ``video_id``, a hash of the path, so every run and every
  retried task names a file the same way.
- ``models``: one row per embedding model (``model_id`` string as the Embedder reports it, the
  name it was loaded by, dim, its frames table, state building / active / retired), the same
  identity rules as the local library's models table: vectors of different ids are never
  compared, a model switch builds a new table while the old one keeps serving.
- ``coverage``: one row per (video, model): "writing" before that video's frames are added,
  "done" after, with the size and mtime they were computed from. A re-run skips "done" rows
  whose file is unchanged and deletes the frames of "writing" ones before writing them again,
  so a run killed between the two commits leaves no duplicates.
- ``frames_<hash>``: one table per model: video_id, t, model_id, vector (float16 [dim]).
- ``activation``: one row per model: the query bank's activation set (its hub frames as video
  ids and time keys) and typical offset, computed by the driver after a run changed the frames,
  with a fingerprint of the bank's vectors, its beta and the frame count it describes. A desktop's first search
  reads it instead of searching the whole table once per bank sentence (2,644 searches).

One process writes (the cluster driver; ``SharedDataset(readonly=False)``); any number read.
Lance commits are versioned: a reader sees a consistent snapshot and picks up new versions
with ``refresh()``.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vsearch import log
from vsearch.errors import EnvironmentProblem, UserError

#: A frames table gets an ANN index from this many rows; below it LanceDB's exact (flat) scan
#: is fast enough and exact, as the local library is exact below 100k frames.
INDEX_MIN_ROWS = 100_000


def video_key(path: str) -> int:
    """Deterministic int64 id of a file path (the same on every node and every retry)."""
    h = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8).digest()
    return int.from_bytes(h, "big") & 0x7FFF_FFFF_FFFF_FFFF


def table_for(model_id: str) -> str:
    """Name of a model's frames table (model ids hold characters table names may not)."""
    return "frames_" + hashlib.blake2b(model_id.encode("utf-8"), digest_size=6).hexdigest()


@dataclass(frozen=True, slots=True)
class SharedVideo:
    """A row of the ``videos`` table."""

    video_id: int
    path: str
    size: int
    mtime: float
    duration: float | None = None
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    has_audio: bool = False
    status: str = "ok"
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SharedModel:
    """A row of the ``models`` table."""

    model_id: str
    name: str
    dim: int
    table: str
    state: str
    created: float


def _schemas(pa: Any) -> dict[str, Any]:
    return {
        "videos": pa.schema(
            [
                ("video_id", pa.int64()),
                ("path", pa.string()),
                ("size", pa.int64()),
                ("mtime", pa.float64()),
                ("duration", pa.float64()),
                ("fps", pa.float64()),
                ("width", pa.int32()),
                ("height", pa.int32()),
                ("has_audio", pa.bool_()),
                ("status", pa.string()),
                ("error", pa.string()),
            ]
        ),
        "models": pa.schema(
            [
                ("model_id", pa.string()),
                ("name", pa.string()),
                ("dim", pa.int32()),
                ("table", pa.string()),
                ("state", pa.string()),
                ("created", pa.float64()),
            ]
        ),
        "coverage": pa.schema(
            [
                ("key", pa.string()),
                ("video_id", pa.int64()),
                ("model_id", pa.string()),
                ("size", pa.int64()),
                ("mtime", pa.float64()),
                ("frames", pa.int64()),
                ("state", pa.string()),
            ]
        ),
        "activation": pa.schema(
            [
                ("model_id", pa.string()),
                ("bank", pa.string()),
                ("beta", pa.float64()),
                ("frames", pa.int64()),
                ("typical", pa.float64()),
                ("video_id", pa.list_(pa.int64())),
                ("t_key", pa.list_(pa.int64())),
            ]
        ),
    }


@dataclass(frozen=True, slots=True)
class SharedActivation:
    """A model's stored querybank activation (see the ``activation`` table)."""

    bank: str
    beta: float
    frames: int
    typical: float
    hubs: frozenset[tuple[int, int]]


def frames_schema(pa: Any, dim: int) -> Any:
    """The Arrow schema of a model's frames table (video, time, model id, *dim*-long vector)."""
    return pa.schema(
        [
            ("video_id", pa.int64()),
            ("t", pa.float64()),
            ("model_id", pa.string()),
            ("vector", pa.list_(pa.float16(), dim)),
        ]
    )


def _in(ids: Iterable[int]) -> str:
    return "video_id IN (" + ", ".join(str(int(i)) for i in ids) + ")"


def _str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


class SharedDataset:
    """The tables of one shared dataset.

    Attributes:
        uri: where it lives (a folder path or an object-store URI).
        readonly: readers never create or change anything.
    """

    def __init__(self, uri: str, *, readonly: bool = True) -> None:
        try:
            import lancedb
            import pyarrow as pa
        except ImportError as e:
            raise EnvironmentProblem(
                f"shared libraries need lancedb ({e}); install it with: pip install 'vsearch[cluster]'"
            ) from None

        self.uri = uri
        self.readonly = readonly
        self._pa = pa
        try:
            self.db = lancedb.connect(uri, session=lancedb.Session(index_cache_size_bytes=index_cache_bytes()))
            names = set(self._table_names())
        except Exception as e:  # noqa: BLE001 - a missing mount or bad URI is the user's to fix
            raise UserError(f"cannot open the shared library {uri}: {e}") from None
        if readonly and "videos" not in names:
            raise UserError(f"{uri} holds no shared library (run `vsearch cluster index` first)")
        self._tables: dict[str, Any] = {}
        if not readonly:
            for name, schema in _schemas(pa).items():
                if name not in names:
                    self.db.create_table(name, schema=schema)

    def _table_names(self) -> list[str]:
        res = self.db.table_names(limit=1_000_000) if hasattr(self.db, "table_names") else []
        return list(res)

    def table(self, name: str) -> Any:
        """The LanceDB table *name*, opened once."""
        t = self._tables.get(name)
        if t is None:
            t = self.db.open_table(name)
            self._tables[name] = t
        return t

    def refresh(self) -> None:
        """Let a reader see commits made since it opened (cheap when nothing changed)."""
        for t in self._tables.values():
            t.checkout_latest()

    # -- reads ------------------------------------------------------------------------------
    def _read(self, name: str, columns: Sequence[str] | None = None, where: str | None = None) -> Any:
        ds = self.table(name).to_lance()
        return ds.to_table(columns=list(columns) if columns else None, filter=where)

    def videos(self, ids: Iterable[int] | None = None) -> dict[int, SharedVideo]:
        """The videos table's rows (of *ids*, or all), by video id."""
        ids = list(ids) if ids is not None else None
        if ids is not None and not ids:
            return {}
        tb = self._read("videos", where=_in(ids) if ids is not None else None)
        out = {}
        for r in tb.to_pylist():
            out[r["video_id"]] = SharedVideo(**r)
        return out

    def models(self) -> list[SharedModel]:
        """Every model row, oldest first."""
        rows = [SharedModel(**r) for r in self._read("models").to_pylist()]
        rows.sort(key=lambda m: m.created)
        return rows

    def model(self, model_id: str) -> SharedModel | None:
        """The row of *model_id*, or None."""
        for m in self.models():
            if m.model_id == model_id:
                return m
        return None

    def active_model(self) -> SharedModel | None:
        """The model that answers searches: the active one, else the newest that has vectors."""
        models = self.models()
        for m in reversed(models):
            if m.state == "active":
                return m
        for m in reversed(models):
            if self.frame_count(m) > 0:
                return m
        return None

    def coverage(self, model_id: str) -> dict[int, tuple[str, int, float, int]]:
        """video_id -> (state, size, mtime, frames) for one model."""
        tb = self._read("coverage", where=f"model_id = {_str(model_id)}")
        return {
            r["video_id"]: (r["state"], r["size"], r["mtime"], r["frames"]) for r in tb.to_pylist()
        }

    def frames_table(self, model: SharedModel) -> Any:
        """The frames table of *model*."""
        return self.table(model.table)

    def frame_count(self, model: SharedModel, video_id: int | None = None) -> int:
        """Frames of *model* (of one video, when given); 0 before its table exists."""
        if model.table not in self._table_names():
            return 0
        t = self.frames_table(model)
        return int(t.count_rows(f"video_id = {int(video_id)}" if video_id is not None else None))

    def video_vectors(
        self, model: SharedModel, ids: Sequence[int], between: tuple[float, float] | None = None
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """video_id -> (times float64 [N], vectors float16 [N, dim], as stored) in time order, one read for all."""
        where = _in(ids)
        if between is not None:
            where += f" AND t >= {float(between[0])!r} AND t <= {float(between[1])!r}"
        tb = self._read(model.table, ["video_id", "t", "vector"], where)
        return split_vectors(tb, model.dim)

    def activation(self, model: SharedModel) -> SharedActivation | None:
        """The stored activation of *model* (None: none yet, or a dataset from before the table)."""
        if "activation" not in self._table_names():
            return None
        rows = self._read("activation", where=f"model_id = {_str(model.model_id)}").to_pylist()
        if not rows:
            return None
        r = rows[0]
        hubs = frozenset(zip((int(v) for v in r["video_id"]), (int(t) for t in r["t_key"]), strict=True))
        return SharedActivation(str(r["bank"]), float(r["beta"]), int(r["frames"]), float(r["typical"]), hubs)

    # -- writes (the cluster driver only) ---------------------------------------------------
    def put_activation(self, model: SharedModel, act: SharedActivation) -> None:
        """Store (replace) the activation of *model*."""
        self._writable()
        hubs = sorted(act.hubs)
        row = {
            "model_id": model.model_id, "bank": act.bank, "beta": act.beta, "frames": act.frames,
            "typical": act.typical, "video_id": [v for v, _ in hubs], "t_key": [t for _, t in hubs],
        }
        self._upsert("activation", "model_id", [row])

    def _writable(self) -> None:
        if self.readonly:
            raise UserError("the shared library is open read-only")

    def _upsert(self, name: str, key: str, rows: list[dict[str, object]]) -> None:
        if not rows:
            return
        tb = self._pa.Table.from_pylist(rows, schema=self.table(name).schema)
        self.table(name).merge_insert(key).when_matched_update_all().when_not_matched_insert_all().execute(tb)

    def ensure_model(self, model_id: str, name: str, dim: int) -> SharedModel:
        """The models row (created "building" with its empty frames table when new)."""
        self._writable()
        m = self.model(model_id)
        if m is not None:
            if m.dim != dim:
                raise UserError(f"model {model_id} was stored with dim {m.dim}, the embedder gives {dim}")
            return m
        m = SharedModel(model_id, name, dim, table_for(model_id), "building", time.time())
        if m.table not in self._table_names():
            self.db.create_table(m.table, schema=frames_schema(self._pa, dim))
        self._upsert("models", "model_id", [_asdict(m)])
        log.store.info("shared library: new model %s (%s, dim %d)", model_id, name, dim)
        return m

    def activate(self, model: SharedModel) -> None:
        """Make *model* the one that answers searches; the previously active one is retired."""
        self._writable()
        rows = []
        for m in self.models():
            state = "active" if m.model_id == model.model_id else ("retired" if m.state == "active" else m.state)
            if state != m.state:
                rows.append({**_asdict(m), "state": state})
        self._upsert("models", "model_id", rows)

    def put_videos(self, videos: Sequence[SharedVideo]) -> None:
        """Insert or replace video rows (keyed by video_id)."""
        self._writable()
        self._upsert("videos", "video_id", [_asdict(v) for v in videos])

    def mark(self, model: SharedModel, rows: Sequence[tuple[int, int, float, int]], state: str) -> None:
        """Coverage rows (video_id, size, mtime, frames) for *model* set to *state*."""
        self._writable()
        self._upsert(
            "coverage",
            "key",
            [
                {
                    "key": f"{vid}:{model.model_id}",
                    "video_id": vid,
                    "model_id": model.model_id,
                    "size": size,
                    "mtime": mtime,
                    "frames": frames,
                    "state": state,
                }
                for vid, size, mtime, frames in rows
            ],
        )

    def delete_frames(self, model: SharedModel, ids: Sequence[int]) -> None:
        """Delete every frame of the videos *ids* from *model*'s table."""
        self._writable()
        if ids:
            self.frames_table(model).delete(_in(ids))

    def add_frames(self, model: SharedModel, video_ids: np.ndarray, times: np.ndarray, vectors: np.ndarray) -> None:
        """Append frames (vectors stored as float16, like the local library)."""
        self._writable()
        pa = self._pa
        n = len(times)
        if n == 0:
            return
        vec = np.ascontiguousarray(vectors, dtype=np.float16).reshape(-1)
        tb = pa.table(
            {
                "video_id": pa.array(np.asarray(video_ids, dtype=np.int64)),
                "t": pa.array(np.asarray(times, dtype=np.float64)),
                "model_id": pa.array([model.model_id] * n, pa.string()),
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(vec, pa.float16()), model.dim),
            },
            schema=frames_schema(pa, model.dim),
        )
        self.frames_table(model).add(tb)

    def remove_videos(self, ids: Sequence[int]) -> None:
        """Forget files that are gone: their frames in every model, coverage and rows."""
        self._writable()
        if not ids:
            return
        names = set(self._table_names())
        for m in self.models():
            if m.table in names:
                self.frames_table(m).delete(_in(ids))
        self.table("coverage").delete(_in(ids))
        self.table("videos").delete(_in(ids))

    def update_index(self, model: SharedModel, min_rows: int = INDEX_MIN_ROWS) -> str:
        """Build the model's ANN index once it is large enough, else fold new rows into it.

        Returns what was done: "none" (too small: searches scan exactly), "built", "updated" or
        "current". Rows added after the last update are still found (LanceDB scans unindexed
        fragments exactly and merges them with the index's answer).
        """
        self._writable()
        t = self.frames_table(model)
        n = t.count_rows()
        if not _has_vector_index(t):
            if n < min_rows:
                return "none"
            from lancedb.index import IvfHnswSq

            t0 = time.perf_counter()
            t.create_index("vector", config=IvfHnswSq(distance_type="dot"))
            try:
                t.create_scalar_index("video_id", index_type="BTREE")
            except Exception as e:  # noqa: BLE001 - an optimisation only
                log.store.warning("shared library: no video_id index (%s)", e)
            log.store.info("shared library: ANN index over %d frames in %.1f s", n, time.perf_counter() - t0)
            return "built"
        stats = t.index_stats(_vector_index_name(t))
        if stats is not None and stats.num_unindexed_rows == 0:
            return "current"
        t.optimize()
        return "updated"


def index_cache_bytes() -> int:
    """How much of a vector index LanceDB may keep in memory: half of this machine's RAM.

    IVF_HNSW_SQ reads its partitions through this cache; one that cannot hold the index re-reads
    it for every query. At 10M x 512-d (a 7.5 GB index) LanceDB's default cache made each search
    read 1.9-2.6 GiB and take 4-6 s; with room for the whole index the first search loads it
    (13 s, 5.7 GiB) and later ones take 40 ms (docs/PERFORMANCE.md, "Facility mode"). Memory is
    used only as far as a searched index needs it.
    """
    try:
        ram = int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        ram = 8 * 2**30
    return max(2**30, ram // 2)


def _has_vector_index(t: Any) -> bool:
    return _vector_index_name(t) is not None


def _vector_index_name(t: Any) -> str | None:
    for ix in t.list_indices():
        if list(ix.columns) == ["vector"]:
            return str(ix.name)
    return None


def _asdict(obj: Any) -> dict[str, object]:
    return {f: getattr(obj, f) for f in obj.__slots__}


def frame_columns(tb: Any, dim: int, dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An Arrow table (video_id, t, vector) -> (video ids int64, times float64, vectors [N, dim] as *dtype*).

    float16 is what is stored (no conversion); float32 for matrix products (numpy's float16
    products are slow).
    """
    vids = np.asarray(tb.column("video_id").to_numpy(), dtype=np.int64)
    times = np.asarray(tb.column("t").to_numpy(), dtype=np.float64)
    vec = tb.column("vector").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    return vids, times, np.asarray(vec).reshape(-1, dim).astype(dtype, copy=False)


def split_vectors(tb: Any, dim: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """An Arrow table (video_id, t, vector) -> video_id -> (times, float16 vectors as stored), time order.

    float16: a search reads ahead more videos than it scores, and converting all of them to
    float32 took half of a shared search's vector read (32k frames: 34 ms of 79).
    """
    if tb.num_rows == 0:
        return {}
    vids, times, vecs = frame_columns(tb, dim, np.float16)
    order = np.lexsort((times, vids))
    vids, times, vecs = vids[order], times[order], vecs[order]
    out = {}
    cuts = np.flatnonzero(np.diff(vids)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(vids)], strict=True):
        out[int(vids[lo])] = (times[lo:hi], vecs[lo:hi])
    return out
