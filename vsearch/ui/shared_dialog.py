"""File > Shared libraries…: the facility libraries this desktop searches, their path maps, removal.

A view only: it lists what it is given and says what the user asked for through signals; the
library controller does the work through the Service (attach_shared / detach_shared).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


def parse_maps(text: str) -> list[str]:
    """'A=B; C=D' as typed in the mapping field: ['A=B', 'C=D'] (blank parts dropped)."""
    return [m.strip() for m in text.split(";") if m.strip()]


class SharedLibrariesDialog(QDialog):
    """The remembered shared libraries, each with the path maps that put its files on this machine.

    Signals:
        addRequested: the user wants to attach another one.
        mappingRequested(uri, maps): search *uri* with these path maps from now on.
        removeRequested(uri): stop searching *uri* (its files and dataset are not touched).
    """

    addRequested = Signal()
    mappingRequested = Signal(str, list)
    removeRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shared libraries")
        self.resize(620, 320)
        intro = QLabel(
            "Facility libraries indexed on a cluster, searched read-only beside your own. "
            "A path map (CLUSTER_PATH=LOCAL_PATH) says where their files are on this machine.",
            self,
        )
        intro.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setAlternatingRowColors(True)
        self.empty = QLabel("No shared library yet: Add… attaches one.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.add_btn = QPushButton("&Add…", self)
        self.edit_btn = QPushButton("Edit path &map…", self)
        self.remove_btn = QPushButton("&Remove", self)
        buttons = QHBoxLayout()
        for b in (self.add_btn, self.edit_btn, self.remove_btn):
            buttons.addWidget(b)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.empty)
        lay.addLayout(buttons)
        lay.addWidget(close)
        self.add_btn.clicked.connect(self.addRequested)
        self.edit_btn.clicked.connect(self._on_edit)
        self.remove_btn.clicked.connect(self._on_remove)
        self.list.itemDoubleClicked.connect(lambda _item: self._on_edit())
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.set_libraries([])

    def set_libraries(self, libraries: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Show these (uri, path maps), keeping the selection on the same uri where it still exists."""
        keep = self.selected_uri()
        self.list.clear()
        for uri, maps in libraries:
            text = uri + ("\n    " + "\n    ".join(maps) if maps else "\n    (no path map: paths as the cluster saw them)")
            item = QListWidgetItem(text, self.list)
            item.setData(Qt.ItemDataRole.UserRole, (uri, list(maps)))
            item.setToolTip(uri)
            if uri == keep:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self.list.setVisible(self.list.count() > 0)
        self.empty.setVisible(self.list.count() == 0)
        self._update_buttons()

    def selected_uri(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole)[0] if item is not None else None

    def _selected(self) -> tuple[str, list[str]] | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        self.edit_btn.setEnabled(has)
        self.remove_btn.setEnabled(has)

    @Slot()
    def _on_edit(self) -> None:
        sel = self._selected()
        if sel is None:
            return
        uri, maps = sel
        text, ok = QInputDialog.getText(
            self,
            "Edit path map",
            f"Where the files of {uri} are here\n(CLUSTER_PATH=LOCAL_PATH; several separated by ';'; may be empty):",
            text="; ".join(maps),
        )
        if ok:
            self.mappingRequested.emit(uri, parse_maps(text))

    @Slot()
    def _on_remove(self) -> None:
        uri = self.selected_uri()
        if uri is None:
            return
        ask = QMessageBox.question(
            self,
            "Remove shared library",
            f"Stop searching {uri}?\n\nIts results leave your searches; the shared library itself is not touched.",
        )
        if ask == QMessageBox.StandardButton.Yes:
            self.removeRequested.emit(uri)
