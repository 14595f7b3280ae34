"""Speed of the OCR stage alone: x real time on footage with and without burned-in text.

Usage::

    python benchmarks/make_ocr_clips.py --no-eval     # the clips with text (benchmarks/out/ocr-clips)
    python benchmarks/bench_ocr.py                    # reads t01-t05 and the same footage without text

For each file: wall seconds, this process's CPU seconds (less inflated than wall time on a shared
machine), x real time by both, and what the reader did (frames decoded, unchanged, detector runs,
refined, boxes, recognised). The "without text" clips are the same dev-set stretches re-encoded
with no overlay (written next to the clips on first use).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_ocr_clips import CLIPS, DEVSET, SECONDS  # noqa: E402

from tests.helpers.screen_text import burn  # noqa: E402
from vsearch.ocr.engine import OcrEngine  # noqa: E402
from vsearch.ocr.read import ReadStats, read_video  # noqa: E402
from vsearch.probe import probe  # noqa: E402


def main() -> None:
    out = ROOT / "benchmarks" / "out" / "ocr-clips"
    plain = out / "plain"
    files = []
    for clip, src, start, _ in CLIPS:
        p = plain / clip
        if not p.exists():
            burn(p, [], SECONDS, source=DEVSET / src, source_start=start)
        files += [("text", out / "videos" / clip), ("no text", p)]
    engine = OcrEngine()
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    tot: dict[str, list[float]] = {}
    for kind, f in files:
        st = ReadStats()
        w0, c0 = time.perf_counter(), time.process_time()
        spans = read_video(str(f), probe(str(f)), engine, stats=st)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        t = tot.setdefault(kind, [0.0, 0.0, 0.0])
        t[0] += SECONDS
        t[1] += wall
        t[2] += cpu
        print(f"{kind:8s} {f.name}: {len(spans)} spans, wall {wall:5.1f} s ({SECONDS / wall:4.1f}x), cpu {cpu:5.1f} s "
              f"({SECONDS / cpu:4.1f}x); frames {st.frames}, unchanged {st.skipped}, detected {st.detected}, "
              f"refined {st.refined}, boxes {st.boxes}, recognised {st.recognised}")
    for kind, (secs, wall, cpu) in tot.items():
        print(f"{kind:8s} all: {secs:.0f} s of video, wall {wall:.1f} s ({secs / wall:.1f}x real time), "
              f"cpu {cpu:.1f} s ({secs / cpu:.1f}x)")
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
