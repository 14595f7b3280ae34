"""Images/s of the open_clip image tower on this machine: torch fp32 / bf16, ONNX Runtime fp32 / int8.

Also the text tower's time for one short query, over the full 77-token context and as vsearch
runs it (cut at the end-of-text token), in fp32 and bf16.

Random weights are used (speed does not depend on the weights, and no download is needed).

Usage::

    python benchmarks/bench_embed.py                      # ViT-B-32, batch 32, threads = cores
    python benchmarks/bench_embed.py --arch MobileCLIP2-S0 --no-onnx
    python benchmarks/bench_embed.py --json out.json

ONNX parts need ``onnx`` and ``onnxruntime`` (``pip install onnx onnxruntime``); they are skipped
when either is missing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsearch.embed.clip import ClipEmbedder  # noqa: E402


def frames(n: int, short: int, aspect: float = 16 / 9, seed: int = 0) -> list[np.ndarray]:
    """Decoder-like frames: short side already about the model size, 16:9."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (short, round(short * aspect), 3), dtype=np.uint8) for _ in range(n)]


def timed(fn: Any, reps: int) -> float:
    """Best-of-*reps* wall time of fn() after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench(arch: str, batch: int, threads: int, reps: int, onnx: bool) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    emb = ClipEmbedder(arch, None, device="cpu", batch_size=batch, threads=threads, precision="fp32")
    imgs = frames(batch, emb.image_size)
    res: dict[str, Any] = {
        "arch": arch,
        "loadavg_1m_before": _loadavg(),
        "batch": batch,
        "threads": threads,
        "cpu": _cpu_name(),
        "torch": torch.__version__,
    }

    t_pre = timed(lambda: emb.preprocess(imgs), reps)
    res["preprocess_img_s"] = batch / t_pre
    t_full = timed(lambda: emb.embed_images(imgs), reps)
    res["torch_fp32_end_to_end_img_s"] = batch / t_full
    model = emb._ensure_model()
    x = emb.preprocess(imgs)

    def tower() -> None:
        with torch.inference_mode():
            model.encode_image(x)

    res["torch_fp32_tower_img_s"] = batch / timed(tower, reps)

    def tower_bf16() -> None:  # autocast: AMX / AVX512-BF16 CPUs run this much faster
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            model.encode_image(x)

    res["torch_bf16_autocast_tower_img_s"] = batch / timed(tower_bf16, reps)
    with torch.inference_mode():
        ref = torch.nn.functional.normalize(model.encode_image(x), dim=-1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            got = torch.nn.functional.normalize(model.encode_image(x).float(), dim=-1)
    res["torch_bf16_min_cos_vs_fp32"] = float((ref * got).sum(1).min())
    # what precision="auto" picks on AMX / AVX512-BF16 CPUs: the weights themselves in bf16
    half = ClipEmbedder(arch, None, device="cpu", batch_size=batch, threads=threads, precision="bf16")
    hmodel = half._ensure_model()
    xb = half.preprocess(imgs)

    def tower_bf16_weights() -> None:
        with torch.inference_mode():
            hmodel.encode_image(xb)

    res["torch_bf16_weights_tower_img_s"] = batch / timed(tower_bf16_weights, reps)
    res["torch_bf16_weights_end_to_end_img_s"] = batch / timed(lambda: half.embed_images(imgs), reps)
    res["torch_bf16_weights_min_cos_vs_fp32"] = float(
        (emb.embed_images(imgs) * half.embed_images(imgs)).sum(1).min()
    )
    tok = emb._ensure_tokenizer()
    query = ["a dog catching a frisbee on the beach"]

    def one_query() -> None:
        with torch.inference_mode():
            model.encode_text(tok(query))

    res["text_query_full_context_fp32_ms"] = 1000 * timed(one_query, reps)
    res["text_query_fp32_ms"] = 1000 * timed(lambda: emb.embed_text(query), reps)
    res["text_query_bf16_ms"] = 1000 * timed(lambda: half.embed_text(query), reps)
    res["text_bf16_cos_vs_fp32"] = float((emb.embed_text(query) * half.embed_text(query)).sum())

    if onnx and importlib.util.find_spec("onnx") and importlib.util.find_spec("onnxruntime"):
        res.update(_bench_onnx(model, x, threads, reps))
    elif onnx:
        res["onnx"] = "skipped: pip install onnx onnxruntime"
    return res


def _bench_onnx(model: Any, x: Any, threads: int, reps: int) -> dict[str, Any]:
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out: dict[str, Any] = {"onnxruntime": ort.__version__}
    batch = int(x.shape[0])

    class Visual(torch.nn.Module):
        def __init__(self, m: Any) -> None:
            super().__init__()
            self.m = m

        def forward(self, img: Any) -> Any:
            return self.m.encode_image(img)

    with tempfile.TemporaryDirectory() as d:
        fp32 = Path(d) / "visual.onnx"
        int8 = Path(d) / "visual.int8.onnx"
        torch.onnx.export(
            Visual(model).eval(),
            (x,),
            str(fp32),
            input_names=["image"],
            output_names=["features"],
            dynamic_axes={"image": {0: "n"}, "features": {0: "n"}},
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        out["onnx_fp32_mb"] = fp32.stat().st_size / 1e6
        out["onnx_int8_mb"] = int8.stat().st_size / 1e6
        xn = x.numpy()
        with torch.inference_mode():
            ref = torch.nn.functional.normalize(model.encode_image(x), dim=-1).numpy()
        for label, path in (("fp32", fp32), ("int8", int8)):
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
            out[f"onnx_{label}_tower_img_s"] = batch / timed(lambda s=sess: s.run(None, {"image": xn}), reps)
            got = sess.run(None, {"image": xn})[0]
            got = got / np.linalg.norm(got, axis=1, keepdims=True)
            out[f"onnx_{label}_min_cos_vs_torch"] = float((got * ref).sum(1).min())
    return out


def _loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="ViT-B-32")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-onnx", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    res = bench(a.arch, a.batch, a.threads, a.reps, not a.no_onnx)
    res["loadavg_1m_after"] = _loadavg()
    for k, v in res.items():
        fmt = ".4f" if "cos" in k else ".2f"
        print(f"{k:34s} {v:{fmt}}" if isinstance(v, float) else f"{k:34s} {v}")
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
