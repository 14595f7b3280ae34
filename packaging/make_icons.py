"""Render resources/vsearch.svg to the PNG sizes desktops want, plus .ico (Windows); run by hand."""

import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int) -> QImage:
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    QSvgRenderer(str(svg)).render(p)
    p.end()
    return img


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "resources"
    svg = root / "vsearch.svg"
    _app = QGuiApplication(sys.argv[:1])
    for size in SIZES:
        out = root / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "vsearch.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        render(svg, size).save(str(out))
    render(svg, 256).save(str(root / "vsearch.png"))
    # A PNG-compressed .ico holding 16..256 (Windows Vista+ reads it).
    images = []
    for size in (16, 32, 48, 256):
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        render(svg, size).save(buf, "PNG")
        images.append((size, bytes(data.data())))
    header = (0).to_bytes(2, "little") + (1).to_bytes(2, "little") + len(images).to_bytes(2, "little")
    entries, blobs, offset = b"", b"", 6 + 16 * len(images)
    for size, png in images:
        s = 0 if size >= 256 else size
        entries += bytes([s, s, 0, 0]) + (1).to_bytes(2, "little") + (32).to_bytes(2, "little")
        entries += len(png).to_bytes(4, "little") + offset.to_bytes(4, "little")
        blobs += png
        offset += len(png)
    (root / "vsearch.ico").write_bytes(header + entries + blobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
