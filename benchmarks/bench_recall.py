"""Recall@10 of the HNSW index (vsearch/store/ann.py) against brute force, with text-like queries.

Usage::

    python benchmarks/bench_recall.py --synthetic 100000            # synthetic frames with CLIP's gap
    python benchmarks/bench_recall.py --real DIR ground_truth.json   # real starter vectors (--build first)
    python benchmarks/bench_recall.py --synthetic 100000 --ef 32 64 128 256 --plain   # curves

Synthetic set: frames of videos (1000 frames each, bench_search's clustered random walks over 200
topics, per-video look), pushed into an image "cone" (a shared direction, as CLIP's image
embeddings share one: frame-frame cosine ~0.5), and text-like queries: a topic present in the
library plus a shared text direction plus noise, so that a query's cosine to its best frame is
~0.3 and to a random frame ~0.15, as CLIP text sits from CLIP images (the modality gap). Frames
are inserted video after video, as the indexer adds them.

Real set: the stored vectors of an indexed library (``--build`` indexes the dev set videos beside
the ground truth densely: sampling "exact", interval 0.2 s, no near-duplicate skipping), queried
with every ground-truth query and segment caption encoded by the library's model.

Reported per setting: frame recall@10 (top-10 frames against brute force), video recall@10 (the
10 best videos by their best frame), and the index search's p50/p95 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from vsearch.store import ann as annmod  # noqa: E402

FRAMES_PER_VIDEO = 1000


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def gap_directions(dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions shared by all images and by all texts (cosine 0.3 between them)."""
    rng = np.random.default_rng(77)
    a, b = rng.standard_normal((2, dim)).astype(np.float32)
    u_img = a / np.linalg.norm(a)
    b -= (b @ u_img) * u_img
    u_txt = 0.3 * u_img + np.sqrt(1 - 0.09) * b / np.linalg.norm(b)
    return u_img, u_txt.astype(np.float32)


def synthetic(n: int, nq: int, cone: float = 1.0, text: float = 1.6, noise: float = 1.3):
    """(frame vectors, video of each frame, queries): see the module docstring."""
    from bench_search import DIM, centres, library_topics, video_vectors

    cen = centres()
    u_img, u_txt = gap_directions(DIM)
    nvid = n // FRAMES_PER_VIDEO
    xs = []
    for v in range(1, nvid + 1):
        f = video_vectors(v, FRAMES_PER_VIDEO, cen) + cone * u_img
        xs.append(f / np.linalg.norm(f, axis=1, keepdims=True))
    x = np.concatenate(xs).astype(np.float16).astype(np.float32)  # as SQLite stores them
    video = np.repeat(np.arange(1, nvid + 1), FRAMES_PER_VIDEO)
    rng = np.random.default_rng(99)
    q = cen[rng.choice(library_topics(nvid), nq)] + text * u_txt
    q += rng.standard_normal((nq, DIM)).astype(np.float32) * (noise / np.sqrt(DIM))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return x, video, q.astype(np.float32)


def real(library: str, ground_truth: str, build: bool):
    from vsearch.service import Service

    if build:
        videos = Path(ground_truth).parent / "videos"
        with Service(library, model="starter") as svc:
            svc.update_settings(sampling="exact", interval=0.2, skip_similar=None)
            svc.index([videos])
    svc = Service(library, readonly=True)
    m = svc.search_model()
    assert m is not None, "index something first (--build)"
    ids, vs = [], []
    for i, v in svc.library.iter_vectors(m.id, m.dim):
        ids.append(i)
        vs.append(v)
    ids_a = np.concatenate(ids)
    frames = svc.library.frames(ids_a.tolist())
    video = np.array([frames[int(i)][0] for i in ids_a])
    gt = json.load(open(ground_truth))
    texts = [q["query"] for q in gt["queries"]]
    texts += [s["caption"] for v in gt.get("videos", []) for s in v["segments"]]
    q = svc.embedder(m.name).embed_text(texts).astype(np.float32)
    return np.concatenate(vs), video, q, ids_a


def truth(x: np.ndarray, q: np.ndarray, k: int = 10) -> list[set[int]]:
    """Exact top-k frame rows per query."""
    out = []
    for a in range(0, len(q), 16):
        s = q[a : a + 16] @ x.T
        out += [set(np.argpartition(-row, k)[:k].tolist()) for row in s]
    return out


def measure(idx, video, q, tf, pos, k: int = 10, fetch: int = 200, ef: int | None = None) -> dict:
    """Frame recall@k: share of the exact top-k frames that a search for k returns. Video recall:
    share of the videos holding the exact top-k frames found among a search for `fetch` frames,
    what Searcher fetches before it scores whole videos (so what decides the results)."""
    fr, vr, ms = [], [], []
    for i, qi in enumerate(q):
        t0 = time.perf_counter()
        ids, _ = idx.search(qi, k, ef=ef)
        ms.append((time.perf_counter() - t0) * 1e3)
        fr.append(len(tf[i] & set(pos[ids].tolist())) / k)
        ids, _ = idx.search(qi, fetch, ef=ef)
        want = {int(video[j]) for j in tf[i]}
        vr.append(len(want & {int(video[j]) for j in pos[ids]}) / len(want))
    return {
        "frame_recall": float(np.mean(fr)),
        "video_recall": float(np.mean(vr)),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=int, default=0, help="frames of the synthetic set")
    ap.add_argument("--real", nargs=2, metavar=("LIBRARY", "GROUND_TRUTH"))
    ap.add_argument("--build", action="store_true", help="index the dev set into LIBRARY first")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--ef", type=int, nargs="*", default=[annmod.EF_SEARCH])
    ap.add_argument("--plain", action="store_true", help="also without anchors (plain hnswlib search)")
    ap.add_argument("--shuffled", action="store_true", help="also a graph built in shuffled order")
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    if args.real:
        x, video, q, labels = real(args.real[0], args.real[1], args.build)
        name = f"real starter vectors ({len(x)})"
    else:
        x, video, q = synthetic(args.synthetic or 100_000, args.queries)
        labels = np.arange(1, len(x) + 1, dtype=np.int64)
        name = f"synthetic with the modality gap ({len(x)})"
    s = q @ x.T
    print(
        f"{name}, {len(q)} queries: cosine to the best frame {np.sort(s, axis=1)[:, -1].mean():.3f}, "
        f"to a random frame {s.mean():.3f}; frame-frame {float((x[:2000] @ x[-2000:].T).mean()):.3f}"
    )
    del s
    tf = truth(x, q)
    order = np.argsort(labels)
    pos = np.zeros(int(labels.max()) + 1, dtype=np.int64)
    pos[labels] = np.arange(len(labels))
    results = []
    builds = [("video order", False)] + ([("shuffled", True)] if args.shuffled else [])
    for bname, shuffled in builds:
        with tempfile.TemporaryDirectory() as tmp:
            idx = annmod.AnnIndex(Path(tmp), "bench", x.shape[1])
            idx.threads = os.cpu_count() or 1
            t0 = time.perf_counter()
            ins = np.random.default_rng(5).permutation(len(x)) if shuffled else order
            for a in range(0, len(ins), 4096):
                sel = ins[a : a + 4096]
                idx.add(labels[sel], x[sel])
            build_s = time.perf_counter() - t0
            # candidates' vectors as the library would give them (SQLite's float16 values)
            idx._source = lambda ids: iter([(ids, x[pos[ids]])])
            print(
                f"build ({bname}, M={annmod.M}, ef_construction={annmod.EF_CONSTRUCTION}): "
                f"{build_s:.1f} s, {len(x) / build_s:.0f} vectors/s [{_load()}]"
            )
            saved = annmod.ANCHORS
            for plain in [False, True] if args.plain else [False]:
                annmod.ANCHORS = 0 if plain else saved
                for ef in args.ef:
                    r = measure(idx, video, q, tf, pos, ef=ef)
                    label = "plain hnswlib" if plain else f"anchors {saved}x{annmod.ANCHOR_K}"
                    print(
                        f"  {label}, ef={ef}: frame recall@10 {r['frame_recall']:.3f}, video recall@10 "
                        f"{r['video_recall']:.3f}, search p50 {r['p50_ms']:.2f} / p95 {r['p95_ms']:.2f} ms [{_load()}]"
                    )
                    results.append(
                        {"set": name, "build": bname, "build_s": build_s, "plain": plain, "ef": ef, **r}
                    )
            annmod.ANCHORS = saved
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
