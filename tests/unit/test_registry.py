"""The model registry: names, presence, offline refusal of downloads, checkpoint import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vsearch.embed.clip import TINY_ARCH, ClipEmbedder
from vsearch.embed.registry import (
    PRESETS,
    default_model,
    download,
    import_checkpoint,
    list_models,
    load_embedder,
)
from vsearch.embed.testing import ColorEmbedder
from vsearch.errors import EnvironmentProblem, ModelMissing, UserError


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # an empty default hub cache, so weights a developer happens to have do not leak in
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "default-hub-cache"))


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"


def fake_download(models_dir: Path, preset: str) -> Path:
    """Lay out a (fake) weights file the way huggingface_hub's cache stores it."""
    from vsearch.embed.weights import hf_weight_candidates

    p = PRESETS[preset]
    cand = hf_weight_candidates(p.arch, p.pretrained)
    assert cand is not None
    repo, names = cand
    root = models_dir / "hf" / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text("0" * 40)
    snap = root / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    f = snap / names[0]
    f.write_bytes(b"not really weights")
    return f


def save_tiny_checkpoint(path: Path, seed: int = 123) -> Path:
    import open_clip
    import torch

    from vsearch.embed.arch import ensure_bundled_configs

    ensure_bundled_configs()
    torch.manual_seed(seed)
    model = open_clip.create_model(TINY_ARCH, pretrained=None)
    torch.save(model.state_dict(), path)
    return path


def test_test_color_model_finds_red_frames(models_dir: Path) -> None:
    from tests.helpers.videos import COLOURS

    emb = load_embedder("test-color", models_dir=models_dir)
    assert isinstance(emb, ColorEmbedder) and emb.model_id == "test-color-v1"
    imgs = [np.full((48, 64, 3), COLOURS[c], dtype=np.uint8) for c in ("blue", "red", "green")]
    imgs[1][5:15, 5:15] = 255 - np.array(COLOURS["red"], dtype=np.uint8)  # like make_video's moving square
    iv = emb.embed_images(imgs)
    for query, want in (("red", 1), ("a blue sky", 0), ("Green grass", 2)):
        scores = iv @ emb.embed_text([query])[0]
        assert int(scores.argmax()) == want, query
    assert np.isfinite(emb.embed_text(["a dog"])).all()


def test_tiny_random_builds_offline(models_dir: Path) -> None:
    emb = load_embedder("tiny-random", models_dir=models_dir, device="cpu")
    v = emb.embed_images([np.zeros((32, 48, 3), np.uint8)])
    assert v.shape == (1, emb.dim)
    assert emb.model_id == load_embedder("openclip:tiny_clip:random", models_dir=models_dir).model_id


def test_unknown_name_is_a_user_error_listing_choices(models_dir: Path) -> None:
    with pytest.raises(UserError, match="unknown model 'nope'.*balanced"):
        load_embedder("nope", models_dir=models_dir)


@pytest.mark.parametrize(
    "name", ["balanced", "ViT-B-32/laion2b_s34b_b79k", "openclip:ViT-B-32:laion2b_s34b_b79k"]
)
def test_absent_weights_raise_model_missing(models_dir: Path, name: str) -> None:
    with pytest.raises(ModelMissing, match="vsearch models download balanced") as err:
        load_embedder(name, models_dir=models_dir)
    msg = str(err.value)
    assert "\n" not in msg
    assert "ViT-B-32/laion2b_s34b_b79k is not on this machine" in msg
    assert "vsearch models import FILE --arch ViT-B-32" in msg


def test_nothing_downloaded_means_starter_is_default(models_dir: Path) -> None:
    rows = {r.name: r for r in list_models(models_dir)}
    assert set(rows) == {"starter", *PRESETS}
    assert rows["starter"].present
    assert not any(rows[p].present for p in PRESETS)
    assert default_model(models_dir) == "starter"


def test_downloaded_weights_are_found_without_network(models_dir: Path) -> None:
    f = fake_download(models_dir, "balanced")
    rows = {r.name: r for r in list_models(models_dir)}
    assert rows["balanced"].present and not rows["fast"].present
    assert default_model(models_dir) == "balanced"
    emb = load_embedder("balanced", models_dir=models_dir)  # lazy: the fake file is not read yet
    assert isinstance(emb, ClipEmbedder)
    assert emb.model_id == "openclip:ViT-B-32:laion2b_s34b_b79k:pp1"
    assert emb.weights_path is not None and Path(emb.weights_path).samefile(f)
    assert download("balanced", models_dir) == Path(emb.weights_path)  # present: no network needed


def test_download_is_refused_when_offline(models_dir: Path) -> None:
    with pytest.raises(EnvironmentProblem, match=r"downloads are disabled \(HF_HUB_OFFLINE=1\)"):
        download("balanced", models_dir, progress=lambda done, total: None)
    with pytest.raises(UserError):
        download("starter", models_dir)


def test_import_checkpoint_offline_and_load_by_name(models_dir: Path, tmp_path: Path) -> None:
    ckpt = save_tiny_checkpoint(tmp_path / "my-tiny.pt")
    name = import_checkpoint(ckpt, TINY_ARCH, models_dir, name="mytiny")
    assert name == "mytiny"
    registry = json.loads((models_dir / "models.json").read_text())
    assert registry["imported"]["mytiny"]["arch"] == TINY_ARCH
    ckpt.unlink()  # the library keeps its own copy

    emb = load_embedder("mytiny", models_dir=models_dir, device="cpu")
    rnd = load_embedder("tiny-random", models_dir=models_dir, device="cpu")
    assert emb.model_id == f"openclip:{TINY_ARCH}:sha256-{registry['imported']['mytiny']['sha256']}:pp1"
    assert emb.model_id != rnd.model_id
    assert not np.allclose(emb.embed_text(["a cat"]), rnd.embed_text(["a cat"]))
    rows = {r.name: r for r in list_models(models_dir)}
    assert rows["mytiny"].present and rows["mytiny"].kind == "imported"
    # a second import under another name keeps the first
    import_checkpoint(save_tiny_checkpoint(tmp_path / "other.pt", seed=5), TINY_ARCH, models_dir)
    assert {"mytiny", "other"} <= set(json.loads((models_dir / "models.json").read_text())["imported"])


def test_import_refuses_checkpoints_that_do_not_fit(models_dir: Path, tmp_path: Path) -> None:
    import torch

    bad = tmp_path / "bad.pt"
    torch.save({"visual.conv1.weight": torch.zeros(1)}, bad)
    with pytest.raises(UserError, match="does not load into"):
        import_checkpoint(bad, TINY_ARCH, models_dir)
    assert not (models_dir / "models.json").exists()
    with pytest.raises(UserError, match="does not exist"):
        import_checkpoint(tmp_path / "missing.pt", TINY_ARCH, models_dir)
    with pytest.raises(UserError, match="reserved"):
        import_checkpoint(save_tiny_checkpoint(tmp_path / "t.pt"), TINY_ARCH, models_dir, name="balanced")


def test_download_progress_is_forwarded() -> None:
    from vsearch.embed.weights import _progress_tqdm

    seen: list[tuple[int, int]] = []
    bar = _progress_tqdm(lambda done, total: seen.append((done, total)))(total=100)
    bar.update(40)
    bar.update(60)
    bar.close()
    assert seen == [(40, 100), (100, 100)]


def test_multilingual_needs_its_text_tower_files_too(models_dir: Path, tmp_path: Path) -> None:
    fake_download(models_dir, "multilingual")
    rows = {r.name: r for r in list_models(models_dir)}
    assert not rows["multilingual"].present  # xlm-roberta-base tokenizer/config are not cached
    hub = tmp_path / "default-hub-cache" / "models--xlm-roberta-base"
    (hub / "refs").mkdir(parents=True)
    (hub / "refs" / "main").write_text("1" * 40)
    (hub / "snapshots" / ("1" * 40)).mkdir(parents=True)
    (hub / "snapshots" / ("1" * 40) / "config.json").write_text("{}")
    rows = {r.name: r for r in list_models(models_dir)}
    assert rows["multilingual"].present


def test_import_refuses_a_file_that_is_not_a_checkpoint(models_dir: Path, tmp_path: Path) -> None:
    """Issue 16.6: random bytes are one UserError line, and an earlier import of the name stays."""
    good = import_checkpoint(save_tiny_checkpoint(tmp_path / "good.pt"), TINY_ARCH, models_dir, name="mine")
    before = (models_dir / "models.json").read_text()
    files = sorted(p.name for p in (models_dir / "imported").iterdir())
    fake = tmp_path / "fake.pt"
    fake.write_bytes(np.random.default_rng(0).bytes(4096))
    for arch in ("ViT-B-32", TINY_ARCH):
        with pytest.raises(UserError, match=r"^not an open_clip checkpoint: .*fake\.pt") as err:
            import_checkpoint(fake, arch, models_dir, name=good)
        assert "\n" not in str(err.value)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(UserError, match="not an open_clip checkpoint"):
        import_checkpoint(empty, TINY_ARCH, models_dir, name=good)
    assert (models_dir / "models.json").read_text() == before
    assert sorted(p.name for p in (models_dir / "imported").iterdir()) == files
    assert load_embedder(good, models_dir=models_dir, device="cpu").embed_text(["a cat"]).shape == (1, 32)
