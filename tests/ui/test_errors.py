"""Failures reach the user and the log: a bug in a background search, and an exception in a slot."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from vsearch.errors import UserError
from vsearch.service import Service
from vsearch.ui.app import install_excepthooks
from vsearch.ui.main_window import MainWindow


def test_a_bug_in_search_is_shown_and_logged(qtbot, tmp_path: Path, caplog, monkeypatch) -> None:
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)

    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(svc, "search", broken)
    caplog.set_level(logging.ERROR, logger="vsearch")
    with qtbot.waitSignal(win.errorShown, timeout=5000) as blocker:
        win.query.setText("red")
        win.search_ctrl.run()
    assert "RuntimeError: index exploded" in blocker.args[0] and "bug" in blocker.args[0]
    assert "index exploded" in caplog.text
    box = next(w for w in win.findChildren(QMessageBox))
    assert "index exploded" in box.text()
    win.close()
    svc.close()


def test_a_user_error_is_one_line_without_bug_wording(qtbot, tmp_path: Path, monkeypatch) -> None:
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)

    def refuse(*args, **kwargs):
        raise UserError("the library was indexed with another model; run vsearch index")

    monkeypatch.setattr(svc, "search", refuse)
    with qtbot.waitSignal(win.errorShown, timeout=5000) as blocker:
        win.query.setText("red")
        win.search_ctrl.run()
    assert blocker.args[0] == "the library was indexed with another model; run vsearch index"
    win.close()
    svc.close()


def test_uncaught_exceptions_become_a_message_box(qtbot, caplog, monkeypatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_excepthooks()
    caplog.set_level(logging.ERROR, logger="vsearch")
    try:
        raise ValueError("slot went wrong")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    assert "slot went wrong" in caplog.text

    def boxes() -> list[QMessageBox]:
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and "slot went wrong" in w.text()
        ]

    qtbot.waitUntil(lambda: bool(boxes()), timeout=3000)
    for box in boxes():
        box.close()


def test_the_same_error_is_not_stacked_in_several_boxes(qtbot, tmp_path: Path) -> None:
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    for _ in range(3):
        win.show_error("the library is read-only")
    win.show_error("disk full")
    texts = [b.text() for b in win.findChildren(QMessageBox) if b.isVisible()]
    assert sorted(texts) == ["disk full", "the library is read-only"]
    win.close()
    svc.close()
