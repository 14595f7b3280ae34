"""Every folder vsearch reads or writes: per-user dirs from platformdirs, with overrides.

Order of precedence: an explicit ``--library DIR`` (passed to :func:`resolve`), then the
``VSEARCH_HOME`` environment variable, then portable mode (a ``vsearch-portable`` marker file
beside the frozen executable), then the platform's per-user folders.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "vsearch"
PORTABLE_MARKER = "vsearch-portable"


@dataclass(frozen=True, slots=True)
class Dirs:
    """The folders of one vsearch installation.

    Attributes:
        library: the library (SQLite database, ANN indexes, lock file).
        cache: thumbnails and other disposable data.
        config: settings.toml.
        logs: rotating log files.
        models: downloaded and imported model weights (shared by libraries).
    """

    library: Path
    cache: Path
    config: Path
    logs: Path
    models: Path


def _portable_base() -> Path | None:
    if getattr(sys, "frozen", False):
        exe_dir = Path(sys.executable).resolve().parent
        if (exe_dir / PORTABLE_MARKER).exists():
            return exe_dir / "vsearch-data"
    return None


def resolve(library: str | os.PathLike[str] | None = None) -> Dirs:
    """Work out the folders; nothing is created here."""
    models_env = os.environ.get("VSEARCH_MODELS")
    base: Path | None = None
    if library is not None:
        base = Path(library).expanduser()
    elif os.environ.get("VSEARCH_HOME"):
        base = Path(os.environ["VSEARCH_HOME"]).expanduser()
    else:
        base = _portable_base()
    if base is not None:
        base = base.absolute()
        home = Path(os.environ["VSEARCH_HOME"]).expanduser().absolute() if os.environ.get("VSEARCH_HOME") else base
        return Dirs(
            library=base,
            cache=base / "cache",
            config=home / "config",
            logs=home / "logs",
            models=Path(models_env).expanduser() if models_env else home / "models",
        )
    data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return Dirs(
        library=data / "library",
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        models=Path(models_env).expanduser() if models_env else data / "models",
    )


def ensure_cache_tag(cache: Path) -> None:
    """Mark the cache folder so backup tools skip it (https://bford.info/cachedir/)."""
    tag = cache / "CACHEDIR.TAG"
    if tag.exists():
        return
    try:
        cache.mkdir(parents=True, exist_ok=True)
        tag.write_text(
            "Signature: 8a477f597d28d172789f06886806bc55\n"
            "# This file is a cache directory tag created by vsearch.\n"
        )
    except OSError:
        pass


def resource(*parts: str) -> Path:
    """Path of a bundled resource file (works from source, wheel and PyInstaller bundles)."""
    return Path(__file__).resolve().parent.joinpath("resources", *parts)
