"""Small pieces the app's widgets share: an eliding label, folder names, counts in words, dropped folders.

Times are formatted by :mod:`vsearch.timefmt` (shared with the CLI and the exports).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A one-line label that elides its text instead of forcing the layout wider."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
    ) -> None:
        super().__init__(text, parent)
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(20)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        p.setFont(self.font())
        r = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), self._mode, r.width())
        p.drawText(r, int(self.alignment()) | int(Qt.AlignmentFlag.AlignVCenter), text)
        p.end()


def local_folders(urls: Sequence[QUrl]) -> list[str]:
    """The local folders among dropped URLs (a dropped file counts as its folder)."""
    out: list[str] = []
    for url in urls:
        if not url.isLocalFile():
            continue
        p = url.toLocalFile()
        if os.path.isfile(p):
            p = os.path.dirname(p)
        if os.path.isdir(p) and p not in out:
            out.append(p)
    return out


def distinct_names(paths: Sequence[str]) -> dict[str, str]:
    """A short name per folder that tells folders of the same name apart.

    Each folder is named by its last component; where two share it, by as many trailing
    components as it takes to differ (``work/videos`` and ``home/videos``).
    """
    parts = {p: [x for x in p.replace("\\", "/").rstrip("/").split("/") if x] or [p] for p in paths}
    names: dict[str, str] = {}
    for p, comps in parts.items():
        n = 1
        while n < len(comps) and any(
            q != p and qc[-n:] == comps[-n:] for q, qc in parts.items()
        ):
            n += 1
        names[p] = "/".join(comps[-n:])
    return names


def count_words(n: int, one: str, many: str | None = None) -> str:
    """``1 moment``, ``3 moments``: a count with its noun in the right number."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def download_text(done: int, total: int, speed: float, eta: float | None, *, percent: bool = False) -> str:
    """``12.3 of 605.0 MB · 4.1 MB/s · about 140 s left`` (with *percent*: ``(2 %)`` after the sizes)."""
    text = f"{done / 1e6:,.1f} of {total / 1e6:,.1f} MB"
    if percent:
        text += f" ({100 * done / total if total else 0:.0f} %)"
    if speed > 0:
        text += f" · {speed / 1e6:,.1f} MB/s"
    if eta is not None:
        text += f" · about {max(1, round(eta))} s left"
    return text
