"""Grid-search the moment builder's knobs on an indexed library against a ground truth.

Usage: python benchmarks/tune_moments.py --library DIR GROUND_TRUTH.json [--videos DIR]

Query vectors are embedded once; each parameter set only re-runs the pure moment logic,
so a grid of hundreds of settings takes seconds. Report the chosen knobs, not dev-set
segment lengths, in docs/MODELS.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from vsearch import evaluate  # noqa: E402
from vsearch.query.engine import top  # noqa: E402
from vsearch.query.moments import MomentParams  # noqa: E402
from vsearch.query.search import SearchOptions  # noqa: E402
from vsearch.service import Service  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ground_truth")
    ap.add_argument("--library", required=True)
    ap.add_argument("--videos")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    gt = evaluate.load_ground_truth(args.ground_truth)
    svc = Service(args.library)
    s = svc.searcher()
    assert s is not None, "index the videos first"
    s.refresh()
    qv = {q["id"]: s.query_vector(q["query"]) for q in gt["queries"]}
    folder = os.path.abspath(args.videos) if args.videos else None
    grid = {
        "smooth": [2.0, 3.0, 4.0],
        "rel_drop": [0.7, 0.8, 0.9],
        "abs_drop": [0.01],
        "cut_sim": [0.0],
        "cut_slack": [0.1],
        "peak_weight": [1.0],
    }
    results = []
    keys = list(grid)
    for values in itertools.product(*grid.values()):
        p = MomentParams(**dict(zip(keys, values, strict=True)))
        if p.cut_sim == 0.0 and p.cut_slack != 0.1:
            continue
        s.params = p
        preds = {}
        for q in gt["queries"]:
            opts = SearchOptions(k=10, folder=folder)
            res = top(s.search_vector(qv[q["id"]], opts), opts)
            preds[q["id"]] = [{"video": os.path.basename(m.path), "start": m.start, "end": m.end} for m in res]
        r = evaluate.evaluate(gt, preds)["all"]
        results.append((r["mIoU"] + r["moment_R@1_tIoU0.5"], r, p))
    results.sort(key=lambda x: -x[0])
    for _, r, p in results[: args.top]:
        print(
            f"vR@1 {100 * r['video_R@1']:5.1f} R1@.5 {100 * r['moment_R@1_tIoU0.5']:5.1f} "
            f"R1@.7 {100 * r['moment_R@1_tIoU0.7']:5.1f} mIoU {100 * r['mIoU']:5.1f}  {p}"
        )
    default = [x for x in results if x[2] == MomentParams()]
    if default:
        r = default[0][1]
        print(f"default: vR@1 {100 * r['video_R@1']:.1f} R1@.5 {100 * r['moment_R@1_tIoU0.5']:.1f} mIoU {100 * r['mIoU']:.1f}")


if __name__ == "__main__":
    main()
