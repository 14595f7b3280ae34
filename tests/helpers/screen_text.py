"""Videos with text burned in at known times, in the styles editors meet (for the OCR expert).

Text is drawn with PIL and a real TrueType font (matplotlib's DejaVu Sans, a dev dependency), over
real footage (frames of another video, e.g. the dev set) or a moving synthetic background, and
encoded with PyAV (H.264). Each ``Overlay`` is visible on the frames whose time t satisfies
``start <= t < end``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

STYLES = ("lower_third", "slate", "subtitle", "corner", "box")


def font_path(bold: bool = True) -> str:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", name)


@dataclass(frozen=True, slots=True)
class Overlay:
    """Text shown from *start* to *end* (seconds) in one of STYLES; ``\\n`` separates lines."""

    text: str
    start: float
    end: float
    style: str = "lower_third"
    colour: tuple[int, int, int] = (230, 60, 40)  # box colour of the "box" style


def _font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(bold), size)


def draw(img: Image.Image, ov: Overlay) -> None:
    """Draw one overlay onto *img* (in place)."""
    w, h = img.size
    d = ImageDraw.Draw(img)
    lines = ov.text.split("\n")
    if ov.style == "slate":
        d.rectangle([0, 0, w, h], fill=(12, 12, 12))
        f = _font(max(12, h // 9))
        ys = h // 2 - (len(lines) * f.size * 13 // 10) // 2
        for i, ln in enumerate(lines):
            tw = d.textlength(ln, font=f)
            d.text(((w - tw) / 2, ys + i * f.size * 13 // 10), ln, font=f, fill=(245, 245, 245))
    elif ov.style == "lower_third":
        f1, f2 = _font(max(10, h // 16)), _font(max(9, h // 22), bold=False)
        x0, y0 = w // 20, int(h * 0.72)
        tw = max(d.textlength(ln, font=f1 if i == 0 else f2) for i, ln in enumerate(lines))
        d.rectangle([x0 - 8, y0 - 6, x0 + tw + 12, y0 + f1.size + (len(lines) - 1) * (f2.size + 6) + 10], fill=(20, 40, 120))
        for i, ln in enumerate(lines):
            f = f1 if i == 0 else f2
            d.text((x0, y0 + (0 if i == 0 else f1.size + 4 + (i - 1) * (f2.size + 6))), ln, font=f, fill=(255, 255, 255))
    elif ov.style == "subtitle":
        f = _font(max(10, h // 18), bold=False)
        lh = f.size * 12 // 10
        y0 = h - h // 14 - len(lines) * lh
        for i, ln in enumerate(lines):
            tw = d.textlength(ln, font=f)
            d.text(((w - tw) / 2, y0 + i * lh), ln, font=f, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    elif ov.style == "corner":
        f = _font(max(9, h // 26))
        tw = d.textlength(lines[0], font=f)
        d.text((w - tw - w // 30, h // 24), lines[0], font=f, fill=(255, 235, 60), stroke_width=1, stroke_fill=(0, 0, 0))
    elif ov.style == "box":
        f = _font(max(12, h // 11))
        tw = max(d.textlength(ln, font=f) for ln in lines)
        bh = len(lines) * f.size * 12 // 10
        x0, y0 = (w - tw) / 2, h * 0.35
        d.rounded_rectangle([x0 - 14, y0 - 10, x0 + tw + 14, y0 + bh + 12], radius=10, fill=ov.colour)
        for i, ln in enumerate(lines):
            d.text((x0 + (tw - d.textlength(ln, font=f)) / 2, y0 + i * f.size * 12 // 10), ln, font=f, fill=(255, 255, 255))
    else:
        raise ValueError(f"unknown style {ov.style!r}; one of {STYLES}")


def _source_frames(src: str | os.PathLike[str], start: float) -> Iterator[np.ndarray]:
    with av.open(str(src)) as c:
        stream = c.streams.video[0]
        t0 = None
        for fr in c.decode(stream):
            t = float(fr.pts * stream.time_base) if fr.pts is not None else 0.0
            t0 = t if t0 is None else t0
            if t - t0 >= start - 1e-6:
                yield fr.to_ndarray(format="rgb24")


def _moving_background(w: int, h: int, i: int, rng: np.random.Generator) -> np.ndarray:
    y = np.linspace(0, 1, h)[:, None]
    x = np.linspace(0, 1, w)[None, :]
    ph = i * 0.05
    img = np.stack(
        [80 + 60 * np.sin(6 * x + ph) * y, 110 + 50 * np.cos(4 * y + ph) * np.ones_like(x), 140 + 40 * np.sin(5 * (x + y) - ph)],
        axis=-1,
    )
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def burn(
    out: str | os.PathLike[str],
    overlays: Sequence[Overlay],
    seconds: float,
    *,
    source: str | os.PathLike[str] | None = None,
    source_start: float = 0.0,
    fps: int = 25,
    size: tuple[int, int] = (640, 360),
    seed: int = 0,
) -> Path:
    """Write *seconds* of video with *overlays* burned in; returns the path.

    Args:
        out: output .mp4.
        overlays: the text and when it shows.
        seconds: length of the clip.
        source: real footage to draw on (resized to *size*), from *source_start* s; when it ends
            before *seconds* it is played again. None: a moving synthetic background.
        fps, size: of the output.
        seed: of the synthetic background's noise.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    rng = np.random.default_rng(seed)
    n = max(1, round(seconds * fps))
    frames: Iterator[np.ndarray] | None = None
    with av.open(str(out), mode="w") as c:
        st = c.add_stream("libx264", rate=fps)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        st.codec_context.options = {"preset": "veryfast", "crf": "20"}
        for i in range(n):
            t = i / fps
            if source is None:
                arr = _moving_background(w, h, i, rng)
            else:
                arr = None
                for _ in range(2):
                    if frames is None:
                        frames = _source_frames(source, source_start)
                    arr = next(frames, None)
                    if arr is not None:
                        break
                    frames = None
                if arr is None:
                    raise ValueError(f"no frames in {source}")
            img = Image.fromarray(arr)
            if img.size != (w, h):
                img = img.resize((w, h), Image.BILINEAR)
            for ov in overlays:
                if ov.start <= t < ov.end:
                    draw(img, ov)
            vf = av.VideoFrame.from_ndarray(np.asarray(img), format="rgb24")
            vf.pts = i
            c.mux(st.encode(vf))
        c.mux(st.encode(None))
    return out
