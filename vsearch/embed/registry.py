"""The model catalogue and factory: presets, imported checkpoints, names -> embedders, the hints.

Weights on disk (hub cache presence, downloads, checkpoint files) are ``vsearch.embed.weights``;
the open_clip backend is ``vsearch.embed.clip``.

Preset choice (from open_clip's own pretrained table, ``open_clip.list_pretrained()``, and its
published retrieval results, docs/openclip_retrieval_results.csv; text-to-image retrieval is what
vsearch does, so "image retr. R@1" is the number that matters):

* ``fast`` = MobileCLIP2-S0 / dfndr2b: Apple's mobile CLIP (FastViT-MCi0 image tower, 75 M
  parameters in all, 256 px input): half the download of ``balanced`` and built for low
  latency on phone NPUs. Not in open_clip's published retrieval CSV yet. Measured here (x86
  Xeon, 2 threads, PyTorch eager fp32, random weights) its image tower is NOT faster than
  ViT-B-32 (0.65-0.85x of its images/s, even fused and channels-last): it wins on size and on
  mobile/NPU runtimes, not on desktop CPUs.
* ``balanced`` (the recommended default) = ViT-B-32 / laion2b_s34b_b79k: 151 M parameters,
  14.8 GFLOPs per image. Of the ViT-B-32 weights it has the best text-to-image retrieval
  (Flickr30k image R@1 0.668, MSCOCO 0.393) - better than datacomp_xl_s13b_b90k (0.611 / 0.371)
  although DataComp wins on ImageNet classification - and runs on a laptop CPU.
* ``best`` = ViT-L-14 / laion2b_s32b_b82k: 428 M parameters, 175 GFLOPs per image (12x the
  B-32), Flickr image R@1 0.755, MSCOCO 0.465. For machines with a GPU.
* ``multilingual`` = xlm-roberta-base-ViT-B-32 / laion5b_s13b_b90k: a ViT-B-32 image tower with
  an XLM-RoBERTa text tower trained on LAION-5B (100+ languages); English retrieval stays close
  to the balanced preset (Flickr 0.645, MSCOCO 0.378). Needs the ``transformers`` package and
  the xlm-roberta-base tokenizer files.

Special names: ``starter`` (offline model that ships with vsearch), ``test-color`` (colour
histogram, for tests and demos), ``tiny-random`` (a tiny random open_clip model for tests),
``openclip:ARCH:PRETRAINED`` or ``ARCH/PRETRAINED`` (any open_clip pair; PRETRAINED may be a tag,
a checkpoint file or ``random``), and names given to ``vsearch models import``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from vsearch.atomic import atomic_write
from vsearch.embed import weights
from vsearch.embed.arch import TINY_ARCH, model_config
from vsearch.errors import EnvironmentProblem, ModelMissing, UserError, WeightsMissing
from vsearch.log import models as log

if TYPE_CHECKING:
    from vsearch.embed.base import Embedder
    from vsearch.types import CancelToken

#: Sub-folder of the models dir holding imported checkpoints.
IMPORTED_SUBDIR = "imported"
#: The JSON registry of imported models.
REGISTRY_FILE = "models.json"
#: Preference order for :func:`default_model`.
DEFAULT_ORDER = ("balanced", "fast", "best", "multilingual")


@dataclass(frozen=True, slots=True)
class ModelPreset:
    """A named open_clip model that ``vsearch models download NAME`` can fetch.

    Attributes:
        name: the short name users type.
        arch: open_clip architecture name.
        pretrained: open_clip pretrained tag.
        description: one line for ``vsearch models``.
        size_mb: approximate download size (fp32 weights).
        dim: vector length.
        image_size: input side in pixels.
        speed: a rough speed note for the listing.
        requires: extra Python packages the model needs.
        hub_repo: the Hugging Face repo open_clip fetches the weights from (tests/unit/test_cold_start.py
            checks it against open_clip's table): a folder check on it answers "not downloaded"
            without importing open_clip (and torch), which `vsearch index` on a fresh install did.
    """

    name: str
    arch: str
    pretrained: str
    description: str
    size_mb: int
    dim: int
    image_size: int
    speed: str
    requires: tuple[str, ...] = ()
    hub_repo: str = ""


PRESETS: dict[str, ModelPreset] = {
    p.name: p
    for p in (
        ModelPreset(
            "fast",
            "MobileCLIP2-S0",
            "dfndr2b",
            "Apple MobileCLIP2-S0: smallest good CLIP, for laptops without a GPU",
            300,
            512,
            256,
            "smallest download; on desktop CPUs about as fast as balanced",
            hub_repo="timm/MobileCLIP2-S0-OpenCLIP",
        ),
        ModelPreset(
            "balanced",
            "ViT-B-32",
            "laion2b_s34b_b79k",
            "OpenCLIP ViT-B/32 trained on LAION-2B: recommended default",
            605,
            512,
            224,
            "fast on CPU, very fast on GPU",
            hub_repo="laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
        ),
        ModelPreset(
            "best",
            "ViT-L-14",
            "laion2b_s32b_b82k",
            "OpenCLIP ViT-L/14 trained on LAION-2B: most accurate, wants a GPU",
            1710,
            768,
            224,
            "slow on CPU (about 12x balanced); use a GPU",
            hub_repo="laion/CLIP-ViT-L-14-laion2B-s32B-b82K",
        ),
        ModelPreset(
            "multilingual",
            "xlm-roberta-base-ViT-B-32",
            "laion5b_s13b_b90k",
            "ViT-B/32 with an XLM-RoBERTa text tower: queries in 100+ languages",
            1470,
            512,
            224,
            "like balanced for images; slower text encoding",
            ("transformers",),
            hub_repo="laion/CLIP-ViT-B-32-xlm-roberta-base-laion5B-s13B-b90k",
        ),
    )
}

TEST_NAMES = ("test-color", "tiny-random")


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """One row of ``vsearch models``.

    Attributes:
        name: what to pass to ``--model``.
        description: one line.
        size_mb: approximate size on disk (0 when bundled).
        present: the weights are on this machine, so the model works offline.
        speed: a rough speed note.
        kind: "starter", "preset" or "imported".
        partial_bytes: bytes of an unfinished download kept for resuming (0: none).
    """

    name: str
    description: str
    size_mb: int
    present: bool
    speed: str
    kind: str
    partial_bytes: int = 0


@dataclass(frozen=True, slots=True)
class ImportedModel:
    """An entry of models.json: a local checkpoint registered under a name.

    Attributes:
        name: the name given at import.
        arch: open_clip architecture.
        file: checkpoint file name inside ``models_dir/imported``.
        sha256: short sha256 of the file.
        size: bytes.
        source: the path it was imported from.
        imported_at: ISO time.
    """

    name: str
    arch: str
    file: str
    sha256: str
    size: int
    source: str
    imported_at: str


# -- helpers -------------------------------------------------------------------------------


def preset_for(arch: str, pretrained: str) -> ModelPreset | None:
    """The preset with this (arch, tag), if any."""
    for p in PRESETS.values():
        if p.arch == arch and p.pretrained == pretrained:
            return p
    return None


def _read_registry(models_dir: Path) -> dict[str, ImportedModel]:
    path = Path(models_dir) / REGISTRY_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: ImportedModel(**entry) for name, entry in data.get("imported", {}).items()}
    except (OSError, ValueError, TypeError) as exc:
        raise EnvironmentProblem(
            f"model registry {path} is unreadable ({exc}); remove it and import again"
        ) from exc


def _write_registry(models_dir: Path, entries: dict[str, ImportedModel]) -> None:
    payload = {"version": 1, "imported": {n: asdict(e) for n, e in sorted(entries.items())}}
    with atomic_write(Path(models_dir) / REGISTRY_FILE, "w") as fh:
        json.dump(payload, fh, indent=2)
        fh.write("\n")


def imported_models(models_dir: Path) -> dict[str, ImportedModel]:
    """Imported models recorded in ``models_dir/models.json``."""
    return _read_registry(models_dir)


def parse_spec(name: str) -> tuple[str, str | None] | None:
    """``openclip:ARCH:PRETRAINED`` or ``ARCH/PRETRAINED`` -> (arch, pretrained or None for random)."""
    arch: str | None = None
    pre: str | None = None
    if name.startswith("openclip:"):
        rest = name[len("openclip:") :]
        if ":" not in rest:
            return None
        arch, pre = rest.split(":", 1)
    elif "/" in name and not name.startswith(("/", ".", "~")):
        arch, pre = name.split("/", 1)
    if not arch or pre is None:
        return None
    if pre in ("", "random", "none", "None") or pre.startswith("random-seed"):
        return arch, None
    return arch, pre


def missing_hint(arch: str, tag: str) -> str:
    """What to run when the weights (arch, tag) are not here: the download (by preset name) or an import."""
    preset = preset_for(arch, tag)
    target = preset.name if preset is not None else f"{arch}/{tag}"
    return (
        f"run `vsearch models download {target}` (needs network) "
        f"or `vsearch models import FILE --arch {arch}`"
    )


def _spec(name: str) -> tuple[str, str] | None:
    """(arch, tag) of a preset name or an ``ARCH/TAG`` spec with a tag, else None."""
    if name in PRESETS:
        return PRESETS[name].arch, PRESETS[name].pretrained
    spec = parse_spec(name)
    if spec is None or spec[1] is None:
        return None
    return spec[0], spec[1]


# -- public API ----------------------------------------------------------------------------


def load_embedder(
    name: str,
    *,
    models_dir: Path,
    device: str = "auto",
    batch_size: int = 64,
    threads: int | None = None,
    precision: str | None = None,
) -> Embedder:
    """Build the embedder called *name*; nothing is downloaded and no weights are read yet.

    Args:
        name: a preset, "starter", "test-color", "tiny-random", an imported name, or an
            open_clip spec (``ARCH/PRETRAINED`` or ``openclip:ARCH:PRETRAINED``).
        models_dir: the models folder (``Dirs.models``).
        device: "auto", "cpu", "cuda" or "mps".
        batch_size: images or sentences per forward pass.
        threads: torch intra-op threads (process-wide); None keeps torch's default.
        precision: "auto" or None (fp16 on GPUs, bf16 on CPUs with hardware bfloat16, else
            fp32), "fp32", "bf16" or "fp16".

    Raises:
        UserError: unknown name.
        ModelMissing: the weights are not on this machine (the message says how to get them).
    """
    try:
        return _build(name, Path(models_dir), device, batch_size, threads, precision)
    except WeightsMissing as exc:
        raise WeightsMissing(exc.arch, exc.tag, missing_hint(exc.arch, exc.tag)) from None


def _build(
    name: str, models_dir: Path, device: str, batch_size: int, threads: int | None, precision: str | None
) -> Embedder:
    from vsearch.embed.clip import ClipEmbedder

    clip = functools.partial(
        ClipEmbedder, device=device, batch_size=batch_size, threads=threads, precision=precision
    )
    if name == "starter":
        from vsearch.embed.starter import StarterEmbedder

        return StarterEmbedder(device=device, threads=threads, batch_size=batch_size, precision=precision)
    if name == "test-color":
        from vsearch.embed.testing import ColorEmbedder

        return ColorEmbedder()
    if name == "tiny-random":
        return clip(TINY_ARCH, None)
    if name in PRESETS:
        p = PRESETS[name]
        return clip(p.arch, p.pretrained, cache_dir=weights.hf_cache(models_dir))
    imported = imported_models(models_dir)
    if name in imported:
        entry = imported[name]
        path = models_dir / IMPORTED_SUBDIR / entry.file
        if not path.is_file():
            raise ModelMissing(
                f"imported model {name}: file {path} is gone; run `vsearch models import FILE --arch {entry.arch} --name {name}` again"
            )
        weights.remember_digest(path, entry.sha256, entry.size)  # no re-hash of a big file on every start
        return clip(entry.arch, str(path))
    spec = parse_spec(name)
    if spec is not None:
        arch, pre = spec
        return clip(arch, pre, cache_dir=weights.hf_cache(models_dir))
    known = ", ".join(["starter", *PRESETS, *imported])
    raise UserError(
        f"unknown model {name!r}; choose one of: {known} (or ARCH/PRETRAINED for any open_clip model)"
    )


def list_models(models_dir: Path) -> list[ModelStatus]:
    """Every user-facing model with whether it is on this machine (starter, presets, imported)."""
    models_dir = Path(models_dir)
    rows = [
        ModelStatus(
            "starter",
            "offline starter model shipped with vsearch (lower accuracy)",
            0,
            True,
            "fast on CPU",
            "starter",
        )
    ]
    for p in PRESETS.values():
        # nothing of the preset downloaded, not even in part: known without importing open_clip
        # (and so torch's model stacks), which the app asks from a worker thread while a video
        # may be starting to play: that import beside Qt Multimedia's decoder crashed it (WALKTHROUGH)
        fetched = not p.hub_repo or weights.hub_repo_cached(p.hub_repo, models_dir)
        present = fetched and weights.is_present(p.arch, p.pretrained, models_dir)
        desc = p.description
        missing = [r for r in p.requires if not _importable(r)]
        if missing:
            desc += f" (needs: pip install {' '.join(missing)})"
        partial = 0 if present or not fetched else weights.partial_download(p.arch, p.pretrained, models_dir)
        rows.append(ModelStatus(p.name, desc, p.size_mb, present, p.speed, "preset", partial))
    for name, e in imported_models(models_dir).items():
        path = models_dir / IMPORTED_SUBDIR / e.file
        rows.append(
            ModelStatus(
                name,
                f"imported {e.arch} checkpoint ({Path(e.source).name})",
                round(e.size / 1e6),
                path.is_file(),
                "",
                "imported",
            )
        )
    return rows


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def default_model(models_dir: Path) -> str:
    """A preset whose weights are present (balanced first), else "starter"."""
    models_dir = Path(models_dir)
    for name in DEFAULT_ORDER:
        p = PRESETS[name]
        if p.hub_repo and not weights.hub_repo_cached(p.hub_repo, models_dir):
            continue  # nothing of it downloaded: known without importing open_clip
        if all(_importable(r) for r in p.requires) and weights.is_present(p.arch, p.pretrained, models_dir):
            return name
    return "starter"


def download(
    name: str,
    models_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Download a preset's weights (or any ``ARCH/TAG`` on the Hugging Face hub) into the models dir.

    Only ever called on the user's explicit request. Resumes a partial download, checks the
    disk space first and the checksum last (``vsearch.embed.weights.download``).

    Args:
        name: preset name or ``ARCH/TAG`` / ``openclip:ARCH:TAG``.
        models_dir: the models folder; weights go to ``models_dir/hf`` (hub cache layout).
        progress: called with (bytes done, bytes total) as the file arrives.
        cancel: stops the download when cancelled (the partial file is kept).

    Returns:
        The local path of the weights file.

    Raises:
        EnvironmentProblem: downloads disabled (HF_HUB_OFFLINE=1), the network failed, too
            little disk space, a corrupt download.
        UserError: unknown name, or a model without hub weights.
        Cancelled: *cancel* was cancelled.
    """
    spec = _spec(name)
    if spec is None:
        raise UserError(f"cannot download {name!r}; choose one of: {', '.join(PRESETS)} (or ARCH/TAG)")
    arch, tag = spec
    return weights.download(arch, tag, Path(models_dir), progress, cancel)


def import_checkpoint(file: Path, arch: str, models_dir: Path, name: str | None = None) -> str:
    """Check a local open_clip checkpoint loads into *arch*, then copy it in and register it.

    Works offline. The file is hard-linked when possible, else copied. Nothing is written
    (neither the file nor models.json) before the checkpoint has loaded, so a bad file never
    replaces a model imported earlier under the same name.

    Args:
        file: a state dict saved by open_clip / torch (``.pt``, ``.bin``, ``.safetensors``).
        arch: the open_clip architecture it belongs to.
        models_dir: the models folder.
        name: the name to register (default: the file's stem).

    Returns:
        The registered name, usable with ``--model NAME``.

    Raises:
        UserError: missing file, unknown architecture, a name clash with a built-in name,
            a file that is not a checkpoint, or a checkpoint that does not fit *arch*.
    """
    src = Path(file).expanduser()
    if not src.is_file():
        raise UserError(f"checkpoint {src} does not exist")
    model_config(arch)
    models_dir = Path(models_dir)
    reg_name = name or src.stem
    if (
        reg_name in PRESETS
        or reg_name in ("starter", *TEST_NAMES)
        or parse_spec(reg_name) is not None
        or not reg_name.strip()
    ):
        raise UserError(
            f"cannot import as {reg_name!r}: the name is reserved or invalid; pass another --name"
        )
    entries = _read_registry(models_dir)  # an unreadable registry fails before the slow check
    weights.check_checkpoint(src, arch)
    dest, digest = weights.install_checkpoint(src, models_dir / IMPORTED_SUBDIR, reg_name)
    entries[reg_name] = ImportedModel(
        name=reg_name,
        arch=arch,
        file=dest.name,
        sha256=digest,
        size=dest.stat().st_size,
        source=str(src.resolve()),
        imported_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    _write_registry(models_dir, entries)
    log.info("imported %s (%s) as %s", src, arch, reg_name)
    return reg_name
