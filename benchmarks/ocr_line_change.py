"""How much a text line's picture changes when its text changes, and when it does not.

Usage::

    python benchmarks/ocr_line_change.py [--out benchmarks/out/ocr-line-change]

The on-screen text reader keeps a line's recognised text while the line's grey crop looks as it
did (``vsearch.ocr.read``: the whole crop's mean difference under CROP_DIFF, and no character-
sized window of it changed by LOCAL_DIFF or more). This measures both statistics on real H.264
footage, for every pair of detected lines at the same place 0.5 s apart, split by whether the
recogniser reads the same text in both:

* scoreboards made here: "HOME a - b AWAY" with one digit changing every 1.5 s, in the five
  styles of ``tests/helpers/screen_text.py``, over the dev set's footage and over a moving
  synthetic background (``--out`` keeps the clips);
* the OCR dev and held-out clips (``benchmarks/make_ocr_clips.py --set both`` makes them).

A line whose text changed but whose crop looks unchanged is carried with its old text (a score
that is never read again); a line whose text did not change but whose crop looks changed only
costs a recognition.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.helpers.screen_text import STYLES, Overlay, burn  # noqa: E402
from vsearch.ocr import read  # noqa: E402
from vsearch.ocr.engine import OcrEngine  # noqa: E402
from vsearch.ocr.text import key  # noqa: E402

DEVSET = ROOT.parent / "shared" / "data" / "devset" / "videos"
SCORES = [(0, 0), (1, 0), (1, 1), (2, 1), (3, 1), (3, 2)]


def scoreboards(out: Path) -> list[Path]:
    """One 9 s clip per style and background, the score changing every 1.5 s."""
    clips = []
    sources = [None, *sorted(DEVSET.glob("*.mp4"))[:2]]
    for style in STYLES:
        for i, src in enumerate(sources):
            ovs = [Overlay(f"HOME {a} - {b} AWAY", 1.5 * k, 1.5 * (k + 1), style) for k, (a, b) in enumerate(SCORES)]
            p = out / f"score-{style}-{i}.mp4"
            if not p.exists():
                burn(p, ovs, 9.0, source=src, source_start=20.0 * i)
            clips.append(p)
    return clips


def frames(path: Path, step: float = 0.5):  # noqa: ANN201
    """(t, RGB) every *step* seconds, as the reader's fine grid sees them."""
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        nxt = 0.0
        for f in c.decode(st):
            t = float(f.pts * st.time_base)
            if t + 1e-6 >= nxt:
                yield t, f.to_ndarray(format="rgb24")
                nxt += step


def measure(paths: list[Path], engine: OcrEngine) -> list[tuple[str, bool, float, float, float]]:
    """(clip, same text, whole-crop mean difference, largest window difference, time) per line pair."""
    rows = []
    for p in paths:
        prev: list[tuple[tuple[float, float, float, float], str, np.ndarray, np.ndarray]] = []
        for t, rgb in frames(p):
            boxes = engine.detect(rgb)
            texts = engine.recognise(rgb, boxes) if boxes else []
            cur = []
            for b, (text, conf) in zip(boxes, texts, strict=True):
                if conf < read.MIN_CONFIDENCE or len(key(text)) < read.MIN_CHARS:
                    continue
                r = read._rect(b)
                for pr, ptext, psig, pfine in prev:
                    if read._iou(r, pr) > 0.7:
                        coarse = float(np.abs(read._crop_sig(rgb, pr) - psig).mean())
                        local = read.local_change(read._fine_sig(rgb, pr), pfine)
                        rows.append((p.stem, key(text) == key(ptext), coarse, local, t))
                        break
                cur.append((r, text, read._crop_sig(rgb, r), read._fine_sig(rgb, r)))
            prev = cur
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "ocr-line-change")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    engine = OcrEngine()
    sets = {"scoreboards": scoreboards(args.out)}
    for name in ("ocr-clips", "ocr-clips-heldout"):
        vids = sorted((ROOT / "benchmarks" / "out" / name / "videos").glob("*.mp4"))
        if vids:
            sets[name] = vids
    print(f"LOCAL_DIFF {read.LOCAL_DIFF}, CROP_DIFF {read.CROP_DIFF}")
    for name, paths in sets.items():
        rows = measure(paths, engine)
        if name == "scoreboards":  # the truth is when the score changed, not what was read
            rows = [(c, not _changes(t), m, loc, t) for c, _, m, loc, t in rows]
        for same in (True, False):
            sel = [r for r in rows if r[1] == same]
            if not sel:
                continue
            loc = np.array([r[3] for r in sel])
            coarse = np.array([r[2] for r in sel])
            seen = int(((coarse >= read.CROP_DIFF) | (loc >= read.LOCAL_DIFF)).sum())
            old = int((coarse >= read.CROP_DIFF).sum())
            print(
                f"{name:18s} {'same text' if same else 'text changed':12s} n={len(sel):4d}  window diff "
                f"p10 {np.percentile(loc, 10):.3f} p50 {np.median(loc):.3f} p90 {np.percentile(loc, 90):.3f} "
                f"max {loc.max():.3f} | seen as changed: {seen} (whole-crop rule alone: {old})"
            )
            quiet = loc[coarse < read.CROP_DIFF]  # where only the window rule can see a change
            print(
                "    under CROP_DIFF, seen as changed at window threshold "
                + ", ".join(f"{th:.2f}: {int((quiet >= th).sum())}/{len(quiet)}" for th in (0.02, 0.03, 0.04, 0.06, 0.08, 0.1))
            )
            if not same:
                for r in sorted(sel, key=lambda r: r[3])[:3]:
                    print(f"    least changed: {r[0]} at {r[4]:.1f} s, mean {r[2]:.3f} window {r[3]:.3f}")


def _changes(t: float) -> bool:
    """Whether a scoreboard's score changed in the half second before *t*."""
    return any(t - 0.5 < 1.5 * k <= t + 1e-6 for k in range(1, len(SCORES)))


if __name__ == "__main__":
    main()
