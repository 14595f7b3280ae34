"""On-screen text in the app (issue 18.4): the Text expert, "on screen: 'EXIT'" on the card, the box in the player.

One clip with text burned into real dev-set footage is OCR-indexed once for the module (OCR is
the slow part); each test opens its own window over that library.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QStyleOptionViewItem

from tests.helpers.screen_text import Overlay, burn
from vsearch.service import Service
from vsearch.ui.main_window import MainWindow
from vsearch.ui.player import BOX_COLOUR
from vsearch.ui.results_model import WhyRole

pytest.importorskip("rapidocr_onnxruntime")

REPO = Path(__file__).resolve().parents[2]
DEV = REPO.parent / "shared" / "data" / "devset" / "videos" / "d01.mp4"
EXIT = Overlay("EXIT", 2.0, 4.5, "box")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("screen-text-ui")
    src = DEV if DEV.exists() else None  # real footage when the dev set is beside the checkout
    burn(d / "videos" / "hall.mp4", [EXIT], 6.0, source=src, source_start=20.0, size=(480, 270))
    # module scope runs before the per-test VSEARCH_HOME: give this library its own home
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSEARCH_HOME", str(d / "home"))
        with Service(d / "lib", model="test-color") as svc:
            stats = svc.index([d / "videos"])
            ocr = svc.status().ocr
            assert stats.indexed == 1 and ocr is not None and ocr.spans >= 1
    return d


@pytest.fixture
def window(qtbot, library: Path):
    svc = Service(library / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitUntil(lambda: bool(win.folders()), timeout=10_000)
    yield win
    win.close()
    svc.close()


def text_search(qtbot, win: MainWindow, query: str) -> None:
    win.source_filter.setCurrentIndex(win.source_filter.findData("text"))
    with qtbot.waitSignal(win.searchFinished, timeout=20_000):
        win.query.setText(query)
    assert win.results.rowCount() >= 1


def amber_pixels(img: QImage, rect: QRect | None = None) -> int:
    """Pixels of the on-screen colour's hue (lighter or darker: cards darken it on light palettes)."""
    hue = QColor(BOX_COLOUR).hsvHue()
    r = rect or img.rect()
    n = 0
    for y in range(max(0, r.top()), min(img.height(), r.bottom() + 1)):
        for x in range(max(0, r.left()), min(img.width(), r.right() + 1)):
            c = img.pixelColor(x, y)
            if c.hsvSaturation() > 90 and c.value() > 60 and abs(c.hsvHue() - hue) <= 12:
                n += 1
    return n


def test_the_text_expert_and_the_card_say_what_was_on_screen(qtbot, window: MainWindow) -> None:
    labels = [window.source_filter.itemText(i) for i in range(window.source_filter.count())]
    assert "Text only" in labels
    text_search(qtbot, window, '"EXIT"')
    assert window.search_params()["only"] == "text"
    m = window.results.moment(0)
    assert m.source == "text" and m.screen_text and "EXIT" in m.screen_text.upper()
    assert m.reason == f"on screen: \u2018{' '.join(m.screen_text.split())}\u2019"
    idx = window.results.index(0, 0)
    assert idx.data(WhyRole) == m.reason
    assert "on screen:" in idx.data(Qt.ItemDataRole.ToolTipRole)
    # the card draws that line in the on-screen colour
    delegate = window.view.itemDelegate()
    opt = QStyleOptionViewItem()
    opt.initFrom(window.view)
    opt.widget = window.view
    size = delegate.sizeHint(opt, idx)
    opt.rect = QRect(0, 0, size.width(), size.height())
    img = QImage(QSize(size.width(), size.height()), QImage.Format.Format_ARGB32)
    img.fill(QColor("#202020"))
    p = QPainter(img)
    delegate.paint(p, opt, idx)
    p.end()
    text_rows = QRect(0, size.height() // 2, size.width(), size.height() // 2)
    assert amber_pixels(img, text_rows) > 20


def test_the_player_frames_the_matched_text_and_the_box_toggles(qtbot, window: MainWindow) -> None:
    text_search(qtbot, window, '"EXIT"')
    window.view.setCurrentIndex(window.results.index(0, 0))
    p = window.player
    m = window.results.moment(0)
    qtbot.waitUntil(
        lambda: p.pending_seek() is None and p.player.mediaStatus() != QMediaPlayer.MediaStatus.LoadingMedia,
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: not p.video.image().isNull(), timeout=10_000)
    assert p.box_btn.isVisible() and p.box_btn.isChecked()
    assert p.video.box() == m.screen_box
    # the box is drawn where the text is: its frame is amber, measured on the widget's own picture
    box = p.video.box_rect().toRect()
    assert box.width() > 10 and box.height() > 5
    shot = p.video.grab().toImage()
    edge = box.adjusted(-6, -6, 6, 6)
    assert amber_pixels(shot, QRect(edge.left(), edge.top(), edge.width(), 8)) > 10  # the top edge
    # the recognised box is where the text was burned in (the "box" style sits near the middle)
    x0, y0, x1, y1 = m.screen_box
    assert 0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0
    assert abs((x0 + x1) / 2 - 0.5) < 0.15 and 0.25 < (y0 + y1) / 2 < 0.6, m.screen_box
    # toggled off: no box, no amber frame
    p.box_btn.setChecked(False)
    assert p.video.box() is None
    assert amber_pixels(p.video.grab().toImage(), QRect(edge.left(), edge.top(), edge.width(), 8)) <= 2
    p.box_btn.setChecked(True)
    assert p.video.box() == m.screen_box
    # outside the moment the box goes away
    p.seek(max(0.0, m.start - 1.5))
    assert p.video.box() is None


def test_the_box_is_framed_only_while_the_text_was_on_screen(qtbot, window: MainWindow) -> None:
    """A scene found by its look keeps its span around a word read in part of it: the box belongs
    to the text's own time, not to the whole moment (on moving footage it would frame the wrong
    thing)."""
    from dataclasses import replace

    text_search(qtbot, window, '"EXIT"')
    m = window.results.moment(0)
    assert m.screen_span is not None and m.screen_span[0] <= m.start + 0.01
    wide = replace(m, start=max(0.0, m.start - 3.0), end=m.end + 3.0, source="visual+text")
    p = window.player
    p.open_moment(wide, moments=[wide])
    qtbot.waitUntil(lambda: p.pending_seek() is None, timeout=10_000)
    p.seek(wide.start + 0.2)  # in the moment, before the text
    assert p.video.box() is None
    p.seek((m.screen_span[0] + m.screen_span[1]) / 2)
    assert p.video.box() == m.screen_box
    p.seek(wide.end - 0.1)  # in the moment, after the text
    assert p.video.box() is None
