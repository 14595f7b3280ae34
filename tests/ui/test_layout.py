"""The window's layout at the sizes editors use (issue 16.16): real widgets, offscreen, measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QFormLayout, QLabel, QMessageBox

from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.types import Moment
from vsearch.ui.main_view import EMPTY_TEXT_WIDTH, WELCOME_TEXT
from vsearch.ui.main_window import MainWindow
from vsearch.ui.settings_dialog import SettingsDialog

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(colour_window: MainWindow) -> MainWindow:
    return colour_window  # tests/ui/conftest.py


def settle(qtbot, win: MainWindow, w: int, h: int) -> None:
    win.resize(w, h)
    qtbot.waitUntil(lambda: win.width() == w, timeout=2000)
    for _ in range(3):  # the grid relayouts on the next turn of the event loop
        QApplication.processEvents()
        qtbot.wait(10)


def fake_results(n: int, videos: int | None = None) -> list[Moment]:
    videos = videos or n
    return [Moment(f"/nowhere/v{i % videos}.mp4", float(i), i + 2.0, 0.5 - i / 100, i + 1.0, fps=25.0,
                   duration=60.0) for i in range(n)]  # fmt: skip


def columns(win: MainWindow) -> int:
    return len({win.view.visualRect(win.results.index(i, 0)).x() for i in range(win.results.rowCount())})


@pytest.mark.parametrize("size", [(1024, 700), (1440, 880), (1600, 900)])
def test_welcome_text_wraps_as_paragraphs(qtbot, window: MainWindow, size: tuple[int, int]) -> None:
    settle(qtbot, window, *size)
    label = window.empty_text
    assert label.text() == WELCOME_TEXT
    first = WELCOME_TEXT.split("\n\n")[0]
    assert "\n" not in first, "a hard line break inside a sentence wraps badly at other widths"
    assert label.width() <= EMPTY_TEXT_WIDTH
    assert label.fontMetrics().horizontalAdvance(first) > label.width()  # it does wrap, inside its width
    # tall enough for every wrapped line at the width it got (not cut at the top and bottom)
    assert label.height() >= label.heightForWidth(label.width()), (label.size(), label.heightForWidth(label.width()))


def test_counts_read_in_the_right_number(qtbot, window: MainWindow, monkeypatch) -> None:
    answers = {"one": fake_results(1), "many": fake_results(3, videos=2)}
    monkeypatch.setattr(window.service, "search", lambda text, **_k: answers[text])
    for text, want in (("one", "1 moment in 1 video"), ("many", "3 moments in 2 videos")):
        with qtbot.waitSignal(window.searchFinished, timeout=5000):
            window.query.setText(text)
        assert window.count_label.text() == want


def test_the_grid_takes_more_columns_on_a_wide_window(qtbot, window: MainWindow) -> None:
    window.results.set_results(fake_results(12), 1, "q")
    window.show_results()
    seen = {}
    for w, h in ((1280, 720), (1600, 900)):
        settle(qtbot, window, w, h)
        seen[w] = columns(window)
        rects = [window.view.visualRect(window.results.index(i, 0)) for i in range(seen[w])]
        card = rects[0].width()
        right = max(r.right() for r in rects)
        # no empty room at the right where another card would fit
        assert window.view.viewport().width() - right < card + 2 * window.view.spacing(), (w, card, right)
    assert seen[1600] >= 4 and seen[1600] > seen[1280] >= 2, seen


def test_loop_and_time_do_not_collide_at_1280x720(qtbot, window: MainWindow) -> None:
    settle(qtbot, window, 1280, 720)
    p = window.player
    p.set_transcript([(0.0, 1.0, "hello")])  # the CC button shows too
    p.time_label.setText("00:12:34:12 / 01:02:03:04")
    QApplication.processEvents()
    loop = p.loop_check.geometry()
    time = p.time_label.geometry()
    assert not loop.intersects(time)
    assert time.width() >= p.time_label.sizeHint().width()
    assert loop.width() >= p.loop_check.sizeHint().width()
    assert p.cc_btn.isVisible() and not p.cc_btn.geometry().intersects(time)


def test_window_goes_to_1024_wide_and_nothing_is_cut(qtbot, window: MainWindow) -> None:
    assert window.minimumSizeHint().width() <= 1024
    settle(qtbot, window, 1024, 700)
    p = window.player
    right = p.mapTo(window, p.rect().topRight()).x()
    assert right <= window.width()
    for w in (p.folder_btn, p.open_btn, p.time_label, p.loop_check, window.source_filter, window.grid_btn):
        edge = w.mapTo(window, w.rect().topRight()).x()
        assert edge <= window.width(), w
        assert w.width() >= min(w.sizeHint().width(), w.minimumSizeHint().width()), w


def test_the_window_fits_the_available_area_of_a_laptop_screen(qtbot, window: MainWindow) -> None:
    qtbot.wait(20)  # the first show's own check has run
    area = QRect(0, 0, 1366, 738)  # 1366x768 less a 30-pixel panel
    window.fit_to_screen(area)
    QApplication.processEvents()
    assert area.contains(window.frameGeometry()), window.frameGeometry()
    assert window.width() >= 1200  # as large as fits, not the minimum


def test_the_app_opens_inside_a_1366x768_screen(tmp_path: Path) -> None:
    """The real offscreen platform with a laptop's screen: the window's frame is inside it."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": 1366, "height": 768,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))  # fmt: skip
    script = textwrap.dedent(
        f"""
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from vsearch.service import Service
        from vsearch.ui.main_window import MainWindow
        svc = Service({str(tmp_path / "lib")!r}, model="test-color")
        win = MainWindow(svc, autoplay=False, audio=False)
        win.show()
        app.processEvents()
        g, a = win.frameGeometry(), win.screen().availableGeometry()
        print(g.x(), g.y(), g.width(), g.height(), a.width(), a.height())
        win.close(); svc.close()
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    x, y, w, h, aw, ah = map(int, out.stdout.split()[-6:])
    assert (aw, ah) == (1366, 768)
    assert x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 768, (x, y, w, h)


def test_the_divider_stays_put_when_the_cc_button_appears(qtbot, window: MainWindow) -> None:
    settle(qtbot, window, 1280, 720)
    p = window.player
    sizes, hint = window.splitter.sizes(), p.minimumSizeHint()
    p.set_transcript([(0.0, 1.0, "hello")])
    QApplication.processEvents()
    assert p.cc_btn.isVisible()
    assert p.minimumSizeHint() == hint and window.splitter.sizes() == sizes
    p.set_transcript([])
    QApplication.processEvents()
    assert window.splitter.sizes() == sizes


def test_the_precision_label_is_not_cut_off(qtbot, tmp_path: Path) -> None:
    svc = Service(tmp_path / "lib", model="test-color")
    try:
        dlg = SettingsDialog(svc.settings, [], str(tmp_path / "lib"))
        qtbot.addWidget(dlg)
        dlg.show()
        QApplication.processEvents()
        form = dlg.findChild(QFormLayout)
        label = form.labelForField(dlg.precision)
        assert isinstance(label, QLabel) and label.text().startswith("Precision")
        assert label.width() >= label.sizeHint().width()
        assert dlg.precision.width() >= dlg.precision.minimumSizeHint().width()
    finally:
        svc.close()


def test_two_videos_folders_are_told_apart_and_a_click_scopes_the_search(qtbot, window: MainWindow,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    a, b = tmp_path / "work" / "videos", tmp_path / "home" / "videos"
    make_video(a / "red.mp4", segments=[("red", 1.0)], fps=10, gop=5)
    make_video(b / "blue.mp4", segments=[("blue", 1.0)], fps=10, gop=5)
    with qtbot.waitSignal(window.indexer.finished, timeout=30_000):
        window.add_folders([str(a), str(b)])
    qtbot.waitUntil(lambda: window.folder_filter.findData(str(b)) >= 0 and len(window.folders()) == 2,
                    timeout=30_000)  # fmt: skip
    combo = [window.folder_filter.itemText(i) for i in range(1, window.folder_filter.count())]
    assert sorted(combo) == ["home/videos", "work/videos"]
    tree = window.library_panel.tree
    rows = {tree.topLevelItem(i).text(0).split("\n")[0] for i in range(tree.topLevelItemCount())}
    assert rows == {"home/videos", "work/videos"}
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).text(0).startswith("home/videos"))  # fmt: skip
    window.query.setText("blue")
    rect = tree.visualItemRect(item)
    with qtbot.waitSignal(window.searchFinished, timeout=10_000):
        qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.folder_filter.currentData() == str(b)
    assert window.search_params()["folder"] == str(b)
    assert {Path(m.path).parent for m in window.results.moments()} <= {b}


def test_about_names_the_model_the_library_and_the_licences(qtbot, window: MainWindow, monkeypatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, _title, text: shown.append(text))
    window.about_action.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    text = shown[0]
    assert str(window.service.dirs.library) in text
    assert "Model:" in text and "LGPL-3.0" in text and "Apache-2.0" in text and "MIT" in text
