"""Recall@10 of the quantised index (IVF + 8-bit) against exact search, on real embeddings and real text queries.

Usage: python benchmarks/bench_recall_real.py --library DIR [--build] GROUND_TRUTH.json

Reads the stored vectors of an indexed library (``--build`` first indexes the dev set videos
beside the ground truth densely into DIR: ``Service`` with sampling="exact", interval=0.2,
skip_similar=None), embeds every query and segment caption of the ground truth with the
library's model, and compares the top 10 of the quantised index that vsearch uses beyond
BRUTE_MAX vectors (forced here, whatever the library's size) with exact search, per nprobe.
Text queries lie far from every frame (cosines 0.2-0.6) and their best frames are close
together, which is where both a coarse partition and 8-bit codes are weakest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vsearch.service import Service  # noqa: E402
from vsearch.store import ann  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ground_truth")
    ap.add_argument("--library", required=True)
    ap.add_argument("--build", action="store_true", help="index the dev set videos into --library first")
    ap.add_argument("--nprobes", type=int, nargs="*", default=[1, 2, 4, 8, 16, ann.NPROBE])
    args = ap.parse_args()
    if args.build:
        videos = Path(args.ground_truth).parent / "videos"
        with Service(args.library, model="starter") as svc:
            svc.update_settings(sampling="exact", interval=0.2, skip_similar=None)
            svc.index([videos])
    svc = Service(args.library, readonly=True)
    lib = svc.library
    m = svc.search_model()
    assert m is not None, "index something first"
    ids, vs = [], []
    for i, v in lib.iter_vectors(m.id, m.dim):
        ids.append(i)
        vs.append(v)
    ids_a, x = np.concatenate(ids), np.concatenate(vs)
    gt = json.load(open(args.ground_truth))
    texts = [q["query"] for q in gt["queries"]]
    texts += [s["caption"] for v in gt.get("videos", []) for s in v["segments"]]
    q = svc.embedder(m.name).embed_text(texts)
    truth = [set(ids_a[np.argsort(-(x @ qi))[:10]].tolist()) for qi in q]
    print(f"{len(x)} real vectors ({m.model_id}), {len(texts)} text queries")
    ann.BRUTE_MAX = len(x) - 1  # force the quantised path: it trains on all vectors at the first add
    with tempfile.TemporaryDirectory() as tmp:
        idx = ann.AnnIndex(Path(tmp), m.model_id, m.dim)
        idx.add(ids_a, x)
        assert not idx.exact
        for p in sorted(set(args.nprobes)):
            p = min(p, idx.nlist)
            got = [idx._search_ivf(qi.astype(np.float32), 10, p)[0] for qi in q]
            rec = np.mean([len(t & set(g.tolist())) / 10 for t, g in zip(truth, got, strict=True)])
            print(f"IVF-SQ8 ({idx.nlist} lists) nprobe={p}: recall@10 {rec:.3f}")


if __name__ == "__main__":
    main()
