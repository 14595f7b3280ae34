"""HNSW recall@10 against brute force on real embeddings and real text queries.

Usage: python benchmarks/bench_recall_real.py --library DIR GROUND_TRUTH.json

Reads the stored vectors of an indexed library (e.g. the dev set indexed densely:
``Service`` with sampling="exact", interval=0.2, skip_similar=None), embeds every query and
segment caption of the ground truth with the library's model, and compares hnswlib's top 10
(at the M / ef_construction / ef that vsearch uses, and a larger graph) with exact search.
Text queries lie far from every frame (cosines 0.2-0.6), which is where graph search is weakest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import hnswlib
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vsearch.service import Service  # noqa: E402
from vsearch.store import ann  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ground_truth")
    ap.add_argument("--library", required=True)
    args = ap.parse_args()
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
    for mm, efc in ((ann.M, ann.EF_CONSTRUCTION), (32, 200)):
        h = hnswlib.Index(space="ip", dim=x.shape[1])
        h.init_index(len(x), M=mm, ef_construction=efc)
        h.add_items(x, ids_a)
        for ef in (64, ann.EF_SEARCH, 256):
            h.set_ef(ef)
            labels, _ = h.knn_query(q, k=10)
            rec = np.mean([len(t & set(lab.tolist())) / 10 for t, lab in zip(truth, labels, strict=True)])
            print(f"M={mm} ef_construction={efc} ef={ef}: recall@10 {rec:.3f}")


if __name__ == "__main__":
    main()
