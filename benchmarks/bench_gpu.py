"""GPU path: encoder images/s and end-to-end indexing speed with every CPU core decoding.

Usage (normally through ``benchmarks/gpu.sh`` on a CUDA machine)::

    python benchmarks/bench_gpu.py [--copies 48] [--seconds 60] [--archs ViT-B-32 ViT-L-14]
                                   [--json out.json] [--skip-exact]

1. Encoder throughput per architecture (random weights: speed does not depend on them), fp16:
   the image tower alone on a GPU-resident batch, and ``ClipEmbedder.embed_images`` on uint8
   frames as the decoders deliver them (host crop, pinned upload, normalise on the GPU).
2. Decode alone: the keyframe-mode and exact-1-fps decode of ``--copies`` links to the 1080p
   bench file (bench_decode.py), one video per core (vsearch.indexer.decode_plan), no model.
3. End to end: ``Service.index`` over the same folder with ViT-B-32 (and ViT-L-14 in keyframe
   mode) on the GPU, keyframe (default) and exact 1 frame/s, as bench_index.py does on the CPU.

Issue 8's targets on one H100/H200 with 16 cores: >= 500x real time default, >= 60x exact.
Works on a CPU-only machine too (tiny numbers, for checking the script itself).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from bench_decode import OUT, make_bench_video  # noqa: E402
from bench_index import index_speed  # noqa: E402

TARGETS = {"keyframe": 500.0, "exact": 60.0}


def machine() -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update(gpu=p.name, gpu_memory_gb=round(p.total_memory / 2**30, 1), sms=p.multi_processor_count)
    else:
        info["gpu"] = None
    try:
        import av

        info["pyav"] = av.__version__
        from av.codec.hwaccel import hwdevices_available

        info["hw_decoders"] = list(hwdevices_available())
    except Exception as e:  # noqa: BLE001 - an older PyAV: just say so
        info["hw_decoders"] = f"unknown ({type(e).__name__})"
    return info


def encoder_speed(arch: str, device: str, batch: int, reps: int) -> dict[str, float]:
    """images/s of the image tower alone and of embed_images on 224-short-side uint8 frames."""
    import torch

    from vsearch.embed.clip import ClipEmbedder

    emb = ClipEmbedder(arch, None, device=device, batch_size=batch)
    model = emb._ensure_model()
    s = emb.image_size
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (s, round(s * 16 / 9), 3), dtype=np.uint8) for _ in range(batch)]
    x = emb.preprocess(frames)

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    with torch.inference_mode():
        for _ in range(2):
            model.encode_image(x)
        sync()
        t0 = time.perf_counter()
        for _ in range(reps):
            model.encode_image(x)
        sync()
        tower = batch * reps / (time.perf_counter() - t0)
    emb.embed_images(frames)
    t0 = time.perf_counter()
    for _ in range(reps):
        emb.embed_images(frames)
    full = batch * reps / (time.perf_counter() - t0)
    out = {
        "arch": arch,
        "precision": emb.precision,
        "batch": batch,
        "tower_img_s": tower,
        "embed_images_img_s": full,
    }
    del model, emb
    if device == "cuda":
        torch.cuda.empty_cache()
    return out


def decode_speed(
    video: Path, copies: int, sampling: str, hwaccel: str | None = None, processes: bool = True
) -> dict[str, Any]:
    """Video-seconds decoded per wall-second with the indexer's pool (threads or processes), no model."""
    from vsearch.decode_pool import Batch, DecodeJob, start_pool
    from vsearch.frames import SampleOptions
    from vsearch.indexer import decode_plan
    from vsearch.probe import probe

    info = probe(video)
    workers, threads = decode_plan(0, os.cpu_count() or 2, "cuda", copies)
    opts = SampleOptions(
        mode=sampling,
        interval=1.0,
        skip_similar=0.02 if sampling == "keyframe" else None,
        short_side=224,
        threads=threads,
        hwaccel=hwaccel,
    )
    t0 = time.perf_counter()
    pool = start_pool([DecodeJob(str(video), info)] * copies, opts, workers, processes)
    frames = 0
    try:
        for event in pool.events(timeout=1.0):
            if isinstance(event, Batch):
                frames += len(event.frames)
    finally:
        pool.close()
    wall = time.perf_counter() - t0
    return {
        "sampling": sampling,
        "hwaccel": hwaccel,
        "pool": "processes" if processes else "threads",
        "workers": workers,
        "threads": threads,
        "frames": frames,
        "video_s": info.duration * copies,
        "x_real_time": info.duration * copies / wall,
        "wall": wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=48, help="links to the bench file in the indexed folder")
    ap.add_argument("--seconds", type=int, default=60, help="length of the 1080p bench file")
    ap.add_argument("--archs", nargs="+", default=["ViT-B-32", "ViT-L-14"])
    ap.add_argument("--batch", type=int, default=256, help="encoder benchmark batch")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--skip-exact", action="store_true")
    ap.add_argument(
        "--hw-decode",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time NVDEC decoding (PyAV hwaccel) on a CUDA machine",
    )
    ap.add_argument("--hw-copies", type=int, default=16, help="links to the bench file for the NVDEC runs")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    results: dict[str, Any] = {"machine": machine(), "encoder": [], "decode": [], "index": []}

    def dump() -> None:
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1))

    print(json.dumps(results["machine"]), flush=True)
    t_start = time.perf_counter()
    for arch in args.archs:
        try:
            r = encoder_speed(
                arch, device, args.batch if device == "cuda" else 8, args.reps if device == "cuda" else 1
            )
        except Exception as e:  # noqa: BLE001 - report and go on with the next measurement
            print(f"encoder {arch}: FAILED {type(e).__name__}: {e}", flush=True)
            continue
        results["encoder"].append(r)
        print(
            f"encoder {arch:<10} {r['precision']} batch {r['batch']}: tower {r['tower_img_s']:8.0f} images/s, "
            f"embed_images (host crop + upload + normalise) {r['embed_images_img_s']:8.0f} images/s",
            flush=True,
        )
        dump()

    t0 = time.perf_counter()
    video = make_bench_video(OUT / f"bench_1080p_{args.seconds}s.mp4", seconds=args.seconds).resolve()
    print(f"bench video ready in {time.perf_counter() - t0:.1f} s", flush=True)
    modes = ["keyframe"] if args.skip_exact else ["keyframe", "exact"]
    hw = ["cuda"] if device == "cuda" and args.hw_decode else []
    plan = [(m, None, True) for m in modes] + [("keyframe", None, False)]
    plan += [(m, h, True) for h in hw for m in modes]
    for sampling, accel, procs in plan:
        try:
            r = decode_speed(video, args.hw_copies if accel else args.copies, sampling, accel, procs)
        except Exception as e:  # noqa: BLE001
            print(f"decode only {sampling} hwaccel={accel}: FAILED {type(e).__name__}: {e}", flush=True)
            continue
        results["decode"].append(r)
        print(
            f"decode only {sampling:<8} {accel or 'software':<8} {r['pool']:<9}: {r['x_real_time']:7.1f}x real time "
            f"({r['video_s']:.0f} s of video in {r['wall']:.1f} s, {r['workers']} workers x {r['threads']} threads, "
            f"{r['frames']} frames)",
            flush=True,
        )
        dump()

    runs = [("ViT-B-32", s, "") for s in modes] + [(a, "keyframe", "") for a in args.archs if a != "ViT-B-32"]
    runs += [("ViT-B-32", "exact", h) for h in hw if not args.skip_exact]
    for arch, sampling, accel in runs:
        try:
            copies = args.hw_copies if accel else args.copies
            r = index_speed(video, sampling, arch, device=device, copies=copies, batch=32, hw_decode=accel)
        except Exception as e:  # noqa: BLE001
            print(f"index {arch} {sampling} {accel}: FAILED {type(e).__name__}: {e}", flush=True)
            continue
        r.update(arch=arch, sampling=sampling, copies=copies, hw_decode=accel)
        results["index"].append(r)
        r["at_s"] = time.perf_counter() - t_start
        target = TARGETS[sampling]
        verdict = "meets" if r["e2e"] >= target else "MISSES"
        print(
            f"index {arch:<9} {sampling:<8} {accel or 'software':<8}: {r['e2e']:7.1f}x real time ({r['video_s']:.0f} s video in {r['wall']:.1f} s; "
            f"target >= {target:g}x: {verdict}); decode wait {r['decode_wait']:.1f} s, embed {r['embed']:.1f} s, "
            f"store {r['store']:.1f} s, {r['frames']:.0f} frames [{r['device']} {r['precision']}]",
            flush=True,
        )
        dump()
    dump()


if __name__ == "__main__":
    main()
