"""Contact sheet: a PNG grid and an HTML page of the moments' thumbnails with their times."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from vsearch import log
from vsearch.atomic import atomic_write
from vsearch.errors import UserError
from vsearch.export.base import (
    ExportOptions,
    Thumbnailer,
    check_moments,
    ensure_writable,
    file_uri,
    finish_file,
    title_for,
    with_extension,
    write_file,
)
from vsearch.timefmt import clock_fine
from vsearch.types import Moment

if TYPE_CHECKING:  # Pillow is imported when a sheet is drawn, not when vsearch.export loads
    from PIL import Image as PILImage
    from PIL import ImageFont as PILImageFont

THUMB_W = 320
THUMB_H = 180
COLUMNS = 4
CAPTION_H = 44
PAD = 8


def grab_frame(path: str, seconds: float) -> np.ndarray:
    """The first frame at or after *seconds* as RGB uint8, decoded with PyAV (no ffmpeg binary)."""
    from vsearch.probe import open_input

    with open_input(path) as c:
        v = c.streams.video[0]
        v.thread_type = "AUTO"
        tb = v.time_base or Fraction(1, 90000)
        if seconds > 0:
            c.seek(int(seconds / tb), stream=v, backward=True, any_frame=False)
        last = None
        for frame in c.decode(v):
            last = frame
            if frame.pts is not None and float(frame.pts * tb) >= seconds - 0.02:
                break
        if last is None:
            raise ValueError(f"no frame at {seconds:.2f} s")
        rgb: np.ndarray = last.to_ndarray(format="rgb24")
        return rgb


def _thumbnail_image(thumbnail: Thumbnailer, m: Moment) -> PILImage.Image:
    """The moment's thumbnail as a THUMB_W x THUMB_H tile (letterboxed; grey when unreadable)."""
    from PIL import Image, ImageOps

    try:
        got = thumbnail(m.path, m.best_time)
        img = (
            Image.open(io.BytesIO(got)).convert("RGB")
            if isinstance(got, (bytes, bytearray))
            else Image.fromarray(np.asarray(got, dtype=np.uint8)).convert("RGB")
        )
    except Exception as exc:  # an unreadable file gets a grey tile, the sheet still comes out
        log.export.info("no thumbnail for %s at %.2f: %s", m.path, m.best_time, exc)
        img = Image.new("RGB", (THUMB_W, THUMB_H), (60, 60, 60))
    img = ImageOps.contain(img, (THUMB_W, THUMB_H))  # scales small frames up too
    tile = Image.new("RGB", (THUMB_W, THUMB_H), (0, 0, 0))
    tile.paste(img, ((THUMB_W - img.width) // 2, (THUMB_H - img.height) // 2))
    return tile


def _font(size: int) -> PILImageFont.FreeTypeFont | PILImageFont.ImageFont:
    """Pillow's default font at *size* pixels (the fixed bitmap font without FreeType)."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except Exception:  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


#: Moments on one PNG page (25 rows of 4: 1.3 x 5.8 kpx, 23 MB while drawn); more go to
#: sheet-2.png, sheet-3.png, ...
PAGE_MOMENTS = 100
#: A sheet holds at most this many moments (~15 KB of inlined JPEG each in the HTML page).
MAX_MOMENTS = 2000
_HEAD = 36


class ContactSheetExporter:
    """A contact sheet: ``<out>.html`` and ``<out>.png`` of the moments' thumbnails.

    The HTML page is self-contained (thumbnails inlined, each linked to its file at the moment);
    the PNG is a grid of thumbnails captioned with rank, file, times and score.

    Work is streamed: one thumbnail at a time goes into the current PNG page and the HTML file,
    so memory stays at one page however many moments there are; beyond PAGE_MOMENTS the PNG
    continues in ``<out>-2.png``, ...; more than MAX_MOMENTS are refused with one line.
    """

    name = "sheet"
    extension = ".html"
    description = "contact sheet: HTML page and PNG of thumbnails with times"

    def export(
        self, moments: Sequence[Moment], out: Path, *, query: str = "", options: ExportOptions
    ) -> list[Path]:
        """Write the HTML page and its PNG pages; returns them, the HTML page first."""
        ms = check_moments(moments)
        if len(ms) > MAX_MOMENTS:
            raise UserError(
                f"a contact sheet holds at most {MAX_MOMENTS} moments, not {len(ms)}; "
                "export fewer (-k) or use csv or json"
            )
        html_path = with_extension(out, self.extension)
        pages = (len(ms) + PAGE_MOMENTS - 1) // PAGE_MOMENTS
        png_paths = [html_path.with_suffix(".png")] + [
            html_path.with_name(f"{html_path.stem}-{i}.png") for i in range(2, pages + 1)
        ]
        ensure_writable([html_path, *png_paths], options.overwrite)
        thumbnail = options.thumbnail or grab_frame
        title = title_for(query, options)
        head, tail = _PAGE.split("{cards}")
        written: list[Path] = []
        with atomic_write(html_path, "wb") as raw:
            page = io.TextIOWrapper(raw, encoding="utf-8", newline="\n", write_through=True)
            page.write(head.format(title=html.escape(title), query=html.escape(query), count=len(ms)))
            for n, png_path in enumerate(png_paths):
                first = n * PAGE_MOMENTS
                chunk = ms[first : first + PAGE_MOMENTS]
                sheet = self._page(chunk, first, thumbnail, title, page)
                png = io.BytesIO()
                sheet.save(png, "PNG", optimize=len(chunk) <= 20)
                del sheet
                write_file(png_path, png.getvalue())
                written.append(png_path)
                if options.progress is not None:
                    options.progress(first + len(chunk), len(ms))
            page.write(tail)
            page.flush()
            page.detach()  # atomic_write closes the file itself
        finish_file(html_path)
        return [html_path, *written]

    def _page(
        self, chunk: Sequence[Moment], first: int, thumbnail: Thumbnailer, title: str, page: IO[str]
    ) -> PILImage.Image:
        """Draw one PNG page of moments (ranks from first + 1), writing each card to *page*."""
        from PIL import Image, ImageDraw

        rows = (len(chunk) + COLUMNS - 1) // COLUMNS
        cols = min(COLUMNS, len(chunk))
        sheet = Image.new(
            "RGB", (PAD + cols * (THUMB_W + PAD), _HEAD + rows * (THUMB_H + CAPTION_H + PAD)), (24, 24, 24)
        )
        draw = ImageDraw.Draw(sheet)
        draw.text((PAD, 8), title, fill=(240, 240, 240), font=_font(18))
        small = _font(13)
        for i, m in enumerate(chunk):
            tile = _thumbnail_image(thumbnail, m)
            x = PAD + (i % COLUMNS) * (THUMB_W + PAD)
            y = _HEAD + (i // COLUMNS) * (THUMB_H + CAPTION_H + PAD)
            sheet.paste(tile, (x, y))
            name = Path(m.path).name
            draw.text((x, y + THUMB_H + 3), f"#{first + i + 1}  {name}"[:48], fill=(235, 235, 235), font=small)
            draw.text(
                (x, y + THUMB_H + 21),
                f"{clock_fine(m.start)} - {clock_fine(m.end)}   score {m.score:.3f}",
                fill=(170, 170, 170),
                font=small,
            )
            buf = io.BytesIO()
            tile.save(buf, "JPEG", quality=80)
            page.write(self._card(first + i + 1, m, base64.b64encode(buf.getvalue()).decode("ascii")) + "\n")
        return sheet

    @staticmethod
    def _card(rank: int, m: Moment, jpeg_b64: str) -> str:
        url = f"{file_uri(m.path)}#t={m.start:.2f},{m.end:.2f}"
        said = f'<p class="said">“{html.escape(m.text)}”</p>' if m.text else ""
        return (
            f'<figure><a href="{html.escape(url, quote=True)}">'
            f'<img src="data:image/jpeg;base64,{jpeg_b64}" alt="{html.escape(Path(m.path).name, quote=True)}"'
            f' width="{THUMB_W}" height="{THUMB_H}"></a>'
            f"<figcaption><b>#{rank}</b> {html.escape(Path(m.path).name)}<br>"
            f"{clock_fine(m.start)} – {clock_fine(m.end)} · {m.end - m.start:.1f} s · score {m.score:.3f}"
            f'<br><span class="path">{html.escape(m.path)}</span>{said}</figcaption></figure>'
        )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #181818; color: #eee; margin: 1.5em; }}
main {{ display: flex; flex-wrap: wrap; gap: 12px; }}
figure {{ margin: 0; width: 320px; }}
img {{ display: block; background: #000; }}
figcaption {{ font-size: 13px; padding: 4px 0; }}
.path {{ color: #999; font-size: 11px; word-break: break-all; }}
.said {{ color: #bbb; font-style: italic; margin: 2px 0; }}
a {{ color: inherit; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{count} moments for “{query}”. Click a thumbnail to open its file (players that honour
<code>#t=start,end</code> jump to the moment).</p>
<main>
{cards}
</main>
</body></html>
"""
