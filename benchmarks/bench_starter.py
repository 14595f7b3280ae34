"""Tune and time the starter model: photo retrieval metrics per setting, images/s, dev-set video R@1.

Usage::

    python benchmarks/bench_starter.py tune      # k / templates / synonyms / preprocessing grid
    python benchmarks/bench_starter.py speed     # images/s on 2 threads
    python benchmarks/bench_starter.py devset    # naive frame-level video R@1 on the dev set
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.quality.test_starter import load_photos, retrieval_metrics  # noqa: E402
from vsearch.embed import starter as st  # noqa: E402

TEMPLATE_SETS = {
    "name": ("{}",),
    "photo": ("a photo of a {}.",),
    "multi5": (
        "a photo of a {}.",
        "a picture of a {}.",
        "a close-up photo of a {}.",
        "a blurry photo of a {}.",
        "a video frame showing a {}.",
    ),
    "clip7": (
        "itap of a {}.",
        "a bad photo of the {}.",
        "a origami {}.",
        "a photo of the large {}.",
        "a {} in a video game.",
        "art of the {}.",
        "a photo of the small {}.",
    ),
}


def label_matrix(emb: st.StarterEmbedder, templates, names: str, cache: dict) -> np.ndarray:
    """Label vectors for one (templates, naming) choice; names: name | syn | name+gloss | syn+gloss."""
    key = (templates, names)
    if key in cache:
        return cache[key]
    disk = Path("/tmp/vsearch-starter-tune") / (hashlib.sha1(repr(key).encode()).hexdigest()[:16] + ".npy")
    if disk.exists():
        cache[key] = np.load(disk)
        return cache[key]
    classes = st.load_classes()
    per_class: list[list[str]] = []
    for c in classes:
        forms = [c.name]
        if names.startswith("syn"):
            forms += [s for s in c.synonyms if s.lower() != c.name.lower() and not _latin(s)][:3]
        prompts = [t.format(f) for t in templates for f in forms]
        if names.endswith("gloss"):
            prompts.append(f"a photo of a {c.name}: {c.gloss}.")
        per_class.append(prompts)
    flat = [p for ps in per_class for p in ps]
    t = time.time()
    vecs = emb.embed_text(flat)
    print(f"  embedded {len(flat)} prompts in {time.time() - t:.1f}s", flush=True)
    out = np.zeros((1000, emb.dim), np.float32)
    i = 0
    for c, ps in enumerate(per_class):
        out[c] = vecs[i : i + len(ps)].mean(0)
        i += len(ps)
    cache[key] = st.l2_normalise(out)
    disk.parent.mkdir(exist_ok=True)
    np.save(disk, cache[key])
    return cache[key]


def _latin(s: str) -> bool:
    """WordNet lemmas like 'Tinca tinca' (genus + species) are useless for plain-English queries."""
    w = s.split()
    return len(w) == 2 and w[0][:1].isupper() and w[1].islower() and not w[0].isupper()


def conse(probs: np.ndarray, labels: np.ndarray, k: int, power: float = 1.0) -> np.ndarray:
    p = probs**power
    w = np.zeros_like(p)
    idx = np.argsort(-p, axis=1)[:, :k]
    rows = np.arange(len(p))[:, None]
    w[rows, idx] = p[rows, idx]
    w /= w.sum(1, keepdims=True)
    return st.l2_normalise(w @ labels)


def tune() -> None:
    names, images, captions = load_photos()
    emb = st.StarterEmbedder(device="cpu", threads=2)
    q = emb.embed_text(captions)
    norms = {
        "tf127": (np.array([127.0] * 3, np.float32), np.array([128.0] * 3, np.float32)),
        "imagenet": (
            np.array([0.485, 0.456, 0.406], np.float32) * 255,
            np.array([0.229, 0.224, 0.225], np.float32) * 255,
        ),
    }
    probs = {}
    for nn, (m, s) in norms.items():
        st._MEAN, st._STD = m, s
        probs[nn] = emb.class_probabilities(images)
    cache: dict = {}
    rows = []
    for tname, templates in TEMPLATE_SETS.items():
        for naming in ("name", "syn", "name+gloss", "syn+gloss"):
            if tname != "photo" and naming != "name" or tname == "clip7":
                continue
            labels = label_matrix(emb, templates, naming, cache)
            for nn, P in probs.items():
                for k in (1, 3, 5, 10, 20, 50, 1000):
                    for power in (0.5, 1.0):
                        m = retrieval_metrics(q, conse(P, labels, k, power))
                        rows.append((tname, naming, nn, k, power, m))
    rows.sort(key=lambda r: -(r[5]["mrr"] + r[5]["top5"]))
    print("templates naming norm k power | top1 top5 mrr")
    for r in rows[:40]:
        print(*r[:5], "|", " ".join(f"{r[5][x]:.3f}" for x in ("top1", "top5", "mrr")))
    print("... default-ish rows:")
    for r in rows:
        if r[0] == "photo" and r[1] == "name" and r[2] == "tf127" and r[4] == 1.0:
            print(*r[:5], "|", " ".join(f"{r[5][x]:.3f}" for x in ("top1", "top5", "mrr")))
    json.dump([list(r[:5]) + [r[5]] for r in rows], open("/tmp/starter_tune.json", "w"))


def speed(threads: int = 2, n: int = 64) -> None:
    names, images, captions = load_photos()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (360, 640, 3), dtype=np.uint8) for _ in range(n)]
    emb = st.StarterEmbedder(device="cpu", threads=threads)
    emb.embed_images(frames[:4])
    t = time.perf_counter()
    emb.embed_images(frames)
    dt = time.perf_counter() - t
    print(f"images: {n / dt:.1f} images/s (640x360, {threads} threads, batch {emb.batch_size})")
    emb.crop = "three"
    t = time.perf_counter()
    emb.embed_images(frames)
    print(f"images, crop=three: {n / (time.perf_counter() - t):.1f} images/s")
    emb.embed_text(captions[:2])
    t = time.perf_counter()
    emb.embed_text(captions * 10)
    dt = time.perf_counter() - t
    print(f"text: {len(captions) * 10 / dt:.1f} sentences/s")
    # one search query: as typed (what speech and on-screen text embed) against the query as typed
    # and "a photo of" it in one batch (the templates tried in docs/MODELS.md), fresh strings, interleaved
    from vsearch.embed.base import embed_templated

    pair = ("{}", "a photo of {}")

    plain, templated = [], []
    for i in range(60):
        q = f"{captions[i % len(captions)]} {i}"
        t = time.perf_counter()
        emb.embed_text([q])
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        embed_templated(emb.embed_text, [q + " again"], pair)
        templated.append(time.perf_counter() - t)
    print(
        f"one query: {1000 * np.median(plain):.1f} ms as typed, {1000 * np.median(templated):.1f} ms "
        f"in the query templates {pair} (medians of 60)"
    )


def devset(fps: float = 1.0) -> None:
    """Naive frame search on the dev set: 1 frame/s, rank videos by their best frame."""
    import av

    root = Path("/work/shared/data/devset")
    gt = json.loads((root / "ground_truth.json").read_text())
    emb = st.StarterEmbedder(device="cpu", threads=2)
    frames: dict[str, list[np.ndarray]] = {}
    times: dict[str, np.ndarray] = {}
    for v in gt["videos"]:
        vid = v["video"]
        fr_list, t_list = [], []
        with av.open(str(root / "videos" / vid)) as c:
            next_t = 0.0
            for fr in c.decode(video=0):
                if fr.time is not None and fr.time + 1e-6 >= next_t:
                    fr_list.append(fr.to_ndarray(format="rgb24"))
                    t_list.append(fr.time)
                    next_t += 1.0 / fps
        frames[vid], times[vid] = fr_list, np.array(t_list)
    queries = [(q["query"], q["moments"]) for q in gt["queries"]]
    qv = emb.embed_text([q for q, _ in queries])
    ids = list(frames)
    cache: dict = {}
    for crop in ("center", "three", "squash"):
        emb.crop = crop
        t = time.perf_counter()
        probs = {vid: emb.class_probabilities(f) for vid, f in frames.items()}
        n = sum(len(f) for f in frames.values())
        print(f"crop={crop}: {n} frames in {time.perf_counter() - t:.1f}s", flush=True)
        np.savez(f"/tmp/vsearch-starter-tune/devset-probs-{crop}.npz", **probs)
        for tname, naming in (("photo", "name"), ("photo", "syn+gloss"), ("multi5", "name")):
            labels = label_matrix(emb, TEMPLATE_SETS[tname], naming, cache)
            for k, power in ((1, 1.0), (10, 1.0), (20, 1.0), (50, 1.0), (10, 0.5), (20, 0.5), (50, 0.5)):
                vecs = {vid: conse(p, labels, k, power) for vid, p in probs.items()}
                vid_hits = frame_hits = 0
                for (_, moments), q in zip(queries, qv, strict=False):
                    best = {vid: vecs[vid] @ q for vid in ids}
                    top_vid = max(ids, key=lambda v: best[v].max())
                    good = {m["video"] for m in moments}
                    vid_hits += top_vid in good
                    tt = times[top_vid][int(np.argmax(best[top_vid]))]
                    frame_hits += any(m["video"] == top_vid and m["start"] <= tt <= m["end"] for m in moments)
                nq = len(queries)
                print(
                    f"  {tname}/{naming} k={k} T={1 / power:g}: video R@1 {vid_hits}/{nq} = {vid_hits / nq:.3f}, "
                    f"top frame inside a true moment {frame_hits / nq:.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["tune", "speed", "devset"])
    a = ap.parse_args()
    {"tune": tune, "speed": speed, "devset": devset}[a.what]()
