"""The library: add, remove and rescan folders, run indexing, keep the sidebar and status line true."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QMessageBox, QWidget

from vsearch import log
from vsearch.timefmt import duration_words
from vsearch.types import IndexStats, Moment, Progress
from vsearch.ui.controllers.base import ServiceController
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.controllers.watch import FolderWatcher
from vsearch.ui.library_panel import LibraryPanel
from vsearch.ui.protocols import AppService
from vsearch.ui.qtcompat import emit
from vsearch.ui.shared_dialog import SharedLibrariesDialog, parse_maps
from vsearch.ui.workers import Failure, IndexController, TaskRunner

#: How often the folder list and status are re-read while indexing runs.
REFRESH_MS = 1500


class LibraryController(ServiceController):
    """Owns the index controller; re-reads folders, failures and status off the GUI thread.

    Args:
        service: the app's service.
        panel: the library sidebar it drives.
        status_label: the status bar's permanent "N videos · frames · model" label.
        tasks: the pool library reads and removals run on.
        messages: where problems are reported.

    Signals:
        refreshed(): folders and status were re-read (``folders()`` is current).
        stateChanged(): what the library has or is doing changed (folders added or re-read).
        foldersChanged(list): the library's folders (FolderStatus), after each re-read.
        changed(): folders were removed or indexing finished: results may be out of date.
        indexedGrew(): more videos are indexed than at the last re-read while indexing runs.
        busyChanged(bool): indexing started or the queue drained.
    """

    refreshed = Signal()
    stateChanged = Signal()
    foldersChanged = Signal(list)
    changed = Signal()
    indexedGrew = Signal()
    busyChanged = Signal(bool)

    def __init__(
        self,
        service: AppService,
        panel: LibraryPanel,
        status_label: QLabel,
        tasks: TaskRunner,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(service, tasks, messages, parent)
        self._panel = panel
        self._status_label = status_label
        self._folders: list = []
        self._failures: dict[str, Sequence] = {}
        self._status = None
        self._indexed_seen = -1
        self._cancelled_note = False  # a run was cancelled: the next re-read says so
        self._closing = False
        self.indexer = IndexController(service, self)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        # files deleted, added or renamed in a library folder: a debounced rescan (issue 16.13)
        self.watcher = FolderWatcher(parent=self)
        self.watcher.changed.connect(self._on_folders_changed_on_disk)
        self._watched_for: tuple | None = None  # the folders (and their online state) watched for

        panel.addRequested.connect(self.add_folders)
        panel.removeRequested.connect(self.remove_folder)
        panel.rescanRequested.connect(self.rescan)
        panel.pauseRequested.connect(self.indexer.pause)
        panel.resumeRequested.connect(self.indexer.resume)
        panel.cancelRequested.connect(self._on_panel_cancel_requested)
        self.indexer.busyChanged.connect(self._on_indexer_busy_changed)
        self.indexer.progressed.connect(self._on_indexer_progressed)
        self.indexer.finished.connect(self._on_indexer_finished)
        self.indexer.failed.connect(self._on_indexer_failed)
        self.indexer.pausedChanged.connect(panel.set_paused)

    # --- state ---------------------------------------------------------------------------
    def folders(self) -> list:
        """The folders (FolderStatus) as last read."""
        return list(self._folders)

    def has_folders(self) -> bool:
        """Folders are known, or some are being (or waiting to be) indexed."""
        return bool(self._folders) or self.indexer.is_busy() or bool(self.indexer.queued())

    def is_indexing(self) -> bool:
        return self.indexer.is_busy()

    # --- commands ------------------------------------------------------------------------
    @Slot(list)
    def add_folders(self, paths: list[str]) -> None:
        """Add folders and index them (now, or after the running job)."""
        folders = [os.path.abspath(p) for p in paths]
        known = {f.path for f in self._folders}
        queued = [p for job in self.indexer.queued() if job for p in job]
        for p in folders:
            if not os.path.isdir(p):
                self._messages.show_error(f"Not a folder: {p}")
                return
        self.indexer.enqueue(folders)
        self._panel.set_queued([p for p in queued + folders if p not in known])
        self._panel.set_folders(self._folders, self._failures)
        emit(self.stateChanged)

    @Slot(str)
    def remove_folder(self, path: str) -> None:
        if self.indexer.is_busy():
            self._messages.show_error(
                "Removing a folder waits until indexing stops: cancel or let it finish first."
            )
            return
        parent = self._panel.window()
        ask = QMessageBox.question(
            parent if isinstance(parent, QWidget) else None,
            "Remove folder",
            f"Remove {path} from the library?\n\nIts videos leave the search results; the files themselves are not touched.",
        )
        if ask != QMessageBox.StandardButton.Yes:
            return
        self._tasks.submit(self._service.remove_folder, path, on_done=lambda _n: self._after_change(),
                           on_error=self._messages.report)  # fmt: skip

    @Slot(object)
    def rescan(self, paths: list[str] | None = None) -> None:
        if paths is None and not self._folders:
            self._messages.show_error("Add a folder first.")
            return
        self.indexer.enqueue(paths)

    def manage_shared_libraries(self) -> SharedLibrariesDialog:
        """File > Shared libraries…: list, re-map or remove the remembered shared libraries."""
        dlg = SharedLibrariesDialog(self._panel.window())
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def reload() -> None:
            self._tasks.submit(self._service.shared_libraries, on_done=dlg.set_libraries,
                               on_error=self._messages.report)  # fmt: skip

        def changed(_result: object = None) -> None:
            reload()
            self._after_change()

        def remap(uri: str, maps: list[str]) -> None:
            self._tasks.submit(
                partial(self._service.attach_shared, uri, maps, remember=True),
                on_done=changed,
                on_error=partial(self._messages.report, title="Could not change the path map"),
            )

        def remove(uri: str) -> None:
            self._tasks.submit(self._service.detach_shared, uri, on_done=changed,
                               on_error=self._messages.report)  # fmt: skip

        dlg.mappingRequested.connect(remap)
        dlg.removeRequested.connect(remove)
        dlg.addRequested.connect(lambda: self.add_shared_library(on_added=reload))
        reload()
        dlg.show()
        return dlg

    def add_shared_library(self, on_added: Callable[[], None] | None = None) -> None:
        """Attach a facility's shared library read-only (docs/CLUSTER.md); remembered for later runs."""
        parent = self._panel.window()
        uri, ok = QInputDialog.getText(parent, "Add shared library", "Shared library (folder or URI):")
        if not ok or not uri.strip():
            return
        mapping, ok = QInputDialog.getText(
            parent,
            "Add shared library",
            "Where its files are here (CLUSTER_PATH=LOCAL_PATH; several separated by ';'; may be empty):",
        )
        if not ok:
            return
        maps = parse_maps(mapping)
        self._tasks.submit(
            partial(self._service.attach_shared, uri.strip(), maps, remember=True),
            on_done=partial(self._after_attach, on_added),
            on_error=partial(self._messages.report, title="Could not add the shared library"),
        )

    def _after_attach(self, on_added: Callable[[], None] | None, _has: object) -> None:
        self._after_change()
        if on_added is not None:
            on_added()

    def refresh(self) -> None:
        """Re-read folders, failures and the library summary (off the GUI thread)."""
        if self._closing:
            return
        svc = self._service

        def read():  # noqa: ANN202 - on a pool thread
            folders = svc.folders()
            failures = {f.path: svc.failures(f.path) for f in folders if f.failed}
            return folders, failures, svc.status()

        self._tasks.submit(read, on_done=self._on_read, on_error=self._messages.report)

    def shutdown(self) -> None:
        """Stop re-reading and stop indexing at a batch boundary (waits for the index thread)."""
        self._closing = True
        self._timer.stop()
        self.watcher.stop()
        self.indexer.shutdown()

    # --- internals -----------------------------------------------------------------------
    def _on_read(self, result) -> None:  # noqa: ANN001
        folders, failures, status = result
        self._folders = folders
        self._failures = failures
        self._status = status
        queued = [p for job in self.indexer.queued() if job for p in job]
        running = self.indexer.running() or []
        known = {f.path for f in folders}
        self._panel.set_queued([p for p in queued + running if p not in known])
        self._panel.set_folders(folders, failures)
        emit(self.foldersChanged, list(folders))
        self._update_watch(folders)
        model = status.model or "no model yet"
        partial = getattr(status, "partial", 0)
        self._status_label.setText(
            f"{status.indexed} videos" + (f" (+{partial} in part)" if partial else "")
            + f" · {status.frames:,} frames · {model}"
            + (f" · {status.failed} failed" if status.failed else "")
            + (" · read-only" if status.readonly else "")
        )
        if self._cancelled_note and not self.indexer.is_busy():
            # worded from the counts the panel and the status bar show now, not from the run's
            # own tally (which counted this run's videos only), so the three agree
            self._cancelled_note = False
            msg = f"Indexing cancelled: {status.indexed} of {status.videos} videos indexed"
            if partial:
                msg += f", {partial} in part"
            msg += "; what was done is kept and searchable, and the next rescan resumes"
            self._messages.status(msg, 30000)
            log.ui.info(msg)
        grew = status.indexed != self._indexed_seen
        self._indexed_seen = status.indexed
        if grew and self.indexer.is_busy():
            emit(self.indexedGrew)
        emit(self.stateChanged)
        emit(self.refreshed)

    def _update_watch(self, folders: list) -> None:
        """Watch the library folders again when they (or their online state) changed, or after a run."""
        key = tuple((f.path, f.online) for f in folders)
        if key == self._watched_for or self._closing:
            return
        self._watched_for = key
        self._tasks.submit(self._service.watch_folders, on_done=self.watcher.watch, on_error=self._messages.report)

    @Slot(dict)
    def on_settings_saved(self, changes: dict[str, object]) -> None:
        """Folder watching switched in the settings: start or stop watching now, not on the next run."""
        if "watch_folders" in changes:
            self._watched_for = None
            self.refresh()

    @Slot()
    def _on_folders_changed_on_disk(self) -> None:
        """Rescan after files changed in a watched folder (one queued rescan at a time)."""
        if self._closing or not self._service.settings.watch_folders or self.indexer.queued():
            return
        log.ui.info("files changed in a library folder: rescanning")
        self.indexer.enqueue(None)

    def locate_dialog(self, moment: Moment | None) -> None:
        """Ask where a missing result's file is now, then :meth:`locate` it there."""
        if moment is None or not moment.missing:
            return
        window = self._panel.window()
        start = os.path.dirname(moment.path)
        path, _filter = QFileDialog.getOpenFileName(
            window if isinstance(window, QWidget) else None,
            f"Locate {os.path.basename(moment.path)}",
            start if os.path.isdir(start) else os.path.expanduser("~"),
        )
        if path:
            self.locate(moment.video_id, path)

    @Slot(object)
    def locate(self, video_id: int, path: str) -> None:
        """Point a missing video at *path* (its fingerprint is checked), then refresh the results."""
        self._tasks.submit(self._service.locate, video_id, path, on_done=lambda _r: self._after_change(),
                           on_error=self._messages.report)  # fmt: skip

    def _after_change(self) -> None:
        self.refresh()
        emit(self.changed)

    @Slot(bool)
    def _on_indexer_busy_changed(self, busy: bool) -> None:
        self._panel.set_busy(busy)
        if busy:
            self._timer.start()
        else:
            self._timer.stop()
        emit(self.busyChanged, busy)
        self.refresh()

    @Slot(object)
    def _on_indexer_progressed(self, p: Progress) -> None:
        self._panel.set_progress(p)

    @Slot(object)
    def _on_indexer_finished(self, stats: IndexStats) -> None:
        self._watched_for = None  # a run may have met new sub-folders: watch them too
        if stats.cancelled:
            self._cancelled_note = True  # said by _on_read, with the library's counts
            self._after_change()
            return
        msg = f"Indexed {stats.indexed} videos ({stats.frames:,} frames)"
        if stats.failed:
            msg += f"; {stats.failed} could not be read (see the library panel)"
        elif stats.indexed == 0:
            msg = "Library is up to date"
        total = stats.stage_seconds.get("total") if stats.stage_seconds else None
        if total:
            msg += f" in {duration_words(total)}"
        self._messages.status(msg, 15000)
        log.ui.info(msg)
        self._after_change()

    @Slot(object)
    def _on_indexer_failed(self, failure: Failure) -> None:
        self._messages.report(failure, title="Indexing stopped")
        self.refresh()

    @Slot()
    def _on_panel_cancel_requested(self) -> None:
        self.indexer.cancel()
        self._panel.progress_label.setText("Stopping after the current batch…")
