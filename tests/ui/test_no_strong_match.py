"""The app says when a query matches nothing well (issue 17.4): calibrated scores below the
strong-match confidence put "no strong match" beside the count; real widgets, offscreen."""

from __future__ import annotations

from vsearch.types import Moment
from vsearch.ui.main_window import MainWindow


def _moments(best: float) -> list[Moment]:
    return [Moment(f"/nowhere/v{i}.mp4", float(i), i + 2.0, best - i / 100, i + 1.0, fps=25.0, duration=60.0) for i in range(3)]


def test_weak_results_say_no_strong_match_and_strong_ones_do_not(qtbot, colour_window: MainWindow, monkeypatch) -> None:
    window = colour_window
    answers = {"weak": _moments(0.3), "strong": _moments(0.9)}
    monkeypatch.setattr(window.service, "search", lambda text, **_k: answers[text])
    with qtbot.waitSignal(window.searchFinished, timeout=5000):
        window.query.setText("weak")
    assert window.count_label.text() == "3 moments in 3 videos \u00b7 no strong match"
    with qtbot.waitSignal(window.searchFinished, timeout=5000):
        window.query.setText("strong")
    assert window.count_label.text() == "3 moments in 3 videos"
