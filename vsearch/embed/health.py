"""Sanity checks on embedding vectors: NaN/inf, zero norm, and models that collapse every input."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vsearch.errors import EnvironmentProblem

if TYPE_CHECKING:
    from vsearch.embed.base import Embedder

#: Two vectors with cosine similarity above this count as "the same".
COLLAPSE_COS = 0.999

_PROBE_TEXTS = (
    "red",
    "a blue sky over the sea",
    "a dog running on green grass",
    "a black and white photo of a city street at night",
    "a person cooking in a kitchen",
)


class EmbeddingHealthError(EnvironmentProblem):
    """A model produced unusable vectors (broken weights, bad precision on this device, ...)."""


def _count_distinct(v: np.ndarray, cos: float) -> int:
    """Greedy count of groups whose members are within *cos* of the group's first member."""
    reps: list[np.ndarray] = []
    for row in v:
        if not any(float(row @ r) > cos for r in reps):
            reps.append(row)
    return len(reps)


def check_vectors(
    vectors: np.ndarray,
    *,
    model_id: str,
    dim: int | None = None,
    min_distinct: int = 1,
    collapse_cos: float = COLLAPSE_COS,
) -> None:
    """Raise :class:`EmbeddingHealthError` if *vectors* are unusable.

    Always checked: a 2-D float array, the expected width, every value finite, every row of
    unit length. ``min_distinct`` is only meaningful for vectors of inputs known to be different
    (a probe set): a static scene legitimately gives near-identical vectors.

    Args:
        vectors: [N, D] embeddings.
        model_id: named in the message.
        dim: expected D, if known.
        min_distinct: at least this many rows must differ (cosine below ``collapse_cos``).
        collapse_cos: similarity above which two rows count as the same.
    """
    v = np.asarray(vectors)
    where = f"model {model_id}"
    if v.ndim != 2:
        raise EmbeddingHealthError(f"{where} returned an array of shape {v.shape}, expected [N, D]")
    if dim is not None and v.shape[1] != dim:
        raise EmbeddingHealthError(f"{where} returned vectors of length {v.shape[1]}, expected {dim}")
    if v.shape[0] == 0:
        return
    v = v.astype(np.float32, copy=False)
    bad = ~np.isfinite(v).all(axis=1)
    if bad.any():
        raise EmbeddingHealthError(
            f"{where} returned NaN or infinite values for {int(bad.sum())} of {len(v)} inputs "
            "(broken weights or unsupported precision on this device; try --device cpu)"
        )
    norms = np.linalg.norm(v, axis=1)
    if (norms < 1e-6).any():
        raise EmbeddingHealthError(
            f"{where} returned all-zero vectors for {int((norms < 1e-6).sum())} inputs"
        )
    if (np.abs(norms - 1.0) > 1e-2).any():
        raise EmbeddingHealthError(
            f"{where} returned vectors that are not unit length (norm {norms.min():.3g}..{norms.max():.3g})"
        )
    if min_distinct > 1:
        distinct = _count_distinct(v / norms[:, None], collapse_cos)
        if distinct < min_distinct:
            raise EmbeddingHealthError(
                f"{where} gives (nearly) the same vector for different inputs "
                f"({distinct} distinct of {len(v)}, need {min_distinct}); the weights look broken"
            )


def probe_images(size: int) -> list[np.ndarray]:
    """A fixed set of clearly different synthetic RGB images (solid colours and patterns)."""
    s = max(8, int(size))
    yy, xx = np.mgrid[0:s, 0:s]
    solid = [(220, 20, 20), (20, 200, 40), (20, 40, 220), (245, 245, 245), (10, 10, 10)]
    imgs = [np.full((s, s, 3), c, dtype=np.uint8) for c in solid]
    checker = (((yy // max(1, s // 8)) + (xx // max(1, s // 8))) % 2 * 255).astype(np.uint8)
    imgs.append(np.stack([checker] * 3, axis=-1))
    grad = (xx * 255 // max(1, s - 1)).astype(np.uint8)
    imgs.append(np.stack([grad, 255 - grad, (yy * 255 // max(1, s - 1)).astype(np.uint8)], axis=-1))
    stripes = ((yy // max(1, s // 16)) % 2 * 200).astype(np.uint8)
    imgs.append(np.stack([stripes, np.full_like(stripes, 90), 255 - stripes], axis=-1))
    return imgs


def probe_model(embedder: Embedder) -> None:
    """Embed a fixed probe set of images and texts and check the vectors are finite and distinct.

    Called by the indexer right after loading a model, so a broken checkpoint or a device that
    silently produces NaNs in fp16 is reported before any vector is written.

    Raises:
        EmbeddingHealthError: with a one-line message naming the model.
    """
    images = probe_images(embedder.image_size)
    iv = embedder.embed_images(images)
    check_vectors(iv, model_id=embedder.model_id, dim=embedder.dim, min_distinct=2)
    if iv.shape[0] != len(images):
        raise EmbeddingHealthError(
            f"model {embedder.model_id} returned {iv.shape[0]} vectors for {len(images)} images"
        )
    tv = embedder.embed_text(list(_PROBE_TEXTS))
    check_vectors(tv, model_id=embedder.model_id, dim=embedder.dim, min_distinct=2)
    if tv.shape[0] != len(_PROBE_TEXTS):
        raise EmbeddingHealthError(
            f"model {embedder.model_id} returned {tv.shape[0]} vectors for {len(_PROBE_TEXTS)} texts"
        )
