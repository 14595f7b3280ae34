"""Search latency, HNSW recall, memory, build / add / open time on synthetic libraries of 10k / 100k / 1M frames.

Usage::

    python benchmarks/bench_search.py                       # 10k and 100k
    python benchmarks/bench_search.py --sizes 1000000 --curve-size 1000000   # 1M + ef curve (~7 GB on disk)
    python benchmarks/bench_search.py --text-models         # text-encoding time of ViT-B-32 and starter

Libraries are built once under benchmarks/out/search_<N>/ (git-ignored) straight into the
schema of vsearch/store/migrations.py with big executemany transactions. The HNSW index is then
built from SQLite by AnnIndex.sync (as a library whose cache was lost: the "first build" time)
and saved with the model's generation, so Service loads it without rebuilding; a cache of an
older format is rebuilt the same way (the SQLite part is kept). Each size also times adding one
hour of footage (3600 vectors, exact 1 fps) to the loaded index and loading the saved index.

Vectors are 512-d, clustered like real footage: 200 "topic" centres; each video (1000 frames at
1 s) is a random walk that hops between 1-4 topics. Queries are centres of topics present in the
library plus noise.
Service.search is timed with a text encoder that runs the tiny-random open_clip text tower and
maps the text to a query vector, so the latency is search cost plus a small text cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).resolve().parent / "out"
DIM = 512
TOPICS = 200
FRAMES_PER_VIDEO = 1000
MODEL_ID = "bench-synthetic-512"
MODEL_NAME = "bench-synthetic"
P95_TARGETS = (100.0, 50.0)  # ms at 1M frames: issue 2, issue 8
RECALL_TARGET = 0.95
RSS_TARGET_MB = 2765  # 2.7 GB (issue 14)


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def centres() -> np.ndarray:
    rng = np.random.default_rng(1234)
    c = rng.standard_normal((TOPICS, DIM)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def video_topics(rng: np.random.Generator) -> np.ndarray:
    """The 1-4 topics of a video (the first draws of the video's own generator)."""
    return rng.choice(TOPICS, size=rng.integers(1, 5), replace=False)


def library_topics(nvid: int) -> np.ndarray:
    """Topics that occur in a library of *nvid* videos (users search for what they have)."""
    return np.unique(np.concatenate([video_topics(np.random.default_rng(v)) for v in range(1, nvid + 1)]))


def video_vectors(vid: int, n: int, cen: np.ndarray) -> np.ndarray:
    """One video's frames: a smooth random walk around 1-4 topic centres (scenes)."""
    rng = np.random.default_rng(vid)
    topics = video_topics(rng)
    cuts = (
        np.sort(rng.choice(np.arange(1, n), size=len(topics) - 1, replace=False)) if len(topics) > 1 else []
    )
    scene = np.zeros(n, dtype=np.int64)
    for c in cuts:
        scene[c:] += 1
    r = 1.0 / np.sqrt(DIM)  # per-dimension scale of a unit-norm offset
    walk = np.cumsum(
        rng.standard_normal((n, DIM)).astype(np.float32) * (0.5 * r / np.sqrt(n)), axis=0
    )  # drift ~0.5
    v = (
        cen[topics[scene]] + walk + rng.standard_normal((n, DIM)).astype(np.float32) * (0.3 * r)
    )  # frame noise ~0.3
    v += rng.standard_normal(DIM).astype(np.float32) * (0.5 * r)  # per-video "look" ~0.5
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def query_vectors(n: int, cen: np.ndarray, nvid: int, seed: int = 99, noise: float = 0.7) -> np.ndarray:
    """Queries near topic centres; noise 0.7: cosine ~0.8 to their best frames, 2.0 (far, like
    real text queries): ~0.4."""
    rng = np.random.default_rng(seed)
    q = cen[rng.choice(library_topics(nvid), n)] + rng.standard_normal((n, DIM)).astype(np.float32) * (
        noise / np.sqrt(DIM)
    )
    return q / np.linalg.norm(q, axis=1, keepdims=True)


class SyntheticTextEmbedder:
    """Runs a real text tower (cost of tokenizer + transformer; by default the tiny-random one,
    ``--text-model ViT-B-32`` for CLIP's, as its whole model is loaded like the app does), then
    maps the text to a query vector near one of the topic centres."""

    model_id = MODEL_ID
    dim = DIM
    image_size = 224
    device = "cpu"

    def __init__(
        self, nvid: int, text_model: str = "tiny-random", precision: str | None = None, torch_text: bool = False
    ) -> None:
        from vsearch.embed.arch import TINY_ARCH
        from vsearch.embed.clip import ClipEmbedder
        from vsearch.embed.registry import load_embedder

        self.topics = library_topics(nvid)
        # torch_text: an open_clip tower encodes in torch (as before vsearch/embed/clip_text.py),
        # else in numpy from the tower file export_text_tower() wrote
        cache = None if torch_text else True
        if text_model == "tiny-random":
            self.tiny = ClipEmbedder(TINY_ARCH, None, device="cpu", precision=precision, text_cache=cache)
        elif text_model == "starter":
            self.tiny = load_embedder(text_model, models_dir=OUT / "models", device="cpu")
        else:  # an open_clip architecture with random weights (speed does not depend on them)
            self.tiny = ClipEmbedder(text_model, None, device="cpu", precision=precision, text_cache=cache)
        self.tiny.embed_text(["warm up"])
        self.text_in_torch = getattr(self.tiny, "text_in_torch", False)  # as the app's embedder says
        self.cen = centres()

    def embed_images(self, images: list) -> np.ndarray:  # pragma: no cover - search only
        raise NotImplementedError

    def release(self) -> None:
        self.tiny.release()

    def embed_text(self, texts: list[str]) -> np.ndarray:
        self.tiny.embed_text(texts)
        out = []
        for t in texts:
            h = zlib.crc32(t.encode())
            rng = np.random.default_rng(h)
            v = self.cen[self.topics[h % len(self.topics)]] + rng.standard_normal(DIM).astype(np.float32) * (
                0.7 / np.sqrt(DIM)
            )
            out.append(v / np.linalg.norm(v))
        return np.asarray(out, dtype=np.float32)


def build(n: int) -> Path:
    """Build (once) a library with *n* frames; returns its folder."""
    from vsearch.store.library import Library, pack

    folder = OUT / f"search_{n}"
    done = folder / "built.json"
    if done.exists():
        ensure_ann(folder)
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    lib = Library(folder)
    cen = centres()
    nvid = max(1, n // FRAMES_PER_VIDEO)
    c = lib._sql.conn  # a benchmark fills the tables directly, through the store's connection
    c.execute("PRAGMA synchronous = OFF")
    now = time.time()
    with lib._sql.transaction() as tx:
        tx.execute("INSERT INTO roots(path, added) VALUES (?, ?)", ("/bench/videos", now))
        root = tx.execute("SELECT id FROM roots").fetchone()[0]
        tx.execute(
            "INSERT INTO models(model_id, name, dim, state, generation, created, activated) "
            "VALUES (?, ?, ?, 'active', 1, ?, ?)",
            (MODEL_ID, MODEL_NAME, DIM, now, now),
        )
        model_pk = tx.execute("SELECT id FROM models WHERE model_id = ?", (MODEL_ID,)).fetchone()[0]
    fid = 0
    for v0 in range(0, nvid, 20):
        with lib._sql.transaction() as tx:
            for vid in range(v0 + 1, min(nvid, v0 + 20) + 1):
                per = FRAMES_PER_VIDEO if nvid > 1 else n
                tx.execute(
                    "INSERT INTO videos(id, root_id, path, size, mtime, duration, fps, width, height, codec, "
                    "has_audio, status, added) VALUES (?, ?, ?, 1000, 0, ?, 25, 1920, 1080, 'h264', 0, 'indexed', ?)",
                    (vid, root, f"/bench/videos/v{vid:05d}.mp4", float(per), now),
                )
                vecs = video_vectors(vid, per, cen).astype(np.float16).astype(np.float32)
                ids = np.arange(fid + 1, fid + per + 1, dtype=np.int64)
                fid += per
                tx.executemany(
                    "INSERT INTO frames(id, video_id, t) VALUES (?, ?, ?)",
                    [(int(i), vid, float(t)) for i, t in zip(ids, range(per), strict=True)],
                )
                tx.executemany(
                    "INSERT INTO vectors(frame_id, model, vec) VALUES (?, ?, ?)",
                    [(int(i), model_pk, b) for i, b in zip(ids, pack(vecs), strict=True)],
                )
                tx.execute(
                    "INSERT INTO video_models(video_id, model, frames, done) VALUES (?, ?, ?, ?)",
                    (vid, model_pk, per, now),
                )
        print(f"  built {fid} frames ({time.perf_counter() - t0:.0f} s)  [{_load()}]", flush=True)
    lib.close()
    ensure_ann(folder)
    secs = time.perf_counter() - t0
    done.write_text(json.dumps({"frames": fid, "build_s": secs}))
    print(f"built library of {fid} frames in {secs:.0f} s  [{_load()}]")
    return folder


def ensure_ann(folder: Path) -> None:
    """(Re)build the ANN cache from SQLite unless a current one is saved."""
    from vsearch.store.ann import AnnIndex
    from vsearch.store.library import Library

    lib = Library(folder)
    model = lib.models()[0]
    ann = AnnIndex(folder / "ann", MODEL_ID, DIM)
    if ann.load() is not None and ann.generation == lib.generation(model.id):
        lib.close()
        return
    t0 = time.perf_counter()
    ann.invalidate()
    ann.sync(lib, model.id)
    t_build = time.perf_counter() - t0
    ann.save(lib.generation(model.id))
    lib.close()
    print(
        f"  HNSW index (M={ann_M()}, ef_construction={ann_efc()}) built from SQLite in {t_build:.0f} s "
        f"({ann.count / max(t_build, 1e-9):.0f} vectors/s, {os.cpu_count()} threads), saved in "
        f"{time.perf_counter() - t0 - t_build:.0f} s  [{_load()}]",
        flush=True,
    )


def ann_M() -> int:  # noqa: N802 - hnswlib's name
    from vsearch.store import ann

    return ann.M


def ann_efc() -> int:
    from vsearch.store import ann

    return ann.EF_CONSTRUCTION


def add_and_open(folder: Path) -> dict:
    """Open time of the saved index (load + checks), and adding one hour (3600 vectors) to it."""
    from vsearch.store.ann import AnnIndex
    from vsearch.store.library import Library

    lib = Library(folder, readonly=True)
    model = lib.models()[0]
    ann = AnnIndex(folder / "ann", MODEL_ID, DIM)
    t0 = time.perf_counter()
    assert ann.load() is not None
    t_load = time.perf_counter() - t0
    ann.sync(lib, model.id)
    t_open = time.perf_counter() - t0
    nvid = max(1, json.loads((folder / "built.json").read_text())["frames"] // FRAMES_PER_VIDEO)
    hour = np.concatenate([video_vectors(nvid + 1 + i, 600, centres()) for i in range(6)])
    first = int(ann._ids[-1]) + 1
    t0 = time.perf_counter()
    for a in range(0, len(hour), 32):  # per written batch, as the indexer adds them
        ann.add(np.arange(first + a, first + min(a + 32, len(hour))), hour[a : a + 32])
    t_add = time.perf_counter() - t0
    lib.close()
    return {"load_s": t_load, "open_s": t_open, "add_hour_s": t_add}


def stored_vectors(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    from vsearch.store.library import Library

    lib = Library(folder, readonly=True)
    ids, vecs = [], []
    for i, v in lib.iter_vectors(1, DIM):
        ids.append(i)
        vecs.append(v.astype(np.float16))
    lib.close()
    return np.concatenate(ids), np.concatenate(vecs)


def brute_topk(vecs16: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k ids by inner product, chunked so a 1M x 512 matrix never goes float32 at once."""
    best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(q), 0), dtype=np.int64)
    for a in range(0, len(vecs16), 200_000):
        s = q @ vecs16[a : a + 200_000].astype(np.float32).T
        part = np.argpartition(-s, k, axis=1)[:, :k]
        best_s = np.concatenate([best_s, np.take_along_axis(s, part, 1)], axis=1)
        best_i = np.concatenate([best_i, ids[a : a + 200_000][part]], axis=1)
        keep = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, keep, 1), np.take_along_axis(best_i, keep, 1)
    return best_i


def truth_for(folder: Path, nq: int = 200, k: int = 10, noise: float = 0.7) -> tuple[np.ndarray, np.ndarray]:
    """(queries, exact top-k frame ids), cached beside the library (reading 1M vectors takes a while)."""
    cache = folder / f"truth_{nq}_{k}_{noise:g}.npz"
    nvid = max(1, json.loads((folder / "built.json").read_text())["frames"] // FRAMES_PER_VIDEO)
    q = query_vectors(nq, centres(), nvid, noise=noise)
    if cache.exists():
        return q, np.load(cache)["truth"]
    ids, vecs = stored_vectors(folder)
    truth = brute_topk(vecs, ids, q, k)
    np.savez(cache, truth=truth)
    return q, truth


def recall_curve(
    folder: Path, efs: list[int], nq: int = 200, k: int = 10, fetch: int = 200, noise: float = 0.7
) -> list[tuple[int, float, float, float]]:
    """(ef, frame recall@k, video recall, search(k=10) p50 ms) per ef of the HNSW index as searched.

    Frame recall@k: share of the exact top-k frames that the index returns. Video recall: share of
    the videos holding the exact top-k frames that appear among the index's top-*fetch* frames,
    which is what Searcher fetches before it scores whole videos (so what decides the results).
    """
    from vsearch.store.ann import AnnIndex
    from vsearch.store.library import Library

    q, truth = truth_for(folder, nq, k, noise)
    lib = Library(folder, readonly=True)
    ann = AnnIndex(folder / "ann", MODEL_ID, DIM)
    assert ann.load() is not None
    ann.sync(lib, lib.models()[0].id)  # binds the library: candidates are re-scored from SQLite
    out = []
    for ef in efs:
        vrec = []
        for qi, tr in zip(q, truth, strict=True):
            labels, _ = ann.search(qi, fetch, ef=ef)
            want = {(int(i) - 1) // FRAMES_PER_VIDEO for i in tr}
            got = {(int(i) - 1) // FRAMES_PER_VIDEO for i in labels}
            vrec.append(len(want & got) / len(want))
        got, times = [], []
        for qi in q:
            t = time.perf_counter()
            labels, _ = ann.search(qi, k, ef=ef)
            times.append(time.perf_counter() - t)
            got.append(labels)
        rec = float(np.mean([len(set(g) & set(tr)) / k for g, tr in zip(got, truth, strict=True)]))
        out.append((ef, rec, float(np.mean(vrec)), float(np.median(times) * 1000)))
    lib.close()
    return out


def searcher_frame_recall(folder: Path, nq: int = 200, k: int = 10, noise: float = 0.7) -> tuple[float, float]:
    """(frame recall@k, video recall) of what a search scores: the frames of the videos it reads.

    The Searcher scores every frame of each candidate video exactly (the moment builder reads
    them all), so the frames a user's results can come from are the exact top-k over the first
    FLOOR_VIDEOS candidate videos (those every search reads); video recall is the share of the
    videos holding the exact top-k frames among those.
    """
    from vsearch.query.search import FLOOR_VIDEOS, Searcher, SearchOptions
    from vsearch.store.ann import AnnIndex
    from vsearch.store.library import Library

    q, truth = truth_for(folder, nq, k, noise)
    lib = Library(folder, readonly=True)
    model = lib.models()[0]
    ann = AnnIndex(folder / "ann", MODEL_ID, DIM)
    ann.load()
    ann.sync(lib, model.id)
    searcher = Searcher(lib, model, ann, embedder=None)  # type: ignore[arg-type]  # vectors only
    frec, vrec = [], []
    for qi, tr in zip(q, truth, strict=True):
        ids, sims, videos = [], [], []
        for row, _, _ in searcher._candidates(qi, SearchOptions(k=k)):
            fids, _, vecs = lib.video_vectors(row.id, model.id, DIM)
            ids.append(fids)
            sims.append(vecs @ qi)
            videos.append(row.id)
            if len(videos) >= FLOOR_VIDEOS:
                break
        all_ids, all_sims = np.concatenate(ids), np.concatenate(sims)
        top = set(all_ids[np.argsort(-all_sims, kind="stable")[:k]].tolist())
        frec.append(len(top & {int(i) for i in tr}) / k)
        want = {(int(i) - 1) // FRAMES_PER_VIDEO + 1 for i in tr}
        vrec.append(len(want & set(videos)) / len(want))
    lib.close()
    return float(np.mean(frec)), float(np.mean(vrec))


QUERIES = [
    "a dog running on the beach",
    "red car at night",
    "people dancing at a wedding",
    "close-up of a cat",
    "snow on mountains",
    "a man giving a talk on stage",
    "kids playing football",
    "sunset over the sea",
    "cooking pasta in a kitchen",
    "fireworks",
]


def path_recall(folder: Path, nq: int = 200, k: int = 10) -> float:
    """Frame recall@k of the ANN as Searcher uses it (AnnIndex.search)."""
    from vsearch.store.ann import AnnIndex
    from vsearch.store.library import Library

    q, truth = truth_for(folder, nq, k)
    lib = Library(folder, readonly=True)
    ann = AnnIndex(folder / "ann", MODEL_ID, DIM)
    ann.load()
    ann.sync(lib, lib.models()[0].id)
    got = [ann.search(qi, k)[0] for qi in q]
    lib.close()
    return float(np.mean([len(set(g) & set(tr)) / k for g, tr in zip(got, truth, strict=True)]))


def child(
    folder: str, nq: int, text_model: str = "tiny-random", precision: str | None = None, torch_text: bool = False
) -> None:
    """Run in a fresh process: start-up to first result, warm latency, peak and steady RSS."""
    t0 = time.perf_counter()
    mem = {"python": _rss_mb()}
    from vsearch.service import Service

    mem["import_service"] = _rss_mb()
    svc = Service(folder, model=MODEL_NAME, device="cpu", readonly=True)
    nframes = json.loads((Path(folder) / "built.json").read_text())["frames"]
    svc._embedders[MODEL_NAME] = SyntheticTextEmbedder(
        max(1, nframes // FRAMES_PER_VIDEO), text_model, precision, torch_text
    )
    mem["text_model"] = _rss_mb()
    t_open = time.perf_counter() - t0
    first = svc.search("first query of the session", k=10)
    t_first = time.perf_counter() - t0
    mem["first_search"] = _rss_mb()
    assert first, "no results"
    lat = []
    text_ms = []
    emb = svc._embedders[MODEL_NAME]
    for i in range(nq):
        text = f"{QUERIES[i % len(QUERIES)]} {i}"  # unique text: never served from the query cache
        t = time.perf_counter()
        emb.embed_text([text])
        text_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        svc.search(text, k=10)  # a new text for the Searcher's query cache: encodes again
        lat.append((time.perf_counter() - t) * 1000)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mem["steady"] = _rss_mb()
    print(
        json.dumps(
            {
                "open_s": t_open,
                "first_result_s": t_first,
                "p50_ms": float(np.percentile(lat, 50)),
                "p95_ms": float(np.percentile(lat, 95)),
                "text_p50_ms": float(np.percentile(text_ms, 50)),
                "text_p95_ms": float(np.percentile(text_ms, 95)),
                "text_model": text_model + (f" {precision}" if precision else "") + (" torch" if torch_text else ""),
                "heavy_imported": sorted(m for m in ("torch", "open_clip") if m in sys.modules),
                "peak_rss_mb": rss,
                "steady_rss_mb": mem["steady"],
                "rss_steps_mb": mem,
            }
        )
    )


def _rss_mb() -> float:
    """Current resident set size in MB (Linux /proc; peak where that is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def export_text_tower(text_model: str) -> None:
    """Write an open_clip tower's numpy file (vsearch/embed/clip_text.py) in a process of its own,
    as the first search with a model does, so that the measured process finds it."""
    if text_model == "starter":
        return
    arch = "TINY_ARCH" if text_model == "tiny-random" else repr(text_model)
    code = (
        "from vsearch.embed.arch import TINY_ARCH\n"
        "from vsearch.embed.clip import ClipEmbedder\n"
        f"ClipEmbedder({arch}, None, device='cpu').embed_text(['warm up'])\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def run_child(
    folder: Path, nq: int, text_model: str = "tiny-random", precision: str | None = None, torch_text: bool = False
) -> dict:
    if not torch_text:
        export_text_tower(text_model)
    t0 = time.perf_counter()
    extra = (["--precision", precision] if precision else []) + (["--torch-text"] if torch_text else [])
    res = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            str(folder),
            "--queries",
            str(nq),
            "--text-model",
            text_model,
            *extra,
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    d = json.loads(res.stdout.strip().splitlines()[-1])
    d["process_first_result_s"] = time.perf_counter() - t0
    return d


def reopen_child(folder: str, text_model: str) -> None:
    """In a fresh process: open the library writable (so the activation set may be saved) and time the first search."""
    from vsearch.service import Service

    t0 = time.perf_counter()
    svc = Service(folder, model=MODEL_NAME, device="cpu")
    nframes = json.loads((Path(folder) / "built.json").read_text())["frames"]
    svc._embedders[MODEL_NAME] = SyntheticTextEmbedder(max(1, nframes // FRAMES_PER_VIDEO), text_model)
    t1 = time.perf_counter()
    svc.search("first query of the session", k=10)
    print(json.dumps({"open_s": t1 - t0, "first_search_s": time.perf_counter() - t1}))
    svc.close()


def reopen(folder: Path, text_model: str, runs: int = 3) -> list[dict]:
    """First search after opening, in *runs* fresh processes one after another (the first may save the activation set)."""
    out = []
    for _ in range(runs):
        res = subprocess.run(
            [sys.executable, __file__, "--reopen-child", str(folder), "--text-model", text_model],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )
        out.append(json.loads(res.stdout.strip().splitlines()[-1]))
    return out


def text_models(n: int = 30) -> None:
    from vsearch.embed.clip import ClipEmbedder
    from vsearch.embed.registry import load_embedder

    for label, make in (
        ("ViT-B-32 text tower, numpy (random weights)", lambda: ClipEmbedder("ViT-B-32", None, device="cpu")),
        ("ViT-B-32 text tower, torch auto precision", lambda: ClipEmbedder("ViT-B-32", None, device="cpu", text_cache=None)),
        ("ViT-B-32 text tower, torch fp32", lambda: ClipEmbedder("ViT-B-32", None, device="cpu", precision="fp32", text_cache=None)),
        ("starter", lambda: load_embedder("starter", models_dir=OUT / "models", device="cpu")),
        ("tiny-random", lambda: load_embedder("tiny-random", models_dir=OUT / "models", device="cpu")),
    ):
        try:
            emb = make()
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"text encoding {label}: unavailable ({type(e).__name__}: {e})")
            continue
        emb.embed_text(["warm up"])
        ts = []
        for i in range(n):
            t = time.perf_counter()
            emb.embed_text([f"{QUERIES[i % len(QUERIES)]} {i}"])
            ts.append((time.perf_counter() - t) * 1000)
        print(
            f"text encoding {label:<38} p50 {np.percentile(ts, 50):6.1f} ms  p95 {np.percentile(ts, 95):6.1f} ms  [{_load()}]"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--efs", type=int, nargs="*", default=[32, 64, 128, 256, 512])
    ap.add_argument("--curve-size", type=int, default=0, help="library size for the ef curve (0: none)")
    ap.add_argument("--text-models", action="store_true")
    ap.add_argument(
        "--text-model",
        default="tiny-random",
        help="text tower timed inside each search: tiny-random (default), starter, or an open_clip "
        "architecture such as ViT-B-32 (random weights, loaded whole as the app does)",
    )
    ap.add_argument(
        "--precision", default=None, help="of an open_clip --text-model: auto (default), fp32, bf16"
    )
    ap.add_argument(
        "--torch-text", action="store_true",
        help="an open_clip text tower encodes queries in torch, not numpy (the way before vsearch/embed/clip_text.py)",
    )
    ap.add_argument(
        "--searcher-recall", type=int, nargs="*", default=[],
        help="library sizes: frame and video recall of what a search scores (the candidate videos' frames)",
    )
    ap.add_argument(
        "--reopen", type=int, nargs="*", default=[],
        help="library sizes: the first search after opening, in three fresh processes (writable library)",
    )
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--reopen-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.queries, args.text_model, args.precision, args.torch_text)
        return
    if args.reopen_child:
        reopen_child(args.reopen_child, args.text_model)
        return
    from vsearch.query.search import FLOOR_VIDEOS
    from vsearch.store.ann import EF_SEARCH

    print(f"{os.cpu_count()} CPUs, {_load()}")
    for n in args.sizes:
        folder = build(n)
        d = run_child(folder, args.queries, args.text_model, args.precision, args.torch_text)
        curve = recall_curve(folder, [EF_SEARCH])
        prec = path_recall(folder)
        vrec = f"{curve[0][2]:.3f}"
        ao = add_and_open(folder)
        t2, t8 = P95_TARGETS
        print(
            f"{n:>8} frames: Service.search p50 {d['p50_ms']:.1f} ms, p95 {d['p95_ms']:.1f} ms "
            f"(incl. {d['text_model']} text encoding p50 {d['text_p50_ms']:.1f} / p95 {d['text_p95_ms']:.1f} ms; targets at 1M <= {t2:g} / {t8:g} ms); "
            f"recall@10 {prec:.3f} frames / {vrec} videos (HNSW ef={EF_SEARCH}; "
            f"target >= {RECALL_TARGET}); peak RSS {d['peak_rss_mb']:.0f} MB, steady {d['steady_rss_mb']:.0f} MB "
            f"(target at 1M <= {RSS_TARGET_MB} MB; steps {json.dumps({k: round(v) for k, v in d['rss_steps_mb'].items()})}); "
            f"open {d['open_s']:.2f} s, first result {d['first_result_s']:.2f} s "
            f"in process, {d['process_first_result_s']:.2f} s incl. Python start-up; index load {ao['load_s']:.2f} s, "
            f"load + check against SQLite {ao['open_s']:.2f} s; adding one hour (3600 vectors) {ao['add_hour_s']:.2f} s  [{_load()}]",
            flush=True,
        )
    if args.curve_size:
        folder = build(args.curve_size)
        for noise, what in ((0.7, "near queries, cosine ~0.8"), (2.0, "far queries, cosine ~0.4 like text")):
            print(
                f"ef curve at {args.curve_size} frames, {what} "
                "(HNSW with anchors, k=10, 200 queries, video recall on a 200-frame fetch):"
            )
            for p, rec, vrec, ms in recall_curve(folder, args.efs, noise=noise):
                print(
                    f"  ef={p:<4} frame recall@10 {rec:.3f}  video recall {vrec:.3f}  "
                    f"search(k=10) p50 {ms:.2f} ms  [{_load()}]",
                    flush=True,
                )
            srec, svrec = searcher_frame_recall(folder, noise=noise)
            print(
                f"  as a search scores them (the exact top-10 over the first {FLOOR_VIDEOS} candidate videos' "
                f"frames): frame recall@10 {srec:.3f}, video recall {svrec:.3f}",
                flush=True,
            )
    for n in args.reopen:
        for r in reopen(build(n), args.text_model):
            print(
                f"{n:>8} frames, a fresh process: Service open {r['open_s']:.2f} s, first search "
                f"{r['first_search_s']:.2f} s ({args.text_model})  [{_load()}]",
                flush=True,
            )
    if args.searcher_recall:
        for n in args.searcher_recall:
            folder = build(n)
            for noise in (0.7, 2.0):
                srec, svrec = searcher_frame_recall(folder, noise=noise)
                print(
                    f"{n:>8} frames, query noise {noise}: frame recall@10 {srec:.3f}, video recall {svrec:.3f} "
                    f"(the exact top-10 over the first {FLOOR_VIDEOS} candidate videos' frames)  [{_load()}]",
                    flush=True,
                )
    if args.text_models:
        text_models()


if __name__ == "__main__":
    main()
