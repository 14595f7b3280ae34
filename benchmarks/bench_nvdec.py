"""Where NVDEC (PyAV hwaccel) decoding time goes: per-file open, per-frame decode, pool size.

Usage (on a CUDA machine, after benchmarks/gpu.sh has installed the wheels)::

    python benchmarks/bench_nvdec.py [--seconds 20] [--files 30] [--json out.json]

1. Opening: ``av.open`` with and without ``hwaccel=cuda`` and the first keyframe decoded, per file.
2. One file, keyframes only: milliseconds per decode call and per resize to 224 px, software
   against NVDEC (whose frames are downloaded to system memory before the resize).
3. Keyframe-mode decoding of ``--files`` links through vsearch's process pool with 1, 4, 8 and
   15 workers, software against NVDEC (x real time).
On a machine without CUDA the NVDEC rows fall back to software (numbers then match).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_decode import OUT, make_bench_video  # noqa: E402

from vsearch.decode_pool import DecodeJob, start_pool  # noqa: E402
from vsearch.frames import SampleOptions  # noqa: E402
from vsearch.probe import open_input, probe  # noqa: E402


def opening(video: Path, accel: str | None, n: int = 5) -> dict[str, float]:
    opens, firsts = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        c = open_input(str(video), hwaccel=accel)
        t1 = time.perf_counter()
        s = c.streams.video[0]
        for pk in c.demux(s):
            if pk.is_keyframe and any(True for _ in s.codec_context.decode(pk)):
                break
        t2 = time.perf_counter()
        c.close()
        opens.append(t1 - t0)
        firsts.append(t2 - t1)
    return {
        "open_ms": 1000 * min(opens),
        "first_frame_ms": 1000 * min(firsts),
        "first_frame_max_ms": 1000 * max(firsts),
    }


def per_frame(video: Path, accel: str | None) -> dict[str, float]:
    c = open_input(str(video), hwaccel=accel)
    s = c.streams.video[0]
    s.codec_context.thread_count = 1
    dec, fmt, n = 0.0, 0.0, 0
    for pk in c.demux(s):
        if not pk.is_keyframe:
            continue
        t0 = time.perf_counter()
        frames = list(s.codec_context.decode(pk))
        t1 = time.perf_counter()
        for f in frames:
            f.reformat(width=398, height=224, format="rgb24", interpolation="AREA").to_ndarray()
            n += 1
        dec += t1 - t0
        fmt += time.perf_counter() - t1
    t0 = time.perf_counter()
    n += len(list(s.codec_context.decode(None)))  # the decoder holds the last frame back
    dec += time.perf_counter() - t0
    c.close()
    return {"frames": n, "decode_ms": 1000 * dec / max(n, 1), "resize_ms": 1000 * fmt / max(n, 1)}


def pool(video: Path, files: int, workers: int, accel: str | None) -> float:
    info = probe(video)
    opts = SampleOptions(mode="keyframe", skip_similar=0.02, threads=1, hwaccel=accel)
    t0 = time.perf_counter()
    p = start_pool([DecodeJob(str(video), info)] * files, opts, workers, processes=True)
    try:
        for _ in p.events(timeout=1.0):
            pass
    finally:
        p.close()
    return info.duration * files / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--files", type=int, default=30)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8, 15])
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    video = make_bench_video(OUT / f"bench_1080p_{a.seconds}s.mp4", seconds=a.seconds).resolve()
    res: dict[str, Any] = {"seconds": a.seconds, "files": a.files}
    for accel in (None, "cuda"):
        key = accel or "software"
        res[key] = {"opening": opening(video, accel), "per_frame": per_frame(video, accel), "pool": {}}
        print(key, json.dumps(res[key]["opening"]), json.dumps(res[key]["per_frame"]), flush=True)
        for w in a.workers:
            x = pool(video, a.files, w, accel)
            res[key]["pool"][w] = x
            print(f"{key:<8} keyframe pool, {w:>2} worker processes: {x:7.1f}x real time", flush=True)
        if a.json:
            a.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
