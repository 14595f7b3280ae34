"""Odd but valid media the helpers in tests/helpers/videos.py do not make (PyAV only)."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def _write(
    path: Path,
    frames: list[tuple[np.ndarray, int]],
    *,
    codec: str,
    pix_fmt: str,
    rate: int = 10,
    time_base: Fraction | None = None,
    options: dict[str, str] | None = None,
) -> Path:
    h, w = frames[0][0].shape[:2]
    with av.open(str(path), mode="w") as out:
        s = out.add_stream(codec, rate=rate)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        if time_base is not None:
            s.time_base = time_base
            s.codec_context.time_base = time_base
        if options:
            s.codec_context.options = options
        for img, pts in frames:
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = pts
            if time_base is not None:
                f.time_base = time_base
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    return path


def solid(w: int, h: int, rgb: tuple[int, int, int]) -> np.ndarray:
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rgb
    return img


def one_pixel(path: Path) -> Path:
    """A 1x1 video (lossless FFV1 in Matroska: H.264 needs even sizes)."""
    return _write(
        path, [(solid(1, 1, (220, 20, 20)), i) for i in range(20)], codec="ffv1", pix_fmt="yuv444p", rate=10
    )


def huge(path: Path, w: int = 8192, h: int = 4320) -> Path:
    """Two frames of a very large picture."""
    img = solid(w, h, (20, 40, 220))
    return _write(
        path,
        [(img, 0), (img, 1)],
        codec="libx264",
        pix_fmt="yuv420p",
        rate=1,
        options={"preset": "ultrafast"},
    )


def variable_rate(path: Path) -> Path:
    """Frames at irregular times (ms time base): 0, 0.04, 0.5, 0.52, 1.7, 3.0 ... up to ~6 s."""
    times_ms = [0, 40, 500, 520, 1700, 3000, 3010, 3020, 4500, 6000]
    frames = [(solid(64, 48, (20, 200, 40) if t < 3000 else (230, 220, 30)), t) for t in times_ms]
    return _write(
        path,
        frames,
        codec="libx264",
        pix_fmt="yuv420p",
        rate=25,
        time_base=Fraction(1, 1000),
        options={"preset": "ultrafast"},
    )


def hevc_10bit(path: Path) -> Path:
    frames = [(solid(64, 48, (240, 140, 20)), i) for i in range(20)]
    return _write(
        path,
        frames,
        codec="libx265",
        pix_fmt="yuv420p10le",
        rate=10,
        options={"preset": "ultrafast", "x265-params": "log-level=error"},
    )


def claim_hours(src: Path, dst: Path, seconds: int = 5 * 3600) -> Path:
    """Copy a Matroska file, rewriting the segment's Duration element to claim *seconds*."""
    data = bytearray(src.read_bytes())
    i = data.find(b"\x44\x89")  # EBML id of Segment/Info/Duration (float, in TimestampScale units: ms)
    assert i != -1, "no Duration element"
    size = data[i + 2]
    if size == 0x88:
        struct.pack_into(">d", data, i + 3, seconds * 1000.0)
    elif size == 0x84:
        struct.pack_into(">f", data, i + 3, seconds * 1000.0)
    else:
        raise ValueError(f"unexpected Duration size byte {size:#x}")
    dst.write_bytes(bytes(data))
    return dst
