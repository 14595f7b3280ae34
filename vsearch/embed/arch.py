"""open_clip architectures: their configs, vsearch's bundled tiny test config, pretrained tags."""

from __future__ import annotations

import threading
from typing import Any

from vsearch.errors import UserError

#: open_clip architecture name of the bundled tiny test config (vsearch/resources/tiny_clip.json).
TINY_ARCH = "tiny_clip"
_CONFIG_LOCK = threading.Lock()


def ensure_bundled_configs() -> None:
    """Register vsearch's own open_clip configs (the tiny test model) once per process."""
    import open_clip

    from vsearch.paths import resource

    with _CONFIG_LOCK:
        if TINY_ARCH not in open_clip.list_models():
            open_clip.add_model_config(str(resource(f"{TINY_ARCH}.json")))


def model_config(arch: str) -> dict[str, Any]:
    """open_clip's config dict for *arch*; UserError if open_clip does not know it."""
    import open_clip

    ensure_bundled_configs()
    cfg: dict[str, Any] | None = open_clip.get_model_config(arch)
    if cfg is None:
        raise UserError(
            f"unknown open_clip architecture {arch!r} (see `python -m open_clip.list_models` or vsearch docs/MODELS.md)"
        )
    return cfg


def pretrained_config(arch: str, tag: str) -> dict[str, Any]:
    """open_clip's entry for the pretrained tag *tag* of *arch*; UserError naming the known tags."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(arch, tag)
    if not cfg:
        known = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
        raise UserError(f"unknown pretrained tag {tag!r} for {arch}; known: {known}")
    return dict(cfg)


def is_pretrained_tag(arch: str, tag: str) -> bool:
    """Whether open_clip knows *tag* as a pretrained tag of *arch* (rather than a file name)."""
    import open_clip

    return bool(open_clip.get_pretrained_cfg(arch, tag))


def hf_text_repo(arch: str) -> str | None:
    """The Hugging Face text model an architecture builds its text tower from, if any."""
    text = model_config(arch).get("text_cfg", {})
    return text.get("hf_model_name") or text.get("hf_tokenizer_name") or None
