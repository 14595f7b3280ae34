"""Thumbnail cache: (video, mtime, time, size) -> JPEG in the cache folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from PIL import Image

from vsearch.atomic import atomic_write


def thumbnail(cache: Path, path: str, time: float, size: int = 320) -> Path:
    """Path of a JPEG of the frame near *time*, made on first request (slow: call off the GUI thread)."""
    from vsearch.frames import grab_frame

    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = 0.0
    key = hashlib.sha1(f"{path}\0{mtime}\0{time:.2f}\0{size}".encode("utf-8", "surrogateescape")).hexdigest()
    out = cache / "thumbs" / key[:2] / f"{key}.jpg"
    if out.exists():
        return out
    rgb = grab_frame(path, time, short_side=size)
    img = Image.fromarray(rgb)
    img.thumbnail((size * 16 // 9 + 1, size))
    with atomic_write(out) as fh:
        img.save(fh, format="JPEG", quality=85)
    return out
