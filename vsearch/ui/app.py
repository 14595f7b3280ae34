"""Desktop app entry point (``vsearch-gui``): QApplication, theme, crash handling, MainWindow(Service)."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import traceback
from collections.abc import Sequence
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from vsearch import __version__, log
from vsearch.errors import VSearchError
from vsearch.ui import gcguard

#: Geometry, splitter, last query and filters of the window, in the config folder (beside settings.toml).
WINDOW_STATE_FILE = "window.ini"


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style; the stylesheet refines it."""
    p = QPalette()
    base, window, text = QColor("#12151d"), QColor("#14171f"), QColor("#d8dee9")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#161a24"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#1b2030"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor("#232a3a"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor("#ff5252"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3b6fd8"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor("#7aa7ff"))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#687186"))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#5d6578"))
    return p


_open_boxes: list[QMessageBox] = []


def install_excepthooks() -> None:
    """Exceptions in slots and plain threads reach the log and the user, never vanish."""

    def show(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.ui.error("unhandled exception\n%s", details)
        app = QApplication.instance()
        if app is None:
            sys.__excepthook__(exc_type, exc, tb)
            return
        text = (
            str(exc)
            if isinstance(exc, VSearchError)
            else f"{exc_type.__name__}: {exc}\n\nThis is a bug; the log has the details."
        )

        def popup() -> None:
            box = QMessageBox(
                QMessageBox.Icon.Critical, "vsearch", text, QMessageBox.StandardButton.Ok, app.activeWindow()
            )
            box.setDetailedText(details)
            _open_boxes.append(box)  # a parentless box would be garbage-collected (and vanish) otherwise
            box.finished.connect(lambda _r, b=box: _open_boxes.remove(b) if b in _open_boxes else None)
            box.open()

        QTimer.singleShot(0, popup)  # show it on the GUI thread, whatever thread raised

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            show(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = show
    threading.excepthook = thread_hook


def settle_heap() -> None:
    """Collect once, then move every object alive now out of the cyclic GC's reach (``gc.freeze``).

    Start-up leaves a large, long-lived heap (Qt wrappers, numpy, PyAV, model code). A full
    collection scans all of it while holding the GIL, which freezes the window for 50-300 ms
    whichever thread triggers it; frozen objects are never scanned again.
    """
    gc.collect()
    gc.freeze()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="vsearch-gui", description="Search your own videos by sentence (desktop app)."
    )
    ap.add_argument(
        "--library", help="library folder (default: the one in the settings, or the per-user folder)"
    )
    ap.add_argument("--model", help="embedding model to index with (default: from the settings)")
    ap.add_argument("--device", help="auto, cpu, cuda or mps (default: from the settings)")
    ap.add_argument("--version", action="version", version=f"vsearch {__version__}")
    ns, _qt_args = ap.parse_known_args(argv)
    return ns


def create_app(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication with vsearch's name, style, palette and stylesheet (reused if one exists)."""
    from vsearch.ui.icons import icon, stylesheet

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("vsearch")
    app.setApplicationDisplayName("vsearch")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("vsearch")
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(stylesheet())
    app.setWindowIcon(icon("vsearch"))
    gcguard.install(app)  # the cyclic GC only on this thread (vsearch/ui/gcguard.py)
    return app


def build(argv: Sequence[str] | None = None, **window_options: object):
    """Create the app, the service and the main window; returns (app, window) or raises VSearchError."""
    from vsearch.service import Service
    from vsearch.ui.main_window import MainWindow

    ns = parse_args(argv)
    if "HF_HUB_OFFLINE" not in os.environ:
        # nothing the app loads may reach the network by itself; the Download button still can
        # (an explicit request: vsearch.embed.weights.offline ignores a default set here)
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["VSEARCH_APP_SET_OFFLINE"] = "1"
    app = create_app([])
    service = Service(ns.library, model=ns.model, device=ns.device)
    window_options.setdefault("state_file", service.dirs.config / WINDOW_STATE_FILE)
    window = MainWindow(service, **window_options)  # type: ignore[arg-type]  # window_options are MainWindow keywords, checked there
    app.aboutToQuit.connect(service.close)
    return app, window


def check_system_libraries() -> str | None:
    """Before any QApplication: Qt's platform plugin can load here, else its one line on stderr (and None when fine).

    Without it a fresh Linux desktop lacking libxcb-cursor0 (say) got Qt's generic "no Qt
    platform plugin could be initialized" and an abort (vsearch/ui/syslibs.py).
    """
    from vsearch.ui.syslibs import qt_platform_problem

    problem = qt_platform_problem()
    if problem:  # printed, not logged: logging has no handler yet and would print it twice
        print(problem, file=sys.stderr, flush=True)
    return problem


def main(argv: Sequence[str] | None = None) -> int:
    """Start the desktop app; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if check_system_libraries():
        return 3
    install_excepthooks()
    try:
        app, window = build(argv)
    except VSearchError as exc:
        create_app([])
        log.ui.error("cannot start: %s", exc)
        QMessageBox.critical(None, "vsearch cannot start", str(exc))
        return 3
    window.show()
    settle_heap()
    return int(app.exec())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
