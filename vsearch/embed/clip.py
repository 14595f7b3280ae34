"""open_clip backend: an architecture plus a pretrained tag, a local checkpoint or random weights."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vsearch.embed import clip_text
from vsearch.embed.arch import (
    TINY_ARCH,
    ensure_bundled_configs,
    is_pretrained_tag,
    model_config,
    pretrained_config,
    pretrained_tags,
)
from vsearch.embed.base import pick_device, pick_precision, torch_dtype
from vsearch.embed.weights import file_digest, find_pretrained_weights, first_line
from vsearch.errors import EnvironmentProblem, ModelMissing, UserError, WeightsMissing
from vsearch.log import embed as log

#: Version of this module's image preprocessing; part of every model_id.
PREPROCESS_VERSION = "pp1"
#: open_clip's ``PreprocessCfg()`` defaults (OpenAI's mean and std), for tags that name none;
#: here so that building an embedder imports no open_clip (tests/unit/test_clip_text.py checks them)
PREPROCESS_DEFAULTS: dict[str, Any] = {
    "mean": (0.48145466, 0.4578275, 0.40821073),
    "std": (0.26862954, 0.26130258, 0.27577711),
    "interpolation": "bicubic",
    "resize_mode": "shortest",
}

__all__ = ["PREPROCESS_VERSION", "TINY_ARCH", "ClipEmbedder"]


@functools.lru_cache(maxsize=8)
def _tokenizer(arch: str) -> Any:
    """open_clip's tokenizer for *arch*, shared by every embedder of that architecture."""
    import open_clip

    return open_clip.get_tokenizer(arch)


class _QuietRandomInit(logging.Filter):
    """Drops open_clip's root-logger warning about random init, which is what we asked for."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Model initialized randomly" not in record.getMessage()


class ClipEmbedder:
    """An open_clip model behind the Embedder protocol.

    The weights are located (never downloaded) in the constructor, so a missing model fails
    fast with :class:`WeightsMissing` (arch, tag), which the catalogue words into a hint; the
    model itself is built on first use.

    Attributes:
        model_id: ``openclip:{arch}:{weights}:pp1`` where weights is the pretrained tag, a short
            sha256 of a local checkpoint, or ``random-seed{N}``.
        dim: embedding width.
        image_size: the square side the image tower sees.
        device: the torch device used ("cuda", "mps" or "cpu").
        precision: "fp16" on GPUs, "bf16" on CPUs that multiply bfloat16 in hardware (AMX,
            AVX512-BF16), else "fp32"; or as given. The vectors of all precisions share one
            model_id: they agree to a cosine of 0.9999 (docs/PERFORMANCE.md).
        weights_path: the checkpoint file loaded, or None for random weights.
    """

    def __init__(
        self,
        arch: str,
        pretrained: str | None,
        *,
        device: str = "auto",
        precision: str | None = None,
        batch_size: int = 64,
        cache_dir: Path | None = None,
        threads: int | None = None,
        seed: int = 0,
        text_cache: Path | None | bool = True,
    ) -> None:
        """Locate the weights; *text_cache* is the numpy text tower's cache folder.

        True: the home's cache folder; None or False: none, so torch always encodes text.
        """
        cfg = model_config(arch)
        self.arch = arch
        self.batch_size = max(1, int(batch_size))
        # resolved on first use: asking torch about GPUs imports it, which a search need not do
        self._device_req = device
        self._precision_req = precision
        self._device: str | None = None
        self._precision: str | None = None
        self.threads = threads
        self._seed = seed
        self._force_quick_gelu = False
        self._pp: dict[str, Any] = {}
        text_cfg = cfg.get("text_cfg", {})
        if text_cfg.get("hf_model_name") and importlib.util.find_spec("transformers") is None:
            raise EnvironmentProblem(
                f"model {arch} needs the `transformers` package: pip install transformers"
            )

        self.weights_path: str | None
        if pretrained is None:
            self.weights_path = None
            weights_id = f"random-seed{seed}"
        elif is_pretrained_tag(arch, pretrained):
            tag_cfg = pretrained_config(arch, pretrained)
            self.weights_path = find_pretrained_weights(arch, pretrained, cache_dir)
            if self.weights_path is None:
                raise WeightsMissing(arch, pretrained)
            weights_id = pretrained.lower().replace("-", "_")  # open_clip's own tag normalisation
            self._pp = {
                k: tag_cfg[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in tag_cfg
            }
            self._force_quick_gelu = bool(tag_cfg.get("quick_gelu", False)) and not cfg.get(
                "quick_gelu", False
            )
        elif (
            os.path.sep in pretrained
            or pretrained.endswith((".pt", ".pth", ".bin", ".safetensors"))
            or Path(pretrained).exists()
        ):
            path = Path(pretrained).expanduser()
            if not path.is_file():
                raise ModelMissing(f"checkpoint file {path} does not exist")
            self.weights_path = str(path.resolve())
            weights_id = f"sha256-{file_digest(path)}"
        else:
            tags = ", ".join(pretrained_tags(arch)) or "none"
            raise UserError(
                f"unknown pretrained tag {pretrained!r} for {arch} (known tags: {tags}); or give a checkpoint file"
            )

        vision = cfg.get("vision_cfg", {})
        size = vision.get("image_size", 224)
        self.image_size = int(size[0] if isinstance(size, (list, tuple)) else size)
        self.dim = int(cfg["embed_dim"])
        self.model_id = f"openclip:{arch}:{weights_id}:{PREPROCESS_VERSION}"
        self._mean = tuple(self._pp.get("mean", PREPROCESS_DEFAULTS["mean"]))
        self._std = tuple(self._pp.get("std", PREPROCESS_DEFAULTS["std"]))
        self._interp = self._pp.get("interpolation", PREPROCESS_DEFAULTS["interpolation"])
        self._resize_mode = self._pp.get("resize_mode", PREPROCESS_DEFAULTS["resize_mode"])
        self._timm_vision = "timm_model_name" in vision
        self._channels_last = False
        self._model: Any = None
        self._has_images = False
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        #: the text tower in numpy (vsearch.embed.clip_text) once exported for this model;
        #: False after this process found it cannot be (then torch encodes text)
        self._np_text: clip_text.TextTower | None | bool = None
        self._text_cache = text_cache

    @property
    def device(self) -> str:
        """The torch device ('auto' resolved on first read, which imports torch)."""
        if self._device is None:
            self._device = pick_device(self._device_req)
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        self._device = value

    @property
    def precision(self) -> str:
        """The torch model's precision ('auto' resolved on first read); numpy text is float32."""
        if self._precision is None:
            self._precision = pick_precision(self.device, self._precision_req)
        return self._precision

    @property
    def text_in_torch(self) -> bool:
        """Whether queries are encoded by torch here (else by numpy: see vsearch.embed.clip_text)."""
        return self._numpy_text() is None

    # -- loading -------------------------------------------------------------------------

    def _ensure_model(self, images: bool = True) -> Any:
        """The model; with ``images=False`` its image tower may be missing.

        A process that has only encoded text so far (searching) holds the text tower alone:
        the image tower is dropped after loading (ViT-B-32: 88M parameters, 350 MB in fp32,
        which is what keeps a 1M-frame library under 2 GB on CPUs without bf16). The first
        ``embed_images`` loads the whole model again.
        """
        model = self._model
        if model is not None and (self._has_images or not images):
            return model
        with self._load_lock:
            if self._model is None or (images and not self._has_images):
                model = self._build()
                if not images and hasattr(model, "visual"):
                    model.visual = None
                self._model, self._has_images = model, images
        return self._model

    def _build(self) -> Any:
        import open_clip
        import torch

        if self.threads:
            torch.set_num_threads(int(self.threads))
        log.info("loading %s on %s (%s)", self.model_id, self.device, self.precision)
        model = self._create(open_clip, torch)
        model.eval()
        if self._timm_vision:
            self._prepare_conv_tower(model, torch)
        # the image tower's input dtype: open_clip's "fp16"/"bf16" keep a few parameters in
        # float32 (embeddings, norms), so the first parameter does not tell
        self._dtype = torch_dtype(self.precision)
        return model

    def _prepare_conv_tower(self, model: Any, torch: Any) -> None:
        """Fuse re-parameterisable branches (MobileCLIP's FastViT) and use channels-last convs.

        Both are exact in eval mode; channels-last measured 1.2-1.4x faster for MobileCLIP2-S0
        on an x86 CPU.
        """
        try:
            from timm.utils.model import reparameterize_model

            reparameterize_model(model.visual, inplace=True)
        except Exception as exc:  # an older timm: run unfused, which is only slower
            log.debug("no re-parameterisation for %s: %s", self.arch, exc)
        model.visual.to(memory_format=torch.channels_last)
        self._channels_last = True

    def _create(self, open_clip: Any, torch: Any, precision: str | None = None, device: str | None = None) -> Any:
        quiet = _QuietRandomInit() if self.weights_path is None else None
        if quiet is not None:
            logging.getLogger().addFilter(quiet)
        try:
            return self._create_model(open_clip, torch, precision, device)
        finally:
            if quiet is not None:
                logging.getLogger().removeFilter(quiet)

    def _create_model(self, open_clip: Any, torch: Any, precision: str | None, device: str | None) -> Any:
        ensure_bundled_configs()  # model_config() may have read the tiny config without open_clip
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self._seed)
            try:
                model = open_clip.create_model(
                    self.arch,
                    pretrained=self.weights_path,
                    precision=precision or self.precision,
                    device=device or self.device,
                    force_quick_gelu=self._force_quick_gelu,
                    require_pretrained=self.weights_path is not None,
                )
            except Exception as exc:  # a file that is not a checkpoint fails in pickle, not torch
                if self.weights_path is None or isinstance(exc, MemoryError):
                    raise
                raise UserError(
                    f"checkpoint {self.weights_path} does not load into {self.arch}: {first_line(exc)}"
                ) from exc
        return model

    def _ensure_tokenizer(self) -> Any:
        if self._tokenizer is None:
            self._tokenizer = _tokenizer(self.arch)
        return self._tokenizer

    # -- preprocessing -------------------------------------------------------------------

    def _square(self, img: np.ndarray) -> np.ndarray:
        """One RGB frame -> uint8 [S, S, 3]: resize (short side, or squash) and centre-crop."""
        import cv2

        s = self.image_size
        a = np.asarray(img)
        if a.ndim == 2:
            a = np.stack([a] * 3, axis=-1)
        elif a.shape[2] == 4:
            a = a[:, :, :3]
        elif a.shape[2] == 1:
            a = np.repeat(a, 3, axis=2)
        if a.dtype != np.uint8:
            a = np.clip(a, 0, 255).astype(np.uint8)
        h, w = a.shape[:2]
        if self._resize_mode == "squash":
            nh, nw = s, s
        else:  # "shortest" (CLIP's default); "longest" is treated the same (crop, not pad)
            scale = s / min(h, w)
            nh, nw = max(s, round(h * scale)), max(s, round(w * scale))
        if (nh, nw) != (h, w):
            down = nh < h or nw < w
            interp = (
                cv2.INTER_AREA
                if down
                else (cv2.INTER_LINEAR if self._interp == "bilinear" else cv2.INTER_CUBIC)
            )
            a = cv2.resize(np.ascontiguousarray(a), (nw, nh), interpolation=interp)
        top, left = (nh - s) // 2, (nw - s) // 2
        return a[top : top + s, left : left + s]

    def preprocess(self, images: Sequence[np.ndarray]) -> Any:
        """RGB frames -> a normalised float tensor [N, 3, S, S] on the model's device and dtype."""
        import torch

        batch = torch.from_numpy(np.stack([self._square(im) for im in images]))
        if self.device == "cuda":
            # uint8 crosses the bus (4x less than float), from pinned memory, without blocking
            # this thread; scaling and normalising run on the GPU
            batch = batch.pin_memory().to(self.device, non_blocking=True)
        else:
            batch = batch.to(self.device)
        t = batch.permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self._mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self._std, device=self.device).view(1, 3, 1, 1)
        t = ((t - mean) / std).to(getattr(self, "_dtype", torch.float32))
        if self._channels_last:
            return t.contiguous(memory_format=torch.channels_last)
        return t.contiguous()

    # -- Embedder protocol ---------------------------------------------------------------

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """RGB uint8 arrays [H, W, 3] -> float32 [N, dim], each row L2-normalised."""
        import torch

        if len(images) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._ensure_model()
        out = []
        with torch.inference_mode():
            for i in range(0, len(images), self.batch_size):
                x = self.preprocess(images[i : i + self.batch_size])
                out.append(self._finish(model.encode_image(x)))
        return np.concatenate(out)

    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences -> float32 [N, dim], each row L2-normalised.

        In numpy where this model's text tower can be exported (the first call with a cache
        folder that lacks it exports it, with torch: vsearch.embed.clip_text), so a later
        process that searches imports no torch; in torch for towers it cannot reproduce.
        """
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        tower = self._numpy_text()
        if tower is None and self._np_text is None:
            self._export_text()  # once per model and cache folder; the same vectors in every process
            tower = self._numpy_text()
        if tower is not None:
            return tower.encode(list(texts), self.batch_size)
        return self._torch_text(texts)

    def _torch_text(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        model = self._ensure_model(images=False)
        tok = self._ensure_tokenizer()
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                ids = tok(list(texts[i : i + self.batch_size])).to(self.device)
                out.append(self._finish(self._encode_text(model, ids)))
        return np.concatenate(out)

    def _cache_folder(self) -> Path | None:
        if self._text_cache is True:
            from vsearch import paths

            return paths.home().cache
        return self._text_cache or None

    def _numpy_text(self) -> clip_text.TextTower | None:
        """The exported numpy text tower, if there is one (looked up once per process)."""
        t = self._np_text
        if t is None:
            t = clip_text.load(self._cache_folder(), self.model_id)
            if t is not None:
                self._np_text = t
        return t if isinstance(t, clip_text.TextTower) else None

    def _export_text(self) -> None:
        """Write this model's text tower for numpy, from a float32 copy of it, and use it from now on.

        The copy is float32 whatever this embedder's precision (a bfloat16 tower would carry its
        rounding into every later query); it is checked against the numpy result before the
        file is used (clip_text.export). Any failure leaves torch encoding text; it is not retried
        in this process.
        """
        cache = self._cache_folder()
        if cache is None:
            self._np_text = False
            return
        try:
            import open_clip
            import torch

            with self._load_lock:
                ref = self._create(open_clip, torch, precision="fp32", device="cpu")
            ref.visual = None
            ref.eval()
            tok = self._ensure_tokenizer()

            def vectors(texts: Sequence[str]) -> np.ndarray:
                with torch.inference_mode():
                    return self._finish(self._encode_text(ref, tok(list(texts))))

            why = clip_text.export(ref, tok, self.model_id, clip_text.tower_path(cache, self.model_id), vectors)
        except Exception as exc:  # noqa: BLE001 - an optimisation: torch keeps working without it
            why = first_line(exc)
        if why is not None:
            log.info("text tower of %s stays in torch: %s", self.model_id, why)
            self._np_text = False
            return
        self._np_text = None
        if self._numpy_text() is None:
            self._np_text = False
        else:
            log.info("text tower of %s exported for numpy", self.model_id)
            with self._load_lock:
                if not self._has_images:
                    self._model = None  # searching needs only the numpy tower now

    @staticmethod
    def _encode_text(model: Any, ids: Any) -> Any:
        """``model.encode_text``, but over the tokens up to the longest end-of-text token only.

        In CLIP's text tower a causal mask keeps each position from seeing later ones and the
        sentence is read at its end-of-text token, so the padding after it cannot change the
        result: cutting the 77-token context to the sentence's length gives the same vector
        (to float rounding) 2x faster for a short query (ViT-B-32, 2 CPU threads: 43 -> 21 ms).
        Models without that structure (SigLIP, CoCa, Hugging Face text towers) run unchanged.
        """
        import torch

        mask = getattr(model, "attn_mask", None)
        if (
            getattr(model, "text_pool_type", None) != "argmax"
            or mask is None
            or getattr(model, "cls_emb", None) is not None
            or not hasattr(model, "token_embedding")
        ):
            return model.encode_text(ids)
        n = int(ids.argmax(dim=-1).max()) + 1
        if n >= ids.shape[1]:
            return model.encode_text(ids)
        t = ids[:, :n]
        cast = model.transformer.get_cast_dtype()
        x = model.token_embedding(t).to(cast) + model.positional_embedding[:n].to(cast)
        x = model.transformer(x, attn_mask=mask[:n, :n])
        x = model.ln_final(x)
        x = x[torch.arange(x.shape[0], device=x.device), t.argmax(dim=-1)]
        proj = model.text_projection
        if proj is None:
            return x
        return proj(x) if isinstance(proj, torch.nn.Module) else x @ proj

    @staticmethod
    def _finish(feats: Any) -> np.ndarray:

        f = feats.float()
        f = f / f.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return np.ascontiguousarray(f.cpu().numpy().astype(np.float32, copy=False))

    def release(self) -> None:
        """Drop the loaded model (for example after indexing); it is rebuilt on next use."""
        with self._load_lock:
            self._model = None
            self._has_images = False

    def __repr__(self) -> str:
        return f"ClipEmbedder({self.model_id!r}, device={self.device!r}, precision={self.precision!r})"
