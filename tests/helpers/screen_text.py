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
#: Where a style can go besides its default place.
PLACES = {
    "lower_third": ("right",),
    "slate": ("light",),  # dark text on a light card
    "subtitle": ("top",),
    "corner": ("top_left", "bottom_left"),
    "box": ("low", "left"),
}


def font_path(bold: bool = True, name: str = "") -> str:
    import matplotlib

    name = name or ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", name)


@dataclass(frozen=True, slots=True)
class Overlay:
    """Text shown from *start* to *end* (seconds) in one of STYLES; ``\\n`` separates lines.

    *font* (a file of matplotlib's fonts, e.g. "DejaVuSerif-Bold.ttf"; "" = the style's DejaVu
    Sans), *place* (one of PLACES' variants for the style; "" = the default place) and *scale*
    (of the text size) vary the look, for a second, independent set of clips.
    """

    text: str
    start: float
    end: float
    style: str = "lower_third"
    colour: tuple[int, int, int] = (230, 60, 40)  # box colour of the "box" style
    font: str = ""
    place: str = ""
    scale: float = 1.0


def _font(size: int, bold: bool = True, name: str = "") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(bold, name), size)


def draw(img: Image.Image, ov: Overlay) -> None:
    """Draw one overlay onto *img* (in place)."""
    w, h = img.size
    d = ImageDraw.Draw(img)
    lines = ov.text.split("\n")
    if ov.place and ov.place not in PLACES.get(ov.style, ()):
        raise ValueError(f"style {ov.style!r} has no place {ov.place!r}; one of {PLACES.get(ov.style)}")

    def font(px: int, bold: bool = True) -> ImageFont.FreeTypeFont:
        return _font(max(8, round(px * ov.scale)), bold, ov.font)

    if ov.style == "slate":
        light = ov.place == "light"
        d.rectangle([0, 0, w, h], fill=(235, 230, 215) if light else (12, 12, 12))
        f = font(max(12, h // 9))
        ys = h // 2 - (len(lines) * f.size * 13 // 10) // 2
        for i, ln in enumerate(lines):
            tw = d.textlength(ln, font=f)
            d.text(((w - tw) / 2, ys + i * f.size * 13 // 10), ln, font=f, fill=(20, 20, 30) if light else (245, 245, 245))
    elif ov.style == "lower_third":
        f1, f2 = font(max(10, h // 16)), font(max(9, h // 22), bold=False)
        tw = max(d.textlength(ln, font=f1 if i == 0 else f2) for i, ln in enumerate(lines))
        x0, y0 = w // 20, int(h * 0.72)
        if ov.place == "right":
            x0, y0 = w - w // 20 - tw - 12, int(h * 0.66)
        d.rectangle([x0 - 8, y0 - 6, x0 + tw + 12, y0 + f1.size + (len(lines) - 1) * (f2.size + 6) + 10], fill=(20, 40, 120))
        for i, ln in enumerate(lines):
            f = f1 if i == 0 else f2
            d.text((x0, y0 + (0 if i == 0 else f1.size + 4 + (i - 1) * (f2.size + 6))), ln, font=f, fill=(255, 255, 255))
    elif ov.style == "subtitle":
        f = font(max(10, h // 18), bold=False)
        lh = f.size * 12 // 10
        y0 = h // 14 if ov.place == "top" else h - h // 14 - len(lines) * lh
        for i, ln in enumerate(lines):
            tw = d.textlength(ln, font=f)
            d.text(((w - tw) / 2, y0 + i * lh), ln, font=f, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    elif ov.style == "corner":
        f = font(max(9, h // 26))
        tw = d.textlength(lines[0], font=f)
        x, y = w - tw - w // 30, h // 24
        if ov.place == "top_left":
            x = w // 30
        elif ov.place == "bottom_left":
            x, y = w // 30, h - h // 24 - f.size * 12 // 10
        d.text((x, y), lines[0], font=f, fill=(255, 235, 60), stroke_width=1, stroke_fill=(0, 0, 0))
    elif ov.style == "box":
        f = font(max(12, h // 11))
        tw = max(d.textlength(ln, font=f) for ln in lines)
        bh = len(lines) * f.size * 12 // 10
        x0, y0 = (w - tw) / 2, h * 0.35
        if ov.place == "low":
            y0 = h * 0.58
        elif ov.place == "left":
            x0, y0 = w // 12 + 14, h * 0.2
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
