"""What the window looked like when it closed: geometry, splitter, time format, last query and filters."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QSplitter, QToolButton

from vsearch import log
from vsearch.ui.controllers.search import SearchController


class WindowState(QObject):
    """Saves the window's state to an INI file on close and puts it back at start.

    Kept apart from the library's settings.toml: it is the app's memory of itself, not a setting,
    and losing it costs nothing (a file that cannot be read is ignored).

    Args:
        path: the INI file (``window.ini`` in the config folder for the app; None: remember nothing).
        window: its geometry.
        splitter: the sidebar / results / player sizes.
        grid_btn: grid or list.
        search: the query and filters (``SearchController.state`` / ``restore``).
        seconds: the View menu's "Show times in seconds" (else timecode).
    """

    def __init__(
        self,
        path: Path | None,
        window: QMainWindow,
        splitter: QSplitter,
        grid_btn: QToolButton,
        search: SearchController,
        seconds: QAction,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._path = path
        self._window = window
        self._splitter = splitter
        self._grid_btn = grid_btn
        self._search = search
        self._seconds = seconds

    def _settings(self) -> QSettings | None:
        if self._path is None:
            return None
        return QSettings(str(self._path), QSettings.Format.IniFormat)

    def restore(self) -> bool:
        """Put the saved state back; False when there is none (first start, or nothing remembered)."""
        s = self._settings()
        if s is None or not Path(str(self._path)).exists():
            return False
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self._window.restoreGeometry(geometry)
        splitter = s.value("window/splitter")
        if isinstance(splitter, QByteArray) and not splitter.isEmpty():
            self._splitter.restoreState(splitter)
        self._grid_btn.setChecked(_flag(s.value("results/grid", True)))
        self._seconds.setChecked(_flag(s.value("player/seconds", False)))
        self._search.restore(
            {
                "query": str(s.value("search/query", "") or ""),
                "folder": str(s.value("search/folder", "") or "") or None,
                "length": _int(s.value("search/length", 0)),
                "source": str(s.value("search/source", "") or "") or None,
                "floor": _int(s.value("search/floor", 0)),
                "per_video": _flag(s.value("search/per_video", False)),
            }
        )
        return True

    def save(self) -> None:
        s = self._settings()
        if s is None:
            return
        state = self._search.state()
        try:
            Path(str(self._path)).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.ui.warning("window state not saved to %s: %s", self._path, exc)
            return
        s.setValue("window/geometry", self._window.saveGeometry())
        s.setValue("window/splitter", self._splitter.saveState())
        s.setValue("results/grid", self._grid_btn.isChecked())
        s.setValue("player/seconds", self._seconds.isChecked())
        s.setValue("search/query", state["query"])
        s.setValue("search/folder", state["folder"] or "")
        s.setValue("search/length", state["length"])
        s.setValue("search/source", state["source"] or "")
        s.setValue("search/floor", state["floor"])
        s.setValue("search/per_video", state["per_video"])
        s.sync()
        if s.status() != QSettings.Status.NoError:
            log.ui.warning("window state not saved to %s (%s)", self._path, s.status())


def _flag(value: object) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
