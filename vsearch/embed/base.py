"""The Embedder protocol that every backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Maps RGB frames and sentences into one space.

    Attributes:
        model_id: identity of the vector space (architecture + weights + preprocessing
            version). Vectors of different ids are never compared.
        dim: length of every vector.
        image_size: the side the backend resizes to; decoders may downscale frames so the
            short side is about this size before they cross process boundaries.
    """

    model_id: str
    dim: int
    image_size: int

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 arrays [H, W, 3] -> float32 [N, dim], each row L2-normalised."""
        ...

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences -> float32 [N, dim], each row L2-normalised."""
        ...


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation to float32; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


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
