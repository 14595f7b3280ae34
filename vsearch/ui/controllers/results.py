"""The results and the player: thumbnails off the GUI thread, the current result playing with its marks."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication, QImage, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QListView,
    QStyleOptionViewItem,
    QWidget,
)

from vsearch import log
from vsearch.timefmt import seconds_exact, timecode
from vsearch.types import Moment
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.player import PlayerPanel
from vsearch.ui.protocols import AppService
from vsearch.ui.results_model import MomentDelegate, MomentRole, ResultsModel
from vsearch.ui.workers import Failure, TaskRunner

THUMB_SIZE = 320
#: The selection's FCPXML (carried by a drag) is written this long after the selection settles.
DRAG_FILE_DELAY_MS = 120
THUMB_KEEP = QSize(400, 225)  # what the model keeps in memory per thumbnail (cards are smaller)
#: Keys the window's widgets hand to the player while it shows a video (Left / Right step frames
#: there, instead of moving through the grid and opening another video).
PLAYER_KEYS = {Qt.Key.Key_Space, Qt.Key.Key_J, Qt.Key.Key_K, Qt.Key.Key_L, Qt.Key.Key_N, Qt.Key.Key_P,
               Qt.Key.Key_I, Qt.Key.Key_O, Qt.Key.Key_Left, Qt.Key.Key_Right}  # fmt: skip
#: Keys a combo box or a slider keeps for itself (choosing with the arrows), even while a video shows.
ARROWS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down}


class ResultsController(QObject):
    """Fills thumbnails, opens the current result in the player, copies timestamps.

    The player shows every match of the same video as marks, the query's similarity curve
    (on the search pool) and the video's transcript (on the library pool); answers that
    come back for another video or query are dropped.

    Args:
        service: the app's service.
        results: the model of the current query's moments.
        view: the results list.
        query: the query box (Down moves into the results).
        player: the player panel.
        search_tasks: the pool similarity curves run on (behind searches).
        thumb_tasks: the pool thumbnails are made on.
        lib_tasks: the pool transcripts are read on.
        messages: where failures are reported.
    """

    def __init__(
        self,
        service: AppService,
        *,
        results: ResultsModel,
        view: QListView,
        query: QLineEdit,
        player: PlayerPanel,
        search_tasks: TaskRunner,
        thumb_tasks: TaskRunner,
        lib_tasks: TaskRunner,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._results = results
        self._view = view
        self._query = query
        self._player = player
        self._search_tasks = search_tasks
        self._thumb_tasks = thumb_tasks
        self._lib_tasks = lib_tasks
        self._messages = messages
        self._player_query = ""  # the query whose matches the player shows
        self._player_video_id = 0
        self._transcript_for = ""  # the path whose transcript the player has (or is loading)

        results.thumbnailsWanted.connect(self._on_results_thumbnails_wanted)
        view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self._drag_timer = QTimer(self)
        self._drag_timer.setSingleShot(True)
        self._drag_timer.setInterval(DRAG_FILE_DELAY_MS)
        self._drag_timer.timeout.connect(self._prepare_drag_file)
        view.selectionModel().selectionChanged.connect(lambda *_: self._drag_timer.start())
        view.clicked.connect(self._on_view_clicked)
        self._key_widgets: set[QObject] = set()
        self._keep_arrows: set[QObject] = set()
        self._keep_space: set[QObject] = set()
        self.watch_keys([view])
        query.installEventFilter(self)
        self._viewport = view.viewport()  # kept: the filter must not ask a view being deleted for it
        self._viewport.installEventFilter(self)
        player.matchesExhausted.connect(self._on_player_matches_exhausted)
        player.momentTrimmed.connect(self._on_player_moment_trimmed)
        player.errorOccurred.connect(lambda text: self._messages.status(text, 8000))

    # --- selection and copying -----------------------------------------------------------
    def selected_moments(self) -> list[Moment]:
        rows = sorted({i.row() for i in self._view.selectionModel().selectedIndexes()})
        return [self._results.moment(r) for r in rows]

    def copy_timestamps(self) -> str:
        """Put the selected moments (or the player's) on the clipboard, one tab-separated line each.

        A line is: path, start and end as timecode (``HH:MM:SS:FF`` at the video's frame rate),
        start and end in seconds to the millisecond, score. An editor types the timecodes in;
        a script or a spreadsheet takes the seconds.
        """
        current = self._player.moment()
        moments = self.selected_moments() or ([current] if current else [])
        lines = [
            "\t".join((m.path, timecode(m.start, m.fps), timecode(m.end, m.fps), seconds_exact(m.start),
                       seconds_exact(m.end), f"{m.score:.3f}"))  # fmt: skip
            for m in moments
        ]
        text = "\n".join(lines)
        if text:
            QGuiApplication.clipboard().setText(text)
            self._messages.status(f"Copied {len(lines)} timestamp(s)", 4000)
        return text

    def watch_keys(self, widgets: list[QWidget]) -> None:
        """Player keys pressed in these widgets act on the player while it shows a video.

        Combo boxes and sliders keep their arrow keys (choosing with them), buttons and check
        boxes their Space; text fields are never watched (typing a J must type a J).
        """
        for w in widgets:
            if isinstance(w, (QLineEdit, QAbstractSpinBox)) or w in self._key_widgets:
                continue
            self._key_widgets.add(w)
            if isinstance(w, (QComboBox, QAbstractSlider)):
                self._keep_arrows.add(w)
            if isinstance(w, QAbstractButton):
                self._keep_space.add(w)
            w.installEventFilter(self)

    def toggle_similar(self, row: int | None = None) -> bool:
        """Show or hide the near-duplicates folded into result *row* (default: the current one).

        Returns:
            True when they are shown now.
        """
        if row is None:
            row = self._view.currentIndex().row()
        if not 0 <= row < self._results.rowCount():
            return False
        shown = self._results.toggle_similar(row)
        self._view.doItemsLayout()
        return shown

    def step_result(self, direction: int) -> bool:
        """Ctrl+N / Ctrl+P: open the next (+1) or previous (-1) result; False at either end."""
        n = self._results.rowCount()
        if not n:
            return False
        row = self._view.currentIndex().row()
        target = 0 if row < 0 else row + direction
        if not 0 <= target < n:
            return False
        index = self._results.index(target, 0)
        self._view.setCurrentIndex(index)
        self._view.scrollTo(index)
        return True

    # --- the player ----------------------------------------------------------------------
    def open_row(self, row: int) -> None:
        """Show result *row* in the player, with every match of the same video as marks."""
        m = self._results.moment(row)
        same = self._same_video(m.path)
        marks = [(x.start, x.end) for x in same]
        current = next((i for i, x in enumerate(same) if x == m), -1)
        new_file = m.path != self._player.path()
        new_video = new_file or self._player_query != self._results.query
        self._player.open_moment(m, marks, current, [x.score for x in same], moments=same)
        if new_file or self._transcript_for != m.path:
            self._load_transcript(m)
        self._player_video_id = m.video_id
        if new_video:
            self._player_query = self._results.query
            self._set_speech_marks(same)
            self._load_curve(m.path, m.video_id, self._results.query)

    @Slot(int)
    def on_search_finished(self, _n: int) -> None:
        """New results: the player's header, list of matches and marks follow the new query.

        The video stays loaded and the playhead where it is; the current match becomes the new
        query's match under (or nearest to) the playhead, or none if the video is not among the
        results.
        """
        path, query = self._player.path(), self._results.query
        if not path or query == self._player_query:
            return
        self._player_query = query
        same = self._same_video(path)
        if same:
            t = self._player.position()
            inside = [i for i, x in enumerate(same) if x.start <= t <= x.end]
            current = inside[0] if inside else min(range(len(same)), key=lambda i: abs(same[i].start - t))
            self._player.show_matches(same[current], [(x.start, x.end) for x in same], current,
                                      [x.score for x in same], moments=same)  # fmt: skip
        else:
            self._player.show_matches(None, absent="not among this query's results" if query else "")
        self._set_speech_marks(same)
        self._load_curve(path, self._player_video_id, query)

    def _same_video(self, path: str) -> list[Moment]:
        """Every result in the video at *path*, near-duplicates folded into a card included, by time."""
        seen: dict[tuple[float, float], Moment] = {}
        for x in self._results.moments():
            for y in (x, *x.similar):
                if y.path == path and (y.start, y.end) not in seen:
                    seen[(y.start, y.end)] = y
        return sorted(seen.values(), key=lambda x: x.start)

    def _set_speech_marks(self, same_video: list[Moment]) -> None:
        """Mark on the heat strip where the query matched what is said in the player's video."""
        spoken = [x for x in same_video if "speech" in x.source]
        self._player.set_speech_marks([(x.start, x.end) for x in spoken], [x.text or "" for x in spoken])

    def _load_transcript(self, m: Moment) -> None:
        """Fetch the video's transcript off the GUI thread for the player's subtitles."""
        self._transcript_for = m.path
        if not m.video_id:
            return
        path = m.path

        def done(lines: list[tuple[float, float, str]] | None) -> None:
            if self._player.path() == path and self._transcript_for == path:
                self._player.set_transcript(lines or [])

        def failed(failure: Failure) -> None:  # subtitles are a nicety: the video still plays
            log.ui.warning("no transcript for %s: %s", path, failure.message)

        self._lib_tasks.submit(self._service.transcript, m.video_id, on_done=done, on_error=failed)

    def _load_curve(self, path: str, video_id: int, query: str) -> None:
        """The query's similarity across the player's video, for the heat strip (off the GUI thread)."""
        if not query or not video_id:
            self._player.set_curve([], [])
            return

        def done(result) -> None:  # noqa: ANN001 - (times, scores)
            if self._player.path() == path and self._player_query == query:
                times, scores = result
                self._player.set_curve(times, scores)

        self._search_tasks.submit(
            self._service.similarity_curve, query, video_id, on_done=done, on_error=self._messages.report
        )

    # --- dragging out --------------------------------------------------------------------
    @Slot()
    def _prepare_drag_file(self) -> None:
        """Write the selection's FCPXML on the pool, so a drag of it can carry a timeline."""
        moments = self.selected_moments()
        if not moments:
            return
        svc, results, query = self._service, self._results, self._results.query
        folder = Path(svc.dirs.cache) / "drag"

        def job() -> Path:
            folder.mkdir(parents=True, exist_ok=True)
            out = folder / svc.export_filename(query, "fcpxml")
            svc.export(moments, "fcpxml", out, query=query, overwrite=True)
            return out

        def done(path: Path) -> None:
            if self.selected_moments() == moments:
                results.set_drag_file(moments, path)

        def failed(failure: Failure) -> None:  # the drag still carries the video files
            log.ui.warning("no timeline for dragging: %s", failure.message)

        self._lib_tasks.submit(job, on_done=done, on_error=failed)

    # --- thumbnails ----------------------------------------------------------------------
    @Slot(list)
    def _on_results_thumbnails_wanted(self, keys: list) -> None:
        svc, results = self._service, self._results
        gen = results.generation
        for key in keys:
            path, t = key

            def job(path: str = path, t: float = t) -> QImage | None:
                if results.generation != gen:
                    return None  # the user typed on: these results are gone, skip the decode
                out = svc.thumbnail(path, t, THUMB_SIZE)
                img = QImage(str(out))  # QImage is safe off the GUI thread; QPixmap is not
                if img.width() > THUMB_KEEP.width() or img.height() > THUMB_KEEP.height():
                    img = img.scaled(THUMB_KEEP, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                     Qt.TransformationMode.SmoothTransformation)  # fmt: skip
                return img

            self._thumb_tasks.submit(job, on_done=partial(results.set_thumbnail, key),
                                     on_error=partial(self._on_thumbnail_failed, key))  # fmt: skip

    def _on_thumbnail_failed(self, key: tuple[str, float], failure: Failure) -> None:
        log.ui.info("no thumbnail for %s at %.2f: %s", key[0], key[1], failure.message)

    # --- view events ---------------------------------------------------------------------
    @Slot(QModelIndex, QModelIndex)
    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.open_row(current.row())

    @Slot(QModelIndex)
    def _on_view_clicked(self, index: QModelIndex) -> None:
        if index.isValid() and self._player.moment() != index.data(MomentRole):
            self.open_row(index.row())

    @Slot(object, object)
    def _on_player_moment_trimmed(self, old: Moment, new: Moment) -> None:
        """I / O in the player: the result becomes the trimmed moment, so exports and copies use it."""
        if self._results.replace_moment(old, new) >= 0:
            self._messages.status(
                f"Moment trimmed to {self._player.time_text(new.start)} – {self._player.time_text(new.end)}", 4000
            )

    def _on_viewport_pressed(self, event: QEvent) -> bool:
        """A click on a card's "+N similar" badge opens (or closes) its group instead of selecting."""
        if not isinstance(event, QMouseEvent) or event.button() != Qt.MouseButton.LeftButton:
            return False
        pos = event.position().toPoint()
        index = self._view.indexAt(pos)
        delegate = self._view.itemDelegate()
        if not index.isValid() or not isinstance(delegate, MomentDelegate):
            return False
        opt = QStyleOptionViewItem()
        opt.initFrom(self._view)
        opt.widget = self._view
        opt.rect = self._view.visualRect(index)
        if not delegate.similar_badge_at(opt, index, event.position()):
            return False
        self.toggle_similar(index.row())
        return True

    @Slot(int)
    def _on_player_matches_exhausted(self, direction: int) -> None:
        row = self._view.currentIndex().row()
        target = row + direction
        if 0 <= target < self._results.rowCount():
            self._view.setCurrentIndex(self._results.index(target, 0))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self._viewport and event.type() == QEvent.Type.MouseButtonPress:
            return self._on_viewport_pressed(event)
        if not isinstance(event, QKeyEvent) or event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(obj, event)
        if obj is self._query:
            if event.key() == Qt.Key.Key_Down and self._results.rowCount():
                self._view.setFocus()
                if not self._view.currentIndex().isValid():
                    self._view.setCurrentIndex(self._results.index(0, 0))
                return True
        if obj in self._key_widgets:
            key = Qt.Key(event.key())
            plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            kept = (key in ARROWS and obj in self._keep_arrows) or (key == Qt.Key.Key_Space and obj in self._keep_space)
            if key in PLAYER_KEYS and plain and not kept:
                if self._player.handle_key(int(key)):
                    return True
        return super().eventFilter(obj, event)
