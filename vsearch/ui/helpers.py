"""Small pieces the app's widgets share: an eliding label and the folders among dropped URLs.

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
