"""Telling the user: a non-blocking message box, the status bar and the log, one wording for bugs."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMainWindow, QMessageBox

from vsearch import log
from vsearch.ui.qtcompat import emit
from vsearch.ui.workers import Failure


class Messages(QObject):
    """Shows problems over *window*; a bug's message names the log folder.

    Args:
        window: the main window (parent of the boxes, owner of the status bar).
        log_dir: where the log is, for the "this is a bug" wording.

    Signals:
        errorShown(str): a message was shown to the user (also logged).
    """

    errorShown = Signal(str)

    def __init__(self, window: QMainWindow, log_dir: Callable[[], str]) -> None:
        super().__init__(window)
        self._window = window
        self._log_dir = log_dir
        self._last_error = ""
        self.closing = False

    @property
    def last_error(self) -> str:
        return self._last_error

    def status(self, text: str, timeout_ms: int = 0) -> None:
        self._window.statusBar().showMessage(text, timeout_ms)

    def show_error(self, text: str, title: str = "vsearch", details: str = "") -> None:
        """Tell the user (non-blocking message box) and the log."""
        self._last_error = text
        log.ui.warning("%s: %s", title, text)
        self.status(text, 10000)
        emit(self.errorShown, text)
        if self.closing:
            return
        for other in self._window.findChildren(QMessageBox):
            if other.isVisible() and other.text() == text:
                return  # the same problem is already on screen (e.g. every keystroke of a query)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self._window)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def report(self, failure: Failure, title: str = "Something went wrong") -> None:
        """A worker's failure: one line for vsearch's own errors, the bug wording (and log) otherwise."""
        if not failure.expected:
            log.ui.error("%s: %s\n%s", title, failure.message, failure.details)
            text = f"{failure.message}\n\nThis is a bug; details are in the log ({self._log_dir()})."
            self.show_error(text, title, failure.details)
        else:
            self.show_error(failure.message, title)
