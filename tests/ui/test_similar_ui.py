"""Near-duplicates in the app (issue 16.10): copies of a real dev-set file give one card, "+2 similar", expandable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QStyleOptionViewItem

from vsearch.service import Service
from vsearch.ui.main_window import MainWindow
from vsearch.ui.results_model import SimilarRole, similar_text

DEV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "devset" / "videos"


@pytest.fixture
def window(qtbot, tmp_path: Path):
    if not (DEV / "d04.mp4").exists():
        pytest.skip("the dev set is not beside the checkout")
    d = tmp_path / "videos"
    for sub in ("a", "b", "c"):
        (d / sub).mkdir(parents=True)
        shutil.copy(DEV / "d04.mp4", d / sub / "d04.mp4")
    svc = Service(tmp_path / "lib", model="test-color")
    svc.update_settings(speech=False, ocr=False)
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    with qtbot.waitSignal(win.indexer.finished, timeout=120_000):
        win.add_folders([str(d)])
    with qtbot.waitSignal(win.searchFinished, timeout=10_000):
        win.query.setText("green")
    yield win
    win.close()
    svc.close()


def badge_centre(win: MainWindow, row: int) -> QPoint:
    idx = win.results.index(row, 0)
    opt = QStyleOptionViewItem()
    opt.initFrom(win.view)
    opt.widget = win.view
    opt.rect = win.view.visualRect(idx)
    delegate = win.view.itemDelegate()
    font = QFont(opt.font)
    font.setPointSizeF(max(7.0, opt.font.pointSizeF() - 1))
    rect = delegate.similar_badge_rect(delegate.thumb_rect(opt), QFontMetrics(font), int(idx.data(SimilarRole)))
    return rect.center().toPoint()


def test_copies_show_as_one_card_with_plus_two_similar_that_opens(qtbot, window: MainWindow) -> None:
    model = window.results
    n = model.rowCount()
    assert n >= 1
    paths = {Path(model.moment(r).path).parent.name for r in range(n)}
    assert len(paths) == 1, "each moment shows once, not once per copy"
    top = model.moment(0)
    assert len(top.similar) == 2 and model.index(0, 0).data(SimilarRole) == 2
    assert similar_text(2) == "+2 similar"
    # clicking the badge opens the group below the card (and does not open another video)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=badge_centre(window, 0))
    assert model.rowCount() == n + 2 and model.is_open(0)
    assert [model.moment(r) for r in (1, 2)] == list(top.similar)
    assert model.index(1, 0).data(SimilarRole) == -1  # shown as "similar"
    assert {Path(model.moment(r).path).parent.name for r in range(3)} == {"a", "b", "c"}
    # the player marks every copy's moment of the video it shows (none lost in the fold)
    window.view.setCurrentIndex(model.index(0, 0))
    assert (top.start, top.end) in window.player.timeline.marks()
    # and the context action closes it again
    window.view.setCurrentIndex(model.index(0, 0))
    window.similar_action.trigger()
    assert model.rowCount() == n and not model.is_open(0)
