"""ColorEmbedder: a deterministic, model-free embedder for tests ("red" finds red frames)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from vsearch.embed.base import l2_normalise

#: The palette; tests/helpers/videos.py paints its generated videos with it.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 20, 20),
    "green": (20, 200, 40),
    "blue": (20, 40, 220),
    "yellow": (230, 220, 30),
    "white": (245, 245, 245),
    "black": (10, 10, 10),
    "cyan": (30, 210, 220),
    "magenta": (210, 30, 200),
    "orange": (240, 140, 20),
    "purple": (120, 40, 160),
    "grey": (128, 128, 128),
}

#: Words that mean a palette colour.
ALIASES: dict[str, str] = {"gray": "grey", "violet": "purple", "pink": "magenta", "teal": "cyan"}

_NAMES = list(COLORS)
_PALETTE = np.array([COLORS[n] for n in _NAMES], dtype=np.float32)  # [K, 3]
_BIAS = 0.05  # constant component: no vector is ever zero
_WORD = re.compile(r"[a-z]+")


class ColorEmbedder:
    """Embeds a frame as its histogram over a fixed colour palette, and text as the colours it names.

    Every pixel counts for its nearest palette colour (so encoder colour shifts do not matter).
    The last component is a small constant, so text without colour words and images still get
    a non-zero vector.

    Attributes:
        model_id: "test-color-v1".
        dim: palette size + 1.
        image_size: 32 (decoders may shrink frames that far).
        device: "cpu" (numpy only).
    """

    model_id = "test-color-v1"
    dim = len(COLORS) + 1
    image_size = 32
    device = "cpu"

    def release(self) -> None:
        """Nothing to free: the palette is a constant."""

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 [H, W, 3] frames -> float32 [N, dim], L2-normalised."""
        out = np.zeros((len(images), self.dim), dtype=np.float32)
        for i, img in enumerate(images):
            arr = np.asarray(img)
            step = max(1, min(arr.shape[0], arr.shape[1]) // 48)  # about 48 samples per side is plenty
            px = arr[::step, ::step, :3].reshape(-1, 3).astype(np.float32)
            d = ((px[:, None, :] - _PALETTE[None, :, :]) ** 2).sum(-1)
            counts = np.bincount(d.argmin(1), minlength=len(_NAMES)).astype(np.float32)
            out[i, :-1] = counts / max(1.0, float(counts.sum()))
            out[i, -1] = _BIAS
        return l2_normalise(out)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences -> float32 [N, dim]: one-hot sum of the palette colours named, plus the constant."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                word = ALIASES.get(word, word)
                if word in COLORS:
                    out[i, _NAMES.index(word)] = 1.0
            out[i, -1] = _BIAS
        return l2_normalise(out)
