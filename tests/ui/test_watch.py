"""Issue 16.13 in the app: library folders are watched; a deleted file's card says Missing within the debounce."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.ui.controllers.watch import WATCH_DEBOUNCE_MS, FolderWatcher
from vsearch.ui.main_window import MainWindow
from vsearch.ui.results_model import MissingRole
from vsearch.ui.settings_dialog import SettingsDialog


def test_watcher_folds_a_burst_of_changes_into_one_signal(qtbot, tmp_path: Path) -> None:
    w = FolderWatcher(debounce_ms=300)
    w.watch([str(tmp_path)])
    assert w.folders() == [str(tmp_path)]
    fired: list[int] = []
    w.changed.connect(lambda: fired.append(1))
    for i in range(5):
        (tmp_path / f"f{i}.mp4").write_bytes(b"x")
        qtbot.wait(50)
    qtbot.waitUntil(lambda: fired == [1], timeout=5000)
    qtbot.wait(600)
    assert fired == [1]
    w.stop()
    assert w.folders() == []


@pytest.fixture
def window(qtbot, tmp_path: Path):
    d = tmp_path / "videos"
    make_video(d / "red.mp4", segments=[("red", 2.0)], fps=10, gop=5)
    make_video(d / "sub" / "blue.mp4", segments=[("blue", 2.0)], fps=10, gop=5)
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.indexer.finished, timeout=30_000):
        win.add_folders([str(d)])
    qtbot.waitUntil(lambda: bool(win.folders()) and win.folders()[0].indexed == 2, timeout=10_000)
    yield win, d
    win.close()
    svc.close()


def _top(win: MainWindow):  # noqa: ANN202
    return win.results.index(0, 0)


def test_deleted_file_is_marked_missing_within_the_debounce_and_can_be_located(
    qtbot, window: tuple[MainWindow, Path], tmp_path: Path
) -> None:
    win, d = window
    lib = win.library_ctrl
    qtbot.waitUntil(lambda: str(d / "sub") in lib.watcher.folders(), timeout=10_000)  # sub-folders too
    with qtbot.waitSignal(win.searchFinished, timeout=10_000):
        qtbot.keyClicks(win.query, "blue")
    assert win.results.moment(0).path == str(d / "sub" / "blue.mp4") and not _top(win).data(MissingRole)

    shutil.move(str(d / "sub" / "blue.mp4"), str(tmp_path / "blue.mp4"))  # gone from the library
    # the debounce, the rescan and the refreshed search; no F5
    qtbot.waitUntil(lambda: win.results.rowCount() > 0 and bool(_top(win).data(MissingRole)),
                    timeout=WATCH_DEBOUNCE_MS + 20_000)  # fmt: skip
    m = win.results.moment(0)
    assert m.missing and m.path == str(d / "sub" / "blue.mp4")
    assert "missing: not found at the last scan (right-click: Locate…)" in _top(win).data(Qt.ItemDataRole.ToolTipRole)
    win.view.setCurrentIndex(_top(win))
    assert win.locate_action.isEnabled()

    # Locate…: the file is back under another name in the library folder
    os.rename(tmp_path / "blue.mp4", d / "blue again.mp4")
    lib.watcher.stop()  # the rescan would recognise it by itself; here Locate… does it
    lib.locate(m.video_id, str(d / "blue again.mp4"))
    qtbot.waitUntil(lambda: win.results.rowCount() > 0 and win.results.moment(0).path == str(d / "blue again.mp4"),
                    timeout=20_000)  # fmt: skip
    assert not win.results.moment(0).missing


def test_watching_can_be_turned_off(qtbot, window: tuple[MainWindow, Path]) -> None:
    win, d = window
    win.service.update_settings(watch_folders=False)
    win.library_ctrl._watched_for = None
    win.library_ctrl.refresh()
    qtbot.waitUntil(lambda: win.library_ctrl.watcher.folders() == [], timeout=10_000)


def test_the_settings_checkbox_stops_and_restarts_watching_at_once(qtbot, window: tuple[MainWindow, Path]) -> None:
    win, d = window
    lib = win.library_ctrl
    qtbot.waitUntil(lambda: str(d) in lib.watcher.folders(), timeout=10_000)
    dlg = SettingsDialog(win.service.settings, [], str(win.service.dirs.library))
    qtbot.addWidget(dlg)
    assert dlg.watch.isChecked() and dlg.ocr.isChecked() == bool(win.service.settings.ocr)
    dlg.watch.setChecked(False)
    assert dlg.changes() == {"watch_folders": False}
    with qtbot.waitSignal(win.settings_ctrl.saved, timeout=10_000):
        win.apply_settings(dlg.changes())
    qtbot.waitUntil(lambda: lib.watcher.folders() == [], timeout=10_000)  # no rescan or restart needed
    assert win.service.settings.watch_folders is False

    (d / "new.mp4").write_bytes(b"x")  # not watched: no rescan starts
    qtbot.wait(WATCH_DEBOUNCE_MS + 500)
    assert not win.indexer.is_busy()

    dlg2 = SettingsDialog(win.service.settings, [], str(win.service.dirs.library))
    qtbot.addWidget(dlg2)
    assert not dlg2.watch.isChecked()
    dlg2.watch.setChecked(True)
    with qtbot.waitSignal(win.settings_ctrl.saved, timeout=10_000):
        win.apply_settings(dlg2.changes())
    qtbot.waitUntil(lambda: str(d / "sub") in lib.watcher.folders(), timeout=10_000)
