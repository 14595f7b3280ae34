"""Development clips for the on-screen text expert: dev-set footage with text burned in, queries, scores.

Usage::

    python benchmarks/make_ocr_clips.py                      # make the clips + ground truth, index, score
    python benchmarks/make_ocr_clips.py --out DIR --no-eval  # only make them
    python benchmarks/make_ocr_clips.py --with-devset        # also index the four dev-set videos (distractors)
    python benchmarks/make_ocr_clips.py --set heldout        # the second, independent set (below)
    python benchmarks/make_ocr_clips.py --set both --sweep   # both sets, then the search constants swept on both

Five 24 s clips (640x360, 25 fps) cut from the dev set's real footage (../shared/data/devset/videos),
each with text in the styles editors search for (full-frame slate, lower third, subtitle, small
corner text, coloured box), 15 texts in all; three queries per text: the words in quotes, a
paraphrase, and a name for it ("the slate for take 3"): 45 queries. The ground truth (the dev
set's format, ``vsearch eval`` reads it) has each text's on-screen span as its moment. Only the
generator is kept in the repository, not the videos (benchmarks/out/ is git-ignored).

``--set heldout`` makes a second set that none of the constants were chosen on (HELDOUT): other
stretches of the dev set (and one synthetic background), other fonts (DejaVu Serif and Mono, STIX,
obliques), other places (lower third on the right, subtitles at the top, badges in the left
corners, light slates, boxes low or left), other sizes, other texts and queries. ``--sweep``
re-scores both sets' libraries with the text expert's search constants varied (docs/OCR.md).
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


# The held-out set: chosen after the constants were, on nothing they were tuned on. src None: the
# helper's moving synthetic background (seeded).
SERIF, SERIF_B, SERIF_I = "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf"
MONO, MONO_B, STIX, STIX_B = "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "STIXGeneral.ttf", "STIXGeneralBol.ttf"
HELDOUT = [
    ("h01.mp4", "d02.mp4", 50.0, [
        (Overlay("SCENE 7\nTAKE 2", 0.5, 3.5, "slate", font=SERIF_B, place="light"), '"scene 7"', "clapperboard for the seventh scene, second take", "the slate for scene 7"),
        (Overlay("Tom Becker\nFire Chief", 6.0, 11.0, "lower_third", font=SERIF, place="right"), '"Tom Becker"', "the name of the head of the fire brigade", "the lower third naming the fire chief"),
        (Overlay("REC", 13.0, 22.0, "corner", font=MONO_B, place="bottom_left"), '"rec"', "the camera is recording", "the recording indicator"),
    ]),
    ("h02.mp4", "d03.mp4", 40.0, [
        (Overlay("FREE SHIPPING", 1.0, 5.0, "box", (30, 130, 60), font=STIX_B, place="low"), '"free shipping"', "delivery costs nothing", "the free shipping banner"),
        (Overlay("The storm is getting closer.", 7.0, 10.5, "subtitle", font="DejaVuSans-Oblique.ttf", place="top"), '"getting closer"', "bad weather is approaching", "the subtitle about the storm"),
        (Overlay("REPLAY", 13.0, 21.0, "corner", place="top_left", scale=1.2), '"replay"', "showing the moment again", "the replay badge"),
    ]),
    ("h03.mp4", "d04.mp4", 40.0, [
        (Overlay("CHAPTER THREE\nThe Journey Home", 0.0, 2.5, "slate", font=MONO_B), '"chapter three"', "the third part of the story", "the title card for chapter three"),
        (Overlay("SOLD OUT", 12.0, 16.0, "box", (120, 40, 160), font=SERIF_B, place="left"), '"sold out"', "no tickets left", "the sold out sign"),
        (Overlay("Nobody knows where the key is.", 18.0, 21.5, "subtitle", font=SERIF), '"where the key is"', "the key is missing", "the subtitle about the key"),
    ]),
    ("h04.mp4", "d01.mp4", 32.0, [
        (Overlay("Anna Novak\nCity Reporter", 1.0, 5.5, "lower_third", font=STIX), '"Anna Novak"', "the name of the journalist", "the lower third naming the reporter"),
        (Overlay("WARNING", 8.0, 12.0, "box", (200, 90, 0), scale=0.85), '"warning"', "a caution notice", "the warning banner"),
        (Overlay("ROUND 2", 15.0, 23.0, "corner", font=MONO, scale=0.9), '"round 2"', "the second round of the match", "the round counter"),
    ]),
    ("h05.mp4", None, 0.0, [
        (Overlay("INTERVIEW\nPart 2", 0.5, 3.0, "slate", font=STIX_B, place="light"), '"interview"', "the second part of the conversation", "the title card for the interview"),
        (Overlay("Turn off the lights before you go.", 5.0, 8.5, "subtitle", font=SERIF_I), '"turn off the lights"', "switch the lamps off when leaving", "the subtitle about the lights"),
        (Overlay("Dr. Lee Wong\nAstronomer", 11.0, 16.0, "lower_third", font=MONO, place="right"), '"Lee Wong"', "the name of the star scientist", "the lower third naming the astronomer"),
    ]),
]
SETS = {"dev": CLIPS, "heldout": HELDOUT}
HELDOUT_SEED = 7


def make(out: Path, clips: list = CLIPS) -> Path:  # noqa: B006 - read only
    """Write the clips and ground_truth.json into *out*; returns the ground truth's path."""
    out.mkdir(parents=True, exist_ok=True)
    videos, queries = [], []
    for clip, src, start, items in clips:
        path = out / "videos" / clip
        if not path.exists():  # written under another name first: a killed run leaves no truncated clip
            part = path.with_name("part-" + clip)
            burn(part, [o for o, *_ in items], SECONDS, source=DEVSET / src if src else None, source_start=start,
                 seed=HELDOUT_SEED)
            os.replace(part, path)
        segs = []
        for n, (ov, quote, para, name) in enumerate(items):
            seg = f"{clip[:-4]}-{n}"
            segs.append({"segment": seg, "start": ov.start, "end": ov.end, "kind": ov.style, "caption": ov.text})
            for typ, q in (("quote", quote), ("paraphrase", para), ("name", name)):
                queries.append({
                    "id": f"{seg}-{typ}", "query": q, "type": typ, "source_kind": [ov.style],
                    "moments": [{"video": clip, "start": ov.start, "end": ov.end, "segment": seg}],
                })
        videos.append({"video": clip, "duration": SECONDS, "segments": segs,
                       "source": f"{src}@{start}" if src else f"synthetic seed {HELDOUT_SEED}"})
    gt = out / "ground_truth.json"
    gt.write_text(json.dumps({"version": 1, "fps": 25, "width": 640, "height": 360, "videos": videos,
                              "queries": queries}, indent=1))
    return gt


def evaluate(out: Path, gt_path: Path, with_devset: bool, only: str | None, library: Path | None = None) -> dict:
    """Index *out*'s clips (into *library*, or a new folder in *out*), search every query, print the scores."""
    from vsearch import evaluate as ev
    from vsearch.config import Settings
    from vsearch.service import Service

    gt = ev.load_ground_truth(gt_path)
    lib = library or Path(tempfile.mkdtemp(prefix="ocr-lib-", dir=out))
    folders = [out / "videos"] + ([DEVSET] if with_devset else [])
    with Service(lib, model="starter") as svc:
        svc.settings = Settings()  # the defaults (OCR and speech on), whatever this user's settings.toml says
        t0 = time.perf_counter()
        stats = svc.index(folders)
        wall = time.perf_counter() - t0
        print(f"indexed {stats.indexed} videos ({stats.video_seconds:.0f} s of video) in {wall:.0f} s; stages: "
              + ", ".join(f"{k} {v:.1f} s" for k, v in stats.stage_seconds.items()))
        preds = ev.predict(gt, lambda q: svc.search(q, k=10, only=only))
    report = ev.evaluate(gt, preds)
    print(f"library {lib}")
    print(ev.format_report(report))
    misses = [q for q in gt["queries"] if not preds[q["id"]] or os.path.basename(preds[q["id"]][0]["video"]) != q["moments"][0]["video"]]
    for q in misses:
        top = preds[q["id"]][0] if preds[q["id"]] else None
        print(f"  video miss: {q['id']} {q['query']!r} -> {top and (os.path.basename(top['video']), top['start'], top['end'])}")
    return report


#: The text expert's search constants tried by --sweep (each varied alone, the others at default).
SWEEP = {
    "gate": (0.3, 0.5, 0.7),
    "center": (0.35, 0.40, 0.45),
    "word_confidence": (0.5, 0.7, 0.9),
    "min_confidence": (0.2, 0.3, 0.4),
}


def sweep(libs: dict[str, tuple[Path, Path]], grid: dict[str, tuple[float, ...]] = SWEEP) -> None:  # noqa: B006
    """Re-score each set's library with one TextParams field varied at a time; print both sets and their mean."""
    import dataclasses

    from vsearch import evaluate as ev
    from vsearch.ocr import search
    from vsearch.service import Service

    base = search.DEFAULT
    rows = []
    for field, values in grid.items():
        for v in values:
            p = dataclasses.replace(base, **{field: v})
            search.confidence.__defaults__ = (p,)
            search.fuse_text.__kwdefaults__ = {**(search.fuse_text.__kwdefaults__ or {}), "params": p}
            cells = []
            for _name, (lib, gt_path) in libs.items():
                gt = ev.load_ground_truth(gt_path)
                with Service(lib, model="starter") as svc:
                    preds = ev.predict(gt, lambda q, svc=svc: svc.search(q, k=10))
                r = ev.evaluate(gt, preds)["all"]
                cells.append((100 * r["video_R@1"], 100 * r["moment_R@1_tIoU0.5"]))
            rows.append((field, v, cells))
    search.confidence.__defaults__ = (base,)
    search.fuse_text.__kwdefaults__ = {**(search.fuse_text.__kwdefaults__ or {}), "params": base}
    names = list(libs)
    print("\nsweep (video R@1 / moment R@1 @ tIoU 0.5): " + " | ".join(names) + " | mean")
    for field, v, cells in rows:
        mean = [sum(c[i] for c in cells) / len(cells) for i in (0, 1)]
        mark = " (default)" if getattr(base, field) == v else ""
        print(f"  {field:16s} {v:<5} " + " | ".join(f"{a:5.1f} / {b:5.1f}" for a, b in cells)
              + f" | {mean[0]:5.1f} / {mean[1]:5.1f}{mark}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="folder of the clips (default benchmarks/out/ocr-clips[-heldout])")
    ap.add_argument("--set", choices=["dev", "heldout", "both"], default="dev")
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--with-devset", action="store_true", help="index the dev set's four videos too")
    ap.add_argument("--only", choices=["visual", "speech", "text"], help="score one expert only")
    ap.add_argument("--library", type=Path, help="index into (or reuse) this library (one set only)")
    ap.add_argument("--sweep", nargs="?", const="all", metavar="FIELD=V,V;...",
                    help="then re-score with the search constants varied (all of SWEEP, or e.g. 'gate=0.3,0.7')")
    args = ap.parse_args()
    names = ["dev", "heldout"] if args.set == "both" else [args.set]
    libs = {}
    for name in names:
        out = args.out or ROOT / "benchmarks" / "out" / ("ocr-clips" if name == "dev" else "ocr-clips-heldout")
        gt = make(out, SETS[name])
        print(f"{name}: clips and ground truth in {out}")
        if not args.no_eval:
            lib = args.library if args.library and len(names) == 1 else out / "library"
            evaluate(out, gt, args.with_devset, args.only, lib)
            libs[name] = (lib, gt)
    if args.sweep and libs:
        grid = SWEEP if args.sweep == "all" else {
            f: tuple(float(v) for v in vs.split(",")) for f, vs in (part.split("=") for part in args.sweep.split(";"))
        }
        sweep(libs, grid)


if __name__ == "__main__":
    main()
