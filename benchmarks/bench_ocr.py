"""Cost of the OCR stage next to visual indexing: x real time on footage with and without text.

Usage::

    python benchmarks/make_ocr_clips.py --no-eval     # the clips with text (benchmarks/out/ocr-clips)
    python benchmarks/bench_ocr.py                    # OCR only, one run, per file
    python benchmarks/bench_ocr.py --visual --runs 3  # also the visual stage; medians of 3 runs
    python benchmarks/bench_ocr.py --visual --visual-model openclip:ViT-B-32:random  # next to a preset

Three sets of footage: the dev set's four videos (real footage, nearly text-free: 304 s), the five
dev clips with burned-in text (t01-t05, 120 s) and the same five stretches without text
(re-encoded with no overlay, written next to the clips on first use). For each set: the OCR
reader's CPU seconds (this process, all threads: onnxruntime and the decoder run here, so on a
shared machine CPU seconds are steadier than wall seconds) and wall seconds; with ``--visual``
the same for ``Service.index`` of the set with speech and OCR off (frames decoded and embedded
by the starter model, model load excluded), and the ratio OCR / visual. Per file (``-v``): what
the reader did (frames decoded, unchanged, detector runs, refined, boxes, recognised).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_ocr_clips import CLIPS, DEVSET, SECONDS  # noqa: E402

from tests.helpers.screen_text import burn  # noqa: E402
from vsearch.ocr.engine import OcrEngine  # noqa: E402
from vsearch.ocr.read import ReadStats, read_video  # noqa: E402
from vsearch.probe import probe  # noqa: E402


def sets(out: Path) -> dict[str, list[Path]]:
    plain = out / "plain"
    for clip, src, start, _ in CLIPS:
        if not (plain / clip).exists():
            burn(plain / clip, [], SECONDS, source=DEVSET / src, source_start=start)
    return {
        "dev set (no text)": sorted(DEVSET.glob("*.mp4")),
        "clips with text": [out / "videos" / c[0] for c in CLIPS],
        "clips without text": [plain / c[0] for c in CLIPS],
    }


def ocr_cost(engine: OcrEngine, files: list[Path], verbose: bool) -> tuple[float, float, float]:
    """(seconds of video, CPU s, wall s) of reading *files*."""
    secs = cpu = wall = 0.0
    for f in files:
        info = probe(str(f))
        st = ReadStats()
        w0, c0 = time.perf_counter(), time.process_time()
        spans = read_video(str(f), info, engine, stats=st)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        secs, cpu, wall = secs + info.duration, cpu + c, wall + w
        if verbose:
            print(f"    {f.name}: {len(spans)} spans, cpu {c:5.1f} s, wall {w:5.1f} s; frames {st.frames}, "
                  f"unchanged {st.skipped}, detected {st.detected} (gate cleared {st.gated}, carried {st.carried}, "
                  f"gate runs {st.gate_area:.1f} frames' worth), refined {st.refined}, "
                  f"boxes {st.boxes}, recognised {st.recognised}; "
                  + ", ".join(f"{s.text!r} {s.start}-{s.end}" for s in spans))
    return secs, cpu, wall


def visual_cost(files: list[Path], model: str = "starter") -> tuple[float, float]:
    """(CPU s, wall s) of indexing *files* (frames only) with *model*, loaded beforehand.

    ``openclip:ARCH:random`` is a preset's architecture with random weights: its cost is the
    preset's (no weights can be downloaded here), its vectors mean nothing.
    """
    from vsearch.config import Settings
    from vsearch.service import Service

    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        for f in files:
            (folder / f.name).symlink_to(f.resolve())
        with Service(Path(tmp) / "lib", model=model) as svc:
            svc.settings = Settings(speech=False, ocr=False)  # defaults otherwise, whatever settings.toml says
            svc.embedder(svc.model_name())
            w0, c0 = time.perf_counter(), time.process_time()
            svc.index([folder])
            return time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "ocr-clips")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--visual", action="store_true", help="measure the visual stage too")
    ap.add_argument("--visual-model", default="starter",
                    help="the visual stage's model: starter, or openclip:ARCH:random for a preset's cost "
                         "(openclip:ViT-B-32:random is 'balanced', openclip:MobileCLIP2-S0:random 'fast')")
    ap.add_argument("-v", "--verbose", action="store_true", help="per file")
    ap.add_argument("--sets", default="dev,text,plain", help="which: dev (the dev set), text, plain (the clips)")
    args = ap.parse_args()
    pick = dict(zip(("dev", "text", "plain"), sets(args.out), strict=True))
    all_sets = sets(args.out)
    groups = {name: all_sets[name] for key, name in pick.items() if key in args.sets.split(",")}
    engine = OcrEngine()
    print(f"load average {os.getloadavg()[0]:.1f} at start" + (f"; visual stage: {args.visual_model}" if args.visual else ""))
    res: dict[str, dict[str, list[float]]] = {k: {} for k in groups}
    for run in range(args.runs):
        for name, files in groups.items():
            secs, cpu, wall = ocr_cost(engine, files, args.verbose and run == 0)
            r = res[name]
            r["secs"] = [secs]
            r.setdefault("ocr_cpu", []).append(cpu)
            r.setdefault("ocr_wall", []).append(wall)
            if args.visual:
                vc, vw = visual_cost(files, args.visual_model)
                r.setdefault("vis_cpu", []).append(vc)
                r.setdefault("vis_wall", []).append(vw)
            print(f"run {run + 1} {name}: ocr cpu {cpu:.1f} s" + (f", visual cpu {vc:.1f} s" if args.visual else "")
                  + f" (load {os.getloadavg()[0]:.1f})")
    print(f"\nmedians of {args.runs} run(s); x real time = seconds of video / seconds spent")
    for name, r in res.items():
        secs = r["secs"][0]
        oc, ow = statistics.median(r["ocr_cpu"]), statistics.median(r["ocr_wall"])
        line = f"{name:20s} {secs:5.0f} s of video | OCR cpu {oc:6.1f} s ({secs / oc:5.1f}x), wall {ow:6.1f} s ({secs / ow:5.1f}x)"
        if args.visual:
            vc, vw = statistics.median(r["vis_cpu"]), statistics.median(r["vis_wall"])
            line += f" | visual cpu {vc:6.1f} s ({secs / vc:5.1f}x), wall {vw:6.1f} s | OCR/visual cpu {oc / vc:.2f}"
        print(line)
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
