"""open_clip's text tower in numpy: a process that only searches imports neither torch nor open_clip.

A search needs one text vector per query. With a CLIP model that meant importing torch and
open_clip (956 MB of resident memory for the CUDA build this project pins, 4-5 s cold) and
holding the tower in torch (330 MB): a searching process with a 1M-frame ViT-B-32 library sat
at 3.4 GB. The text tower of an open_clip ``CLIP`` model is a plain pre-norm transformer, so
the first time a process encodes text with torch it writes the tower's weights once (float32,
pre-transposed, a ``.safetensors`` file under the cache folder, named by the model id) and
checks that this module gives the same vectors and token ids on a fixed set of sentences;
every later search reads that file through a memory map and runs the same computation in
numpy (docs/PERFORMANCE.md, "The text tower without torch"). A model whose tower this module
does not reproduce (a Hugging Face text tower, SigLIP, CoCa, layer types it does not know)
keeps encoding with torch.

The tokenizer is OpenAI CLIP's byte-level BPE (``SimpleTokenizer`` in open_clip and in
OpenAI's CLIP, MIT licence), read from the vocabulary file open_clip ships, without importing
open_clip.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import html
import importlib.util
import json
import math
import os
import string
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vsearch.atomic import atomic_write
from vsearch.embed.minilm import _gelu, _layer_norm, read_safetensors

#: Bump on any change to what export() writes or TextTower computes: old files are then ignored.
FORMAT_VERSION = 1
#: Sentences checked at export: token ids must match open_clip's and vectors its torch tower's.
CHECK_SENTENCES = (
    "a dog jumps into the lake",
    "The slate for scene 12, take 3!",
    "two people talk at a table in a dimly lit kitchen while rain falls outside the window",
    "Ein Mann fährt Fahrrad über die Brücke — café & crème",
    "  SALE 50% OFF   ",
    "",
    "word " * 90,  # longer than the context: truncated to it with the end token last
)
#: smallest cosine between the numpy and torch vectors of a check sentence for the file to be used
#: (float32 agrees to ~1e-7; a tower loaded in bfloat16 to ~0.999)
MIN_COSINE = 0.999


def vocab_path() -> Path | None:
    """open_clip's BPE vocabulary (``bpe_simple_vocab_16e6.txt.gz``), located without importing open_clip."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(next(iter(spec.submodule_search_locations))) / "bpe_simple_vocab_16e6.txt.gz"
    return p if p.is_file() else None


@functools.lru_cache(maxsize=1)
def _bytes_to_unicode() -> dict[int, str]:
    """The byte -> printable character map of byte-level BPE (as GPT-2 and CLIP define it)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def _basic_clean(text: str) -> str:
    import ftfy

    return html.unescape(html.unescape(ftfy.fix_text(text))).strip()


def _clean(text: str, how: str) -> str:
    text = _basic_clean(text)
    if how == "canonicalize":
        text = text.replace("_", " ").translate(str.maketrans("", "", string.punctuation)).lower()
        return " ".join(text.split()).strip()
    text = " ".join(text.split()).strip()
    return text.lower() if how == "lower" else text


class ClipTokenizer:
    """CLIP's tokenizer: text -> [start] BPE ids [end], zero-padded or truncated to the context.

    The same ids as ``open_clip.tokenizer.SimpleTokenizer`` (export() checks it per model).
    """

    def __init__(self, vocab: Path, context_length: int = 77, clean: str = "lower") -> None:
        import regex

        merges_text = gzip.open(vocab).read().decode("utf-8").split("\n")
        merges = [tuple(m.split()) for m in merges_text[1 : 49152 - 256 - 2 + 1]]
        b2u = _bytes_to_unicode()
        words = list(b2u.values())
        words += [w + "</w>" for w in words]
        words += ["".join(m) for m in merges]
        words += ["<start_of_text>", "<end_of_text>"]
        self.encoder = {w: i for i, w in enumerate(words)}
        self.bpe_ranks = {m: i for i, m in enumerate(merges)}
        self.sot, self.eot = self.encoder["<start_of_text>"], self.encoder["<end_of_text>"]
        self.context_length = int(context_length)
        if clean not in ("lower", "whitespace", "canonicalize"):
            raise ValueError(f"unknown tokenizer clean mode {clean!r}")
        self.clean = clean
        self._byte_encoder = b2u
        self._cache: dict[str, str] = {}
        self._pat = regex.compile(
            r"""<start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE,
        )

    def _bpe(self, token: str) -> str:
        hit = self._cache.get(token)
        if hit is not None:
            return hit
        word: tuple[str, ...] = (*token[:-1], token[-1] + "</w>")
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.bpe_ranks.get(p, math.inf))
            if best not in self.bpe_ranks:
                break
            first, second = best
            merged: list[str] = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    merged.extend(word[i:])
                    break
                merged.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
        out = " ".join(word)
        self._cache[token] = out
        return out

    def encode(self, text: str) -> list[int]:
        """BPE ids of *text*, without the start and end tokens."""
        ids: list[int] = []
        for token in self._pat.findall(_clean(text, self.clean)):
            t = "".join(self._byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[p] for p in self._bpe(t).split(" "))
        return ids

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        """int64 [N, context_length] as open_clip gives them (truncated with the end token kept last)."""
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot, *self.encode(text), self.eot]
            if len(ids) > self.context_length:
                ids = ids[: self.context_length]
                ids[-1] = self.eot
            out[row, : len(ids)] = ids
        return out


def _quick_gelu(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = (x / (1.0 + np.exp(-1.702 * x))).astype(np.float32)
    return out


def _tanh_gelu(x: np.ndarray) -> np.ndarray:
    c = np.float32(math.sqrt(2.0 / math.pi))
    out: np.ndarray = (0.5 * x * (1.0 + np.tanh(c * (x + 0.044715 * x**3)))).astype(np.float32)
    return out


_ACTS = {"gelu": _gelu, "quick_gelu": _quick_gelu, "gelu_tanh": _tanh_gelu}


class TextTower:
    """An exported open_clip text tower: token ids -> text features (not normalised).

    Attributes:
        meta: what export() recorded (model id, layers, heads, activation, tokenizer settings).
        tokenizer: the tokenizer the tower was checked with.
    """

    def __init__(self, path: Path) -> None:
        """Memory-map an exported tower.

        Raises:
            ValueError: not a tower file of this FORMAT_VERSION, or the vocabulary is missing.
        """
        self.meta = read_metadata(path)
        if self.meta.get("format") != str(FORMAT_VERSION):
            raise ValueError(f"{path}: not a text tower of format {FORMAT_VERSION}")
        self._t = read_safetensors(path)
        self.layers = int(self.meta["layers"])
        self.heads = int(self.meta["heads"])
        self.causal = self.meta["causal"] == "1"
        self._act = _ACTS[self.meta["act"]]
        self._eps = [float(e) for e in json.loads(self.meta["eps"])]
        vocab = vocab_path()
        if vocab is None:
            raise ValueError("open_clip's BPE vocabulary is not installed")
        self.tokenizer = _tokenizer(str(vocab), int(self.meta["context_length"]), self.meta["clean"])

    def _ln(self, x: np.ndarray, name: str, eps: float) -> np.ndarray:
        return _layer_norm(x, self._t[name + ".w"], self._t[name + ".b"], eps)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        w = self._t[name + ".wt"]  # stored transposed: x @ wt is one BLAS call, no copy
        y: np.ndarray = np.ascontiguousarray(x).reshape(-1, x.shape[-1]) @ w
        b = self._t.get(name + ".b")
        if b is not None:
            y += b
        return y.reshape(*x.shape[:-1], w.shape[1])

    def encode_ids(self, ids: np.ndarray) -> np.ndarray:
        """Token ids [N, context] -> float32 features [N, dim], as open_clip's ``encode_text``."""
        ids = np.asarray(ids, dtype=np.int64)
        n = ids.shape[1]
        if self.causal:
            # a causal mask lets no position see a later one and the sentence is read at its end
            # token, so the padding after the longest one cannot change a vector: cut it
            n = min(n, int(ids.argmax(axis=-1).max()) + 1)
            ids = ids[:, :n]
        batch = ids.shape[0]
        x = (self._t["token_embedding"][ids] + self._t["positional_embedding"][:n][None]).astype(np.float32)
        width = x.shape[-1]
        h, d = self.heads, width // self.heads
        scale = np.float32(1.0 / math.sqrt(d))
        mask = np.triu(np.full((n, n), -np.inf, dtype=np.float32), 1) if self.causal else None
        for i in range(self.layers):
            p = f"blocks.{i}."
            y = self._ln(x, p + "ln_1", self._eps[2 * i])
            qkv = self._dense(y, p + "in_proj").reshape(batch, n, 3, h, d).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = (q * scale) @ k.transpose(0, 1, 3, 2)
            if mask is not None:
                s = s + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(batch, n, width)
            a = self._dense(ctx, p + "out_proj")
            g1 = self._t.get(p + "ls_1")
            x = x + (a * g1 if g1 is not None else a)
            y = self._ln(x, p + "ln_2", self._eps[2 * i + 1])
            m = self._dense(self._act(self._dense(y, p + "c_fc")), p + "c_proj")
            g2 = self._t.get(p + "ls_2")
            x = x + (m * g2 if g2 is not None else m)
        x = self._ln(x, "ln_final", self._eps[-1])
        pooled = x[np.arange(batch), ids.argmax(axis=-1)]
        if "proj.wt" in self._t:
            pooled = self._dense(pooled, "proj")
        out: np.ndarray = np.ascontiguousarray(pooled, dtype=np.float32)
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Sentences -> L2-normalised float32 [N, dim]."""
        parts = [self.encode_ids(self.tokenizer(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        f = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
        out: np.ndarray = (f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-12)).astype(np.float32)
        return out


@functools.lru_cache(maxsize=4)
def _tokenizer(vocab: str, context_length: int, clean: str) -> ClipTokenizer:
    return ClipTokenizer(Path(vocab), context_length, clean)


def read_metadata(path: Path) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (ValueError if it is not one)."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"{path}: not a safetensors file")
        (n,) = struct.unpack("<Q", head)
        try:
            header = json.loads(f.read(n))
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"{path}: not a safetensors file ({e})") from None
    meta = header.get("__metadata__", {}) if isinstance(header, dict) else {}
    return {str(k): str(v) for k, v in meta.items()}


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write float32 *tensors* as a ``.safetensors`` file, atomically (each aligned to 64 bytes)."""
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    arrays = []
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype="<f4")
        pad = (-offset) % 64
        offset += pad
        arrays.append((pad, a))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * ((-(8 + len(raw))) % 64)  # data starts aligned, so every tensor maps aligned
    with atomic_write(path) as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for pad, a in arrays:
            f.write(b"\0" * pad)
            f.write(a.tobytes())


def tower_path(cache: Path, model_id: str) -> Path:
    """Where the exported tower of *model_id* lives under the cache folder."""
    import hashlib

    digest = hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:16]
    return cache / "clip-text" / f"{digest}-v{FORMAT_VERSION}.safetensors"


def load(cache: Path | None, model_id: str) -> TextTower | None:
    """The exported tower of *model_id*, or None when there is none (or it cannot be read)."""
    if cache is None:
        return None
    p = tower_path(cache, model_id)
    if not p.is_file():
        return None
    try:
        tower = TextTower(p)
    except (OSError, ValueError, KeyError) as e:
        from vsearch.log import embed as log

        log.warning("ignoring the text tower file %s: %s", p, e)
        return None
    return tower if tower.meta.get("model_id") == model_id else None


def _text_module(model: Any) -> Any:
    """The object holding the text tower's parts: the CLIP model itself, or ``model.text``."""
    return model if hasattr(model, "token_embedding") else getattr(model, "text", None)


def _clean_mode(tok: Any) -> str | None:
    name = getattr(getattr(tok, "clean_fn", None), "__name__", "")
    return {"_clean_lower": "lower", "_clean_whitespace": "whitespace", "_clean_canonicalize": "canonicalize"}.get(name)


def export(model: Any, tok: Any, model_id: str, path: Path, torch_vectors: Any) -> str | None:
    """Write *model*'s text tower to *path* if this module reproduces it; None, or why not.

    *tok* is open_clip's tokenizer of the model; *torch_vectors* maps a list of sentences to the
    torch tower's normalised vectors (what ``ClipEmbedder`` computes), so the file is used only
    where it gives the same vectors for CHECK_SENTENCES.
    """
    import torch
    from open_clip.tokenizer import SimpleTokenizer
    from open_clip.transformer import LayerScale, QuickGELU, ResidualAttentionBlock

    t = _text_module(model)
    if t is None or not hasattr(t, "transformer"):
        return "no open_clip text transformer"
    pool = getattr(t, "text_pool_type", getattr(t, "pool_type", None))
    if pool != "argmax" or getattr(t, "cls_emb", None) is not None or getattr(t, "use_pad_mask", False):
        return f"text pooling {pool!r} with a class token or padding mask"
    if type(tok) is not SimpleTokenizer or getattr(tok, "reduction_fn", None) is not None or _clean_mode(tok) is None:
        return f"tokenizer {type(tok).__name__}"
    if len(tok.encoder) != t.token_embedding.weight.shape[0]:
        return "tokenizer with extra special tokens"
    tensors: dict[str, np.ndarray] = {}

    def arr(p: Any) -> np.ndarray:
        return np.asarray(p.detach().to(torch.float32).cpu().numpy(), dtype=np.float32)

    acts: set[str] = set()
    eps: list[float] = []
    blocks = list(t.transformer.resblocks)
    for i, blk in enumerate(blocks):
        p = f"blocks.{i}."
        if type(blk) is not ResidualAttentionBlock or hasattr(blk, "ln_1_kv"):
            return f"block type {type(blk).__name__}"
        attn = blk.attn
        if not isinstance(attn, torch.nn.MultiheadAttention) or not attn._qkv_same_embed_dim or not attn.batch_first:
            return "attention without a packed, batch-first projection"
        gelu = blk.mlp.gelu
        if type(gelu) is QuickGELU:
            acts.add("quick_gelu")
        elif type(gelu) is torch.nn.GELU:
            acts.add("gelu" if gelu.approximate == "none" else "gelu_tanh")
        else:
            return f"activation {type(gelu).__name__}"
        if list(blk.mlp._modules) != ["c_fc", "gelu", "c_proj"]:
            return "an MLP with extra layers"
        for ln_name in ("ln_1", "ln_2"):
            ln = getattr(blk, ln_name)
            if not isinstance(ln, torch.nn.LayerNorm) or ln.weight is None:
                return f"norm {type(ln).__name__}"
            tensors[p + ln_name + ".w"], tensors[p + ln_name + ".b"] = arr(ln.weight), arr(ln.bias)
            eps.append(float(ln.eps))
        tensors[p + "in_proj.wt"] = arr(attn.in_proj_weight).T
        tensors[p + "in_proj.b"] = arr(attn.in_proj_bias)
        tensors[p + "out_proj.wt"] = arr(attn.out_proj.weight).T
        tensors[p + "out_proj.b"] = arr(attn.out_proj.bias)
        tensors[p + "c_fc.wt"] = arr(blk.mlp.c_fc.weight).T
        tensors[p + "c_fc.b"] = arr(blk.mlp.c_fc.bias)
        tensors[p + "c_proj.wt"] = arr(blk.mlp.c_proj.weight).T
        tensors[p + "c_proj.b"] = arr(blk.mlp.c_proj.bias)
        for ls in ("ls_1", "ls_2"):
            g = getattr(blk, ls)
            if type(g) is LayerScale:
                tensors[p + ls] = arr(g.gamma)
            elif type(g) is not torch.nn.Identity:
                return f"layer scale {type(g).__name__}"
    if len(acts) != 1:
        return "mixed activations"
    ln = t.ln_final
    if not isinstance(ln, torch.nn.LayerNorm) or ln.weight is None:
        return f"final norm {type(ln).__name__}"
    tensors["ln_final.w"], tensors["ln_final.b"] = arr(ln.weight), arr(ln.bias)
    eps.append(float(ln.eps))
    tensors["token_embedding"] = arr(t.token_embedding.weight)
    tensors["positional_embedding"] = arr(t.positional_embedding)
    proj = t.text_projection
    if isinstance(proj, torch.nn.Linear):
        tensors["proj.wt"] = arr(proj.weight).T
        if proj.bias is not None:
            tensors["proj.b"] = arr(proj.bias)
    elif proj is not None:
        tensors["proj.wt"] = arr(proj)
    if t.attn_mask is not None:
        expect = torch.full_like(t.attn_mask, float("-inf")).triu(1)
        if not torch.equal(t.attn_mask.float(), expect.float()):
            return "an attention mask that is not causal"
    meta = {
        "format": str(FORMAT_VERSION),
        "model_id": model_id,
        "layers": str(len(blocks)),
        "heads": str(int(blocks[0].attn.num_heads)),
        "act": acts.pop(),
        "eps": json.dumps(eps),
        "causal": "1" if t.attn_mask is not None else "0",
        "context_length": str(int(tok.context_length)),
        "clean": _clean_mode(tok) or "lower",
    }
    tmp = path.with_name(path.name + ".check")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_safetensors(tmp, tensors, meta)
    try:
        tower = TextTower(tmp)
        sentences = list(CHECK_SENTENCES)
        if not np.array_equal(tower.tokenizer(sentences), tok(sentences).numpy()):
            return "token ids differ from open_clip's"
        ours, theirs = tower.encode(sentences), np.asarray(torch_vectors(sentences), dtype=np.float32)
        worst = float(np.min(np.einsum("ij,ij->i", ours, theirs)))
        if not worst >= MIN_COSINE:
            return f"vectors differ from torch's (cosine {worst:.5f})"
        del tower
        os.replace(tmp, path)
        return None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()

