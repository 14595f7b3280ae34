"""The app end to end: add a folder, index, type a query, click a result, the player is at the moment."""

from __future__ import annotations

import csv
import gc
import json
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimedia import QMediaPlayer

from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.ui.app import settle_heap
from vsearch.ui.main_window import MainWindow


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    make_video(d / "red_blue.mp4", segments=[("red", 2.0), ("blue", 1.5)], fps=10, gop=5)
    make_video(d / "sub" / "green_red.mp4", segments=[("green", 2.0), ("red", 2.0)], fps=10, gop=5)
    (d / "broken.mp4").write_bytes(b"not a video at all" * 50)
    return d


@pytest.fixture
def window(colour_window: MainWindow) -> MainWindow:
    return colour_window  # tests/ui/conftest.py


class GapMeter:
    """Ticks every 10 ms and records the longest gap between ticks (a blocked event loop shows as a gap)."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.clock = QElapsedTimer()
        self.last = 0
        self.max_gap = 0
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.clock.start()
        self.last = 0
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.max_gap = max(self.max_gap, now - self.last)
        self.last = now

    def stop(self) -> None:
        self.timer.stop()


def index_folder(qtbot, win: MainWindow, folder: Path) -> None:
    with qtbot.waitSignal(win.indexer.finished, timeout=30_000):
        win.add_folders([str(folder)])
    qtbot.waitUntil(lambda: bool(win.folders()) and win.folders()[0].indexed == 2, timeout=10_000)


def search(qtbot, win: MainWindow, text: str) -> int:
    with qtbot.waitSignal(win.searchFinished, timeout=10_000) as blocker:
        win.query.clear()
        qtbot.keyClicks(win.query, text)
    return blocker.args[0]


def test_first_run_shows_guidance(window: MainWindow) -> None:
    assert window.stack.currentWidget() is window.empty
    assert "Add a folder" in window.empty_text.text()
    assert window.empty_button.isVisible()


@pytest.fixture
def settled_heap():
    settle_heap()  # as vsearch-gui does once its window is up
    yield
    gc.unfreeze()  # leave the rest of the test session as it was


def test_add_index_search_click_plays_the_moment(
    qtbot, settled_heap, window: MainWindow, folder: Path
) -> None:
    meter = GapMeter()
    meter.start()
    index_folder(qtbot, window, folder)
    meter.stop()
    print(f"max event-loop gap while indexing: {meter.max_gap} ms")
    assert meter.max_gap < 100, f"the GUI thread was blocked for {meter.max_gap} ms while indexing"

    # the library panel shows counts and the broken file with its reason
    top = window.library_panel.tree.topLevelItem(0)
    assert "2 of 3 videos indexed" in top.text(0) and "1 failed" in top.text(0)
    assert "broken.mp4" in top.child(0).text(0)

    assert search(qtbot, window, "red") >= 2
    first = window.results.moment(0)
    assert {Path(m.path).name for m in window.results.moments()[:2]} == {"red_blue.mp4", "green_red.mp4"}
    rect = window.view.visualRect(window.results.index(0, 0))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    p = window.player
    assert p.moment() == first
    qtbot.waitUntil(
        lambda: p.pending_seek() is None and p.player.mediaStatus() != QMediaPlayer.MediaStatus.LoadingMedia,
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: abs(p.player.position() / 1000 - first.start) < 0.5, timeout=5000)
    # the heat strip of the query across the whole video, and the match marks
    qtbot.waitUntil(p.timeline.has_curve, timeout=5000)
    assert p.timeline.marks()
    # thumbnails arrive from the pool
    qtbot.waitUntil(
        lambda: window.results.has_thumbnail(window.results.index(0, 0).data(Qt.ItemDataRole.UserRole + 5)),
        timeout=10_000,
    )


def test_stale_results_are_dropped(qtbot, window: MainWindow, folder: Path) -> None:
    index_folder(qtbot, window, folder)
    seen = []
    window.searchFinished.connect(seen.append)
    window.query.setText("red")
    window.search_ctrl.run()  # no debounce: both queries really run
    window.query.setText("blue")
    window.search_ctrl.run()
    qtbot.waitUntil(lambda: len(seen) >= 1, timeout=10_000)
    qtbot.wait(300)
    assert window.results.query == "blue"
    assert Path(window.results.moment(0).path).name == "red_blue.mp4"
    assert window.results.moment(0).start >= 1.5  # the blue part


def test_no_results_guidance_and_filters(qtbot, window: MainWindow, folder: Path) -> None:
    index_folder(qtbot, window, folder)
    window.floor.setValue(50)  # relevance floor 0.5
    n = search(qtbot, window, "purple")
    if n == 0:
        assert window.stack.currentWidget() is window.empty
        assert "No matching moments" in window.empty_title.text()
    window.floor.setValue(0)
    with qtbot.waitSignal(window.searchFinished, timeout=10_000):
        window.one_per_video.setChecked(True)
    paths = [m.path for m in window.results.moments()]
    assert len(paths) == len(set(paths))


def test_select_export_and_copy(qtbot, window: MainWindow, folder: Path, tmp_path: Path) -> None:
    index_folder(qtbot, window, folder)
    assert search(qtbot, window, "red") >= 2
    window.view.selectAll()
    chosen = window.selected_moments()
    assert len(chosen) == window.results.rowCount()
    text = window.copy_timestamps()
    assert QGuiApplication.clipboard().text() == text
    assert text.count("\n") == len(chosen) - 1 and "red_blue.mp4" in text
    for fmt in ("csv", "json"):
        out = tmp_path / f"out.{fmt}"
        window.export_moments(chosen, fmt, out)
        qtbot.waitUntil(out.exists, timeout=10_000)
        qtbot.waitUntil(lambda out=out: window.lib_tasks.pending() == 0, timeout=10_000)
    rows = list(csv.reader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert len(rows) >= len(chosen)  # header + one row per moment
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert "red_blue.mp4" in json.dumps(data)


def test_settings_are_remembered(qtbot, window: MainWindow, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.settings_ctrl.saved, timeout=5000):  # saved on the pool, off the GUI thread
        window.apply_settings({"interval": 2.5, "sampling": "exact"})
    again = Service(tmp_path / "lib", model="test-color")
    try:
        assert again.settings.interval == 2.5 and again.settings.sampling == "exact"
    finally:
        again.close()


def test_closing_while_indexing_stops_cleanly(qtbot, tmp_path: Path, folder: Path) -> None:
    for i in range(6):
        make_video(folder / f"extra{i}.mp4", segments=[("yellow", 1.0), ("cyan", 1.0)], fps=10, gop=5)
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.indexer.busyChanged, timeout=5000):
        win.add_folders([str(folder)])
    win.indexer.pause()
    t0 = time.monotonic()
    win.close()
    assert time.monotonic() - t0 < 10
    assert not win.indexer.is_busy() or not win.indexer._thread.isRunning()
    assert not win.indexer._thread.isRunning()
    svc.close()
    # the library opens again and still knows the folder; a rescan finishes the job
    again = Service(tmp_path / "lib", model="test-color")
    try:
        assert [f.path for f in again.folders()] == [str(folder)]
        stats = again.index()
        assert again.folders()[0].indexed == 8 and stats.failed in (0, 1)
    finally:
        again.close()


def test_keyboard_only_search_and_play(qtbot, window: MainWindow, folder: Path) -> None:
    index_folder(qtbot, window, folder)
    window.query.setFocus()
    assert search(qtbot, window, "blue") >= 1
    qtbot.keyClick(window.query, Qt.Key.Key_Down)  # into the results: the first one opens
    assert window.player.moment() == window.results.moment(0)
    qtbot.waitUntil(lambda: window.player.pending_seek() is None, timeout=10_000)
    qtbot.keyClick(window.view, Qt.Key.Key_Space)  # player keys work from the results
    qtbot.waitUntil(
        lambda: window.player.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState, timeout=5000
    )
    qtbot.keyClick(window.view, Qt.Key.Key_K)
    qtbot.waitUntil(
        lambda: window.player.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState, timeout=5000
    )
