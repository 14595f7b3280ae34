"""Python's cyclic garbage collector runs on the GUI thread only, driven by a timer.

CPython starts a collection in whichever thread crosses the allocation threshold. In the app
that is often a worker of the thread pool (a search, a thumbnail, the indexer's progress), and a
collection there destroys any Qt object caught in a reference cycle from the wrong thread: a
QTimer, a QWidget, a media player. The result is a rare segfault far from its cause. calibre, pyqtgraph and novelWriter
do what this module does, after the recipe on the PyQt list (Riverbank, 2011): automatic
collection off, and a GUI-thread timer that collects each generation when its count passes
the threshold it would have passed anyway, so garbage is collected as often as before, only
always here.
"""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: How often the GUI thread looks at the collector's counts (ms); a check is a few microseconds.
INTERVAL_MS = 250

_installed: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    """Owns the timer; :meth:`check` collects what the automatic collector would have."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        self._thread = threading.get_ident()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect the generations whose counts passed their thresholds; returns objects found unreachable."""
        if threading.get_ident() != self._thread:  # only ever the GUI thread
            return 0
        t0, t1, t2 = self._thresholds
        c0, c1, c2 = gc.get_count()
        if c0 <= t0:
            return 0
        # the oldest generation that is due, as CPython picks it (collecting it collects the younger ones)
        return gc.collect(0 if c1 <= t1 else 1 if c2 <= t2 else 2)

    def stop(self) -> None:
        """Give collection back to CPython (automatic, any thread)."""
        self._timer.stop()
        gc.enable()


def install(app: QCoreApplication) -> GuiThreadCollector:
    """Start GUI-thread collection for *app* (once; later calls return the same collector)."""
    global _installed
    if _installed is None:
        _installed = GuiThreadCollector(app)
        app.aboutToQuit.connect(_installed.stop)
    return _installed


def collect_now() -> None:
    """Run a due collection now, on the calling (GUI) thread; nothing when not installed."""
    if _installed is not None:
        _installed.check()
