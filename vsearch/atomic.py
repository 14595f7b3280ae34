"""Atomic file replacement: write to a temp file in the same folder, fsync, os.replace."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file beside *path*; on success it replaces *path* in one step.

    On any exception the temporary file is removed and *path* is left untouched.
    """
    with _replacing(Path(path)) as (fd, _tmp), os.fdopen(fd, mode) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside *path* for libraries that write files themselves (hnswlib, PyAV).

    The caller writes to the yielded path; on success it is fsynced and renamed over *path*.
    """
    with _replacing(Path(path)) as (fd, tmp):
        os.close(fd)
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[tuple[int, str]]:
    """A new temp file beside *path*, (fd, name); renamed over *path* on success, removed on any error.

    The caller writes and fsyncs it; this gives it a plain file's mode (mkstemp makes 0600 files),
    renames it and fsyncs the folder, so the rename itself survives a crash.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        yield fd, tmp
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask_mode() -> int:
    """The mode a plain open() would give a new file (mkstemp makes 0600 files)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
