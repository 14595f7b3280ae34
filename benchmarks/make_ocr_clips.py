"""Development clips for the on-screen text expert: dev-set footage with text burned in, queries, scores.

Usage::

    python benchmarks/make_ocr_clips.py                      # make the clips + ground truth, index, score
    python benchmarks/make_ocr_clips.py --out DIR --no-eval  # only make them
    python benchmarks/make_ocr_clips.py --with-devset        # also index the four dev-set videos (distractors)

Five 24 s clips (640x360, 25 fps) cut from the dev set's real footage (../shared/data/devset/videos),
each with text in the styles editors search for (full-frame slate, lower third, subtitle, small
corner text, coloured box), 15 texts in all; three queries per text: the words in quotes, a
paraphrase, and a name for it ("the slate for take 3"): 45 queries. The ground truth (the dev
set's format, ``vsearch eval`` reads it) has each text's on-screen span as its moment. Only the
generator is kept in the repository, not the videos (benchmarks/out/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.screen_text import Overlay, burn  # noqa: E402

DEVSET = ROOT.parent / "shared" / "data" / "devset" / "videos"
SECONDS = 24.0

# (clip, source video, start in source, [(overlay, quote, paraphrase, name)])
CLIPS = [
    ("t01.mp4", "d01.mp4", 10.0, [
        (Overlay("SCENE 12\nTAKE 3", 1.0, 4.0, "slate"), '"scene 12"', "clapperboard for the twelfth scene, third take", "the slate for take 3"),
        (Overlay("Dr. Maria Lopez\nMarine Biologist", 7.0, 12.0, "lower_third"), '"Maria Lopez"', "the name of the ocean scientist", "the lower third naming the marine biologist"),
        (Overlay("EXIT", 14.0, 22.0, "corner"), '"exit"', "the way out", "the exit sign"),
    ]),
    ("t02.mp4", "d02.mp4", 20.0, [
        (Overlay("SALE 50% OFF", 2.0, 6.0, "box", (220, 40, 40)), '"50% off"', "half price sale", "the sale banner"),
        (Overlay("I told you not to open that door.", 9.0, 12.0, "subtitle"), '"open that door"', "a warning to keep the door shut", "the subtitle about the door"),
        (Overlay("LIVE", 15.0, 23.0, "corner"), '"live"', "broadcast happening right now", "the live badge"),
    ]),
    ("t03.mp4", "d03.mp4", 5.0, [
        (Overlay("SCENE 14\nTAKE 1", 0.5, 3.5, "slate"), '"scene 14"', "clapperboard for the fourteenth scene, first take", "the slate for take 1"),
        (Overlay("James Carter\nMayor of Springfield", 6.0, 11.0, "lower_third"), '"James Carter"', "the name of the town's elected leader", "the caption naming the mayor"),
        (Overlay("BREAKING NEWS", 14.0, 19.0, "box", (200, 20, 20)), '"breaking news"', "an urgent news bulletin", "the breaking news banner"),
    ]),
    ("t04.mp4", "d04.mp4", 15.0, [
        (Overlay("CHAPTER ONE\nThe Beginning", 0.0, 3.0, "slate"), '"chapter one"', "the opening part of the story", "the title card for chapter one"),
        (Overlay("We need to leave before sunrise.", 6.0, 9.5, "subtitle"), '"before sunrise"', "they must go before dawn", "the subtitle about leaving early"),
        (Overlay("CLOSED", 13.0, 18.0, "box", (30, 60, 170)), '"closed"', "the shop is not open", "the closed sign"),
    ]),
    ("t05.mp4", "d01.mp4", 55.0, [
        (Overlay("Sarah Kim\nHead Chef", 1.0, 6.0, "lower_third"), '"Sarah Kim"', "the name of the cook", "the lower third naming the chef"),
        (Overlay("Where did you hide the money?", 9.0, 12.5, "subtitle"), '"hide the money"', "someone asks where the cash is hidden", "the subtitle asking about the money"),
        (Overlay("CAM 2", 15.0, 23.0, "corner"), '"cam 2"', "the second camera", "the camera 2 label"),
    ]),
]


def make(out: Path) -> Path:
    """Write the clips and ground_truth.json into *out*; returns the ground truth's path."""
    out.mkdir(parents=True, exist_ok=True)
    videos, queries = [], []
    for clip, src, start, items in CLIPS:
        path = out / "videos" / clip
        if not path.exists():
            burn(path, [o for o, *_ in items], SECONDS, source=DEVSET / src, source_start=start)
        segs = []
        for n, (ov, quote, para, name) in enumerate(items):
            seg = f"{clip[:-4]}-{n}"
            segs.append({"segment": seg, "start": ov.start, "end": ov.end, "kind": ov.style, "caption": ov.text})
            for typ, q in (("quote", quote), ("paraphrase", para), ("name", name)):
                queries.append({
                    "id": f"{seg}-{typ}", "query": q, "type": typ, "source_kind": [ov.style],
                    "moments": [{"video": clip, "start": ov.start, "end": ov.end, "segment": seg}],
                })
        videos.append({"video": clip, "duration": SECONDS, "segments": segs, "source": f"{src}@{start}"})
    gt = out / "ground_truth.json"
    gt.write_text(json.dumps({"version": 1, "fps": 25, "width": 640, "height": 360, "videos": videos,
                              "queries": queries}, indent=1))
    return gt


def evaluate(out: Path, gt_path: Path, with_devset: bool, only: str | None) -> dict:
    from vsearch import evaluate as ev
    from vsearch.service import Service

    gt = ev.load_ground_truth(gt_path)
    lib = Path(tempfile.mkdtemp(prefix="ocr-lib-", dir=out))
    folders = [out / "videos"] + ([DEVSET] if with_devset else [])
    with Service(lib, model="starter") as svc:
        t0 = time.perf_counter()
        stats = svc.index(folders)
        wall = time.perf_counter() - t0
        print(f"indexed {stats.indexed} videos ({stats.video_seconds:.0f} s of video) in {wall:.0f} s; stages: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in stats.stage_seconds.items()))
        preds = ev.predict(gt, lambda q: svc.search(q, k=10, only=only))
    report = ev.evaluate(gt, preds)
    print(ev.format_report(report))
    misses = [q for q in gt["queries"] if not preds[q["id"]] or os.path.basename(preds[q["id"]][0]["video"]) != q["moments"][0]["video"]]
    for q in misses:
        top = preds[q["id"]][0] if preds[q["id"]] else None
        print(f"  video miss: {q['id']} {q['query']!r} -> {top and (os.path.basename(top['video']), top['start'], top['end'])}")
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "ocr-clips")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--with-devset", action="store_true", help="index the dev set's four videos too")
    ap.add_argument("--only", choices=["visual", "speech", "text"], help="score one expert only")
    args = ap.parse_args()
    gt = make(args.out)
    print(f"clips and ground truth in {args.out}")
    if not args.no_eval:
        evaluate(args.out, gt, args.with_devset, args.only)


if __name__ == "__main__":
    main()
