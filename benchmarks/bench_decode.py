"""Decode-only speed of vsearch.frames on a 1080p H.264 file (video-seconds per wall-second).

Usage: python benchmarks/bench_decode.py [--seconds 60] [--video PATH] [--repeat 1]

Makes (once, cached under benchmarks/out/) a 1080p25 H.264 file with moving, textured
content, a keyframe every 2 s and B-frames (x264 "veryfast"), then times iter_frames in
keyframe mode and exact 1 fps, plus a plain decode-everything baseline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vsearch.frames import DecodeReport, SampleOptions, iter_frames  # noqa: E402
from vsearch.probe import probe  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def make_bench_video(
    path: Path, seconds: int = 60, fps: int = 25, size: tuple[int, int] = (1920, 1080)
) -> Path:
    """Write a textured, panning, moving-shapes 1080p H.264 video with 2 s GOPs (cached)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    rng = np.random.default_rng(0)
    # A large smooth-noise texture to pan over (bit rate like real footage, not flat colour).
    small = rng.integers(0, 256, size=(h // 8 + 40, w // 8 + 80, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(small, 8, axis=0), 8, axis=1)
    tints = [
        np.array(c, dtype=np.int16) for c in ((60, 0, 0), (0, 60, 0), (0, 0, 60), (50, 50, 0), (0, 50, 50))
    ]
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.options = {
            "preset": "veryfast",
            "crf": "23",
            "x264-params": f"keyint={2 * fps}:min-keyint={2 * fps}",
        }
        for i in range(seconds * fps):
            dx, dy = (i * 2) % 320, (i // 3) % 160
            frame = texture[dy : dy + h, dx : dx + w].astype(np.int16)
            frame += tints[(i // (8 * fps)) % len(tints)]
            for k in range(4):  # moving boxes
                x = int((w - 200) * (0.5 + 0.5 * np.sin(i / (20 + 7 * k) + k)))
                y = int((h - 200) * (0.5 + 0.5 * np.cos(i / (30 + 5 * k) + 2 * k)))
                frame[y : y + 200, x : x + 200] = (255 - 40 * k, 40 * k, 128)
            img = np.clip(frame, 0, 255).astype(np.uint8)
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts = i
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    os.replace(tmp, path)
    return path


def bench(path: Path, label: str, opts: SampleOptions | None, repeat: int) -> None:
    info = probe(path)
    best = best_cpu = float("inf")
    report = DecodeReport()
    for _ in range(repeat):
        t0 = time.perf_counter()
        c0 = time.process_time()
        if opts is None:  # baseline: decode and convert nothing, every frame
            with av.open(str(path)) as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                report = DecodeReport(decoded=sum(1 for _ in c.decode(s)))
        else:
            report = DecodeReport()
            for _batch in iter_frames(path, info, opts, report=report):
                pass
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    print(
        f"{label:<30} {info.duration / best:6.1f}x real time ({best:5.2f} s wall)  "
        f"{info.duration / best_cpu:6.1f} video-s per CPU-s  kept {report.frames:5d}  decoded {report.decoded:5d}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--video", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    path = args.video or make_bench_video(OUT / f"bench_1080p_{args.seconds}s.mp4", seconds=args.seconds)
    info = probe(path)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average {load:.1f}: wall-clock rates are only meaningful on an otherwise idle machine")
    print(
        f"video: {path} ({info.width}x{info.height}, {info.duration:.1f} s, {info.fps:g} fps, "
        f"keyframe every {info.keyframe_interval} s; ready in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs)"
    )
    bench(path, "keyframe (default, 224 px)", SampleOptions(), args.repeat)
    bench(path, "exact 1 fps (224 px)", SampleOptions(mode="exact", interval=1.0), args.repeat)
    bench(path, "exact 0.5 s (224 px)", SampleOptions(mode="exact", interval=0.5), args.repeat)
    bench(path, "baseline: decode every frame", None, args.repeat)


if __name__ == "__main__":
    main()
