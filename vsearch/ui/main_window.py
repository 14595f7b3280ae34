"""The main window: the view (:mod:`vsearch.ui.main_view`) wired to its controllers and the service.

Every call into the service runs off the GUI thread (the index worker's QThread or a task
pool), because the library serialises access behind one lock that indexing holds for a batch
at a time. Results carry the query's generation so a slow, stale search never replaces a newer one.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QTreeWidgetItem, QWidget

from vsearch import log
from vsearch.types import Moment
from vsearch.ui.controllers.export import ExportController
from vsearch.ui.controllers.library import LibraryController
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.controllers.offer import OfferController
from vsearch.ui.controllers.results import ResultsController
from vsearch.ui.controllers.search import SearchController
from vsearch.ui.controllers.settings import SettingsController
from vsearch.ui.controllers.window_state import WindowState
from vsearch.ui.library_panel import PathRole
from vsearch.ui.main_view import WELCOME_TEXT, MainWindowView
from vsearch.ui.protocols import AppService
from vsearch.ui.results_model import MissingRole, MomentRole
from vsearch.ui.workers import Failure, TaskRunner

WARM_UP_MESSAGE = "Opening the search index…"
WARM_UP_AFTER_MS = 1500  # the warm-up starts at the window's first paint, or this long after it was built


class MainWindow(MainWindowView):
    """The app's window. Owns the controllers and the task pools; the service is passed in.

    Attributes:
        service: the app's service.
        messages, library_ctrl, search_ctrl, results_ctrl, export_ctrl, settings_ctrl, offer_ctrl, window_state:
            the controllers.
        indexer: the index controller (the library controller's).
        search_tasks, thumb_tasks, lib_tasks: the task pools (searches and curves; thumbnails;
            library reads, transcripts, exports and settings).

    Signals:
        searchFinished(int): the current query's results are shown (row count).
        libraryRefreshed(): folder list and status were re-read.
        errorShown(str): a message was shown to the user (also logged).
    """

    searchFinished = Signal(int)
    libraryRefreshed = Signal()
    errorShown = Signal(str)

    def __init__(
        self,
        service: AppService,
        parent: QWidget | None = None,
        *,
        autoplay: bool = True,
        audio: bool = True,
        state_file: Path | None = None,
    ) -> None:
        """Build the window over *service*.

        Args:
            service: the app's service.
            parent: the parent widget (None for the app's window).
            autoplay: play a result when it is opened.
            audio: give the player an audio output (tests run without).
            state_file: where geometry, splitter, last query and filters are kept between
                runs (the app passes ``window.ini`` in the config folder); None: not kept.
        """
        super().__init__(parent, autoplay=autoplay, audio=audio)
        self.service = service
        self._closing = False
        self.search_tasks = TaskRunner(1, self)
        self.thumb_tasks = TaskRunner(2, self)
        self.lib_tasks = TaskRunner(1, self)

        self.messages = Messages(self, self._log_dir)
        for runner in (self.search_tasks, self.thumb_tasks, self.lib_tasks):
            runner.failed.connect(self.messages.report)
        self.library_ctrl = LibraryController(
            service, self.library_panel, self.status_label, self.lib_tasks, self.messages, self
        )
        self.indexer = self.library_ctrl.indexer
        self.search_ctrl = SearchController(
            service,
            query=self.query,
            folder_filter=self.folder_filter,
            length_filter=self.length_filter,
            source_filter=self.source_filter,
            floor=self.floor,
            floor_label=self.floor_label,
            one_per_video=self.one_per_video,
            count_label=self.count_label,
            results=self.results,
            tasks=self.search_tasks,
            messages=self.messages,
            parent=self,
        )
        self.results_ctrl = ResultsController(
            service,
            results=self.results,
            view=self.view,
            query=self.query,
            player=self.player,
            search_tasks=self.search_tasks,
            thumb_tasks=self.thumb_tasks,
            lib_tasks=self.lib_tasks,
            messages=self.messages,
            parent=self,
        )
        self.export_ctrl = ExportController(
            service, self, self._export_selection, self.lib_tasks, self.messages, self, state_file=state_file
        )
        self.settings_ctrl = SettingsController(service, self, self.lib_tasks, self.messages, self)
        self.offer_ctrl = OfferController(
            service, self, self.library_ctrl, self.settings_ctrl, self.lib_tasks, self.messages, state_file, self
        )
        self.window_state = WindowState(
            state_file, self, self.splitter, self.grid_btn, self.search_ctrl, self.seconds_action, self
        )
        self._wire()
        # load the model's text tower and the vector index soon, on the search thread: a query
        # typed meanwhile queues behind it there instead of paying the load itself. Not before
        # the window has painted once with the library's folders: hnswlib holds Python's lock
        # while it loads a large index (1-4 s at 1M frames), and until then the window stayed
        # blank, or showed "No folders yet" over a library of 1000 videos; at the latest after
        # WARM_UP_AFTER_MS (a window started hidden, a slow status)
        self._warm_up_started = False
        self._warm_up_waits = {"paint", "library"}  # the view filters the search field's events
        self.library_ctrl.refreshed.connect(lambda: self._warm_up_when("library"))
        QTimer.singleShot(WARM_UP_AFTER_MS, self._start_warm_up)
        self.window_state.restore()
        self._update_empty_state()
        self.library_ctrl.refresh()

    def _wire(self) -> None:
        lib, search, results = self.library_ctrl, self.search_ctrl, self.results_ctrl
        self.messages.errorShown.connect(self.errorShown)
        lib.stateChanged.connect(self._update_empty_state)
        lib.refreshed.connect(self.libraryRefreshed)
        lib.foldersChanged.connect(search.set_folders)
        lib.changed.connect(lambda: search.schedule(0))
        lib.indexedGrew.connect(self._on_library_indexed_grew)
        search.finished.connect(self._update_empty_state)
        search.finished.connect(results.on_search_finished)
        search.finished.connect(self.searchFinished)
        self.foldersDropped.connect(lib.add_folders)
        self.settings_ctrl.saved.connect(lib.on_settings_saved)
        self.grid_btn.toggled.connect(self.set_grid)
        self.empty_button.clicked.connect(self.library_panel.ask_for_folder)

        self.add_action.triggered.connect(self.library_panel.ask_for_folder)
        self.rescan_action.triggered.connect(lambda: lib.rescan(None))
        self.shared_action.triggered.connect(lambda: lib.add_shared_library())  # not triggered's bool
        self.manage_shared_action.triggered.connect(lib.manage_shared_libraries)
        self.export_action.triggered.connect(self.export_ctrl.export_dialog)
        self.copy_action.triggered.connect(results.copy_timestamps)
        self.open_action.triggered.connect(self.player.open_external)
        self.folder_action.triggered.connect(self.player.show_in_folder)
        self.locate_action.triggered.connect(lambda: lib.locate_dialog(self.view.currentIndex().data(MomentRole)))
        self.view.selectionModel().currentChanged.connect(
            lambda cur, _prev: self.locate_action.setEnabled(bool(cur.data(MissingRole)))
        )
        self.settings_action.triggered.connect(self.settings_ctrl.settings_dialog)
        self.find_action.triggered.connect(self.focus_query)
        self.quit_action.triggered.connect(self.close)
        self.select_all_action.triggered.connect(self.view.selectAll)
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.about_action.triggered.connect(self._on_about_triggered)
        self.similar_action.triggered.connect(lambda: results.toggle_similar())
        self.next_result_action.triggered.connect(lambda: results.step_result(1))
        self.previous_result_action.triggered.connect(lambda: results.step_result(-1))
        self.library_panel.tree.itemClicked.connect(self._on_library_item_clicked)
        self.player.externalOpened.connect(lambda text: self.messages.status(text, 8000))
        self.player.externalFailed.connect(self.messages.show_error)
        results.watch_keys([self.library_panel.tree, self.folder_filter, self.length_filter, self.source_filter,
                            self.floor, self.one_per_video, self.grid_btn, self.player])  # fmt: skip
        self.seconds_action.toggled.connect(lambda on: self.player.set_timecode(not on))

    # --- what callers (the app, tools, tests) use -------------------------------------------
    def add_folders(self, paths: list[str]) -> None:
        """Add folders and index them (now, or after the running job)."""
        self.library_ctrl.add_folders(paths)

    def folders(self) -> list:
        """The library's folders (FolderStatus) as last read."""
        return self.library_ctrl.folders()

    def search_params(self) -> dict[str, object]:
        return self.search_ctrl.params()

    def selected_moments(self) -> list[Moment]:
        return self.results_ctrl.selected_moments()

    def copy_timestamps(self) -> str:
        return self.results_ctrl.copy_timestamps()

    def export_moments(self, moments: list[Moment], fmt: str, out: Path) -> None:
        self.export_ctrl.export_moments(moments, fmt, out)

    def apply_settings(self, changes: dict[str, object]) -> None:
        self.settings_ctrl.apply_settings(changes)

    def show_error(self, text: str, title: str = "vsearch", details: str = "") -> None:
        """Tell the user (non-blocking message box) and the log."""
        self.messages.show_error(text, title, details)

    @property
    def last_error(self) -> str:
        return self.messages.last_error

    # --- internals -----------------------------------------------------------------------
    def _export_selection(self) -> tuple[list[Moment], str]:
        return self.selected_moments() or self.results.moments(), self.results.query

    def _log_dir(self) -> str:
        return str(self.service.dirs.logs)

    @Slot(QTreeWidgetItem, int)
    def _on_library_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        """A folder clicked in the library: search only in it (a failed file's row: in its folder)."""
        top: QTreeWidgetItem = item
        while (parent := top.parent()) is not None:
            top = parent
        self.search_ctrl.scope_to(top.data(0, PathRole))

    @Slot()
    def _on_about_triggered(self) -> None:
        """The About box, with the model and library read off the GUI thread."""
        self.lib_tasks.submit(
            self.service.status,
            on_done=lambda st: self.show_about(st.model or "none yet (add a folder)", st.library),
            on_error=self.messages.report,
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """The search field's first paint (the window is on screen) starts the warm-up."""
        if watched is self.query and event.type() == QEvent.Type.Paint and not getattr(self, "_warm_up_started", True):
            self._warm_up_when("paint")
        return super().eventFilter(watched, event)

    def _warm_up_when(self, what: str) -> None:
        self._warm_up_waits.discard(what)
        if not self._warm_up_waits and not self._warm_up_started:
            QTimer.singleShot(0, self._start_warm_up)  # after this paint has reached the screen

    @Slot()
    def _start_warm_up(self) -> None:
        if self._warm_up_started or self._closing:
            return
        self._warm_up_started = True
        self.statusBar().showMessage(WARM_UP_MESSAGE)
        self.repaint()  # now: the index load that follows may keep the window from painting for a while
        self.search_tasks.submit(self.service.warm_up, on_done=self._on_warm_up_done, on_error=self._on_warm_up_failed)

    def _on_warm_up_done(self, _result: object = None) -> None:
        bar = self.statusBar()
        if bar.currentMessage() == WARM_UP_MESSAGE:
            bar.clearMessage()

    def _on_warm_up_failed(self, failure: Failure) -> None:
        # not the user's business yet: the first search meets the same problem and reports it
        self._on_warm_up_done()
        log.ui.warning("loading the model ahead of the first search failed: %s", failure.message)

    @Slot()
    def _on_library_indexed_grew(self) -> None:
        # results grow while indexing, unless the user is busy with them
        if self.search_ctrl.text() and not self.view.selectionModel().hasSelection():
            self.search_ctrl.schedule(0)

    @Slot()
    def _update_empty_state(self) -> None:
        if self.results.rowCount():
            self.show_results()
            return
        text = self.query.text().strip()
        indexing = self.library_ctrl.is_indexing()
        if not self.library_ctrl.has_folders():
            self.show_empty("Welcome to vsearch", WELCOME_TEXT, add_button=True)
        elif not text:
            self.show_empty(
                "What are you looking for?",
                "Describe a moment in plain words, for example “a dog running on the grass”\n"
                "or “a rocket lifting off”."
                + ("\n\nIndexing is running: results grow as videos are done." if indexing else ""),
            )
        else:
            self.show_empty(
                "No matching moments",
                f"Nothing matches “{text}”" + (" yet" if indexing else "") + ".\n"
                "Try other words, pick “All folders” and “Any length”, or move the relevance slider to the left.",
            )

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Keys no widget took act on the player while it shows a video (Space, J/K/L, arrows, N/P)."""
        if event.modifiers() == Qt.KeyboardModifier.NoModifier and self.player.handle_key(event.key()):
            event.accept()
            return
        super().keyPressEvent(event)

    # --- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Stop cleanly: cancel indexing at a batch boundary and wait, then close the library."""
        if self._closing:
            event.accept()
            return
        self._closing = True
        self.window_state.save()
        self.messages.closing = True
        self.search_ctrl.stop()
        if self.indexer.is_busy():
            self.messages.status("Stopping indexing…")
            QApplication.processEvents()
        self.library_ctrl.shutdown()
        self.settings_ctrl.shutdown()
        for runner in (self.search_tasks, self.thumb_tasks, self.lib_tasks):
            runner.shutdown()
        self.player.unload()
        event.accept()
