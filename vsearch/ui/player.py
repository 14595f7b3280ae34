"""The player: QMediaPlayer showing a moment, with a pending seek, moment/loop playback and match marks."""

from __future__ import annotations

import bisect
import dataclasses
import os
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QProcess, QRectF, QSize, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoFrame, QVideoSink
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vsearch import log
from vsearch.timefmt import clock, span, timecode
from vsearch.types import Moment
from vsearch.ui import external
from vsearch.ui.helpers import ElidedLabel
from vsearch.ui.icons import icon
from vsearch.ui.qtcompat import emit
from vsearch.ui.results_model import SCREEN_TEXT_COLOUR
from vsearch.ui.timeline import Timeline

#: A subtitle shows this many seconds before its sentence starts (a seek lands on a frame boundary).
CAPTION_LEAD = 0.3
#: J / L shuttle speeds: each press doubles the speed up to this many times real time.
SHUTTLE_MAX = 8
#: How often the reverse shuttle steps back (QMediaPlayer cannot play backwards).
REVERSE_TICK_MS = 40
#: The frame drawn around the on-screen text that matched (the cards' on-screen colour).
BOX_COLOUR = SCREEN_TEXT_COLOUR
#: The matched text box shows from its moment's start to this long after its end (never before
#: the start: the frame before it may not show the text yet).
BOX_SLACK = 0.5

_READY = (
    QMediaPlayer.MediaStatus.LoadedMedia,
    QMediaPlayer.MediaStatus.BufferedMedia,
    QMediaPlayer.MediaStatus.BufferingMedia,
    QMediaPlayer.MediaStatus.EndOfMedia,
)


class VideoView(QWidget):
    """Paints the frames a QVideoSink receives (letterboxed, on black), and a subtitle over them.

    Used instead of QVideoWidget because it draws through QPainter: it works the same on
    every platform plugin (offscreen and Xvfb included) and ``grab()`` captures the picture.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sink = QVideoSink(self)
        self._sink.videoFrameChanged.connect(self._on_sink_frame)
        self._image = QImage()
        self._caption = ""
        self._box: tuple[float, float, float, float] | None = None
        self._placeholder = "Pick a result to play it here"
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumSize(240, 135)

    def sink(self) -> QVideoSink:
        return self._sink

    def image(self) -> QImage:
        return self._image

    def caption(self) -> str:
        return self._caption

    def set_caption(self, text: str) -> None:
        """The subtitle drawn over the bottom of the picture ("" hides it)."""
        if text != self._caption:
            self._caption = text
            self.update()

    def box(self) -> tuple[float, float, float, float] | None:
        return self._box

    def set_box(self, box: tuple[float, float, float, float] | None) -> None:
        """Frame this region of the picture, ``(x0, y0, x1, y1)`` as fractions of the frame (None: none)."""
        box = None if box is None else tuple(float(v) for v in box)  # type: ignore[assignment]
        if box != self._box:
            self._box = box
            self.update()

    def picture_rect(self) -> QRectF:
        """Where the frame is drawn (letterboxed in the widget); empty before the first frame."""
        if self._image.isNull():
            return QRectF()
        size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(0, 0, size.width(), size.height())
        target.moveCenter(QRectF(self.rect()).center())
        return target

    def box_rect(self) -> QRectF:
        """The framed region in widget pixels (empty when there is no box or no picture)."""
        pic = self.picture_rect()
        if self._box is None or pic.isEmpty():
            return QRectF()
        x0, y0, x1, y1 = self._box
        return QRectF(
            pic.left() + x0 * pic.width(), pic.top() + y0 * pic.height(),
            (x1 - x0) * pic.width(), (y1 - y0) * pic.height(),
        )  # fmt: skip

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def clear(self) -> None:
        self._image = QImage()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(640, 360)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return max(135, width * 9 // 16)

    @Slot(QVideoFrame)
    def _on_sink_frame(self, frame: QVideoFrame) -> None:
        if not frame.isValid():
            return
        image = frame.toImage()
        if not image.isNull():
            self._image = image
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#000000"))
        if self._image.isNull():
            p.setPen(QColor("#6b7386"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self._placeholder)
        else:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            target = self.picture_rect()
            p.drawImage(target, self._image)
            box = self.box_rect()
            if not box.isEmpty():
                p.setRenderHint(QPainter.RenderHint.Antialiasing)
                p.setPen(QPen(QColor(BOX_COLOUR), 3))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRoundedRect(box.adjusted(-3, -3, 3, 3), 3, 3)
            if self._caption:
                self._paint_caption(p, target)
        p.end()

    def _paint_caption(self, p: QPainter, picture: QRectF) -> None:
        font = QFont(self.font())
        font.setPixelSize(max(11, min(28, round(picture.height() / 16))))
        font.setWeight(QFont.Weight.DemiBold)
        p.setFont(font)
        fm = QFontMetricsF(font)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap
        area = picture.adjusted(picture.width() * 0.06, 0, -picture.width() * 0.06, -fm.height() * 0.6)
        box = fm.boundingRect(area, int(flags), self._caption).adjusted(-8, -3, 8, 3)
        path = QPainterPath()
        path.addRoundedRect(box, 4, 4)
        p.fillPath(path, QColor(0, 0, 0, 170))
        p.setPen(QColor("#ffffff"))
        p.drawText(area, int(flags), self._caption)


class PlayerPanel(QWidget):
    """Plays one video at a chosen moment; shows every match of the query on the timeline.

    ``open_moment`` loads the file and seeks to the moment's start. A seek asked for while
    the media is still loading is kept in ``_pending_seek_ms`` and applied when the media
    is loaded or becomes seekable (QMediaPlayer silently drops it otherwise). "Play moment"
    stops at the moment's end; "Loop" jumps back to its start.

    Subtitles: :meth:`set_transcript` gives the video's sentences; the one under the playhead
    is drawn over the bottom of the picture (the CC button hides them; it is hidden itself
    when the video has no transcript). :meth:`set_speech_marks` marks the spans where the
    query matched the speech on the heat strip.

    Keys (as in editors): Space play / pause; J / K / L shuttle: L plays forward, J backward,
    each repeat doubles the speed (up to 8x), K stops; Left / Right one step (a frame when
    paused, 1 s when playing); N / P next / previous match; I / O set the current moment's in
    and out (:attr:`momentTrimmed`). Times read as timecode ``HH:MM:SS:FF`` at the video's
    rate, or as seconds (:meth:`set_timecode`).

    On-screen text: when the current match was found by the text expert, its box
    (``Moment.screen_box``) is framed on the picture while the playhead is in the moment and the
    text was on screen (``Moment.screen_span``); the Box button turns that off.

    Signals:
        matchesExhausted(int): N pressed after the last mark (+1) or P before the first (-1):
            the window may move to the next / previous result.
        currentMarkChanged(int): the player moved to another match of this video.
        errorOccurred(str): the media could not be played (also shown in the panel).
        momentTrimmed(object, object): I / O moved the current moment's in or out: the old
            Moment and the trimmed one (the results keep the trimmed one for export).
        externalOpened(str): the video was opened outside the app (what happened, for the status bar).
        externalFailed(str): it could not be (no player, no file manager): what to do about it.

    Attributes:
        launcher: starts a command detached, True when it started (tests replace it).
    """

    matchesExhausted = Signal(int)
    currentMarkChanged = Signal(int)
    errorOccurred = Signal(str)
    momentTrimmed = Signal(object, object)
    externalOpened = Signal(str)
    externalFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, autoplay: bool = True, audio: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("PlayerPanel")
        self._autoplay = autoplay
        self._path = ""
        self._moment: Moment | None = None
        self._marks: list[tuple[float, float]] = []
        self._scores: list[float] | None = None
        self._absent = ""  # the header's note when the video is not among the results
        self._current = -1
        self._pending_seek_ms: int | None = None
        self._pending_play = False
        self._fps = 25.0
        self._stop_at_end = False
        self._lines: list[tuple[float, float, str]] = []
        self._shuttle = 0  # J/K/L: >0 forward at that speed, <0 backward, 0 stopped
        self._timecode = True
        self._reverse = QTimer(self)
        self._reverse.setInterval(REVERSE_TICK_MS)
        self._reverse.timeout.connect(self._on_reverse_timeout)
        self._line_starts: list[float] = []
        self._mark_moments: list[Moment] | None = None  # the Moment of each mark, when known
        self.launcher = _start_detached

        self.player = QMediaPlayer(self)
        self._audio = QAudioOutput(self) if audio else None
        if self._audio is not None:
            self.player.setAudioOutput(self._audio)
        self.video = VideoView(self)
        self.player.setVideoSink(self.video.sink())
        self.timeline = Timeline(self)

        self.title = ElidedLabel("", self)
        self.title.setObjectName("PlayerTitle")
        self.subtitle = ElidedLabel("", self, Qt.TextElideMode.ElideLeft)
        self.subtitle.setObjectName("Dim")
        self.time_label = QLabel("00:00:00:00 / 00:00:00:00", self)
        self.time_label.setObjectName("TimeLabel")
        self.message = QLabel("", self)
        self.message.setObjectName("Error")
        self.message.setWordWrap(True)
        self.message.hide()
        self.matches_title = QLabel("MATCHES IN THIS VIDEO", self)
        self.matches_title.setObjectName("SectionTitle")
        self.matches = QListWidget(self)
        self.matches.setObjectName("Matches")
        self.matches.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.matches.setToolTip(
            "Every moment of this video that matches the query; click one to jump there (N / P)"
        )
        self.matches.itemClicked.connect(self._on_matches_item_clicked)

        def button(name: str, tip: str, slot, checkable: bool = False) -> QToolButton:
            b = QToolButton(self)
            b.setIcon(icon(name))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setCheckable(checkable)
            b.setIconSize(QSize(20, 20))
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            (b.toggled if checkable else b.clicked).connect(slot)
            return b

        self.prev_btn = button("prev", "Previous match (P)", self.previous_match)
        self.play_btn = button("play", "Play / pause (Space)", self.toggle_play)
        self.next_btn = button("next", "Next match (N)", self.next_match)
        self.moment_btn = button("moment", "Play just this moment", self.play_moment)
        self.loop_check = QCheckBox("Loop moment", self)
        self.loop_check.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop_check.setToolTip("Play the moment over and over")
        self.loop_check.toggled.connect(self._on_loop_toggled)
        self.cc_btn = QToolButton(self)
        self.cc_btn.setText("CC")
        self.cc_btn.setCheckable(True)
        self.cc_btn.setChecked(True)
        self.cc_btn.setAutoRaise(True)
        self.cc_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cc_btn.setToolTip("Subtitles: what is said (from the transcript)")
        self.cc_btn.toggled.connect(lambda _on: self._update_caption(self.position()))
        self.cc_btn.hide()
        self.box_btn = QToolButton(self)
        self.box_btn.setText("Box")
        self.box_btn.setCheckable(True)
        self.box_btn.setChecked(True)
        self.box_btn.setAutoRaise(True)
        self.box_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.box_btn.setToolTip("Frame the on-screen text that matched the query")
        self.box_btn.toggled.connect(lambda _on: self._update_box(self.position()))
        self.box_btn.hide()
        self.trim_label = QLabel("", self)
        self.trim_label.setObjectName("Dim")
        self.trim_label.setToolTip("In and out of the current moment (I / O set them; exports use them)")
        self.open_btn = button("external", "Open in the system's video player, at the moment", self.open_external)
        self.folder_btn = button("folder", "Show in folder", self.show_in_folder)

        # buttons that come and go keep their room, so the splitter's divider does not jump
        for b in (self.cc_btn, self.box_btn):
            keep = b.sizePolicy()
            keep.setRetainSizeWhenHidden(True)
            b.setSizePolicy(keep)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.setSpacing(4)
        for w in (self.prev_btn, self.play_btn, self.next_btn, self.moment_btn):
            controls.addWidget(w)
        controls.addSpacing(6)
        controls.addWidget(self.loop_check)
        controls.addWidget(self.cc_btn)
        controls.addWidget(self.box_btn)
        controls.addStretch(1)
        controls.addWidget(self.open_btn)
        controls.addWidget(self.folder_btn)
        # the time on a row of its own: at 1280x720 it collided with "Loop moment"
        times = QHBoxLayout()
        times.setContentsMargins(0, 0, 0, 0)
        times.addWidget(self.time_label)
        times.addStretch(1)
        times.addWidget(self.trim_label)

        head = QVBoxLayout()
        head.setSpacing(0)
        head.addWidget(self.title)
        head.addWidget(self.subtitle)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        lay.addLayout(head)
        lay.addWidget(self.video)
        lay.addWidget(self.message)
        lay.addWidget(self.timeline)
        lay.addLayout(times)
        lay.addLayout(controls)
        lay.addSpacing(6)
        lay.addWidget(self.matches_title)
        lay.addWidget(self.matches, 1)

        self.player.mediaStatusChanged.connect(self._on_player_media_status_changed)
        self.player.seekableChanged.connect(self._on_player_seekable_changed)
        self.player.positionChanged.connect(self._on_player_position_changed)
        self.player.durationChanged.connect(self._on_player_duration_changed)
        self.player.playbackStateChanged.connect(self._on_player_playback_state_changed)
        self.player.errorOccurred.connect(self._on_player_error_occurred)
        self.timeline.seekRequested.connect(self._on_timeline_seek_requested)
        self.timeline.markActivated.connect(self.go_to_mark)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._set_enabled(False)

    # --- public API --------------------------------------------------------------------
    def path(self) -> str:
        return self._path

    def moment(self) -> Moment | None:
        return self._moment

    def position(self) -> float:
        """Current position in seconds (the pending seek while loading)."""
        if self._pending_seek_ms is not None:
            return self._pending_seek_ms / 1000.0
        return self.player.position() / 1000.0

    def pending_seek(self) -> float | None:
        return None if self._pending_seek_ms is None else self._pending_seek_ms / 1000.0

    def open_moment(
        self,
        moment: Moment,
        marks: Sequence[tuple[float, float]] | None = None,
        current: int = -1,
        scores: Sequence[float] | None = None,
        *,
        moments: Sequence[Moment] | None = None,
    ) -> None:
        """Load *moment*'s video (if not loaded yet) and seek to its start.

        Args:
            moment: what to show.
            marks: every matched span in this video (for the timeline and N/P); default: the moment only.
            current: which of *marks* is *moment* (-1: found by start time).
            scores: the score of each mark (shown in the list of matches).
            moments: the Moment of each mark (I / O trim them; their on-screen text box is framed).
        """
        self._moment = moment
        self._fps = moment.fps if moment.fps and moment.fps > 0 else 25.0
        spans = [(float(s), float(e)) for s, e in (marks or [(moment.start, moment.end)])]
        if current < 0:
            current = int(np.argmin([abs(s - moment.start) for s, _ in spans])) if spans else -1
        self._marks = spans
        self._current = current
        self._scores = list(scores) if scores is not None and len(scores) == len(spans) else None
        self._mark_moments = list(moments) if moments is not None and len(moments) == len(spans) else None
        self.message.hide()
        self.title.setText(os.path.basename(moment.path))
        self._update_header(moment.path)
        new_file = moment.path != self._path
        if self._shuttle:
            self.stop_shuttle()
        if new_file:
            self._path = moment.path
            self.set_transcript([])
            self.timeline.clear()
            self.video.clear()
            self.video.set_placeholder("Loading…")
            if moment.duration > 0:
                self.timeline.set_duration(moment.duration)
        self.timeline.set_marks(self._marks, self._current)
        self._fill_matches(self._scores)
        self._update_marked(moment.start)
        self._set_enabled(True)
        self._stop_at_end = False
        self._pending_play = self._autoplay
        if new_file:
            self._pending_seek_ms = int(round(moment.start * 1000))
            self.player.setSource(QUrl.fromLocalFile(moment.path))
        else:
            self.seek(moment.start)
            if self._autoplay:
                self.player.play()
        emit(self.currentMarkChanged, self._current)

    def show_matches(
        self,
        moment: Moment | None,
        marks: Sequence[tuple[float, float]] | None = None,
        current: int = -1,
        scores: Sequence[float] | None = None,
        *,
        moments: Sequence[Moment] | None = None,
        absent: str = "not among this query's results",
    ) -> None:
        """Another query's matches in the loaded video; the header, the list and the marks follow it.

        The playhead stays where it is. ``moment=None``: the video is not among the query's
        results (no marks, and the header says so).

        Args:
            moment: the match to show as current (in the loaded video), or None.
            marks: every match of the query in this video (as for :meth:`open_moment`).
            current: which of *marks* is *moment*.
            scores: the score of each mark.
            moments: the Moment of each mark.
            absent: what the header says when *moment* is None ("": only the folder).
        """
        if not self._path:
            return
        if moment is None:
            self._moment, self._marks, self._current, self._scores = None, [], -1, None
            self._mark_moments = None
        else:
            self._moment = moment
            self._marks = [(float(s), float(e)) for s, e in (marks or [(moment.start, moment.end)])]
            self._current = current if 0 <= current < len(self._marks) else 0
            self._scores = list(scores) if scores is not None and len(scores) == len(self._marks) else None
            ok = moments is not None and len(moments) == len(self._marks)
            self._mark_moments = list(moments) if ok and moments is not None else None
        self._stop_at_end = False
        self.timeline.set_marks(self._marks, self._current)
        self._fill_matches(self._scores)
        self._absent = absent
        self._update_header(self._path)
        self._update_marked(self.position())
        emit(self.currentMarkChanged, self._current)

    def set_curve(self, times: Sequence[float] | np.ndarray, scores: Sequence[float] | np.ndarray) -> None:
        """Show the query's similarity across the whole video as the timeline's heat strip."""
        self.timeline.set_curve(times, scores)

    def set_speech_marks(
        self, spans: Sequence[tuple[float, float]], texts: Sequence[str] | None = None
    ) -> None:
        """Mark the spans where the query matched what is said (the heat strip's speech colour)."""
        self.timeline.set_speech_spans(spans, texts)

    def set_transcript(self, lines: Sequence[tuple[float, float, str]]) -> None:
        """The loaded video's transcript, ``(start, end, text)`` per sentence, for subtitles ([]: none)."""
        self._lines = sorted((float(a), float(b), str(t).strip()) for a, b, t in lines if str(t).strip())
        self._line_starts = [a for a, _, _ in self._lines]
        self.cc_btn.setVisible(bool(self._lines))
        self._update_caption(self.position())

    def transcript(self) -> list[tuple[float, float, str]]:
        return list(self._lines)

    def caption(self) -> str:
        """The subtitle on screen now ("" when none: no transcript, between sentences, or CC off)."""
        return self.video.caption()

    def line_at(self, seconds: float) -> str:
        """The transcript sentence spoken at *seconds* ("" between sentences)."""
        i = bisect.bisect_right(self._line_starts, seconds + CAPTION_LEAD) - 1
        if i < 0:
            return ""
        # a sentence about to start gives way to the one still being said
        order = (i - 1, i) if self._lines[i][0] > seconds else (i, i - 1)
        for j in order:
            if j >= 0 and seconds < self._lines[j][1]:
                return self._lines[j][2]
        return ""

    def seek(self, seconds: float) -> None:
        """Seek now if the media is ready, otherwise remember it for when it is."""
        ms = max(0, int(round(seconds * 1000)))
        self._update_caption(ms / 1000.0)
        self._update_box(ms / 1000.0)
        if self.player.mediaStatus() in _READY and self.player.isSeekable():
            self._pending_seek_ms = None
            self.player.setPosition(ms)
            self.timeline.set_position(ms / 1000.0)
        else:
            self._pending_seek_ms = ms
        self._update_time_label(ms)

    def toggle_play(self) -> None:
        if self._shuttle:
            self.stop_shuttle()
            return
        if self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        elif self._path:
            self._stop_at_end = False
            self.player.play()

    def shuttle(self, direction: int) -> None:
        """L (``+1``) / J (``-1``): play that way; pressed again the same way, twice as fast."""
        if not self._path:
            return
        same_way = self._shuttle * direction > 0
        speed = min(SHUTTLE_MAX, abs(self._shuttle) * 2) if same_way else 1
        self._shuttle = speed * (1 if direction > 0 else -1)
        self._stop_at_end = False
        if direction > 0:
            self._reverse.stop()
            self.player.setPlaybackRate(float(speed))
            self.player.play()
        else:
            self.player.pause()
            self.player.setPlaybackRate(1.0)
            self._reverse.start()

    def stop_shuttle(self) -> None:
        """K: stop where the playhead is, back to normal speed."""
        self._shuttle = 0
        self._reverse.stop()
        self.player.pause()
        self.player.setPlaybackRate(1.0)

    def shuttle_speed(self) -> int:
        """The J/K/L speed: positive forward, negative backward, 0 when not shuttling."""
        return self._shuttle

    def set_timecode(self, on: bool) -> None:
        """Show times as timecode ``HH:MM:SS:FF`` at the video's rate (True) or as seconds ``m:ss.s``."""
        self._timecode = bool(on)
        self._update_time_label(int(round(self.position() * 1000)))
        self._update_trim_label()

    def time_text(self, seconds: float) -> str:
        """*seconds* as the player shows times now (timecode or seconds)."""
        return timecode(seconds, self._fps) if self._timecode else clock(seconds)

    def play_moment(self) -> None:
        """Play from the moment's start and stop at its end (or loop, when Loop is on)."""
        if self._moment is None:
            return
        span = self._current_span()
        self.seek(span[0])
        self._stop_at_end = True
        self.player.play()

    def next_match(self) -> None:
        if self._current + 1 < len(self._marks):
            self.go_to_mark(self._current + 1)
        else:
            emit(self.matchesExhausted, 1)

    def previous_match(self) -> None:
        if self._current - 1 >= 0:
            self.go_to_mark(self._current - 1)
        else:
            emit(self.matchesExhausted, -1)

    @Slot(int)
    def go_to_mark(self, index: int) -> None:
        if not 0 <= index < len(self._marks):
            return
        self._current = index
        self.timeline.set_current_mark(index)
        self._select_match_row(index)
        self._update_header(self._path)
        self.seek(self._marks[index][0])
        self._update_marked(self._marks[index][0])
        emit(self.currentMarkChanged, index)

    def step(self, direction: int) -> None:
        playing = self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        delta = 1.0 if playing else 1.0 / self._fps
        self.seek(max(0.0, self.position() + direction * delta))

    def jump(self, seconds: float) -> None:
        self.seek(max(0.0, self.position() + seconds))

    def current_moment(self) -> Moment | None:
        """The Moment of the current mark (the opened one when the marks' moments are not known)."""
        if self._mark_moments is not None and 0 <= self._current < len(self._mark_moments):
            return self._mark_moments[self._current]
        return self._moment

    def set_in(self) -> bool:
        """I: the current moment starts at the playhead (an in after its out keeps its length)."""
        return self._trim(start=self.position())

    def set_out(self) -> bool:
        """O: the current moment ends at the playhead (an out before its in keeps its length)."""
        return self._trim(end=self.position())

    def _trim(self, start: float | None = None, end: float | None = None) -> bool:
        if not 0 <= self._current < len(self._marks) or self._moment is None:
            return False
        s, e = self._marks[self._current]
        length = e - s
        limit = self.timeline.duration() or float("inf")
        if start is not None:
            s = max(0.0, start)
            if s >= e:
                e = min(limit, s + length)
        if end is not None:
            e = min(limit, end)
            if e <= s:
                s = max(0.0, e - length)
        if e - s < 1.0 / self._fps:
            return False
        self._marks[self._current] = (s, e)
        old = self.current_moment()
        assert old is not None
        new = dataclasses.replace(old, start=s, end=e, best_time=min(e, max(s, old.best_time)))
        if self._mark_moments is not None:
            self._mark_moments[self._current] = new
        if self._moment == old:
            self._moment = new
        self.timeline.set_marks(self._marks, self._current)
        self._fill_matches(self._scores)
        self._update_header(self._path)
        self._update_trim_label()
        emit(self.momentTrimmed, old, new)
        return True

    def open_external(self) -> bool:
        """Play the video in a player outside the app, at the current moment where the player can.

        mpv or VLC start at the moment; otherwise the system's opener plays it from 0:00 and the
        status bar says so; with no player at all :attr:`externalFailed` says what to install.
        """
        if not self._path:
            return False
        start = self._current_span()[0] if self._moment is not None else self.position()
        cmd = external.player_command(self._path, start)
        return self._launch(cmd)

    def show_in_folder(self) -> bool:
        """Show the video in the file manager, selected where the platform allows (else its folder)."""
        if not self._path:
            return False
        cmd = external.reveal_command(self._path)
        if cmd.argv and os.path.basename(cmd.argv[0]) == "dbus-send":
            return self._reveal_over_dbus(cmd)
        return self._launch(cmd)

    def _launch(self, cmd: external.Command) -> bool:
        if not cmd.argv or not self.launcher(cmd.argv):
            note = cmd.note if not cmd.argv else f"Could not start {cmd.argv[0]}"
            log.ui.warning("open outside: %s (%s)", note, self._path)
            emit(self.externalFailed, note)
            return False
        log.ui.info("open outside: %s", " ".join(cmd.argv))
        emit(self.externalOpened, cmd.note)
        return True

    def _reveal_over_dbus(self, cmd: external.Command) -> bool:
        """Ask the file manager over D-Bus to select the file; open the folder if nobody answers."""
        proc = QProcess(self)
        path = self._path

        def finished(code: int, _status: QProcess.ExitStatus) -> None:
            proc.deleteLater()
            if code == 0:
                emit(self.externalOpened, cmd.note)
                return
            log.ui.info("no FileManager1 on the session bus (exit %s): opening the folder", code)
            self._launch(external.reveal_command(path, dbus=False))

        proc.finished.connect(finished)
        proc.errorOccurred.connect(lambda _e: finished(1, QProcess.ExitStatus.CrashExit))
        proc.start(cmd.argv[0], list(cmd.argv[1:]))
        return True

    def stop(self) -> None:
        self.player.stop()

    def unload(self) -> None:
        """Stop and release the file (used on close)."""
        self._shuttle = 0
        self._reverse.stop()
        self.player.stop()
        self.player.setSource(QUrl())
        self._path = ""
        self._pending_seek_ms = None
        self.set_transcript([])

    # --- keys --------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if self.handle_key(event.key()):
            event.accept()
            return
        super().keyPressEvent(event)

    def handle_key(self, key: int) -> bool:
        """Run the player shortcut for *key*; False if the key is not one of them."""
        k = Qt.Key
        actions = {
            k.Key_Space: self.toggle_play,
            k.Key_K: self.stop_shuttle,
            k.Key_J: lambda: self.shuttle(-1),
            k.Key_L: lambda: self.shuttle(1),
            k.Key_Left: lambda: self.step(-1),
            k.Key_Right: lambda: self.step(1),
            k.Key_N: self.next_match,
            k.Key_P: self.previous_match,
            k.Key_I: self.set_in,
            k.Key_O: self.set_out,
        }
        action = actions.get(k(key)) if key in {int(a) for a in actions} else None
        if action is None or not self._path:
            return False
        action()
        return True

    # --- internals ---------------------------------------------------------------------
    def _current_span(self) -> tuple[float, float]:
        if 0 <= self._current < len(self._marks):
            return self._marks[self._current]
        assert self._moment is not None
        return (self._moment.start, self._moment.end)

    def _update_header(self, path: str) -> None:
        """The line under the title: folder, the current match's span and score (or that there is none)."""
        folder = os.path.dirname(path)
        if self._moment is None:
            self.subtitle.setText(f"{folder}   ·   {self._absent}" if self._absent else folder)
            return
        start, end = self._current_span()
        score = self._scores[self._current] if self._scores and 0 <= self._current < len(self._scores) else None
        if score is None:
            score = self._moment.score
        self.subtitle.setText(f"{folder}   ·   moment {span(start, end)}   ·   score {score:.3f}")

    def _fill_matches(self, scores: list[float] | None) -> None:
        self.matches.clear()
        for i, (start, end) in enumerate(self._marks):
            text = span(start, end)
            if scores is not None:
                text += f"      score {scores[i]:.3f}"
            item = QListWidgetItem(icon("moment"), text)
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.matches.addItem(item)
        self._select_match_row(self._current)

    def _select_match_row(self, index: int) -> None:
        if 0 <= index < self.matches.count():
            self.matches.setCurrentRow(index)

    @Slot(QListWidgetItem)
    def _on_matches_item_clicked(self, item: QListWidgetItem) -> None:
        self.go_to_mark(int(item.data(Qt.ItemDataRole.UserRole)))

    def _set_enabled(self, on: bool) -> None:
        for w in (
            self.prev_btn,
            self.play_btn,
            self.next_btn,
            self.moment_btn,
            self.loop_check,
            self.open_btn,
            self.folder_btn,
        ):
            w.setEnabled(on)

    def _apply_pending(self) -> None:
        if self._pending_seek_ms is None or not self.player.isSeekable():
            return
        ms = self._pending_seek_ms
        self._pending_seek_ms = None
        self.player.setPosition(ms)
        self.timeline.set_position(ms / 1000.0)
        if self._pending_play:
            self._pending_play = False
            self.player.play()
        else:
            # show the frame at the seek target without playing
            self.player.pause()

    def _update_marked(self, seconds: float) -> None:
        """What follows the current mark: the in/out line, the text-box toggle and the box."""
        m = self.current_moment()
        self.box_btn.setVisible(bool(m is not None and m.screen_box and "text" in m.source.split("+")))
        self._update_trim_label()
        self._update_box(seconds)

    def _update_trim_label(self) -> None:
        if not 0 <= self._current < len(self._marks):
            self.trim_label.setText("")
            return
        s, e = self._marks[self._current]
        self.trim_label.setText(f"in {self.time_text(s)}   out {self.time_text(e)}")

    def _update_box(self, seconds: float) -> None:
        """Frame the matched on-screen text while the playhead is in its moment and the text is on screen (and Box is on)."""
        m = self.current_moment()
        box = None
        if m is not None and m.screen_box and self.box_btn.isChecked() and 0 <= self._current < len(self._marks):
            s, e = self._marks[self._current]
            if m.screen_span is not None:  # the text's own time, within the (maybe trimmed) moment
                s, e = max(s, m.screen_span[0] - BOX_SLACK), min(e, m.screen_span[1])
            if s <= seconds <= e + BOX_SLACK:
                box = m.screen_box
        self.video.set_box(box)

    def _update_caption(self, seconds: float) -> None:
        self.video.set_caption(self.line_at(seconds) if self.cc_btn.isChecked() else "")

    def _update_time_label(self, ms: int) -> None:
        dur = self.timeline.duration()
        self.time_label.setText(f"{self.time_text(ms / 1000.0)} / {self.time_text(dur)}")

    @Slot(QMediaPlayer.MediaStatus)
    def _on_player_media_status_changed(self, status: QMediaPlayer.MediaStatus) -> None:
        if status in (QMediaPlayer.MediaStatus.LoadedMedia, QMediaPlayer.MediaStatus.BufferedMedia):
            self._apply_pending()
        elif status == QMediaPlayer.MediaStatus.InvalidMedia:
            self._show_error(f"Cannot play {os.path.basename(self._path)}")

    @Slot(bool)
    def _on_player_seekable_changed(self, seekable: bool) -> None:
        if seekable and self.player.mediaStatus() in _READY:
            self._apply_pending()

    @Slot(int)
    def _on_player_position_changed(self, ms: int) -> None:
        if self._pending_seek_ms is not None:
            return  # the old file's last positions, or before the seek lands
        t = ms / 1000.0
        self.timeline.set_position(t)
        self._update_time_label(ms)
        self._update_caption(t)
        self._update_box(t)
        if self._moment is None:
            return
        start, end = self._current_span()
        playing = self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState
        if playing and t >= end and (self.loop_check.isChecked() or self._stop_at_end):
            if self.loop_check.isChecked():
                self.player.setPosition(int(start * 1000))
            else:
                self._stop_at_end = False
                self.player.pause()

    @Slot(int)
    def _on_player_duration_changed(self, ms: int) -> None:
        if ms > 0:
            self.timeline.set_duration(ms / 1000.0)
            self._update_time_label(self.player.position())

    @Slot(QMediaPlayer.PlaybackState)
    def _on_player_playback_state_changed(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        self.play_btn.setIcon(icon("pause" if playing else "play"))

    @Slot(QMediaPlayer.Error, str)
    def _on_player_error_occurred(self, error: QMediaPlayer.Error, text: str) -> None:
        if error == QMediaPlayer.Error.NoError:
            return
        self._show_error(text or "The video could not be played")

    def _show_error(self, text: str) -> None:
        log.ui.warning("player: %s (%s)", text, self._path)
        self.message.setText(f"{text}. Try “Open in system player”.")
        self.message.show()
        self.video.set_placeholder("Cannot play this file")
        emit(self.errorOccurred, text)

    @Slot()
    def _on_reverse_timeout(self) -> None:
        t = self.position()
        if t <= 0.0 or not self._path:
            self.stop_shuttle()
            return
        self.seek(max(0.0, t - REVERSE_TICK_MS / 1000.0 * abs(self._shuttle)))

    @Slot(bool)
    def _on_loop_toggled(self, on: bool) -> None:
        if on and self._moment is not None:
            start, end = self._current_span()
            if not start <= self.position() <= end:
                self.seek(start)
            self.player.play()

    @Slot(float)
    def _on_timeline_seek_requested(self, seconds: float) -> None:
        self._stop_at_end = False
        self.seek(seconds)


def _start_detached(argv: Sequence[str]) -> bool:
    result = QProcess.startDetached(argv[0], list(argv[1:]))
    return bool(result[0] if isinstance(result, tuple) else result)
