"""Where near-duplicate results part from distinct ones: cosines of moments' mean vectors on the dev set.

Builds a folder of the dev-set videos plus a copy of d01 and a clip of d03 looped three times,
indexes it (starter model unless --model), runs every dev-set query, and prints the cosine of the
mean frame vectors for each pair of returned moments, split into duplicates (the same span in the
copy, the same offset in another loop) and distinct moments. vsearch.query.dedup.MIN_SIMILARITY
must sit between the two.

    python benchmarks/dedup_threshold.py [--model starter] [--work /tmp/dedup]
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from vsearch.query.dedup import MIN_SIMILARITY, mean_vector
from vsearch.service import Service

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "devset"
LOOP_LEN = 6.0  # seconds of d03 repeated three times


def build(work: Path) -> Path:
    videos = work / "videos"
    if videos.exists():
        return videos
    videos.mkdir(parents=True)
    for v in sorted((DEV / "videos").glob("*.mp4")):
        shutil.copy(v, videos / v.name)
    shutil.copy(DEV / "videos" / "d01.mp4", videos / "d01_copy.mp4")
    part = work / "part.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", "10", "-t", str(LOOP_LEN), "-i", str(DEV / "videos" / "d03.mp4"),
                    "-an", "-c:v", "libx264", "-preset", "veryfast", str(part)], check=True)  # fmt: skip
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "2", "-i", str(part), "-c", "copy",
                    str(videos / "loop3.mp4")], check=True)  # fmt: skip
    return videos


def kind(a, b) -> str:  # noqa: ANN001 - two Moments
    names = {Path(a.path).name, Path(b.path).name}
    if names == {"d01.mp4", "d01_copy.mp4"} and abs(a.start - b.start) < 1 and abs(a.end - b.end) < 1:
        return "copy"
    if names == {"loop3.mp4"}:
        da = (a.start % LOOP_LEN) - (b.start % LOOP_LEN)
        if abs(da) < 1.0 and abs(a.start - b.start) > LOOP_LEN / 2:
            return "loop"
    if a.path == b.path and max(a.start, b.start) < min(a.end, b.end):
        return "overlap"  # two spans of the same stretch: neither a loop nor distinct
    if names == {"d01.mp4", "d01_copy.mp4"} or names == {"loop3.mp4"}:
        return "other"
    return "distinct"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="starter")
    ap.add_argument("--work", default="/tmp/vsearch-dedup")
    args = ap.parse_args()
    work = Path(args.work)
    videos = build(work)
    queries = [q["query"] for q in json.loads((DEV / "ground_truth.json").read_text())["queries"]]
    cos: dict[str, list[float]] = {}
    close: list[str] = []
    with Service(work / "lib", model=args.model) as svc:
        svc.index([videos])
        model = svc.search_model()
        assert model is not None
        for q in queries:
            res = svc.search(q, k=20)
            vecs = [mean_vector(svc.library.video_vectors(m.video_id, model.id, model.dim, (m.start, m.end - 1e-3))[2])
                    for m in res]  # fmt: skip
            for (a, va), (b, vb) in itertools.combinations(zip(res, vecs, strict=True), 2):
                if va is not None and vb is not None:
                    c = float(va @ vb)
                    cos.setdefault(kind(a, b), []).append(c)
                    if kind(a, b) == "distinct" and c >= MIN_SIMILARITY and len(close) < 12:
                        close.append(f"  {c:.4f}  {Path(a.path).name} {a.start:.1f}-{a.end:.1f}  "
                                     f"{Path(b.path).name} {b.start:.1f}-{b.end:.1f}")  # fmt: skip
        folded: dict[str, int] = {}
        for q in queries:
            for head in svc.search(q, k=20, group_similar=True):
                for m in head.similar:
                    folded[kind(head, m)] = folded.get(kind(head, m), 0) + 1
    print("folded by group_similar (member pairs by kind):", folded)
    for k, v in sorted(cos.items()):
        arr = np.array(v)
        print(f"{k:9s} n={len(arr):5d}  min {arr.min():.4f}  p05 {np.percentile(arr, 5):.4f}  "
              f"median {np.median(arr):.4f}  p95 {np.percentile(arr, 95):.4f}  max {arr.max():.4f}  "
              f">= MIN_SIMILARITY: {(arr >= MIN_SIMILARITY).mean():.1%}")  # fmt: skip
    print("distinct pairs at or above MIN_SIMILARITY (first 12):", *close, sep="\n")
    print(f"MIN_SIMILARITY = {MIN_SIMILARITY}")


if __name__ == "__main__":
    main()
