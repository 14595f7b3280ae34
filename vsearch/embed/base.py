"""The Embedder protocol that every backend implements."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from vsearch.types import PRECISIONS

__all__ = [
    "PRECISIONS",
    "Embedder",
    "cpu_has_fast_bf16",
    "embed_queries",
    "embed_templated",
    "l2_normalise",
    "pick_device",
    "pick_precision",
    "query_templates",
    "torch_dtype",
]


@runtime_checkable
class Embedder(Protocol):
    """Maps RGB frames and sentences into one space.

    Attributes:
        model_id: identity of the vector space (architecture + weights + preprocessing
            version). Vectors of different ids are never compared.
        dim: length of every vector.
        image_size: the side the backend resizes to; decoders may downscale frames so the
            short side is about this size before they cross process boundaries.
        device: where it computes ("cpu", "cuda" or "mps"); the indexer sizes its decoder
            pool by it.

    An embedder may also say ``text_in_torch = True`` (its text tower runs in torch, whose
    threads still spin after a query is encoded): a process that searches with it keeps
    numpy's BLAS on one thread (vsearch/threads.py).

    It may also name ``query_templates`` (``str.format`` patterns with one ``{}`` each): the
    forms a search query takes before its text tower embeds it, their vectors averaged
    (prompt ensembling, Radford et al. 2021), and the query bank with them
    (:func:`embed_queries`). Without them a query is embedded as typed.
    """

    model_id: str
    dim: int
    image_size: int
    device: str

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 arrays [H, W, 3] -> float32 [N, dim], each row L2-normalised."""
        ...

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences -> float32 [N, dim], each row L2-normalised."""
        ...

    def release(self) -> None:
        """Free the loaded weights (memory, GPU); the next embed call loads them again."""
        ...


def query_templates(embedder: object) -> tuple[str, ...]:
    """The embedder's query templates (``("{}",)``: the query as typed)."""
    tpls = getattr(embedder, "query_templates", ("{}",))
    if isinstance(tpls, str):
        tpls = (tpls,)
    tpls = tuple(t for t in tpls if isinstance(t, str) and "{}" in t)
    return tpls or ("{}",)


def embed_templated(
    embed_text: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], templates: Sequence[str]
) -> np.ndarray:
    """*texts* embedded in each of *templates*, the vectors averaged and L2-normalised: float32 [N, dim].

    One ``embed_text`` call for all the forms (a batch of two costs 1.5x one sentence, not 2x);
    the starter remembers each sentence of so small a batch, so the experts that embed the
    query as typed (speech, on-screen text, gating) get it from memory.
    """
    texts, templates = list(texts), tuple(templates)
    if templates == ("{}",):
        return np.asarray(embed_text(texts), dtype=np.float32)
    v = np.asarray(embed_text([tpl.format(t) for t in texts for tpl in templates]), dtype=np.float32)
    return l2_normalise(v.reshape(len(texts), len(templates), -1).sum(axis=1))


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Search queries -> float32 [N, dim] as the embedder's visual search embeds them (its query templates)."""
    return embed_templated(embedder.embed_text, texts, query_templates(embedder))


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation to float32; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    out: np.ndarray = (x / np.maximum(n, 1e-12)).astype(np.float32)
    return out



def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX or AVX512-BF16).

    On such CPUs (Intel Sapphire Rapids and later, AMD Zen 4 and later) a ViT in bfloat16 runs
    several times faster than in float32 (ViT-B-32 image tower: 134 against 25 images/s on
    2 cores with AMX); elsewhere bfloat16 is emulated and slower, so float32 stays.
    """
    import torch

    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        fn = getattr(cpu, probe, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # noqa: BLE001 - an unknown build: assume no
            continue
    return False


def pick_precision(device: str, requested: str | None = None) -> str:
    """'auto'/None -> 'fp16' on GPUs, 'bf16' on CPUs with hardware bfloat16, else 'fp32'."""
    if requested and requested != "auto":
        if requested not in PRECISIONS:
            raise ValueError(f"precision must be one of auto, {', '.join(PRECISIONS)}; got {requested!r}")
        return requested
    if device in ("cuda", "mps"):
        return "fp16"
    return "bf16" if device == "cpu" and cpu_has_fast_bf16() else "fp32"


def torch_dtype(precision: str) -> object:
    """The torch dtype of a precision name ("fp32", "bf16", "fp16")."""
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def pick_device(requested: str = "auto") -> str:
    """'auto' -> 'cuda' if present, then Apple 'mps', else 'cpu'."""
    if requested != "auto":
        return requested
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"
