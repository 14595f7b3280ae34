"""Embedding health checks: NaN, zero, collapsed vectors, and the probe on load."""

from __future__ import annotations

import numpy as np
import pytest

from vsearch.embed.base import l2_normalise
from vsearch.embed.health import EmbeddingHealthError, check_vectors, probe_model
from vsearch.embed.testing import ColorEmbedder
from vsearch.errors import EnvironmentProblem


def good(n: int = 6, d: int = 8) -> np.ndarray:
    return l2_normalise(np.random.default_rng(0).normal(size=(n, d)))


def test_good_vectors_pass() -> None:
    check_vectors(good(), model_id="m", dim=8, min_distinct=6)


def test_nan_is_reported() -> None:
    v = good()
    v[2, 3] = np.nan
    with pytest.raises(EmbeddingHealthError, match="NaN or infinite values for 1 of 6") as err:
        check_vectors(v, model_id="m")
    assert isinstance(err.value, EnvironmentProblem)
    assert "\n" not in str(err.value)


def test_zero_rows_are_reported() -> None:
    v = good()
    v[0] = 0
    with pytest.raises(EmbeddingHealthError, match="all-zero"):
        check_vectors(v, model_id="m")


def test_constant_vectors_for_different_inputs_are_reported() -> None:
    v = np.repeat(good(1), 5, axis=0)
    with pytest.raises(EmbeddingHealthError, match="same vector for different inputs"):
        check_vectors(v, model_id="m", min_distinct=2)


def test_collapsed_but_not_identical_vectors_are_reported() -> None:
    base = good(1)
    v = l2_normalise(base + 1e-4 * np.random.default_rng(1).normal(size=(6, 8)))
    with pytest.raises(EmbeddingHealthError, match="model broken-model"):
        check_vectors(v, model_id="broken-model", min_distinct=2)


def test_static_scene_is_fine_without_min_distinct() -> None:
    check_vectors(np.repeat(good(1), 5, axis=0), model_id="m")


def test_wrong_width_is_reported() -> None:
    with pytest.raises(EmbeddingHealthError, match="length 8, expected 16"):
        check_vectors(good(), model_id="m", dim=16)


class _NaNEmbedder(ColorEmbedder):
    model_id = "nan-model"

    def embed_images(self, images):
        v = super().embed_images(images)
        v[:] = np.nan
        return v


class _CollapsedEmbedder(ColorEmbedder):
    model_id = "collapsed-model"

    def embed_images(self, images):
        v = super().embed_images(images)
        return np.repeat(v[:1], len(v), axis=0)


def test_probe_passes_for_working_models() -> None:
    from vsearch.embed.clip import TINY_ARCH, ClipEmbedder

    probe_model(ColorEmbedder())
    probe_model(ClipEmbedder(TINY_ARCH, None, device="cpu"))


@pytest.mark.parametrize("cls", [_NaNEmbedder, _CollapsedEmbedder])
def test_probe_catches_broken_models(cls) -> None:
    with pytest.raises(EmbeddingHealthError, match=cls.model_id):
        probe_model(cls())
