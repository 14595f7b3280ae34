"""Every folder vsearch reads or writes: a home (settings, logs, models, cache) and a library folder.

The **home** holds what belongs to the user rather than to one library: settings.toml, logs,
downloaded and imported models, the thumbnail cache. It is ``VSEARCH_HOME`` if set, else the
portable folder (a ``vsearch-portable`` marker file beside the frozen executable), else the
platform's per-user folders.

The **library folder** (database, ANN caches, lock) is ``--library DIR`` (passed to
:func:`resolve`) or the folder chosen in the settings, else the home's default: ``VSEARCH_HOME``
itself, ``vsearch-data/`` in portable mode, the per-user data folder's ``library/``.
Choosing another library never moves the home, so the settings that chose it stay where the
next start reads them.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "vsearch"
PORTABLE_MARKER = "vsearch-portable"


@dataclass(frozen=True, slots=True)
class Dirs:
    """The folders of one vsearch run.

    Attributes:
        library: the library (SQLite database, ANN indexes, lock file).
        cache: thumbnails and other disposable data (home).
        config: settings.toml (home).
        logs: rotating log files (home).
        models: downloaded and imported model weights, shared by libraries (home, or
            ``VSEARCH_MODELS``).
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


def home() -> Dirs:
    """The home folders, with the home's default library; nothing is created here."""
    models_env = os.environ.get("VSEARCH_MODELS")
    base: Path | None = None
    if os.environ.get("VSEARCH_HOME"):
        base = Path(os.environ["VSEARCH_HOME"]).expanduser()
    else:
        base = _portable_base()
    if base is not None:
        base = base.absolute()
        return Dirs(
            library=base,
            cache=base / "cache",
            config=base / "config",
            logs=base / "logs",
            models=Path(models_env).expanduser() if models_env else base / "models",
        )
    data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return Dirs(
        library=data / "library",
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        models=Path(models_env).expanduser() if models_env else data / "models",
    )


def resolve(library: str | os.PathLike[str] | None = None) -> Dirs:
    """The home folders with *library* as the library folder (None: the home's default)."""
    dirs = home()
    if library is None or not os.fspath(library):
        return dirs
    return dataclasses.replace(dirs, library=Path(library).expanduser().absolute())


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
