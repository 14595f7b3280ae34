"""Speech in the app: the card says what was said, the player shows subtitles, the heat strip marks speech."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtMultimedia import QMediaPlayer

from tests.helpers.speech import make_silent_video, make_speech_video, require_espeak
from vsearch.service import Service
from vsearch.types import Moment
from vsearch.ui.main_window import MainWindow
from vsearch.ui.player import PlayerPanel
from vsearch.ui.results_model import WhyRole, why_line
from vsearch.ui.timeline import Timeline

SENTENCES = [
    "Welcome to the quarterly planning meeting.",
    "Our travel budget will be cut by half next year.",
    "The new office opens in the spring.",
]
PARAPHRASE = "they will spend less money on trips"


@pytest.fixture(scope="module")
def spoken_library(tmp_path_factory: pytest.TempPathFactory):
    """A library (model test-color) with a spoken meeting and a silent clip, indexed once for the module."""
    require_espeak()
    folder = tmp_path_factory.mktemp("talks")
    make_speech_video(folder / "meeting.mp4", SENTENCES, gap=1.5)
    make_silent_video(folder / "silent.mp4", duration=3.0)
    svc = Service(tmp_path_factory.mktemp("lib"), model="test-color")
    stats = svc.index([folder])
    assert stats.indexed == 2 and stats.failed == 0
    yield svc
    svc.close()


@pytest.fixture
def window(qtbot, spoken_library: Service):
    win = MainWindow(spoken_library, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: bool(win.folders()), timeout=10_000)
    yield win
    win.close()


def search(qtbot, win: MainWindow, text: str) -> int:
    with qtbot.waitSignal(win.searchFinished, timeout=10_000) as blocker:
        win.query.clear()
        qtbot.keyClicks(win.query, text)
    return blocker.args[0]


def row_of(win: MainWindow, name: str) -> int:
    return next(i for i, m in enumerate(win.results.moments()) if Path(m.path).name == name)


def test_card_says_what_was_said(qtbot, window: MainWindow) -> None:
    assert search(qtbot, window, PARAPHRASE) >= 1
    top = window.results.moment(0)
    assert Path(top.path).name == "meeting.mp4" and "speech" in top.source
    assert "travel budget" in (top.text or "").lower()
    why = window.results.index(0, 0).data(WhyRole)
    assert why.startswith(f"\u201c{top.text}\u201d")
    assert top.text in window.results.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    silent = row_of(window, "silent.mp4")
    assert window.results.index(silent, 0).data(WhyRole) == "visual"
    # both layouts paint the extra line inside the card
    for grid in (True, False):
        window.set_grid(grid)
        assert not window.view.viewport().grab().isNull()


def test_player_subtitles_and_speech_marks(qtbot, window: MainWindow, spoken_library: Service) -> None:
    assert search(qtbot, window, PARAPHRASE) >= 1
    m = window.results.moment(0)
    expected = next(t for s, e, t in spoken_library.transcript(m.video_id) if s - 0.3 <= m.start < e)
    assert "travel budget" in expected.lower()
    rect = window.view.visualRect(window.results.index(0, 0))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    p = window.player
    qtbot.waitUntil(
        lambda: p.pending_seek() is None and p.player.mediaStatus() != QMediaPlayer.MediaStatus.LoadingMedia,
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: abs(p.player.position() / 1000 - m.start) < 0.5, timeout=5000)
    qtbot.waitUntil(lambda: p.caption() == expected, timeout=5000)
    assert p.cc_btn.isVisible()
    # the subtitle is drawn over the picture: white text near the bottom of the video
    qtbot.waitUntil(lambda: not p.video.image().isNull(), timeout=5000)
    img = p.video.grab().toImage()
    bottom = [img.pixelColor(x, y) for y in range(img.height() * 2 // 3, img.height(), 2)
              for x in range(0, img.width(), 2)]  # fmt: skip
    assert any(c.red() > 230 and c.green() > 230 and c.blue() > 230 for c in bottom)
    # the heat strip marks where the query matched the speech
    assert p.timeline.speech_spans() == [(m.start, m.end)]
    assert p.timeline.speech_text_at((m.start + m.end) / 2) == m.text
    # CC off hides the subtitle; between sentences there is none
    p.cc_btn.setChecked(False)
    assert p.caption() == ""
    p.cc_btn.setChecked(True)
    assert p.caption() == expected
    gap = m.end + 0.7
    p.seek(gap)
    assert p.line_at(gap) == "" and p.caption() == ""
    # a video without speech: no subtitles, no CC button, no speech marks
    window.view.setCurrentIndex(window.results.index(row_of(window, "silent.mp4"), 0))
    qtbot.waitUntil(lambda: window.lib_tasks.pending() == 0, timeout=5000)
    assert p.path().endswith("silent.mp4")
    assert p.transcript() == [] and p.caption() == "" and not p.cc_btn.isVisible()
    assert p.timeline.speech_spans() == []


def test_source_selector_restricts_the_experts(qtbot, window: MainWindow) -> None:
    window.query.setText(PARAPHRASE)
    with qtbot.waitSignal(window.searchFinished, timeout=10_000):
        window.source_filter.setCurrentIndex(window.source_filter.findData("speech"))
    assert window.search_params()["only"] == "speech"
    assert window.results.rowCount() >= 1
    assert all("speech" in m.source for m in window.results.moments())
    with qtbot.waitSignal(window.searchFinished, timeout=10_000):
        window.source_filter.setCurrentIndex(window.source_filter.findData("visual"))
    assert all(m.source == "visual" and not m.text for m in window.results.moments())


# --- without speech: the pieces on their own ------------------------------------------------


def test_why_line_elides_inside_the_quotes() -> None:
    fm = QFontMetrics(QFont())
    long = Moment("/v/a.mp4", 1.0, 4.0, 0.9, 2.0, source="visual+speech", text="word " * 40 + "end.")
    line = why_line(long, fm, 160)
    assert line.startswith("\u201c") and line.endswith("\u201d + visual") and "\u2026" in line
    assert fm.horizontalAdvance(line) <= 160
    short = Moment("/v/a.mp4", 1.0, 4.0, 0.9, 2.0, source="speech", text="Hi there.")
    assert why_line(short, fm, 400) == "\u201cHi there.\u201d"
    assert why_line(Moment("/v/a.mp4", 1.0, 4.0, 0.3, 2.0), fm, 400) == "visual"


def test_subtitle_follows_the_playhead(qtbot) -> None:
    p = PlayerPanel(audio=False, autoplay=False)
    qtbot.addWidget(p)
    assert not p.cc_btn.isVisibleTo(p)
    p.set_transcript([(4.0, 6.0, "Second line."), (1.0, 3.0, "First line."), (5.9, 6.5, "Overlap.")])
    assert p.cc_btn.isVisibleTo(p)
    assert p.line_at(0.5) == ""
    assert p.line_at(0.8) == "First line."  # shown just before it is said
    assert p.line_at(2.9) == "First line."
    assert p.line_at(3.5) == ""
    assert p.line_at(5.7) == "Second line."  # the next one waits until this one is said
    assert p.line_at(6.2) == "Overlap."
    p.set_transcript([])
    assert p.line_at(2.0) == "" and not p.cc_btn.isVisibleTo(p)


def test_timeline_speech_spans(qtbot) -> None:
    t = Timeline()
    qtbot.addWidget(t)
    t.resize(400, t.sizeHint().height())
    t.set_duration(10.0)
    t.set_speech_spans([(6.0, 8.0), (1.0, 2.0)], ["later", "sooner"])
    assert t.speech_spans() == [(1.0, 2.0), (6.0, 8.0)]
    assert t.speech_text_at(7.0) == "later" and t.speech_text_at(4.0) is None
    assert not t.grab().isNull()
    t.clear()
    assert t.speech_spans() == []
