"""The main window: library sidebar, query box with filters, results grid, player; wires them to Service.

Every call into the service runs off the GUI thread (the index worker's QThread or a task
pool), because the library serialises access behind one lock that indexing holds for a batch
at a time. Results carry the query's generation so a slow, stale search never replaces a newer one.
"""

from __future__ import annotations

import csv
import json
import os
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from vsearch import log
from vsearch.types import IndexStats, Moment, Progress
from vsearch.ui.icons import icon
from vsearch.ui.library_panel import LibraryPanel, fmt_duration, local_folders
from vsearch.ui.player import ElidedLabel, PlayerPanel
from vsearch.ui.qtcompat import emit
from vsearch.ui.results_model import MomentDelegate, MomentRole, ResultsModel, fmt_time
from vsearch.ui.settings_dialog import SettingsDialog
from vsearch.ui.workers import Failure, IndexController, TaskRunner

SEARCH_DEBOUNCE_MS = 250
RESULTS_K = 60
THUMB_SIZE = 320
THUMB_KEEP = QSize(400, 225)  # what the model keeps in memory per thumbnail (cards are smaller)

#: (label, min_duration, max_duration) of the whole video, in seconds.
LENGTH_FILTERS: tuple[tuple[str, float | None, float | None], ...] = (
    ("Any length", None, None),
    ("Videos < 1 min", None, 60.0),
    ("Videos 1–10 min", 60.0, 600.0),
    ("Videos > 10 min", 600.0, None),
)
#: (label, Service.search's ``only``): which experts a search asks.
SOURCE_FILTERS: tuple[tuple[str, str | None], ...] = (
    ("Visual + speech", None),
    ("Visual only", "visual"),
    ("Speech only", "speech"),
)
PLAYER_KEYS = {Qt.Key.Key_Space, Qt.Key.Key_J, Qt.Key.Key_K, Qt.Key.Key_L, Qt.Key.Key_N, Qt.Key.Key_P}
EXTENSIONS = {"csv": "csv", "json": "json", "edl": "edl", "fcpxml": "fcpxml", "xmeml": "xml",
              "resolve-markers": "edl", "m3u": "m3u", "sheet": "html"}  # fmt: skip


class MainWindow(QMainWindow):
    """The app's window. Owns the index controller and the task pools; the service is passed in.

    Signals:
        searchFinished(int): the current query's results are shown (row count).
        libraryRefreshed(): folder list and status were re-read.
        errorShown(str): a message was shown to the user (also logged).
    """

    searchFinished = Signal(int)
    libraryRefreshed = Signal()
    errorShown = Signal(str)

    def __init__(
        self, service: Any, parent: QWidget | None = None, *, autoplay: bool = True, audio: bool = True
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.setWindowTitle("vsearch")
        self.setWindowIcon(icon("vsearch"))
        self.setAcceptDrops(True)
        self.resize(1440, 880)
        self._generation = 0
        self._folders: list = []
        self._status = None
        self._closing = False
        self._last_error = ""
        self._player_query = ""
        self._indexed_seen = -1
        self._transcript_for = ""  # the path whose transcript the player has (or is loading)

        self.indexer = IndexController(service, self)
        self.search_tasks = TaskRunner(1, self)
        self.thumb_tasks = TaskRunner(2, self)
        self.lib_tasks = TaskRunner(1, self)
        for runner in (self.search_tasks, self.thumb_tasks, self.lib_tasks):
            runner.failed.connect(self._on_task_failed)

        self._build_widgets(autoplay=autoplay, audio=audio)
        self._build_actions()
        self._wire()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._run_search)
        self._lib_timer = QTimer(self)
        self._lib_timer.setInterval(1500)
        self._lib_timer.timeout.connect(self.refresh_library)
        self._update_empty_state()
        self.refresh_library()

    # --- construction --------------------------------------------------------------------
    def _build_widgets(self, *, autoplay: bool, audio: bool) -> None:
        self.library_panel = LibraryPanel(self)
        self.library_panel.setMinimumWidth(230)

        # query bar
        self.query = QLineEdit(self)
        self.query.setObjectName("QueryBox")
        self.query.setPlaceholderText(
            "Describe the moment you are looking for…  e.g. “a dog running on the grass”"
        )
        self.query.setClearButtonEnabled(True)
        self.query.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)

        # filters
        self.folder_filter = QComboBox(self)
        self.folder_filter.addItem("All folders", None)
        self.folder_filter.setMinimumContentsLength(14)
        self.folder_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.length_filter = QComboBox(self)
        self.length_filter.setToolTip("Only videos of this length")
        for label, lo, hi in LENGTH_FILTERS:
            self.length_filter.addItem(label, (lo, hi))
        self.source_filter = QComboBox(self)
        self.source_filter.setToolTip("Match what is seen, what is said, or both")
        for label, only in SOURCE_FILTERS:
            self.source_filter.addItem(label, only)
        self.floor = QSlider(Qt.Orientation.Horizontal, self)
        self.floor.setRange(0, 50)
        self.floor.setValue(0)
        self.floor.setFixedWidth(110)
        self.floor.setToolTip("Relevance floor: hide weaker matches (left: automatic)")
        self.floor_label = QLabel("auto", self)
        self.floor_label.setObjectName("Dim")
        self.floor_label.setMinimumWidth(34)
        self.one_per_video = QCheckBox("Best per video", self)
        self.one_per_video.setToolTip("Show only the best moment of each video")
        self.grid_btn = QToolButton(self)
        self.grid_btn.setIcon(icon("grid"))
        self.grid_btn.setCheckable(True)
        self.grid_btn.setChecked(True)
        self.grid_btn.setToolTip("Grid or list")
        self.count_label = ElidedLabel("", self, Qt.TextElideMode.ElideRight)
        self.count_label.setObjectName("Dim")

        # two rows, so the window still fits a 1366-pixel-wide laptop screen
        filters = QVBoxLayout()
        filters.setSpacing(6)
        row1 = QHBoxLayout()
        row1.setSpacing(8)
        row1.addWidget(self.folder_filter, 1)
        row1.addWidget(self.length_filter)
        row1.addWidget(self.source_filter)
        row1.addWidget(self.grid_btn)
        row2 = QHBoxLayout()
        row2.setSpacing(8)
        relevance = QLabel("Relevance", self)
        relevance.setObjectName("Dim")
        row2.addWidget(relevance)
        row2.addWidget(self.floor)
        row2.addWidget(self.floor_label)
        row2.addWidget(self.one_per_video)
        row2.addStretch(1)
        filters.addLayout(row1)
        filters.addLayout(row2)

        # results
        self.results = ResultsModel(self)
        self.view = QListView(self)
        self.view.setModel(self.results)
        self.view.setItemDelegate(MomentDelegate(self.view))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setMouseTracking(True)
        self.view.viewport().installEventFilter(self)
        self.view.setSpacing(2)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self._set_grid(True)

        # empty state
        self.empty = QWidget(self)
        self.empty_title = QLabel("", self.empty)
        self.empty_title.setObjectName("EmptyTitle")
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text = QLabel("", self.empty)
        self.empty_text.setObjectName("EmptyState")
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setWordWrap(True)
        self.empty_button = QPushButton(icon("add"), "Add a folder…", self.empty)
        self.empty_button.setObjectName("Primary")
        self.empty_button.clicked.connect(self.library_panel._on_add_clicked)
        el = QVBoxLayout(self.empty)
        el.addStretch(2)
        logo = QLabel(self.empty)
        logo.setPixmap(icon("vsearch").pixmap(72, 72))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        el.addWidget(logo)
        el.addSpacing(8)
        el.addWidget(self.empty_title)
        el.addWidget(self.empty_text)
        el.addSpacing(10)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.empty_button)
        row.addStretch(1)
        el.addLayout(row)
        el.addStretch(3)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.view)

        center = QWidget(self)
        center.setObjectName("ResultsPane")
        center.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        cl = QVBoxLayout(center)
        cl.setContentsMargins(12, 12, 12, 6)
        cl.setSpacing(8)
        cl.addWidget(self.query)
        cl.addLayout(filters)
        cl.addWidget(self.count_label)
        cl.addWidget(self.stack, 1)

        self.player = PlayerPanel(self, autoplay=autoplay, audio=audio)
        self.player.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.library_panel)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.player)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 5)
        self.splitter.setStretchFactor(2, 4)
        self.splitter.setSizes([250, 760, 560])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.status_label = QLabel("", self)
        self.status_label.setObjectName("Dim")
        self.statusBar().addPermanentWidget(self.status_label)

    def _build_actions(self) -> None:
        def action(text: str, slot, shortcut=None, icon_name: str | None = None) -> QAction:
            a = QAction(text, self)
            if icon_name:
                a.setIcon(icon(icon_name))
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            return a

        self.add_action = action(
            "&Add folder…", self.library_panel._on_add_clicked, QKeySequence.StandardKey.Open, "add"
        )
        self.rescan_action = action("&Rescan all folders", lambda: self.rescan(None), "F5", "refresh")
        self.shared_action = action("Add &shared library…", self.add_shared_library, None, "add")
        self.export_action = action("&Export moments…", self.export_dialog, "Ctrl+E", "export")
        self.copy_action = action(
            "&Copy timestamps", self.copy_timestamps, QKeySequence.StandardKey.Copy, "copy"
        )
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.view.addAction(self.copy_action)
        self.view.addAction(self.export_action)
        self.open_action = action("Open in system player", self.player.open_external, None, "external")
        self.folder_action = action("Show in folder", self.player.show_in_folder, None, "folder")
        self.view.addAction(self.open_action)
        self.view.addAction(self.folder_action)
        self.settings_action = action(
            "&Settings…", self.settings_dialog, QKeySequence.StandardKey.Preferences, "settings"
        )
        self.find_action = action("Find", self._focus_query, QKeySequence.StandardKey.Find)
        self.addAction(self.find_action)
        quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit)

        menu = self.menuBar()
        m = menu.addMenu("&File")
        for a in (self.add_action, self.shared_action, self.rescan_action, self.export_action):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.settings_action)
        m.addSeparator()
        m.addAction(quit_action)
        e = menu.addMenu("&Edit")
        e.addAction(self.copy_action)
        e.addAction(action("Select &all results", self.view.selectAll, None))
        h = menu.addMenu("&Help")
        h.addAction(action("&Keyboard shortcuts", self._show_shortcuts, "F1"))
        h.addAction(action("&About vsearch", self._show_about, None))

    def _wire(self) -> None:
        lp = self.library_panel
        lp.addRequested.connect(self.add_folders)
        lp.removeRequested.connect(self.remove_folder)
        lp.rescanRequested.connect(self.rescan)
        lp.pauseRequested.connect(self.indexer.pause)
        lp.resumeRequested.connect(self.indexer.resume)
        lp.cancelRequested.connect(self._on_library_cancel_requested)
        self.indexer.busyChanged.connect(self._on_indexer_busy_changed)
        self.indexer.progressed.connect(self._on_indexer_progressed)
        self.indexer.finished.connect(self._on_indexer_finished)
        self.indexer.failed.connect(self._on_indexer_failed)
        self.indexer.pausedChanged.connect(lp.set_paused)
        self.query.textChanged.connect(self._on_query_text_changed)
        self.query.returnPressed.connect(self._run_search)
        self.folder_filter.currentIndexChanged.connect(self._on_filter_changed)
        self.length_filter.currentIndexChanged.connect(self._on_filter_changed)
        self.source_filter.currentIndexChanged.connect(self._on_filter_changed)
        self.floor.valueChanged.connect(self._on_floor_value_changed)
        self.one_per_video.toggled.connect(self._on_filter_changed)
        self.grid_btn.toggled.connect(self._set_grid)
        self.results.thumbnailsWanted.connect(self._on_results_thumbnails_wanted)
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self.view.clicked.connect(self._on_view_clicked)
        self.view.installEventFilter(self)
        self.query.installEventFilter(self)
        self.player.matchesExhausted.connect(self._on_player_matches_exhausted)
        self.player.errorOccurred.connect(lambda text: self.statusBar().showMessage(text, 8000))

    # --- library -------------------------------------------------------------------------
    @Slot(list)
    def add_folders(self, paths: list[str]) -> None:
        """Add folders and index them (now, or after the running job)."""
        folders = [os.path.abspath(p) for p in paths]
        known = {f.path for f in self._folders}
        queued = [p for job in self.indexer.queued() if job for p in job]
        for p in folders:
            if not os.path.isdir(p):
                self.show_error(f"Not a folder: {p}")
                return
        self.indexer.enqueue(folders)
        self.library_panel.set_queued([p for p in queued + folders if p not in known])
        self.library_panel.set_folders(self._folders, self._failures_cache())
        self._update_empty_state()

    @Slot(str)
    def remove_folder(self, path: str) -> None:
        if self.indexer.is_busy():
            self.show_error("Removing a folder waits until indexing stops: cancel or let it finish first.")
            return
        ask = QMessageBox.question(
            self,
            "Remove folder",
            f"Remove {path} from the library?\n\nIts videos leave the search results; the files themselves are not touched.",
        )
        if ask != QMessageBox.StandardButton.Yes:
            return
        self.lib_tasks.submit(self.service.remove_folder, path, on_done=lambda _n: self._after_library_change(),
                              on_error=self._on_failure)  # fmt: skip

    @Slot(object)
    def rescan(self, paths: list[str] | None) -> None:
        if paths is None and not self._folders:
            self.show_error("Add a folder first.")
            return
        self.indexer.enqueue(paths)

    def refresh_library(self) -> None:
        """Re-read folders, failures and the library summary (off the GUI thread)."""
        if self._closing:
            return
        svc = self.service

        def read():
            folders = svc.folders()
            failures = {f.path: svc.failures(f.path) for f in folders if f.failed}
            return folders, failures, svc.status()

        self.lib_tasks.submit(read, on_done=self._on_library_read, on_error=self._on_failure)

    def _on_library_read(self, result) -> None:
        folders, failures, status = result
        self._folders = folders
        self._failures = failures
        self._status = status
        queued = [p for job in self.indexer.queued() if job for p in job]
        running = self.indexer.running() or []
        known = {f.path for f in folders}
        self.library_panel.set_queued([p for p in queued + running if p not in known])
        self.library_panel.set_folders(folders, failures)
        current = self.folder_filter.currentData()
        self.folder_filter.blockSignals(True)
        self.folder_filter.clear()
        self.folder_filter.addItem("All folders", None)
        for f in folders:
            self.folder_filter.addItem(
                icon("folder"), os.path.basename(f.path.rstrip(os.sep)) or f.path, f.path
            )
        i = self.folder_filter.findData(current)
        self.folder_filter.setCurrentIndex(max(0, i))
        self.folder_filter.blockSignals(False)
        if status is not None:
            model = status.model or "no model yet"
            self.status_label.setText(
                f"{status.indexed} videos · {status.frames:,} frames · {model}"
                + (f" · {status.failed} failed" if status.failed else "")
                + (" · read-only" if getattr(status, "readonly", False) else "")
            )
            grew = status.indexed != self._indexed_seen
            self._indexed_seen = status.indexed
            if (
                grew
                and self.indexer.is_busy()
                and self.query.text().strip()
                and not self.view.selectionModel().hasSelection()
            ):
                self._schedule_search(0)  # results grow while indexing, unless the user is busy with them
        self._update_empty_state()
        emit(self.libraryRefreshed)

    def _failures_cache(self) -> dict:
        return getattr(self, "_failures", {})

    def add_shared_library(self) -> None:
        """Attach a facility's shared library read-only (docs/CLUSTER.md); remembered for later runs."""
        from PySide6.QtWidgets import QInputDialog

        uri, ok = QInputDialog.getText(self, "Add shared library", "Shared library (folder or URI):")
        if not ok or not uri.strip():
            return
        mapping, ok = QInputDialog.getText(
            self,
            "Add shared library",
            "Where its files are here (CLUSTER_PATH=LOCAL_PATH; several separated by ';'; may be empty):",
        )
        if not ok:
            return
        maps = [m.strip() for m in mapping.split(";") if m.strip()]
        svc = self.service
        self.lib_tasks.submit(
            lambda: svc.attach_shared(uri.strip(), maps, remember=True),
            on_done=lambda _has: self._after_library_change(),
            on_error=partial(self._on_failure, title="Could not add the shared library"),
        )

    def _after_library_change(self) -> None:
        self.refresh_library()
        self._schedule_search(0)

    # --- indexing events -----------------------------------------------------------------
    @Slot(bool)
    def _on_indexer_busy_changed(self, busy: bool) -> None:
        self.library_panel.set_busy(busy)
        if busy:
            self._lib_timer.start()
        else:
            self._lib_timer.stop()
        self.refresh_library()

    @Slot(object)
    def _on_indexer_progressed(self, p: Progress) -> None:
        self.library_panel.set_progress(p)

    @Slot(object)
    def _on_indexer_finished(self, stats: IndexStats) -> None:
        if stats.cancelled:
            msg = f"Indexing cancelled after {stats.indexed} videos; what was done is kept."
        else:
            msg = f"Indexed {stats.indexed} videos ({stats.frames:,} frames)"
            if stats.failed:
                msg += f"; {stats.failed} could not be read (see the library panel)"
            elif stats.indexed == 0:
                msg = "Library is up to date"
        total = stats.stage_seconds.get("total") if stats.stage_seconds else None
        if total:
            msg += f" in {fmt_duration(total)}"
        self.statusBar().showMessage(msg, 15000)
        log.ui.info(msg)
        self._after_library_change()

    @Slot(object)
    def _on_indexer_failed(self, failure: Failure) -> None:
        self._on_failure(failure, title="Indexing stopped")
        self.refresh_library()

    @Slot()
    def _on_library_cancel_requested(self) -> None:
        self.indexer.cancel()
        self.library_panel.progress_label.setText("Stopping after the current batch…")

    # --- search --------------------------------------------------------------------------
    @Slot(str)
    def _on_query_text_changed(self, _text: str) -> None:
        self._schedule_search(SEARCH_DEBOUNCE_MS)

    @Slot()
    def _on_filter_changed(self) -> None:
        self._schedule_search(60)

    @Slot(int)
    def _on_floor_value_changed(self, value: int) -> None:
        self.floor_label.setText("auto" if value == 0 else f"{value / 100:.2f}")
        self._schedule_search(150)

    def _schedule_search(self, delay_ms: int) -> None:
        self._debounce.start(max(0, delay_ms))

    def search_params(self) -> dict[str, Any]:
        lo, hi = self.length_filter.currentData() or (None, None)
        return {
            "k": RESULTS_K,
            "folder": self.folder_filter.currentData(),
            "min_score": None if self.floor.value() == 0 else self.floor.value() / 100.0,
            "per_video": 1 if self.one_per_video.isChecked() else None,
            "min_duration": lo,
            "max_duration": hi,
            "only": self.source_filter.currentData(),
        }

    @Slot()
    def _run_search(self) -> None:
        self._debounce.stop()
        text = " ".join(self.query.text().split())
        self._generation += 1
        gen = self._generation
        if not text:
            self.results.set_results([], gen, "")
            self.count_label.setText("")
            self._update_empty_state()
            emit(self.searchFinished, 0)
            return
        params = self.search_params()
        svc = self.service

        def job():
            if gen != self._generation:  # a newer query came in before this one started
                return None
            return svc.search(text, **params)

        self.count_label.setText("Searching…")
        self.search_tasks.submit(job, on_done=partial(self._on_search_done, gen, text),
                                 on_error=partial(self._on_search_failed, gen))  # fmt: skip

    def _on_search_done(self, gen: int, text: str, moments: list[Moment] | None) -> None:
        if gen != self._generation or moments is None:
            return  # stale: the user typed on
        self.results.set_results(moments, gen, text)
        n = len(moments)
        videos = len({m.path for m in moments})
        self.count_label.setText(f"{n} moments in {videos} videos" if n else "")
        self._update_empty_state()
        if n and self.player.path():
            self._refresh_player_marks()
        emit(self.searchFinished, n)

    def _on_search_failed(self, gen: int, failure: Failure) -> None:
        if gen != self._generation:
            return
        self.count_label.setText("")
        self._on_failure(failure, title="Search failed")
        emit(self.searchFinished, 0)

    @Slot(list)
    def _on_results_thumbnails_wanted(self, keys: list) -> None:
        svc, results = self.service, self.results
        gen = results.generation
        for key in keys:
            path, t = key

            def job(path=path, t=t):
                if results.generation != gen:
                    return None  # the user typed on: these results are gone, skip the decode
                out = svc.thumbnail(path, t, THUMB_SIZE)
                img = QImage(str(out))  # QImage is safe off the GUI thread; QPixmap is not
                if img.width() > THUMB_KEEP.width() or img.height() > THUMB_KEEP.height():
                    img = img.scaled(THUMB_KEEP, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                     Qt.TransformationMode.SmoothTransformation)  # fmt: skip
                return img

            self.thumb_tasks.submit(job, on_done=partial(self.results.set_thumbnail, key),
                                    on_error=partial(self._on_thumbnail_failed, key))  # fmt: skip

    def _on_thumbnail_failed(self, key, failure: Failure) -> None:
        log.ui.info("no thumbnail for %s at %.2f: %s", key[0], key[1], failure.message)

    # --- player --------------------------------------------------------------------------
    @Slot()
    def _on_view_current_changed(self, current, _previous) -> None:
        if current.isValid():
            self.open_row(current.row())

    @Slot()
    def _on_view_clicked(self, index) -> None:
        if index.isValid() and self.player.moment() != index.data(MomentRole):
            self.open_row(index.row())

    def open_row(self, row: int) -> None:
        """Show result *row* in the player, with every match of the same video as marks."""
        m = self.results.moment(row)
        same = sorted((x for x in self.results.moments() if x.path == m.path), key=lambda x: x.start)
        marks = [(x.start, x.end) for x in same]
        current = next((i for i, x in enumerate(same) if x == m), -1)
        new_file = m.path != self.player.path()
        new_video = new_file or self._player_query != self.results.query
        self.player.open_moment(m, marks, current, [x.score for x in same])
        if new_file or self._transcript_for != m.path:
            self._load_transcript(m)
        if new_video:
            self._player_query = self.results.query
            self._set_speech_marks(same)
            self._load_curve(m, self.results.query)

    def _refresh_player_marks(self) -> None:
        m = self.player.moment()
        if m is None:
            return
        same = sorted((x for x in self.results.moments() if x.path == m.path), key=lambda x: x.start)
        if same and self.results.query != self._player_query:
            self.player.timeline.set_marks([(x.start, x.end) for x in same], -1)
            self._player_query = self.results.query
            self._set_speech_marks(same)
            self._load_curve(m, self.results.query)

    def _set_speech_marks(self, same_video: list[Moment]) -> None:
        """Mark on the heat strip where the query matched what is said in the player's video."""
        spoken = [x for x in same_video if "speech" in x.source]
        self.player.set_speech_marks([(x.start, x.end) for x in spoken], [x.text or "" for x in spoken])

    def _load_transcript(self, m: Moment) -> None:
        """Fetch the video's transcript off the GUI thread for the player's subtitles."""
        self._transcript_for = m.path
        if not m.video_id or not hasattr(self.service, "transcript"):
            return
        path = m.path

        def done(lines) -> None:
            if self.player.path() == path and self._transcript_for == path:
                self.player.set_transcript(lines or [])

        def failed(failure: Failure) -> None:  # subtitles are a nicety: the video still plays
            log.ui.warning("no transcript for %s: %s", path, failure.message)

        self.lib_tasks.submit(self.service.transcript, m.video_id, on_done=done, on_error=failed)

    def _load_curve(self, m: Moment, query: str) -> None:
        if not query or not m.video_id:
            self.player.set_curve([], [])
            return
        svc = self.service

        def done(result) -> None:
            if self.player.path() == m.path and self._player_query == query:
                times, scores = result
                self.player.set_curve(times, scores)

        self.search_tasks.submit(
            svc.similarity_curve, query, m.video_id, on_done=done, on_error=self._on_failure
        )

    @Slot(int)
    def _on_player_matches_exhausted(self, direction: int) -> None:
        row = self.view.currentIndex().row()
        target = row + direction
        if 0 <= target < self.results.rowCount():
            self.view.setCurrentIndex(self.results.index(target, 0))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.view.viewport() and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self.view.doItemsLayout)  # cards follow the new width
        if obj is self.query and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Down:
            if self.results.rowCount():
                self.view.setFocus()
                if not self.view.currentIndex().isValid():
                    self.view.setCurrentIndex(self.results.index(0, 0))
                return True
        if obj is self.view and event.type() == QEvent.Type.KeyPress:
            key = Qt.Key(event.key())
            if key in PLAYER_KEYS and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                if self.player.handle_key(int(key)):
                    return True
        return super().eventFilter(obj, event)

    # --- selection, export, copy ---------------------------------------------------------
    def selected_moments(self) -> list[Moment]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedIndexes()})
        return [self.results.moment(r) for r in rows]

    def copy_timestamps(self) -> str:
        moments = self.selected_moments() or ([self.player.moment()] if self.player.moment() else [])
        lines = [f"{m.path}\t{fmt_time(m.start)}\t{fmt_time(m.end)}\t{m.score:.3f}" for m in moments]
        text = "\n".join(lines)
        if text:
            QGuiApplication.clipboard().setText(text)
            self.statusBar().showMessage(f"Copied {len(lines)} timestamp(s)", 4000)
        return text

    def export_formats(self) -> list[tuple[str, str]]:
        try:
            formats = list(self.service.export_formats())
        except Exception as exc:  # noqa: BLE001 - fall back to the two built in here
            log.ui.warning("export formats unavailable: %s", exc)
            formats = []
        names = {n for n, _ in formats}
        for name, desc in (("csv", "CSV table"), ("json", "JSON")):
            if name not in names:
                formats.append((name, desc))
        return formats

    def export_dialog(self) -> None:
        moments = self.selected_moments() or self.results.moments()
        if not moments:
            self.show_error(
                "Nothing to export yet: search first, then select moments (Ctrl+click, Shift+click)."
            )
            return
        formats = self.export_formats()
        filters = [
            f"{desc} (*.{EXTENSIONS.get(name, name)})" if name != "clips" else f"{desc} (*)"
            for name, desc in formats
        ]
        path, chosen = QFileDialog.getSaveFileName(self, f"Export {len(moments)} moments", os.path.expanduser("~/moments.csv"),
                                                   ";;".join(filters))  # fmt: skip
        if not path:
            return
        fmt = formats[filters.index(chosen)][0] if chosen in filters else "csv"
        self.export_moments(moments, fmt, Path(path))

    def export_moments(self, moments: list[Moment], fmt: str, out: Path) -> None:
        """Export off the GUI thread (clips and contact sheets can take a while)."""
        svc, query = self.service, self.results.query
        service_formats = {n for n, _ in self.export_formats_from_service()}

        def job():
            if fmt in service_formats:
                return svc.export(moments, fmt, out, query=query)
            return _export_fallback(moments, fmt, out, query)

        def done(paths) -> None:
            where = ", ".join(str(p) for p in (paths or [out])[:3])
            self.statusBar().showMessage(f"Exported {len(moments)} moments to {where}", 10000)

        self.statusBar().showMessage(f"Exporting {len(moments)} moments…")
        self.lib_tasks.submit(job, on_done=done, on_error=partial(self._on_failure, title="Export failed"))

    def export_formats_from_service(self) -> list[tuple[str, str]]:
        try:
            return list(self.service.export_formats())
        except Exception:  # noqa: BLE001
            return []

    # --- settings ------------------------------------------------------------------------
    def settings_dialog(self) -> None:
        try:
            models = self.service.models()
        except Exception as exc:  # noqa: BLE001 - the dialog still works without the list
            log.ui.warning("model list unavailable: %s", exc)
            models = []
        dlg = SettingsDialog(self.service.settings, models, str(self.service.dirs.library), self)
        if dlg.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dlg.changes())

    def apply_settings(self, changes: dict[str, object]) -> None:
        if not changes:
            return
        try:
            self.service.update_settings(**changes)
        except Exception as exc:  # noqa: BLE001
            self._on_failure(Failure.from_exception(exc), title="Settings not saved")
            return
        notes = []
        if "model" in changes or "sampling" in changes or "interval" in changes:
            notes.append("rescan (F5) to re-index with the new settings")
        if "library" in changes:
            notes.append("the new library location applies on the next start")
        self.statusBar().showMessage("Settings saved" + (": " + "; ".join(notes) if notes else ""), 10000)

    # --- messages ------------------------------------------------------------------------
    def show_error(self, text: str, title: str = "vsearch", details: str = "") -> None:
        """Tell the user (non-blocking message box) and the log."""
        self._last_error = text
        log.ui.warning("%s: %s", title, text)
        self.statusBar().showMessage(text, 10000)
        emit(self.errorShown, text)
        if self._closing:
            return
        for other in self.findChildren(QMessageBox):
            if other.isVisible() and other.text() == text:
                return  # the same problem is already on screen (e.g. every keystroke of a query)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    @property
    def last_error(self) -> str:
        return self._last_error

    def _on_failure(self, failure: Failure, title: str = "Something went wrong") -> None:
        if not failure.expected:
            log.ui.error("%s: %s\n%s", title, failure.message, failure.details)
            text = f"{failure.message}\n\nThis is a bug; details are in the log ({self._log_dir()})."
            self.show_error(text, title, failure.details)
        else:
            self.show_error(failure.message, title)

    @Slot(object)
    def _on_task_failed(self, failure: Failure) -> None:
        self._on_failure(failure)

    def _log_dir(self) -> str:
        try:
            return str(self.service.dirs.logs)
        except AttributeError:
            return "the log folder"

    def _show_shortcuts(self) -> None:
        QMessageBox.information(
            self,
            "Keyboard shortcuts",
            "Ctrl+F  search box\nEnter  search now\n\nIn the player or the results:\n"
            "Space / K  play / pause\nJ / L  back / forward 5 s\n← / →  step (frame when paused)\n"
            "N / P  next / previous match\n\nCtrl+C  copy timestamps of the selected moments\n"
            "Ctrl+E  export moments\nF5  rescan all folders",
        )

    def _show_about(self) -> None:
        from vsearch import __version__

        QMessageBox.about(
            self, "About vsearch", f"vsearch {__version__}\nSearch your own videos by sentence."
        )

    # --- view bits -----------------------------------------------------------------------
    @Slot(bool)
    def _set_grid(self, grid: bool) -> None:
        if grid:
            self.view.setViewMode(QListView.ViewMode.IconMode)
            self.view.setFlow(QListView.Flow.LeftToRight)
            self.view.setWrapping(True)
            self.view.setResizeMode(QListView.ResizeMode.Adjust)
            self.view.setMovement(QListView.Movement.Static)
            self.view.setGridSize(QSize())
            self.grid_btn.setIcon(icon("list"))
        else:
            self.view.setViewMode(QListView.ViewMode.ListMode)
            self.view.setFlow(QListView.Flow.TopToBottom)
            self.view.setWrapping(False)
            self.grid_btn.setIcon(icon("grid"))
        self.view.doItemsLayout()

    def _focus_query(self) -> None:
        self.query.setFocus()
        self.query.selectAll()

    def _update_empty_state(self) -> None:
        has_folders = bool(self._folders) or self.indexer.is_busy() or bool(self.indexer.queued())
        text = self.query.text().strip()
        if self.results.rowCount():
            self.stack.setCurrentWidget(self.view)
            return
        self.stack.setCurrentWidget(self.empty)
        if not has_folders:
            self.empty_title.setText("Welcome to vsearch")
            self.empty_text.setText(
                "Add a folder of videos to get started. vsearch looks at every video, on this computer only,\n"
                "so you can type a sentence and jump to the moment it shows.\n\nYou can also drop a folder on this window."
            )
            self.empty_button.show()
        elif not text:
            indexing = self.indexer.is_busy()
            self.empty_title.setText("What are you looking for?")
            self.empty_text.setText(
                "Describe a moment in plain words, for example “a dog running on the grass”\n"
                "or “a rocket lifting off”."
                + ("\n\nIndexing is running: results grow as videos are done." if indexing else "")
            )
            self.empty_button.hide()
        else:
            self.empty_title.setText("No matching moments")
            self.empty_text.setText(
                f"Nothing matches “{text}”" + (" yet" if self.indexer.is_busy() else "") + ".\n"
                "Try other words, pick “All folders” and “Any length”, or move the relevance slider to the left."
            )
            self.empty_button.hide()

    # --- drag and drop on the whole window -------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and local_folders(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        folders = local_folders(event.mimeData().urls())
        if folders:
            event.acceptProposedAction()
            self.add_folders(folders)

    # --- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop cleanly: cancel indexing at a batch boundary and wait, then close the library."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        self._debounce.stop()
        self._lib_timer.stop()
        if self.indexer.is_busy():
            self.statusBar().showMessage("Stopping indexing…")
            QApplication.processEvents()
        self.indexer.shutdown()
        for runner in (self.search_tasks, self.thumb_tasks, self.lib_tasks):
            runner.shutdown()
        self.player.unload()
        event.accept()


def _export_fallback(moments: list[Moment], fmt: str, out: Path, query: str) -> list[Path]:
    """CSV / JSON written here when the service offers no exporter for them."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        out.write_text(
            json.dumps({"query": query, "moments": [m.to_dict() for m in moments]}, indent=2),
            encoding="utf-8",
        )
    else:
        with out.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["path", "start", "end", "score"])
            for m in moments:
                w.writerow([m.path, f"{m.start:.3f}", f"{m.end:.3f}", f"{m.score:.4f}"])
    return [out]
