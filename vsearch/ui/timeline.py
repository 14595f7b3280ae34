"""Scrub bar for the player: position, matched moments as marks, and the query's similarity heat strip."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QLinearGradient, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from vsearch.timefmt import clock
from vsearch.ui.qtcompat import emit
from vsearch.ui.results_model import SPEECH_COLOUR

#: Colour ramp of the heat strip, from "no match" to "best match".
HEAT_STOPS: tuple[tuple[float, str], ...] = (
    (0.0, "#1b1f2a"),
    (0.35, "#27406b"),
    (0.6, "#2f7fc1"),
    (0.8, "#f2a33a"),
    (1.0, "#ffe27a"),
)


def heat_colour(value: float) -> QColor:
    """Map a score in 0..1 to the heat strip's colour ramp."""
    v = min(1.0, max(0.0, float(value)))
    for (p0, c0), (p1, c1) in zip(HEAT_STOPS, HEAT_STOPS[1:], strict=False):
        if v <= p1:
            f = 0.0 if p1 == p0 else (v - p0) / (p1 - p0)
            a, b = QColor(c0), QColor(c1)
            return QColor(
                round(a.red() + (b.red() - a.red()) * f),
                round(a.green() + (b.green() - a.green()) * f),
                round(a.blue() + (b.blue() - a.blue()) * f),
            )
    return QColor(HEAT_STOPS[-1][1])


class Timeline(QWidget):
    """A seek bar that also shows where the query matches in the whole video.

    The widget holds only what it draws: the duration, the play position, the matched
    moments (``(start, end)`` spans, one of them current), the similarity curve
    (times, scores in 0..1) and the spans where the query matched what is said (drawn
    over the heat strip in the speech colour, with the spoken line as tooltip). Clicking or dragging asks to seek; a click inside a mark
    asks to go to that moment.

    Signals:
        seekRequested(float): the user clicked or dragged to this time (seconds).
        markActivated(int): the user clicked on the mark with this index.
    """

    seekRequested = Signal(float)
    markActivated = Signal(int)

    HEAT_H = 14
    BAR_H = 6
    MARK_H = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._duration = 0.0
        self._position = 0.0
        self._marks: list[tuple[float, float]] = []
        self._current = -1
        self._times = np.zeros(0)
        self._scores = np.zeros(0)
        self._speech: list[tuple[float, float, str]] = []
        self._dragging = False
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setToolTip("Heat strip: how well the query matches along the whole video. Click to jump.")

    # --- state -------------------------------------------------------------------------
    def duration(self) -> float:
        return self._duration

    def position(self) -> float:
        return self._position

    def marks(self) -> list[tuple[float, float]]:
        return list(self._marks)

    def current_mark(self) -> int:
        return self._current

    def has_curve(self) -> bool:
        return len(self._times) > 0

    def speech_spans(self) -> list[tuple[float, float]]:
        """The spans marked as speech matches on the heat strip."""
        return [(s, e) for s, e, _ in self._speech]

    def set_speech_spans(
        self, spans: Sequence[tuple[float, float]], texts: Sequence[str] | None = None
    ) -> None:
        """Mark where the query matched the speech (``(start, end)`` spans; *texts*: the spoken lines)."""
        lines = list(texts) if texts is not None and len(texts) == len(spans) else [""] * len(spans)
        self._speech = sorted((float(s), float(e), t or "") for (s, e), t in zip(spans, lines, strict=True))
        self.update()

    def speech_text_at(self, seconds: float) -> str | None:
        """The spoken line of the speech span under *seconds* ("" when it has none), or None outside them."""
        for s, e, text in self._speech:
            if s <= seconds <= e:
                return text
        return None

    def set_duration(self, seconds: float) -> None:
        self._duration = max(0.0, float(seconds))
        self.update()

    def set_position(self, seconds: float) -> None:
        self._position = max(0.0, float(seconds))
        self.update()

    def set_marks(self, spans: Sequence[tuple[float, float]], current: int = -1) -> None:
        """Show matched moments as marks; *current* is highlighted (-1: none)."""
        self._marks = [(float(s), float(e)) for s, e in spans]
        self._current = current if 0 <= current < len(self._marks) else -1
        self.update()

    def set_current_mark(self, index: int) -> None:
        self._current = index if 0 <= index < len(self._marks) else -1
        self.update()

    def set_curve(self, times: Sequence[float] | np.ndarray, scores: Sequence[float] | np.ndarray) -> None:
        """Set the similarity curve (scores in 0..1, one per time); empty arrays clear the strip."""
        t = np.asarray(times, dtype=np.float64).reshape(-1)
        s = np.asarray(scores, dtype=np.float64).reshape(-1)
        n = min(len(t), len(s))
        self._times, self._scores = t[:n], np.clip(np.nan_to_num(s[:n]), 0.0, 1.0)
        self.update()

    def clear(self) -> None:
        self._duration = 0.0
        self._position = 0.0
        self._marks = []
        self._current = -1
        self._times = np.zeros(0)
        self._scores = np.zeros(0)
        self._speech = []
        self.update()

    def curve_value_at(self, seconds: float) -> float:
        """The heat strip's value at *seconds* (the nearest sample's score; 0 without a curve)."""
        if not len(self._times):
            return 0.0
        i = int(np.clip(np.searchsorted(self._times, seconds), 0, len(self._times) - 1))
        if i > 0 and abs(self._times[i - 1] - seconds) < abs(self._times[i] - seconds):
            i -= 1
        return float(self._scores[i])

    # --- geometry ----------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(400, self.HEAT_H + self.BAR_H + self.MARK_H + 14)

    def minimumSizeHint(self) -> QSize:
        return QSize(80, self.sizeHint().height())

    def _track(self) -> QRectF:
        return QRectF(8, 4, max(1.0, self.width() - 16.0), self.height() - 8.0)

    def x_for_time(self, seconds: float) -> float:
        r = self._track()
        if self._duration <= 0:
            return r.left()
        return r.left() + r.width() * min(1.0, max(0.0, seconds / self._duration))

    def time_for_x(self, x: float) -> float:
        r = self._track()
        f = min(1.0, max(0.0, (x - r.left()) / r.width()))
        return f * self._duration

    def mark_at_x(self, x: float) -> int:
        """Index of the mark under *x* (a few pixels of slack for short moments), or -1."""
        for i, (s, e) in enumerate(self._marks):
            x0, x1 = self.x_for_time(s), self.x_for_time(e)
            if x0 - 3 <= x <= max(x1, x0 + 4) + 3:
                return i
        return -1

    # --- painting ----------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self._track()
        heat = QRectF(r.left(), r.top(), r.width(), self.HEAT_H)
        marks_y = heat.bottom() + 2
        bar = QRectF(r.left(), marks_y + self.MARK_H + 2, r.width(), self.BAR_H)

        # heat strip
        path = QPainterPath()
        path.addRoundedRect(heat, 3, 3)
        p.save()
        p.setClipPath(path)
        p.fillRect(heat, QColor(HEAT_STOPS[0][1]))
        if len(self._times) and self._duration > 0:
            grad = QLinearGradient(heat.topLeft(), heat.topRight())
            step = max(1, len(self._times) // 256)
            for t, s in zip(self._times[::step], self._scores[::step], strict=False):
                grad.setColorAt(min(1.0, max(0.0, t / self._duration)), heat_colour(s))
            p.fillRect(heat, grad)
        # speech matches: a tinted band over the heat with a solid edge at the bottom
        if self._speech and self._duration > 0:
            tint = QColor(SPEECH_COLOUR)
            tint.setAlpha(120)
            edge = QColor(SPEECH_COLOUR)
            for s, e, _ in self._speech:
                x0, x1 = self.x_for_time(s), self.x_for_time(e)
                w = max(3.0, x1 - x0)
                p.fillRect(QRectF(x0, heat.top(), w, heat.height()), tint)
                p.fillRect(QRectF(x0, heat.bottom() - 4, w, 4), edge)
        p.restore()

        # moment marks
        for i, (s, e) in enumerate(self._marks):
            x0, x1 = self.x_for_time(s), self.x_for_time(e)
            w = max(3.0, x1 - x0)
            colour = QColor("#ffd24d") if i == self._current else QColor("#8fb8ff")
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(x0, marks_y, w, self.MARK_H), 2, 2)

        # track and played part
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(255, 255, 255, 40))
        p.drawRoundedRect(bar, 3, 3)
        px = self.x_for_time(self._position)
        if self._duration > 0:
            p.setBrush(QColor("#4c8dff"))
            p.drawRoundedRect(QRectF(bar.left(), bar.top(), px - bar.left(), bar.height()), 3, 3)
        if self._duration <= 0:
            p.end()
            return
        # playhead
        p.setPen(QPen(QColor("#ffffff"), 2))
        p.drawLine(QPointF(px, heat.top()), QPointF(px, bar.bottom()))
        p.setBrush(QColor("#ffffff"))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QPointF(px, bar.center().y()), 6, 6)
        p.end()

    # --- mouse ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._duration <= 0:
            return super().mousePressEvent(event)
        x = event.position().x()
        mark = self.mark_at_x(x)
        y = event.position().y()
        r = self._track()
        in_marks_row = r.top() + self.HEAT_H <= y <= r.top() + self.HEAT_H + self.MARK_H + 4
        if mark >= 0 and in_marks_row:
            emit(self.markActivated, mark)
            return None
        self._dragging = True
        emit(self.seekRequested, self.time_for_x(x))
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        x = event.position().x()
        if self._dragging:
            emit(self.seekRequested, self.time_for_x(x))
        elif self._duration > 0:
            t = self.time_for_x(x)
            tip = clock(t)
            if len(self._times):
                tip += f"  ·  match {self.curve_value_at(t):.0%}"
            spoken = self.speech_text_at(t)
            if spoken is not None:
                tip += f"\nsaid: \u201c{spoken}\u201d" if spoken else "\nspeech match"
            self.setToolTip(tip)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._dragging = False
        super().mouseReleaseEvent(event)
