"""The library sidebar: folders with counts, status and failed files; indexing progress and its controls."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vsearch.timefmt import duration_words
from vsearch.types import Progress
from vsearch.ui.helpers import distinct_names, local_folders
from vsearch.ui.icons import icon
from vsearch.ui.qtcompat import emit

PathRole = Qt.ItemDataRole.UserRole + 1


class LibraryPanel(QWidget):
    """Shows the library's folders and the indexing run; asks the window to act.

    It holds no logic: buttons and drops become signals, and the window feeds it
    FolderStatus lists, failures, Progress reports and busy / paused states.

    Signals:
        addRequested(list): folders to add and index (from the dialog or a drop).
        removeRequested(str): forget this folder.
        rescanRequested(object): re-index these folders (list) or all (None).
        pauseRequested(), resumeRequested(), cancelRequested().
    """

    addRequested = Signal(list)
    removeRequested = Signal(str)
    rescanRequested = Signal(object)
    pauseRequested = Signal()
    resumeRequested = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Sidebar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAcceptDrops(True)
        self._busy = False
        self._paused = False
        self._queued: list[str] = []

        title = QLabel("LIBRARY", self)
        title.setObjectName("SectionTitle")

        def tool(name: str, tip: str) -> QToolButton:
            b = QToolButton(self)
            b.setIcon(icon(name))
            b.setIconSize(QSize(18, 18))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            return b

        self.add_btn = tool("add", "Add a folder of videos…")
        self.remove_btn = tool(
            "remove", "Forget the selected folder (its videos leave the library; files are untouched)"
        )
        self.rescan_btn = tool("refresh", "Rescan: index new and changed videos (selected folder, or all)")
        self.add_btn.clicked.connect(self.ask_for_folder)
        self.remove_btn.clicked.connect(self._on_remove_clicked)
        self.rescan_btn.clicked.connect(self._on_rescan_clicked)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.add_btn)
        head.addWidget(self.remove_btn)
        head.addWidget(self.rescan_btn)

        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(1)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)
        self.tree.setIconSize(QSize(16, 16))
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.empty_hint = QLabel("No folders yet.\nClick + or drop a folder here.", self)
        self.empty_hint.setObjectName("Dim")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)

        # indexing box
        self.progress_box = QWidget(self)
        self.progress_title = QLabel("Indexing", self.progress_box)
        self.progress_title.setObjectName("SectionTitle")
        self.progress = QProgressBar(self.progress_box)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(10)
        self.progress_label = QLabel("", self.progress_box)
        self.progress_label.setObjectName("Dim")
        self.progress_label.setWordWrap(True)
        self.pause_btn = QPushButton(icon("pause"), "Pause", self.progress_box)
        self.cancel_btn = QPushButton(icon("cancel"), "Cancel", self.progress_box)
        self.pause_btn.clicked.connect(self._on_pause_clicked)
        self.cancel_btn.clicked.connect(self.cancelRequested)
        btns = QHBoxLayout()
        btns.setContentsMargins(0, 0, 0, 0)
        btns.addWidget(self.pause_btn)
        btns.addWidget(self.cancel_btn)
        pl = QVBoxLayout(self.progress_box)
        pl.setContentsMargins(0, 6, 0, 0)
        pl.setSpacing(4)
        pl.addWidget(self.progress_title)
        pl.addWidget(self.progress)
        pl.addWidget(self.progress_label)
        pl.addLayout(btns)
        self.progress_box.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)
        lay.addLayout(head)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.empty_hint, 1)
        lay.addWidget(self.progress_box)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.set_folders([], {})

    # --- feeding -------------------------------------------------------------------------
    def set_folders(self, folders: Sequence, failures: dict[str, Sequence] | None = None) -> None:
        """Show *folders* (FolderStatus) and, under each, the files that failed and why."""
        failures = failures or {}
        selected = self.selected_folder()
        expanded = {
            self.tree.topLevelItem(i).data(0, PathRole)
            for i in range(self.tree.topLevelItemCount())
            if self.tree.topLevelItem(i).isExpanded()
        }
        self.tree.clear()
        known = set()
        names = distinct_names([f.path for f in folders])
        for f in folders:
            known.add(f.path)
            item = QTreeWidgetItem([self._folder_text(f, names.get(f.path))])
            item.setData(0, PathRole, f.path)
            item.setIcon(0, icon("folder") if f.online else icon("warning"))
            item.setToolTip(0, self._folder_tip(f))
            fails = [e for e in failures.get(f.path, []) if e is not None]
            for e in fails[:200]:
                child = QTreeWidgetItem([f"{os.path.relpath(e.path, f.path)}\n{e.error}"])
                child.setToolTip(0, f"{e.path}\n{e.error}")
                child.setForeground(0, QColor("#ff8a80"))
                child.setData(0, PathRole, None)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            if f.path in expanded:
                item.setExpanded(True)
            if f.path == selected:
                item.setSelected(True)
        for q in self._queued:
            if q in known:
                continue
            item = QTreeWidgetItem([f"{os.path.basename(q.rstrip(os.sep)) or q}\nqueued"])
            item.setData(0, PathRole, q)
            item.setIcon(0, icon("folder"))
            item.setToolTip(0, f"{q}\nwaiting to be indexed")
            item.setForeground(0, QColor("#8a93a8"))
            self.tree.addTopLevelItem(item)
        has = self.tree.topLevelItemCount() > 0
        self.tree.setVisible(has)
        self.empty_hint.setVisible(not has)
        self._update_buttons()

    def set_queued(self, paths: Sequence[str]) -> None:
        self._queued = [str(p) for p in paths]

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.progress_box.setVisible(busy)
        if busy:
            self.progress.setValue(0)
            self.progress_label.setText("Starting…")
            self.progress.setRange(0, 0)  # busy indicator until the first report
        else:
            self.set_paused(False)
        self._update_buttons()

    def set_paused(self, paused: bool) -> None:
        self._paused = paused
        self.pause_btn.setText("Resume" if paused else "Pause")
        self.pause_btn.setIcon(icon("play" if paused else "pause"))
        if paused:
            self.progress_title.setText("Indexing paused")
        else:
            self.progress_title.setText("Indexing")

    def set_progress(self, p: Progress) -> None:
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1000)
        if p.total_seconds > 0:
            frac = p.done_seconds / p.total_seconds
        elif p.total_files > 0:
            frac = p.done_files / p.total_files
        else:
            frac = 0.0
        self.progress.setValue(int(1000 * min(1.0, max(0.0, frac))))
        parts = []
        if p.current:
            parts.append(os.path.basename(p.current))
        parts.append(f"{p.done_files} of {p.total_files} videos")
        if p.rate > 0:
            parts.append(f"{p.rate:.1f}× real time")
        if p.eta is not None and not self._paused:
            parts.append(f"about {duration_words(p.eta)} left")
        stage = "" if p.stage in ("", "index") else f"{p.stage}: "
        self.progress_label.setText(stage + "  ·  ".join(parts))

    def selected_folder(self) -> str | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        item = items[0]
        while (parent := item.parent()) is not None:
            item = parent
        return item.data(0, PathRole)

    def folder_paths(self) -> list[str]:
        return [
            self.tree.topLevelItem(i).data(0, PathRole)
            for i in range(self.tree.topLevelItemCount())
            if self.tree.topLevelItem(i).data(0, PathRole)
        ]

    # --- text --------------------------------------------------------------------------
    @staticmethod
    def _folder_text(f, name: str | None = None) -> str:
        """The folder's row: its name (with as much of its path as tells it apart), counts, status."""
        name = name or os.path.basename(f.path.rstrip(os.sep)) or f.path
        if not f.online:
            status = "offline (drive or folder missing)"
        else:
            status = f"{f.indexed} of {f.videos} videos indexed" if f.videos else "no videos found yet"
            bits = []
            partial = getattr(f, "partial", 0)
            if partial:  # a cancelled run stopped inside them: they already show in results
                bits.append(f"{partial} in part")
            if f.pending - partial:
                bits.append(f"{f.pending - partial} waiting")
            if f.failed:
                bits.append(f"{f.failed} failed")
            if bits:
                status += "\n" + " · ".join(bits)
        return f"{name}\n{status}"

    @staticmethod
    def _folder_tip(f) -> str:
        return (
            f"{f.path}\n{f.videos} videos, {f.indexed} indexed, {getattr(f, 'partial', 0)} in part, "
            f"{f.pending - getattr(f, 'partial', 0)} waiting, {f.failed} failed, "
            f"{f.frames} frames" + ("" if f.online else "\nThe folder cannot be reached right now.")
        )

    def _update_buttons(self) -> None:
        sel = self.selected_folder()
        self.remove_btn.setEnabled(sel is not None and not self._busy)
        self.remove_btn.setToolTip(
            "Wait for indexing to finish (or cancel it) to remove a folder"
            if self._busy
            else "Forget the selected folder (its videos leave the library; files are untouched)"
        )
        self.rescan_btn.setEnabled(bool(self.folder_paths()))

    # --- slots ---------------------------------------------------------------------------
    @Slot()
    def ask_for_folder(self) -> None:
        """Let the user pick a folder; emits addRequested with it."""
        path = QFileDialog.getExistingDirectory(self, "Add a folder of videos", os.path.expanduser("~"))
        if path:
            emit(self.addRequested, [path])

    @Slot()
    def _on_remove_clicked(self) -> None:
        sel = self.selected_folder()
        if sel:
            emit(self.removeRequested, sel)

    @Slot()
    def _on_rescan_clicked(self) -> None:
        sel = self.selected_folder()
        emit(self.rescanRequested, [sel] if sel else None)

    @Slot()
    def _on_pause_clicked(self) -> None:
        emit(self.resumeRequested if self._paused else self.pauseRequested)

    # --- drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and local_folders(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        folders = local_folders(event.mimeData().urls())
        if folders:
            event.acceptProposedAction()
            emit(self.addRequested, folders)
