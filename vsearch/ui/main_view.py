"""The main window's view: every widget, the layout, the actions and menus; no logic, no service.

:class:`MainWindowView` builds what the user sees (library sidebar, query box, filters, results
grid with its empty state, player, status bar) and the actions of the menus, unconnected. The
controllers in :mod:`vsearch.ui.controllers` give them behaviour and :class:`vsearch.ui.main_window.MainWindow`
wires the two (TagStudio's views / controllers split).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
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

from vsearch.ui.helpers import ElidedLabel, local_folders
from vsearch.ui.icons import icon
from vsearch.ui.library_panel import LibraryPanel
from vsearch.ui.player import PlayerPanel
from vsearch.ui.qtcompat import emit
from vsearch.ui.results_model import MomentDelegate, ResultsModel

#: (label, min_duration, max_duration) of the whole video, in seconds.
LENGTH_FILTERS: tuple[tuple[str, float | None, float | None], ...] = (
    ("Any length", None, None),
    ("Videos < 1 min", None, 60.0),
    ("Videos 1–10 min", 60.0, 600.0),
    ("Videos > 10 min", 600.0, None),
)
#: (label, Service.search's ``only``): which experts a search asks.
SOURCE_FILTERS: tuple[tuple[str, str | None], ...] = (
    ("All experts", None),
    ("Visual only", "visual"),
    ("Speech only", "speech"),
    ("Text only", "text"),
)

#: One paragraph per line; the label wraps them to its width (no line breaks inside a sentence).
WELCOME_TEXT = (
    "Add a folder of videos to get started. vsearch looks at every video, on this computer only, "
    "so you can type a sentence and jump to the moment it shows.\n\nYou can also drop a folder on this window."
)
#: The widest the empty state's text gets: lines longer than this are hard to read.
EMPTY_TEXT_WIDTH = 520
SHORTCUTS_TEXT = (
    "Ctrl+F  search box\nEnter  search now\n\nWhile the player shows a video (from anywhere but the search box):\n"
    "Space  play / pause\nJ / K / L  shuttle back / stop / forward (again: faster)\n"
    "← / →  step (frame when paused)\n"
    "I / O  set the moment's in / out (exports use them)\n"
    "N / P  next / previous match in this video\nCtrl+N / Ctrl+P  next / previous result\n\n"
    "Ctrl+C  copy timestamps of the selected moments\n"
    "Ctrl+E  export moments (also from the search box)\nF5  rescan all folders"
)
#: Default window size; it is shrunk to fit the screen's available area (a 1366x768 laptop).
DEFAULT_SIZE = QSize(1440, 880)
#: The window manager's frame (left, top, right, bottom) assumed until the window is shown.
FRAME_GUESS = (8, 36, 8, 8)
#: Licences named in the About box: the parts that ship with the app.
LICENCES = (
    "vsearch: MIT",
    "Qt / PySide6: LGPL-3.0",
    "PyTorch: BSD-3-Clause · open_clip: MIT · hnswlib: Apache-2.0",
    "FFmpeg (PyAV, Qt Multimedia): LGPL-2.1+ · OpenCV: Apache-2.0",
    "faster-whisper: MIT · RapidOCR / PP-OCRv4: Apache-2.0",
    "Starter model: EfficientNet-Lite0 and all-MiniLM-L6-v2 weights, Apache-2.0",
    "CLIP presets: the licence of each checkpoint (docs/MODELS.md)",
)


class MainWindowView(QMainWindow):
    """The window's widgets and actions, laid out; behaviour comes from the controllers.

    Attributes:
        library_panel, query, folder_filter, length_filter, source_filter, floor, floor_label,
        one_per_video, grid_btn, count_label, results (the model), view (the results list),
        empty (with empty_title, empty_text, empty_button), stack, player, splitter,
        status_label: the widgets.
        add_action, shared_action, rescan_action, export_action, copy_action, open_action, folder_action,
        locate_action (a missing result's Locate…),
        settings_action, find_action, quit_action, select_all_action, shortcuts_action,
        about_action, seconds_action: the menu and context-menu actions (connected by the window).

    Signals:
        foldersDropped(list): local folders were dropped on the window.
    """

    foldersDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None, *, autoplay: bool = True, audio: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle("vsearch")
        self.setWindowIcon(icon("vsearch"))
        self.setAcceptDrops(True)
        self._fitted = False
        self._build_widgets(autoplay=autoplay, audio=audio)
        self._build_actions()
        self.fit_to_screen()

    # --- construction --------------------------------------------------------------------
    def _build_widgets(self, *, autoplay: bool, audio: bool) -> None:
        self.library_panel = LibraryPanel(self)
        self.library_panel.setMinimumWidth(190)

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
        self.folder_filter.setMinimumContentsLength(10)
        self.folder_filter.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.length_filter = QComboBox(self)
        self.length_filter.setToolTip("Only videos of this length")
        for label, lo, hi in LENGTH_FILTERS:
            self.length_filter.addItem(label, (lo, hi))
        self.source_filter = QComboBox(self)
        self.source_filter.setToolTip(
            "Match what is seen, what is said, what is written on screen, or all of them"
        )
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
        row2 = QHBoxLayout()
        row2.setSpacing(8)
        relevance = QLabel("Relevance", self)
        relevance.setObjectName("Dim")
        row2.addWidget(relevance)
        row2.addWidget(self.floor)
        row2.addWidget(self.floor_label)
        row2.addWidget(self.one_per_video)
        row2.addStretch(1)
        row2.addWidget(self.grid_btn)
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
        self.set_grid(True)
        self._drag_out()

        # empty state
        self.empty = QWidget(self)
        self.empty_title = QLabel("", self.empty)
        self.empty_title.setObjectName("EmptyTitle")
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text = QLabel("", self.empty)
        self.empty_text.setObjectName("EmptyState")
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setWordWrap(True)
        self.empty_text.setMaximumWidth(EMPTY_TEXT_WIDTH)
        self.empty_button = QPushButton(icon("add"), "Add a folder…", self.empty)
        self.empty_button.setObjectName("Primary")
        el = QVBoxLayout(self.empty)
        el.addStretch(2)
        logo = QLabel(self.empty)
        logo.setPixmap(icon("vsearch").pixmap(72, 72))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        el.addWidget(logo)
        el.addSpacing(8)
        el.addWidget(self.empty_title)
        # centred at a readable width; in a row of its own, so the layout asks the label's height
        # for the width it really gets (an aligned item is measured at the column's full width)
        text_row = QHBoxLayout()
        text_row.addStretch(1)
        text_row.addWidget(self.empty_text, 100)
        text_row.addStretch(1)
        el.addLayout(text_row)
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
        def action(text: str, shortcut=None, icon_name: str | None = None) -> QAction:  # noqa: ANN001
            a = QAction(text, self)
            if icon_name:
                a.setIcon(icon(icon_name))
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            return a

        self.add_action = action("&Add folder…", QKeySequence.StandardKey.Open, "add")
        self.rescan_action = action("&Rescan all folders", "F5", "refresh")
        self.shared_action = action("Add &shared library…", None, "add")
        self.manage_shared_action = action("Shared li&braries…")
        self.manage_shared_action.setToolTip("The shared libraries this desktop searches: path maps, removal")
        self.export_action = action("&Export moments…", "Ctrl+E", "export")
        self.copy_action = action("&Copy timestamps", QKeySequence.StandardKey.Copy, "copy")
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.view.addAction(self.copy_action)
        self.view.addAction(self.export_action)
        self.open_action = action("Open in system player", None, "external")
        self.folder_action = action("Show in folder", None, "folder")
        self.view.addAction(self.open_action)
        self.view.addAction(self.folder_action)
        self.locate_action = action("&Locate missing file…")
        self.locate_action.setEnabled(False)  # for a result whose file is missing
        self.view.addAction(self.locate_action)
        self.similar_action = action("Show / hide similar moments", "+")
        self.similar_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.similar_action.setToolTip("Loops and copies of the same footage are folded into one card")
        self.view.addAction(self.similar_action)
        self.settings_action = action("&Settings…", QKeySequence.StandardKey.Preferences, "settings")
        self.find_action = action("Find", QKeySequence.StandardKey.Find)
        self.addAction(self.find_action)
        self.quit_action = action("&Quit", QKeySequence.StandardKey.Quit)
        self.select_all_action = action("Select &all results")
        self.shortcuts_action = action("&Keyboard shortcuts", "F1")
        self.about_action = action("&About vsearch")
        self.next_result_action = action("Next result", "Ctrl+N")
        self.previous_result_action = action("Previous result", "Ctrl+P")
        for a in (self.next_result_action, self.previous_result_action):
            self.addAction(a)  # from anywhere in the window, the search box included
        self.seconds_action = action("Show times in &seconds")
        self.seconds_action.setCheckable(True)
        self.seconds_action.setToolTip("Times as m:ss.s instead of timecode HH:MM:SS:FF at the video's rate")

        # the search box must not take these for its own editing keys (on X11, Ctrl+E is "end of line")
        self._window_keys = {a.shortcut().toString() for a in (self.export_action, self.next_result_action,
                                                               self.previous_result_action)}  # fmt: skip
        self.query.installEventFilter(self)

        menu = self.menuBar()
        m = menu.addMenu("&File")
        for a in (self.add_action, self.shared_action, self.manage_shared_action, self.rescan_action,
                  self.export_action):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.settings_action)
        m.addSeparator()
        m.addAction(self.quit_action)
        e = menu.addMenu("&Edit")
        e.addAction(self.copy_action)
        e.addAction(self.select_all_action)
        v = menu.addMenu("&View")
        v.addAction(self.next_result_action)
        v.addAction(self.previous_result_action)
        v.addSeparator()
        v.addAction(self.seconds_action)
        h = menu.addMenu("&Help")
        h.addAction(self.shortcuts_action)
        h.addAction(self.about_action)

    # --- what the view shows -------------------------------------------------------------
    def set_grid(self, grid: bool) -> None:
        """Results as a grid of cards (True) or a list of rows."""
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
        self._drag_out()

    def _drag_out(self) -> None:
        """Results drag out of the window (files, a timeline) and never move inside the grid."""
        self.view.setDragEnabled(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.view.setDefaultDropAction(Qt.DropAction.CopyAction)

    def show_results(self) -> None:
        self.stack.setCurrentWidget(self.view)

    def show_empty(self, title: str, text: str, *, add_button: bool = False) -> None:
        """The empty state in place of the results: a title, a text, optionally "Add a folder…"."""
        self.stack.setCurrentWidget(self.empty)
        self.empty_title.setText(title)
        self.empty_text.setText(text)
        self.empty_button.setVisible(add_button)

    def focus_query(self) -> None:
        self.query.setFocus()
        self.query.selectAll()

    def show_shortcuts(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", SHORTCUTS_TEXT)

    def fit_to_screen(self, area: QRect | None = None) -> None:
        """Take the default size, or less where the screen's available *area* is smaller, centred on it.

        The window's frame (title bar, borders) counts: what is known of it once shown, else a
        typical one (:data:`FRAME_GUESS`).

        Args:
            area: the screen's available geometry (default: the window's screen's).
        """
        if area is None:
            area = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        left, top, right, bottom = self._frame_margins()
        room = QSize(area.width() - left - right, area.height() - top - bottom)
        size = DEFAULT_SIZE.boundedTo(room).expandedTo(self.minimumSizeHint().boundedTo(room))
        self.resize(size)
        x = area.left() + max(0, (area.width() - size.width() - left - right) // 2)
        y = area.top() + max(0, (area.height() - size.height() - top - bottom) // 2)
        self.move(x, y)  # move() places the frame's top-left corner

    def _frame_margins(self) -> tuple[int, int, int, int]:
        frame, inner = self.frameGeometry(), self.geometry()
        if self.isVisible() and frame != inner:
            return (inner.left() - frame.left(), inner.top() - frame.top(),
                    frame.right() - inner.right(), frame.bottom() - inner.bottom())  # fmt: skip
        return FRAME_GUESS

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        """On the first show, once the frame is known: pull the window inside the screen if it is not."""
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            QTimer.singleShot(0, self._keep_on_screen)

    def _keep_on_screen(self) -> None:
        screen = self.screen()
        if screen is not None and not screen.availableGeometry().contains(self.frameGeometry()):
            self.fit_to_screen(screen.availableGeometry())

    def about_text(self, model: str, library: str) -> str:
        """The About box: version, the model in use, where the library is, and the licences."""
        from vsearch import __version__

        licences = "".join(f"<li>{html.escape(x)}</li>" for x in LICENCES)
        return (
            f"<p><b>vsearch {html.escape(__version__)}</b><br>Search your own videos by sentence; "
            "everything runs on this computer.</p>"
            f"<p>Model: <b>{html.escape(model)}</b><br>Library: {html.escape(library)}</p>"
            f"<p>Licences:</p><ul>{licences}</ul>"
        )

    def show_about(self, model: str = "", library: str = "") -> None:
        QMessageBox.about(self, "About vsearch", self.about_text(model, library))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if obj is self.query and event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if QKeySequence(event.keyCombination()).toString() in self._window_keys:
                event.ignore()
                return True  # not overridden: the window's shortcut runs
        if obj is self.view.viewport() and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self.view.doItemsLayout)  # cards follow the new width
        return super().eventFilter(obj, event)

    # --- drag and drop on the whole window -------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and local_folders(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        folders = local_folders(event.mimeData().urls())
        if folders:
            event.acceptProposedAction()
            emit(self.foldersDropped, folders)
