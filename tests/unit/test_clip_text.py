"""open_clip's text tower in numpy (vsearch/embed/clip_text.py): the same token ids and vectors as
open_clip and torch, written once per model, used by every later process without importing torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vsearch.embed import clip_text
from vsearch.embed.arch import TINY_ARCH
from vsearch.embed.clip import PREPROCESS_DEFAULTS, ClipEmbedder
from vsearch.query import bank

ODD = [
    "a dog jumps into the lake",
    "THE SLATE FOR SCENE 12 — take 3?!",
    "naïve café &amp; crème brûlée",
    "   spaces\tand\nnewlines   ",
    "emoji 🎬🎥 and 中文字幕",
    "it's they're we've I'm you'll he'd",
    "x" * 300,
    "",
]


def _torch_fp32(arch: str, **kw: object) -> ClipEmbedder:
    return ClipEmbedder(arch, None, device="cpu", precision="fp32", text_cache=None, **kw)  # type: ignore[arg-type]


def test_tokenizer_gives_open_clips_ids() -> None:
    import open_clip

    vocab = clip_text.vocab_path()
    assert vocab is not None
    ours = clip_text.ClipTokenizer(vocab)
    theirs = open_clip.get_tokenizer("ViT-B-32")
    texts = ODD + list(bank.sentences()[:500])
    np.testing.assert_array_equal(ours(texts), theirs(texts).numpy())


def test_numpy_tower_gives_torchs_vectors(tmp_path: Path) -> None:
    ref = _torch_fp32(TINY_ARCH)
    texts = ODD + list(bank.sentences()[:200])
    want = ref.embed_text(texts)
    e = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32", text_cache=tmp_path)
    got = e.embed_text(texts)
    assert isinstance(e._numpy_text(), clip_text.TextTower) and not e.text_in_torch
    assert e._model is None  # nothing of torch's kept for searching
    assert float(np.einsum("ij,ij->i", got, want).min()) > 0.99999
    assert clip_text.tower_path(tmp_path, e.model_id).is_file()


@pytest.mark.parametrize("variant", ["quick_gelu", "bidirectional"])
def test_numpy_tower_follows_the_architecture(tmp_path: Path, variant: str) -> None:
    """QuickGELU (OpenAI's weights) and a tower without a causal mask (MobileCLIP2) export too."""
    import open_clip

    cfg = json.loads((Path(clip_text.__file__).parent.parent / "resources" / f"{TINY_ARCH}.json").read_text())
    if variant == "quick_gelu":
        cfg["quick_gelu"] = True
    else:
        cfg["text_cfg"]["no_causal_mask"] = True
        cfg["custom_text"] = True
    arch = f"tiny_{variant}_test"
    (tmp_path / f"{arch}.json").write_text(json.dumps(cfg))
    open_clip.add_model_config(str(tmp_path / f"{arch}.json"))
    ref = _torch_fp32(arch)
    want = ref.embed_text(ODD)
    e = ClipEmbedder(arch, None, device="cpu", precision="fp32", text_cache=tmp_path / "cache")
    got = e.embed_text(ODD)
    tower = e._numpy_text()
    assert tower is not None
    assert tower.causal is (variant != "bidirectional")
    assert tower.meta["act"] == ("quick_gelu" if variant == "quick_gelu" else "gelu")
    assert float(np.einsum("ij,ij->i", got, want).min()) > 0.99999


def test_a_damaged_tower_file_is_written_again(tmp_path: Path) -> None:
    e = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32", text_cache=tmp_path)
    p = clip_text.tower_path(tmp_path, e.model_id)
    p.parent.mkdir(parents=True)
    p.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    got = e.embed_text(["a red car"])
    want = _torch_fp32(TINY_ARCH).embed_text(["a red car"])
    assert float(got[0] @ want[0]) > 0.99999
    assert clip_text.TextTower(p).meta["model_id"] == e.model_id


def test_a_tower_it_cannot_reproduce_stays_in_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the numpy result disagrees with torch's, the file is not kept and torch encodes text."""
    monkeypatch.setattr(clip_text, "MIN_COSINE", 1.5)  # nothing passes the check
    e = ClipEmbedder(TINY_ARCH, None, device="cpu", precision="fp32", text_cache=tmp_path)
    got = e.embed_text(["a red car"])
    assert e.text_in_torch and e._numpy_text() is None
    assert not list((tmp_path / "clip-text").glob("*"))  # neither the file nor its check copy
    np.testing.assert_allclose(got, _torch_fp32(TINY_ARCH).embed_text(["a red car"]), atol=1e-6)


def test_preprocess_defaults_are_open_clips() -> None:
    from open_clip.transform import PreprocessCfg

    d = PreprocessCfg()
    assert PREPROCESS_DEFAULTS == {
        "mean": tuple(d.mean), "std": tuple(d.std), "interpolation": d.interpolation, "resize_mode": d.resize_mode,
    }


_PROBE = (
    "import json, sys\n"
    "from vsearch.embed.arch import TINY_ARCH, is_pretrained_tag, pretrained_config\n"
    "from vsearch.embed.clip import ClipEmbedder\n"
    "tag = is_pretrained_tag('ViT-B-32', 'laion2b_s34b_b79k'), pretrained_config('ViT-B-32', 'laion2b-s34b-b79k')['hf_hub']\n"
    "v = ClipEmbedder(TINY_ARCH, None).embed_text(['a red car', 'the slate for scene 12'])\n"
    "print(json.dumps({'v': v.tolist(), 'tag': tag, 'torch': 'torch' in sys.modules, 'open_clip': 'open_clip' in sys.modules}))\n"
)


def _probe(home: Path) -> dict:
    env = dict(os.environ, VSEARCH_HOME=str(home))
    r = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    out: dict = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def test_a_later_process_encodes_queries_without_torch(tmp_path: Path) -> None:
    """The first process exports the tower (and open_clip's pretrained table); the next one
    names a pretrained model and encodes text without importing torch or open_clip, with the
    same vectors."""
    first = _probe(tmp_path)
    assert first["torch"] and first["open_clip"]
    second = _probe(tmp_path)
    assert not second["torch"] and not second["open_clip"]
    assert first["tag"] == second["tag"] == [True, "laion/CLIP-ViT-B-32-laion2B-s34B-b79K/"]
    np.testing.assert_allclose(np.array(first["v"]), np.array(second["v"]), atol=1e-6)
