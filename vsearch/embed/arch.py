"""open_clip architectures: their configs, vsearch's bundled tiny test config, pretrained tags."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from pathlib import Path
from typing import Any

from vsearch.errors import UserError

#: open_clip architecture name of the bundled tiny test config (vsearch/resources/tiny_clip.json).
TINY_ARCH = "tiny_clip"
_CONFIG_LOCK = threading.Lock()
_TABLE: dict[str, dict[str, dict[str, Any]]] | None = None


def ensure_bundled_configs() -> None:
    """Register vsearch's own open_clip configs (the tiny test model) once per process."""
    import open_clip

    from vsearch.paths import resource

    with _CONFIG_LOCK:
        if TINY_ARCH not in open_clip.list_models():
            open_clip.add_model_config(str(resource(f"{TINY_ARCH}.json")))


def _package_dir() -> Path | None:
    """open_clip's installed package folder, found without importing it (which imports torch)."""
    spec = importlib.util.find_spec("open_clip")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _config_file(arch: str) -> Path | None:
    """The JSON file open_clip reads *arch*'s config from (its ``model_configs`` folder), if any."""
    from vsearch.paths import resource

    if arch == TINY_ARCH:
        return resource(f"{TINY_ARCH}.json")
    pkg = _package_dir()
    if pkg is None or not arch or any(c in arch for c in "/\\:") or arch.startswith("."):
        return None
    p = pkg / "model_configs" / f"{arch}.json"
    return p if p.is_file() else None


def model_config(arch: str) -> dict[str, Any]:
    """open_clip's config dict for *arch*; UserError if open_clip does not know it.

    Read from the JSON file open_clip itself reads it from (``open_clip.factory`` loads every
    ``model_configs/*.json`` holding embed_dim, vision_cfg and text_cfg), so a process that
    only searches need not import open_clip and torch; open_clip's answer where it is loaded.
    """
    if "open_clip" not in sys.modules:
        p = _config_file(arch)
        if p is not None:
            try:
                cfg = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                cfg = None
            if isinstance(cfg, dict) and all(k in cfg for k in ("embed_dim", "vision_cfg", "text_cfg")):
                return cfg
    import open_clip

    ensure_bundled_configs()
    found: dict[str, Any] | None = open_clip.get_model_config(arch)
    if found is None:
        raise UserError(
            f"unknown open_clip architecture {arch!r} (see `python -m open_clip.list_models` or vsearch docs/MODELS.md)"
        )
    return found


def _open_clip_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("open_clip_torch")
    except metadata.PackageNotFoundError:
        return "unknown"


def _pretrained_table() -> dict[str, dict[str, dict[str, Any]]]:
    """open_clip's pretrained table, arch -> tag -> config, as ``open_clip.get_pretrained_cfg`` gives it.

    Kept as JSON in the cache folder per open_clip version (written whenever open_clip is
    imported for it), so that naming a pretrained model does not import open_clip and torch
    in a process that only searches.
    """
    global _TABLE
    with _CONFIG_LOCK:
        if _TABLE is not None:
            return _TABLE
    from vsearch import paths

    path = paths.home().cache / f"open_clip-pretrained-{_open_clip_version()}.json"
    table: dict[str, dict[str, dict[str, Any]]] | None = None
    if "open_clip" not in sys.modules:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict) and loaded.get("version") == 1 and isinstance(loaded.get("table"), dict):
                table = loaded["table"]
        except (OSError, ValueError):
            table = None
    if table is None:
        import open_clip

        table = {}
        for a, tag in open_clip.list_pretrained():
            table.setdefault(a, {})[tag] = json.loads(json.dumps(open_clip.get_pretrained_cfg(a, tag), default=list))
        try:
            from vsearch.atomic import atomic_write

            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path, "w") as f:
                json.dump({"version": 1, "table": table}, f)
        except OSError:
            pass  # a cache that cannot be written is not an error
    with _CONFIG_LOCK:
        _TABLE = table
    return table


def _clean_tag(tag: str) -> str:
    """open_clip's tag normalisation (``open_clip.pretrained._clean_tag``)."""
    return tag.lower().replace("-", "_")


def pretrained_tags(arch: str) -> list[str]:
    """The pretrained tags open_clip knows for *arch*."""
    return list(_pretrained_table().get(arch, {}))


def pretrained_config(arch: str, tag: str) -> dict[str, Any]:
    """open_clip's entry for the pretrained tag *tag* of *arch*; UserError naming the known tags."""
    cfg = _pretrained_table().get(arch, {}).get(_clean_tag(tag))
    if not cfg:
        known = ", ".join(pretrained_tags(arch)) or "none"
        raise UserError(f"unknown pretrained tag {tag!r} for {arch}; known: {known}")
    return dict(cfg)


def is_pretrained_tag(arch: str, tag: str) -> bool:
    """Whether open_clip knows *tag* as a pretrained tag of *arch* (rather than a file name)."""
    return bool(_pretrained_table().get(arch, {}).get(_clean_tag(tag)))


def hf_text_repo(arch: str) -> str | None:
    """The Hugging Face text model an architecture builds its text tower from, if any."""
    text = model_config(arch).get("text_cfg", {})
    return text.get("hf_model_name") or text.get("hf_tokenizer_name") or None
