"""Watching the library folders: a debounced signal when files in them appear, vanish or are renamed."""

from __future__ import annotations

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from vsearch.ui.qtcompat import emit

#: Quiet time after the last change before the rescan: a copy or a batch of renames arrives as a
#: burst of events, and a file still being written changes its folder again.
WATCH_DEBOUNCE_MS = 2000


class FolderWatcher(QObject):
    """QFileSystemWatcher over a set of folders, its events folded into one signal per burst.

    Args:
        debounce_ms: quiet time after the last event before ``changed`` is emitted.
        parent: the Qt parent.

    Signals:
        changed(): something in a watched folder changed, *debounce_ms* ago and not since.
    """

    changed = Signal()

    def __init__(self, debounce_ms: int = WATCH_DEBOUNCE_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._watcher.directoryChanged.connect(lambda _path: self._timer.start())
        self._timer.timeout.connect(lambda: emit(self.changed))

    def folders(self) -> list[str]:
        """The folders watched now."""
        return sorted(self._watcher.directories())

    def watch(self, folders: list[str]) -> None:
        """Watch exactly *folders* from now on (an empty list stops watching)."""
        current = set(self._watcher.directories())
        wanted = set(folders)
        if current - wanted:
            self._watcher.removePaths(sorted(current - wanted))
        if wanted - current:
            self._watcher.addPaths(sorted(wanted - current))  # one that vanished meanwhile is skipped

    def stop(self) -> None:
        """Stop watching and drop a pending signal."""
        self._timer.stop()
        self.watch([])
