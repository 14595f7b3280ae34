"""Editor keys (issue 16.8): Ctrl+N/P through results, I/O trim before export, keys from anywhere but the search box."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer

from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path: Path):
    d = tmp_path / "videos"
    make_video(d / "red_blue.mp4", segments=[("red", 2.0), ("blue", 2.0)], fps=10, gop=5)
    make_video(d / "green_red.mp4", segments=[("green", 2.0), ("red", 2.0)], fps=10, gop=5)
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.indexer.finished, timeout=30_000):
        win.add_folders([str(d)])
    qtbot.waitUntil(lambda: bool(win.folders()) and win.folders()[0].indexed == 2, timeout=10_000)
    with qtbot.waitSignal(win.searchFinished, timeout=10_000):
        win.query.setText("red")
    assert win.results.rowCount() >= 2
    yield win
    win.close()
    svc.close()


def ready(qtbot, win: MainWindow) -> None:
    p = win.player
    qtbot.waitUntil(
        lambda: p.pending_seek() is None and p.player.mediaStatus() != QMediaPlayer.MediaStatus.LoadingMedia,
        timeout=10_000,
    )


def test_ctrl_n_and_ctrl_p_go_through_the_results_from_the_search_box(qtbot, window: MainWindow) -> None:
    window.query.setFocus()
    qtbot.keyClick(window.query, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.view.currentIndex().row() == 0 and window.player.moment() == window.results.moment(0)
    qtbot.keyClick(window.query, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.view.currentIndex().row() == 1 and window.player.moment() == window.results.moment(1)
    assert window.query.text() == "red"  # the box kept its text: no letter typed
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert window.view.currentIndex().row() == 0 and window.player.moment() == window.results.moment(0)
    qtbot.keyClick(window.view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)  # at the top: stays
    assert window.view.currentIndex().row() == 0


def test_i_and_o_trim_the_moment_and_the_export_uses_it(qtbot, window: MainWindow, tmp_path: Path) -> None:
    window.view.setFocus()
    window.view.setCurrentIndex(window.results.index(0, 0))
    ready(qtbot, window)
    p, m = window.player, window.results.moment(0)
    assert m.end - m.start > 0.5
    new_in, new_out = round(m.start + 0.2, 1), round(m.end - 0.2, 1)
    p.seek(new_in)
    with qtbot.waitSignal(p.momentTrimmed, timeout=2000):
        qtbot.keyClick(window.view, Qt.Key.Key_I)
    p.seek(new_out)
    qtbot.keyClick(window.view, Qt.Key.Key_O)
    trimmed = window.results.moment(0)
    assert (trimmed.start, trimmed.end) == pytest.approx((new_in, new_out), abs=1e-3)
    assert trimmed.path == m.path and trimmed.score == m.score
    assert p.timeline.marks()[p.timeline.current_mark()] == pytest.approx((new_in, new_out), abs=1e-3)
    assert p.trim_label.text() == f"in {p.time_text(new_in)}   out {p.time_text(new_out)}"
    # the selection exports the trimmed moment
    window.view.selectionModel().select(window.results.index(0, 0),
                                        window.view.selectionModel().SelectionFlag.ClearAndSelect)  # fmt: skip
    out = tmp_path / "trimmed.csv"
    window.export_moments(window.selected_moments(), "csv", out)
    qtbot.waitUntil(lambda: out.exists() and window.lib_tasks.pending() == 0, timeout=10_000)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1
    assert float(rows[0]["start"]) == pytest.approx(new_in, abs=1e-3)
    assert float(rows[0]["end"]) == pytest.approx(new_out, abs=1e-3)
    # an out before the in keeps the moment's length
    out_at = new_in - 0.1
    p.seek(out_at)
    qtbot.keyClick(window.view, Qt.Key.Key_O)
    again = window.results.moment(0)
    assert again.end == pytest.approx(out_at, abs=1e-3)
    assert again.start == pytest.approx(max(0.0, out_at - (new_out - new_in)), abs=1e-3)


def test_player_keys_work_from_the_library_and_the_filters_but_not_the_search_box(qtbot, window: MainWindow) -> None:
    window.view.setCurrentIndex(window.results.index(0, 0))
    ready(qtbot, window)
    p = window.player
    tree = window.library_panel.tree
    tree.setFocus()
    start = p.position()
    qtbot.keyClick(tree, Qt.Key.Key_Right)  # a frame on, not "expand the folder row"
    assert abs(p.position() - (start + 0.1)) < 0.011
    qtbot.keyClick(tree, Qt.Key.Key_L)
    assert p.shuttle_speed() == 1
    qtbot.keyClick(window.length_filter, Qt.Key.Key_K)
    assert p.shuttle_speed() == 0
    # a combo box keeps its arrows: Down picks the next length, the player does not step
    before = p.position()
    qtbot.keyClick(window.length_filter, Qt.Key.Key_Down)
    assert window.length_filter.currentIndex() == 1 and p.position() == before
    # the search box types letters
    window.query.setFocus()
    qtbot.keyClick(window.query, Qt.Key.Key_L)
    assert window.query.text().endswith("l") and p.shuttle_speed() == 0


def test_n_and_p_from_the_grid_walk_this_videos_marks_then_the_next_result(qtbot, window: MainWindow) -> None:
    """N/P with the focus on the results (not the player): the current video's marks first."""
    window.view.setFocus()
    window.view.setCurrentIndex(window.results.index(0, 0))
    ready(qtbot, window)
    p = window.player
    first, second = window.results.moment(0), window.results.moment(1)
    start, marks = p.timeline.current_mark(), p.timeline.marks()
    for i in range(start + 1, len(marks)):  # on through this video's later matches
        qtbot.keyClick(window.view, Qt.Key.Key_N)
        assert p.timeline.current_mark() == i and p.moment().path == first.path
    qtbot.keyClick(window.view, Qt.Key.Key_N)  # past the last: the next result
    qtbot.waitUntil(lambda: window.view.currentIndex().row() == 1, timeout=5000)
    assert p.moment() == second
    ready(qtbot, window)
    here = p.timeline.current_mark()
    qtbot.keyClick(window.view, Qt.Key.Key_P)
    if here > 0:  # an earlier match of this video
        assert p.timeline.current_mark() == here - 1 and p.moment().path == second.path
    else:  # its first match: back to the previous result
        qtbot.waitUntil(lambda: window.view.currentIndex().row() == 0, timeout=5000)
        assert p.moment().path == first.path
