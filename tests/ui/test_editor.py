"""The app as an editor uses it (issue 16): the player follows the query, exact timestamps are copied."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtMultimedia import QMediaPlayer

from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.timefmt import span
from vsearch.types import Moment
from vsearch.ui.main_window import MainWindow
from vsearch.ui.player import PlayerPanel


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    make_video(d / "red_blue.mp4", segments=[("red", 2.0), ("blue", 1.5)], fps=10, gop=5)
    make_video(d / "green_red.mp4", segments=[("green", 2.0), ("red", 2.0)], fps=10, gop=5)
    return d


@pytest.fixture
def window(qtbot, tmp_path: Path, folder: Path):
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.indexer.finished, timeout=30_000):
        win.add_folders([str(folder)])
    qtbot.waitUntil(lambda: bool(win.folders()) and win.folders()[0].indexed == 2, timeout=10_000)
    yield win
    win.close()
    svc.close()


def search(qtbot, win: MainWindow, text: str) -> int:
    with qtbot.waitSignal(win.searchFinished, timeout=10_000) as blocker:
        win.query.setText(text)
    return blocker.args[0]


def open_video(qtbot, win: MainWindow, name: str) -> Moment:
    row = next(i for i, m in enumerate(win.results.moments()) if Path(m.path).name == name)
    win.view.setCurrentIndex(win.results.index(row, 0))
    qtbot.waitUntil(lambda: win.player.pending_seek() is None, timeout=10_000)
    return win.results.moment(row)


def test_player_header_and_matches_follow_the_current_query(qtbot, window: MainWindow) -> None:
    assert search(qtbot, window, "red") >= 1
    red = open_video(qtbot, window, "red_blue.mp4")
    p = window.player
    assert f"moment {span(red.start, red.end)}" in p.subtitle.text()

    assert search(qtbot, window, "blue") >= 1
    same = sorted((m for m in window.results.moments() if m.path == p.path()), key=lambda m: m.start)
    assert same, "the blue query matches the red-blue video"
    assert p.path().endswith("red_blue.mp4")  # still loaded, not reopened
    current = p.moment()
    assert current in same and current != red
    assert f"moment {span(current.start, current.end)}   ·   score {current.score:.3f}" in p.subtitle.text()
    rows = [p.matches.item(i).text() for i in range(p.matches.count())]
    assert rows == [f"{span(m.start, m.end)}      score {m.score:.3f}" for m in same]
    assert p.timeline.marks() == [(m.start, m.end) for m in same]
    # N goes through the new query's marks, and the header follows the mark
    if len(same) > 1:
        p.go_to_mark(1)
        assert f"moment {span(same[1].start, same[1].end)}   ·   score {same[1].score:.3f}" in p.subtitle.text()


def test_player_says_when_its_video_is_not_among_the_results(qtbot) -> None:
    p = PlayerPanel(audio=False, autoplay=False)
    qtbot.addWidget(p)
    m = Moment("/v/a.mp4", 1.0, 3.0, 0.5, 2.0, fps=25.0, duration=10.0)
    p.open_moment(m, [(1.0, 3.0), (6.0, 7.0)], 0, [0.5, 0.4])
    assert p.matches.count() == 2 and "score 0.500" in p.subtitle.text()
    p.show_matches(None)
    assert p.moment() is None and p.matches.count() == 0 and p.timeline.marks() == []
    assert p.subtitle.text() == "/v   ·   not among this query's results"
    p.show_matches(None, absent="")
    assert p.subtitle.text() == "/v"
    p.play_moment()  # nothing to play: no error
    p.show_matches(m, [(1.0, 3.0)], 0, [0.7])
    assert p.subtitle.text() == f"/v   ·   moment {span(1.0, 3.0)}   ·   score 0.700"


def test_copy_gives_timecode_and_exact_seconds(qtbot, window: MainWindow) -> None:
    assert search(qtbot, window, "blue") >= 1
    window.view.selectAll()
    chosen = window.selected_moments()
    text = window.copy_timestamps()
    assert QGuiApplication.clipboard().text() == text
    lines = text.split("\n")
    assert len(lines) == len(chosen)
    for m, line in zip(chosen, lines, strict=True):
        path, tc_in, tc_out, s_in, s_out, score = line.split("\t")
        assert path == m.path and score == f"{m.score:.3f}"
        assert re.fullmatch(r"\d\d:\d\d:\d\d:\d\d", tc_in) and re.fullmatch(r"\d\d:\d\d:\d\d:\d\d", tc_out)
        # 10 fps: the frame number is the time in tenths
        frames = round(m.start * 10)
        assert tc_in == f"00:00:{frames // 10:02d}:{frames % 10:02d}"
        assert s_in == f"{m.start:.3f}" and s_out == f"{m.end:.3f}"
        assert abs(float(s_in) - m.start) < 0.0005  # not rounded to a tenth


def test_window_state_is_restored_after_a_restart(qtbot, tmp_path: Path, folder: Path) -> None:
    state = tmp_path / "config" / "window.ini"
    svc = Service(tmp_path / "lib2", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False, state_file=state)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.indexer.finished, timeout=30_000):
        win.add_folders([str(folder)])
    qtbot.waitUntil(lambda: win.folder_filter.findData(str(folder)) >= 0, timeout=10_000)
    # the offscreen screen is 800x800 and restoreGeometry keeps a window on its screen: ask for less
    # than fits (the window's minimum width is more), so the size round-trips
    win.resize(800, 720)
    qtbot.waitUntil(lambda: win.height() == 720, timeout=2000)
    size = (win.width(), win.height())
    assert size != (1440, 880)  # not the default size
    win.splitter.setSizes([300, 700, 500])
    win.folder_filter.setCurrentIndex(win.folder_filter.findData(str(folder)))
    win.length_filter.setCurrentIndex(1)
    win.source_filter.setCurrentIndex(win.source_filter.findData("visual"))
    win.floor.setValue(5)
    win.one_per_video.setChecked(True)
    win.grid_btn.setChecked(False)
    win.seconds_action.setChecked(True)
    assert search(qtbot, win, "blue") >= 0
    params = win.search_params()
    sizes = win.splitter.sizes()
    assert sizes != [250, 760, 560]
    win.close()
    svc.close()

    again = Service(tmp_path / "lib2", model="test-color")
    win2 = MainWindow(again, autoplay=False, audio=False, state_file=state)
    qtbot.addWidget(win2)
    win2.show()
    try:
        assert (win2.width(), win2.height()) == size
        assert win2.splitter.sizes() == sizes
        assert win2.query.text() == "blue" and win2.floor_label.text() == "0.05"
        assert not win2.grid_btn.isChecked() and win2.view.viewMode() == win2.view.ViewMode.ListMode
        assert win2.seconds_action.isChecked() and win2.player.time_label.text().startswith("0:00.0")
        # the folder filter waits for the library to be read; then the restored query runs in it
        qtbot.waitUntil(lambda: win2.results.query == "blue", timeout=10_000)
        assert win2.search_params() == params
        assert win2.folder_filter.currentData() == str(folder)
    finally:
        win2.close()
        again.close()


def test_no_state_file_remembers_nothing(qtbot, tmp_path: Path) -> None:
    svc = Service(tmp_path / "lib3", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.query.setText("left over")
    win.close()
    win2 = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win2)
    assert win2.query.text() == "" and not list(tmp_path.rglob("*.ini"))
    win2.close()
    svc.close()


def test_keys_act_on_the_player_while_it_shows_a_video(qtbot, window: MainWindow) -> None:
    assert search(qtbot, window, "red") >= 2
    window.view.setFocus()
    m = open_video(qtbot, window, window.results.moment(0).path.rsplit("/", 1)[-1])
    p = window.player
    qtbot.waitUntil(lambda: p.player.mediaStatus() != QMediaPlayer.MediaStatus.LoadingMedia, timeout=10_000)
    row = window.view.currentIndex().row()
    start = p.position()
    # Right / Left step a frame (10 fps) instead of moving through the grid to another video
    qtbot.keyClick(window.view, Qt.Key.Key_Right)
    assert window.view.currentIndex().row() == row and p.path() == m.path
    assert abs(p.position() - (start + 0.1)) < 0.011
    qtbot.keyClick(window.view, Qt.Key.Key_Left)
    assert window.view.currentIndex().row() == row and abs(p.position() - start) < 0.011
    # L plays, L again twice as fast; K stops at normal speed
    qtbot.keyClick(window.view, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: p.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState, timeout=5000)
    assert p.shuttle_speed() == 1 and p.player.playbackRate() == 1.0
    qtbot.keyClick(window.view, Qt.Key.Key_L)
    assert p.shuttle_speed() == 2 and p.player.playbackRate() == 2.0
    qtbot.keyClick(window.view, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: p.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState, timeout=5000)
    assert p.shuttle_speed() == 0 and p.player.playbackRate() == 1.0
    # J runs backwards (QMediaPlayer cannot: the player steps back), faster when pressed again
    p.seek(3.0)
    qtbot.keyClick(window.view, Qt.Key.Key_J)
    qtbot.keyClick(window.view, Qt.Key.Key_J)
    assert p.shuttle_speed() == -2
    qtbot.waitUntil(lambda: p.position() < 2.5, timeout=5000)
    qtbot.keyClick(window.view, Qt.Key.Key_K)
    stopped = p.position()
    qtbot.wait(200)
    assert p.position() == stopped and p.shuttle_speed() == 0


def test_times_read_as_timecode_at_the_video_rate(qtbot, window: MainWindow) -> None:
    assert search(qtbot, window, "blue") >= 1
    m = open_video(qtbot, window, "red_blue.mp4")
    p = window.player
    p.seek(2.3)
    qtbot.waitUntil(lambda: p.time_label.text().startswith("00:00:02:03 / "), timeout=5000)
    assert re.fullmatch(r"00:00:02:03 / 00:00:03:0[45]", p.time_label.text()), p.time_label.text()
    assert m.fps == 10
    window.seconds_action.setChecked(True)  # View > Show times in seconds
    assert re.fullmatch(r"0:02\.3 / 0:03\.[45]", p.time_label.text()), p.time_label.text()
    window.seconds_action.setChecked(False)
    assert p.time_label.text().startswith("00:00:02:03")
