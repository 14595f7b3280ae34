"""End-to-end indexing speed (video-seconds per wall-second) and the cost of a no-op re-run.

Usage::

    python benchmarks/bench_index.py                 # both parts
    python benchmarks/bench_index.py --skip-rerun    # only the 1080p speed part
    python benchmarks/bench_index.py --skip-speed    # only the unchanged-folder re-run part

Part 1 indexes the cached 1080p H.264 file of bench_decode.py (60 s, keyframe every 2 s) with a
randomly initialised ViT-B-32 (speed does not depend on the weights) in keyframe (default) and
exact 1 frame/s sampling, and prints rates end to end and per stage.
Part 2 makes 100 tiny videos, indexes them with ``test-color``, then times a second
``Service.index()`` in process and ``vsearch index`` in a subprocess (Python start-up included).
Everything goes under benchmarks/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_decode import OUT, make_bench_video  # noqa: E402

from vsearch.service import Service  # noqa: E402

#: Targets (video-seconds per wall-second) from issues 2 and 8 for this 2-core CPU.
TARGETS = {"keyframe": (20.0, 30.0), "exact": (7.0, 9.0)}
RERUN_TARGET_S = 2.0


def _load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def index_speed(
    video: Path,
    sampling: str,
    arch: str,
    *,
    device: str = "cpu",
    copies: int = 1,
    precision: str | None = None,
    batch: int = 32,
    hw_decode: str = "",
) -> dict[str, float]:
    """Index *copies* links to *video* into a fresh library; return rates and stage times.

    The model's load, warm-up and health probe happen before the clock starts (a fixed cost per
    run, reported as ``health``); everything from the folder scan to the last write is timed.
    """
    import numpy as np

    from vsearch.embed.clip import ClipEmbedder

    folder = Path(tempfile.mkdtemp(prefix="vs-bench-", dir=OUT))
    try:
        media = folder / "media"
        media.mkdir()
        for i in range(copies):
            os.symlink(video, media / (f"c{i:03d}-{video.name}" if copies > 1 else video.name))
        name = f"{arch}/random"
        svc = Service(folder / "lib", model=name, device=device, precision=precision)
        svc.update_settings(sampling=sampling, interval=1.0, speech=False, batch=batch, hw_decode=hw_decode)
        emb = ClipEmbedder(arch, None, device=device, precision=precision, batch_size=max(64, batch))
        svc._embedders[name] = emb
        emb.embed_images([np.zeros((224, 398, 3), "uint8")] * 2)  # warm
        from vsearch.embed.health import probe_model

        t0 = time.perf_counter()
        probe_model(emb)  # the health check Service.index runs once per new model
        health = time.perf_counter() - t0
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        stats = svc.index([media])
        wall = time.perf_counter() - t0
        svc.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    st = stats.stage_seconds
    vs = stats.video_seconds or 1e-9
    return {
        "wall": wall,
        "video_s": stats.video_seconds,
        "frames": stats.frames,
        "e2e": vs / wall,
        "decode_wait": st.get("decode_wait", 0.0),
        "embed": st.get("embed", 0.0),
        "store": st.get("store", 0.0),
        "probe": st.get("probe", 0.0),
        "scan": st.get("scan", 0.0),
        "total": st.get("total", 0.0),
        "vectors_per_hour": stats.frames * 3600.0 / vs,
        "load": load_before,
        "health": health,
        "precision": emb.precision,
        "device": emb.device,
    }


def print_speed(label: str, sampling: str, r: dict[str, float]) -> None:
    t2, t8 = TARGETS[sampling]

    def rate(sec: float) -> str:
        return f"{r['video_s'] / sec:7.1f}x" if sec > 0 else "      -"

    verdict = (
        "meets issue 8" if r["e2e"] >= t8 else "meets issue 2 only" if r["e2e"] >= t2 else "MISSES issue 2"
    )
    print(
        f"{label:<22} end to end {r['e2e']:6.1f}x real time ({r['wall']:.2f} s wall for {r['video_s']:.0f} s video) "
        f"targets >= {t2:g}x / {t8:g}x: {verdict}   [{r['device']} {r['precision']}, load {r['load']:.1f}]"
    )
    print(
        f"{'':<22} per stage: decode wait {r['decode_wait']:.2f} s, embed {r['embed']:.2f} s ({rate(r['embed'])}), "
        f"store {r['store']:.2f} s ({rate(r['store'])}), probe {r['probe']:.2f} s, scan {r['scan']:.3f} s; "
        f"frames {r['frames']:.0f} = {r['vectors_per_hour']:.0f} vectors per hour of video"
    )
    other = r["wall"] - r["total"] - r["probe"] - r["scan"]
    print(
        f"{'':<22} outside the frame loop: {other:.2f} s (model health probe alone: {r['health']:.2f} s, "
        f"fixed per run); frame loop alone {r['video_s'] / max(r['total'], 1e-9):.1f}x real time"
    )


def make_small_videos(folder: Path, n: int) -> None:
    """*n* tiny distinct videos (1 s, 64x48), cached."""
    sys.path.insert(0, str(ROOT))
    from tests.helpers.videos import make_video

    folder.mkdir(parents=True, exist_ok=True)
    colours = ["red", "green", "blue", "yellow", "cyan", "magenta", "white", "black"]
    for i in range(n):
        p = folder / f"v{i:03d}.mp4"
        if not p.exists():
            make_video(
                p,
                [(colours[i % len(colours)], 0.5), (colours[(i // 8) % len(colours)], 0.5)],
                fps=4,
                size=(64, 48),
                seed=i,
            )


def rerun(n: int, repeat: int) -> None:
    media = OUT / f"small_{n}"
    make_small_videos(media, n)
    lib = OUT / f"rerun_lib_{n}"
    shutil.rmtree(lib, ignore_errors=True)
    env = dict(os.environ, VSEARCH_HOME=str(lib))
    with Service(lib, model="test-color") as svc:
        svc.update_settings(speech=False)
        t0 = time.perf_counter()
        first = svc.index([media])
        print(
            f"first index of {n} tiny videos with test-color: {time.perf_counter() - t0:.2f} s, indexed {first.indexed}  [{_load()}]"
        )
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            st = svc.index()
            best = min(best, time.perf_counter() - t0)
        assert st.unchanged == n and st.indexed == 0, st
        verdict = "met" if best < RERUN_TARGET_S else "MISSED"
        print(
            f"re-run over unchanged {n}-video folder, Service.index() in process: {best * 1000:.0f} ms "
            f"(best of {repeat}; scan {st.stage_seconds.get('scan', 0) * 1000:.0f} ms)  target < {RERUN_TARGET_S:g} s: {verdict}  [{_load()}]"
        )
    cmd = [sys.executable, "-m", "vsearch", "--library", str(lib), "index", "--no-speech", "-q"]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import vsearch.cli"], check=True, cwd=ROOT)
    imp = time.perf_counter() - t0
    verdict = "met" if best < RERUN_TARGET_S else "MISSED"
    print(
        f"re-run, CLI `vsearch index` subprocess (Python start-up included): {best * 1000:.0f} ms (best of {repeat}; "
        f"`python -c 'import vsearch.cli'` alone {imp * 1000:.0f} ms)  target < {RERUN_TARGET_S:g} s: {verdict}  [{_load()}]"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--video", type=Path, default=None)
    ap.add_argument("--arch", default="ViT-B-32")
    ap.add_argument("--precision", default=None, help="auto (default), fp32, bf16 or fp16")
    ap.add_argument("--videos", type=int, default=100, help="videos in the re-run folder")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-rerun", action="store_true")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs, {_load()} (wall-clock rates are only meaningful on an idle machine)")
    if not args.skip_speed:
        video = args.video or make_bench_video(OUT / f"bench_1080p_{args.seconds}s.mp4", seconds=args.seconds)
        for sampling, label in (("keyframe", "keyframe (default)"), ("exact", "exact 1 frame/s")):
            print_speed(
                label, sampling, index_speed(video.resolve(), sampling, args.arch, precision=args.precision)
            )
    if not args.skip_rerun:
        rerun(args.videos, args.repeat)


if __name__ == "__main__":
    main()
