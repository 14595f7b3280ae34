"""The open_clip backend: tiny random model offline, determinism, missing weights, preprocessing."""

from __future__ import annotations

import numpy as np
import pytest

from vsearch.embed.base import Embedder
from vsearch.embed.clip import TINY_ARCH, ClipEmbedder
from vsearch.embed.weights import file_digest
from vsearch.errors import ModelMissing, UserError, WeightsMissing


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # an empty default hub cache, so weights a developer happens to have do not leak in
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "default-hub-cache"))


def frames(n: int, h: int = 40, w: int = 56, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def test_tiny_random_gives_normalised_float32_rows() -> None:
    emb = ClipEmbedder(TINY_ARCH, None, device="cpu")
    assert isinstance(emb, Embedder)
    v = emb.embed_images(frames(5))
    assert v.shape == (5, emb.dim) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    t = emb.embed_text(["a red car", "a dog on the beach"])
    assert t.shape == (2, emb.dim) and t.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-5)
    assert emb.model_id == f"openclip:{TINY_ARCH}:random-seed0:pp1"
    assert emb.image_size == 32


def test_empty_inputs_give_empty_arrays() -> None:
    emb = ClipEmbedder(TINY_ARCH, None, device="cpu")
    assert emb.embed_images([]).shape == (0, emb.dim)
    assert emb.embed_text([]).shape == (0, emb.dim)


def test_two_loads_give_the_same_model_and_vectors() -> None:
    imgs = frames(4)
    a = ClipEmbedder(TINY_ARCH, None, device="cpu")
    b = ClipEmbedder(TINY_ARCH, None, device="cpu")
    assert a.model_id == b.model_id
    np.testing.assert_array_equal(a.embed_images(imgs), b.embed_images(imgs))
    np.testing.assert_array_equal(a.embed_text(["sunset"]), b.embed_text(["sunset"]))
    c = ClipEmbedder(TINY_ARCH, None, device="cpu", seed=1)
    assert c.model_id != a.model_id
    assert not np.allclose(c.embed_images(imgs), a.embed_images(imgs))


def test_batching_does_not_change_results() -> None:
    imgs = frames(7)
    one = ClipEmbedder(TINY_ARCH, None, device="cpu", batch_size=64).embed_images(imgs)
    small = ClipEmbedder(TINY_ARCH, None, device="cpu", batch_size=3).embed_images(imgs)
    np.testing.assert_allclose(one, small, atol=1e-5)


def test_frames_of_any_shape_and_channels_are_accepted() -> None:
    emb = ClipEmbedder(TINY_ARCH, None, device="cpu")
    rng = np.random.default_rng(3)
    imgs = [
        rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),  # already the model size
        rng.integers(0, 256, (90, 30, 3), dtype=np.uint8),  # portrait, downscaled
        rng.integers(0, 256, (10, 20, 3), dtype=np.uint8),  # tiny, upscaled
        rng.integers(0, 256, (40, 40, 4), dtype=np.uint8),  # RGBA
        rng.integers(0, 256, (40, 50), dtype=np.uint8),  # greyscale
        np.ascontiguousarray(rng.integers(0, 256, (50, 80, 3), dtype=np.uint8)[:, ::-1]),
    ]
    v = emb.embed_images(imgs)
    assert v.shape == (len(imgs), emb.dim)
    assert np.isfinite(v).all()


def test_preprocess_centre_crops_to_the_model_square() -> None:
    emb = ClipEmbedder(TINY_ARCH, None, device="cpu")
    img = np.zeros((32, 64, 3), dtype=np.uint8)
    img[:, 16:48] = 255  # the centre square is white, the sides black
    x = emb.preprocess([img])
    assert tuple(x.shape) == (1, 3, 32, 32)
    white = (1.0 - np.array(emb._mean)) / np.array(emb._std)
    np.testing.assert_allclose(x[0].mean(dim=(1, 2)).numpy(), white, rtol=1e-4)


def test_missing_pretrained_tag_raises_weights_missing_naming_arch_and_tag(tmp_path) -> None:
    # the backend knows no presets: it names what is missing, the catalogue words the hint
    # (test_registry.test_absent_weights_raise_model_missing)
    with pytest.raises(WeightsMissing) as err:
        ClipEmbedder("ViT-B-32", "laion2b_s34b_b79k", device="cpu", cache_dir=tmp_path)
    assert isinstance(err.value, ModelMissing)
    assert (err.value.arch, err.value.tag) == ("ViT-B-32", "laion2b_s34b_b79k")
    assert str(err.value) == "model ViT-B-32/laion2b_s34b_b79k is not on this machine"


def test_unknown_arch_and_tag_are_user_errors(tmp_path) -> None:
    with pytest.raises(UserError, match="unknown open_clip architecture"):
        ClipEmbedder("ViT-Q-99", None)
    with pytest.raises(UserError, match="unknown pretrained tag"):
        ClipEmbedder("ViT-B-32", "no_such_tag", cache_dir=tmp_path)


def test_missing_checkpoint_file_is_model_missing(tmp_path) -> None:
    with pytest.raises(ModelMissing, match="does not exist"):
        ClipEmbedder(TINY_ARCH, str(tmp_path / "gone.pt"))


def test_local_checkpoint_is_identified_by_its_hash(tmp_path) -> None:
    import open_clip
    import torch

    torch.manual_seed(123)
    model = open_clip.create_model(TINY_ARCH, pretrained=None)
    ckpt = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), ckpt)
    emb = ClipEmbedder(TINY_ARCH, str(ckpt), device="cpu", precision="fp32")
    assert emb.model_id == f"openclip:{TINY_ARCH}:sha256-{file_digest(ckpt)}:pp1"
    with torch.inference_mode():
        ref = model.eval().encode_text(open_clip.get_tokenizer(TINY_ARCH)(["hello"]), normalize=True).numpy()
    np.testing.assert_allclose(emb.embed_text(["hello"]), ref, atol=1e-5)


def test_checkpoint_of_another_architecture_is_refused(tmp_path) -> None:
    import torch

    bad = tmp_path / "bad.pt"
    torch.save({"not": torch.zeros(3)}, bad)
    emb = ClipEmbedder(TINY_ARCH, str(bad), device="cpu")
    with pytest.raises(UserError, match="does not load into"):
        emb.embed_text(["x"])


@pytest.mark.gpu
def test_fp16_on_cuda_matches_cpu() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    imgs = frames(6)
    gpu = ClipEmbedder(TINY_ARCH, None, device="auto")
    assert gpu.device == "cuda" and gpu.precision == "fp16"
    cpu = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32")
    g, c = gpu.embed_images(imgs), cpu.embed_images(imgs)
    assert g.dtype == np.float32
    assert float((g * c).sum(1).min()) > 0.99
    assert float((gpu.embed_text(["a red car"]) * cpu.embed_text(["a red car"])).sum()) > 0.99


@pytest.mark.parametrize(
    "texts",
    [["a dog"], ["the moment the cake is cut", "a red car driving through the night in the rain"], [""]],
)
def test_short_queries_give_the_same_vector_as_the_full_context(texts) -> None:
    """Query encoding reads only the tokens up to the end-of-text token; the vector must not change."""
    import open_clip
    import torch

    emb = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32")
    model = emb._ensure_model()
    with torch.inference_mode():
        ref = model.encode_text(open_clip.get_tokenizer(TINY_ARCH)(texts), normalize=True).numpy()
    np.testing.assert_allclose(emb.embed_text(texts), ref, atol=1e-5)


def test_precision_choice() -> None:
    from vsearch.embed.base import cpu_has_fast_bf16, pick_precision

    assert pick_precision("cuda") == "fp16" and pick_precision("mps", "auto") == "fp16"
    assert pick_precision("cpu") == ("bf16" if cpu_has_fast_bf16() else "fp32")
    assert pick_precision("cuda", "fp32") == "fp32"
    with pytest.raises(ValueError, match="precision must be one of"):
        pick_precision("cpu", "int4")


def test_bfloat16_finds_what_float32_finds() -> None:
    """The fast CPU path ranks frames for a query as full precision does (same moments found)."""
    imgs = frames(24, h=48, w=48, seed=3)
    full = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32")
    half = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="bf16")
    assert half.model_id == full.model_id  # one vector space: a library can mix them
    a, b = full.embed_images(imgs), half.embed_images(imgs)
    assert b.dtype == np.float32
    assert float((a * b).sum(1).min()) > 0.995
    qa, qb = full.embed_text(["a red car"])[0], half.embed_text(["a red car"])[0]
    assert float(qa @ qb) > 0.995
    assert np.argmax(b @ qb) in np.argsort(-(a @ qa))[:3]


def test_searching_holds_only_the_text_tower_until_images_are_embedded() -> None:
    """A search-only process does not keep the image tower in memory; indexing later still works.

    (Text in torch: without a cache folder for the numpy tower, vsearch/embed/clip_text.py.)"""
    text_first = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32", text_cache=None)
    fresh = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32", text_cache=None)
    q = text_first.embed_text(["a red car"])
    assert text_first._model.visual is None
    imgs = frames(3)
    np.testing.assert_allclose(text_first.embed_images(imgs), fresh.embed_images(imgs), atol=1e-6)
    assert text_first._model.visual is not None
    np.testing.assert_allclose(text_first.embed_text(["a red car"]), q, atol=1e-6)
    np.testing.assert_allclose(fresh.embed_text(["a red car"]), q, atol=1e-6)
