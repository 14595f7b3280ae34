"""Quality of the offline starter model on real photos bundled in scikit-image, scikit-learn, matplotlib.

Each photo has a short caption written by a person looking at it (not derived from ImageNet
class names). The test ranks all photos for every caption (text -> image retrieval) and
asserts top-5 accuracy and MRR well above chance (1/22 top-1), so a broken model fails.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

#: (source, name, caption). Grey images are stacked to RGB by the loader.
PHOTOS: list[tuple[str, str, str]] = [
    ("skimage", "astronaut", "an astronaut in a space suit"),
    ("skimage", "brick", "a brick wall"),
    ("skimage", "camera", "a man filming with a camera on a tripod"),
    ("skimage", "cell", "a cell seen under a microscope"),
    ("skimage", "chelsea", "a tabby cat"),
    ("skimage", "clock", "a wall clock"),
    ("skimage", "coffee", "a cup of coffee"),
    ("skimage", "coins", "a collection of old coins"),
    ("skimage", "grass", "a close-up of grass"),
    ("skimage", "gravel", "a pile of gravel stones"),
    ("skimage", "hubble_deep_field", "galaxies in deep space"),
    ("skimage", "immunohistochemistry", "stained tissue under a microscope"),
    ("skimage", "moon", "the surface of the moon"),
    ("skimage", "motorcycle", "a red motorcycle in a garage"),
    ("skimage", "page", "a page of printed text"),
    ("skimage", "retina", "the retina of an eye"),
    ("skimage", "rocket", "a rocket on the launch pad"),
    ("skimage", "text", "handwritten math on paper"),
    ("sklearn", "china.jpg", "a chinese pagoda by a lake"),
    ("sklearn", "flower.jpg", "an orange flower"),
    ("matplotlib", "grace_hopper.jpg", "a portrait of a woman in a navy uniform"),
    ("matplotlib", "Minduka_Present_Blue_Pack.png", "a blue gift box with a ribbon"),
]
MIN_PHOTOS = 15


def _rgb(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255).round().astype(np.uint8) if a.max() <= 1.0 else a.astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


def _loader(source: str, name: str) -> Callable[[], np.ndarray] | None:
    try:
        if source == "skimage":
            from skimage import data

            if name == "motorcycle":
                return lambda: data.stereo_motorcycle()[0]
            return getattr(data, name)
        if source == "sklearn":
            from sklearn.datasets import load_sample_image

            return lambda: load_sample_image(name)
        if source == "matplotlib":
            from matplotlib import cbook
            from PIL import Image

            path = cbook.get_sample_data(name, asfileobj=False)
            return lambda: np.asarray(Image.open(path).convert("RGB"))
    except ImportError:
        return None
    raise ValueError(source)


def load_photos() -> tuple[list[str], list[np.ndarray], list[str]]:
    """Load every available photo: (names, RGB uint8 arrays, captions)."""
    names, images, captions = [], [], []
    for source, name, caption in PHOTOS:
        load = _loader(source, name)
        if load is None:
            continue
        names.append(name)
        images.append(_rgb(load()))
        captions.append(caption)
    return names, images, captions


def retrieval_metrics(text_vecs: np.ndarray, image_vecs: np.ndarray) -> dict[str, float]:
    """Text i's correct image is image i: top-1, top-5 and MRR of text -> image retrieval."""
    sims = text_vecs @ image_vecs.T
    correct = np.diag(sims)[:, None]
    ranks = (sims > correct).sum(1) + 1
    return {
        "top1": float(np.mean(ranks <= 1)),
        "top5": float(np.mean(ranks <= 5)),
        "mrr": float(np.mean(1.0 / ranks)),
    }


# ---- tests ---------------------------------------------------------------------------------

st = pytest.importorskip("vsearch.embed.starter")

#: Floors for the bundled photos; measured values are in docs/MODELS.md (floors sit below them).
MIN_TOP1 = 0.55
MIN_TOP5 = 0.80
MIN_MRR = 0.68


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> st.StarterEmbedder:
    return st.StarterEmbedder(device="cpu", cache_dir=tmp_path_factory.mktemp("starter-cache"))


@pytest.fixture(scope="module")
def photos() -> tuple[list[str], list[np.ndarray], list[str]]:
    names, images, captions = load_photos()
    if len(names) < MIN_PHOTOS:
        pytest.fail(
            f"only {len(names)} bundled photos available (need {MIN_PHOTOS}): "
            "install scikit-image, scikit-learn and matplotlib (the 'dev' extra)"
        )
    return names, images, captions


@pytest.fixture(scope="module")
def photo_probs(embedder, photos) -> np.ndarray:
    return embedder.class_probabilities(photos[1])


@pytest.fixture(scope="module")
def photo_vectors(embedder, photo_probs) -> np.ndarray:
    return embedder.conse(photo_probs)


def test_captions_find_their_photos(embedder, photos, photo_vectors) -> None:
    names, _, captions = photos
    m = retrieval_metrics(embedder.embed_text(captions), photo_vectors)
    assert m["top1"] >= MIN_TOP1, m
    assert m["top5"] >= MIN_TOP5, m
    assert m["mrr"] >= MIN_MRR, m


def test_embed_images_is_classify_then_mix(embedder, photos, photo_vectors) -> None:
    np.testing.assert_allclose(embedder.embed_images(photos[1][:2]), photo_vectors[:2], atol=1e-5)


def test_classifier_recognises_obvious_photos(photos, photo_probs) -> None:
    names = photos[0]
    classes = st.load_classes()
    probs = photo_probs
    top = {n: {classes[i].name for i in np.argsort(-p)[:5]} for n, p in zip(names, probs, strict=False)}
    assert "espresso" in top["coffee"]
    assert top["chelsea"] & {"tabby cat", "tiger cat", "Egyptian Mau"}


def test_image_vectors_are_normalised_and_distinct(embedder, photo_vectors) -> None:
    v = photo_vectors
    assert v.dtype == np.float32 and v.shape[1] == embedder.dim == 384
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    sims = v @ v.T
    off = sims[~np.eye(len(v), dtype=bool)]
    assert off.max() < 0.99, "two different photos got (almost) the same vector"
    assert off.mean() < 0.8, "image vectors collapsed towards one direction"
    assert np.linalg.matrix_rank(v, tol=1e-3) >= len(v) - 1


def test_text_vectors_are_normalised_and_semantic(embedder) -> None:
    v = embedder.embed_text(["a cat sleeping on a sofa", "a kitten asleep on a couch", "a rocket launch"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    assert embedder.embed_text([]).shape == (0, 384)


def test_search_process_never_loads_the_classifier(tmp_path) -> None:
    e = st.StarterEmbedder(device="cpu", cache_dir=tmp_path)
    e.embed_text(["a dog"])
    assert e._classifier is None


def test_any_image_shape_is_accepted(embedder) -> None:
    rng = np.random.default_rng(0)
    imgs = [
        rng.integers(0, 255, (360, 640, 3), dtype=np.uint8),
        rng.integers(0, 255, (7, 500, 3), dtype=np.uint8),
        rng.integers(0, 255, (50, 40), dtype=np.uint8),
        rng.integers(0, 255, (64, 64, 4), dtype=np.uint8),
    ]
    v = embedder.embed_images(imgs)
    assert v.shape == (4, 384) and np.isfinite(v).all()
    assert embedder.embed_images([]).shape == (0, 384)


def test_label_cache_is_written_and_reused(tmp_path) -> None:
    classes = st.load_classes()[:12]
    a = st.StarterEmbedder(device="cpu", cache_dir=tmp_path)
    la = a.label_vectors(classes)
    files = list((tmp_path / "starter").glob("labels-*.npy"))
    assert len(files) == 1
    b = st.StarterEmbedder(device="cpu", cache_dir=tmp_path)
    lb = b.label_vectors(classes)
    assert b._text_model is None, "labels should come from the cache, not be recomputed"
    np.testing.assert_allclose(la, lb, atol=2e-3)
    assert la.shape == (12, 384)


def test_shipped_label_vectors_match_the_text_tower(embedder, tmp_path) -> None:
    """The precomputed matrix in resources/starter/ must be regenerated when prompts change."""
    classes = st.load_classes()
    name = f"labels-{st.labels_key([st.class_prompts(c) for c in classes])}.npy"
    shipped = st.paths.resource("starter", name)
    assert shipped.exists(), f"regenerate {shipped.name} (see docs/MODELS.md)"
    rows = [0, 1, 281, 285, 504, 967, 985, 999]
    fresh = st.StarterEmbedder(device="cpu", cache_dir=tmp_path).label_vectors([classes[i] for i in rows])
    np.testing.assert_allclose(embedder.label_vectors()[rows], fresh, atol=5e-3)


def test_model_id_tracks_settings() -> None:
    assert st.StarterEmbedder(k=5).model_id != st.StarterEmbedder(k=10).model_id
    assert st.StarterEmbedder(temperature=2).model_id != st.StarterEmbedder().model_id
    assert st.StarterEmbedder(crop="three").model_id != st.StarterEmbedder().model_id
    assert f":t{st.TEMPLATES_VERSION}" in st.StarterEmbedder().model_id


def test_missing_package_names_what_to_install(monkeypatch) -> None:
    from vsearch.errors import ModelMissing

    monkeypatch.setitem(st._PACKAGES, "vsearch_no_such_module", "no-such-dist")
    with pytest.raises(ModelMissing, match="no-such-dist"):
        st.StarterEmbedder()
