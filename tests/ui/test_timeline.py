"""The scrub bar: marks, heat strip values and clicks that seek or pick a match."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from vsearch.ui.timeline import Timeline, heat_colour


def make(qtbot) -> Timeline:
    tl = Timeline()
    qtbot.addWidget(tl)
    tl.resize(416, tl.sizeHint().height())
    tl.set_duration(10.0)
    tl.show()
    return tl


def test_click_on_track_requests_seek_to_that_time(qtbot) -> None:
    tl = make(qtbot)
    x = round(tl.x_for_time(5.0))
    y = tl.height() - 8
    with qtbot.waitSignal(tl.seekRequested) as blocker:
        qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert abs(blocker.args[0] - 5.0) < 0.1


def test_click_on_mark_activates_that_match(qtbot) -> None:
    tl = make(qtbot)
    tl.set_marks([(1.0, 2.0), (6.0, 8.0)], current=0)
    x = round(tl.x_for_time(7.0))
    y = 4 + Timeline.HEAT_H + 2 + Timeline.MARK_H // 2
    with qtbot.waitSignal(tl.markActivated) as blocker:
        qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert blocker.args == [1]


def test_heat_strip_shows_where_the_query_matches(qtbot) -> None:
    tl = make(qtbot)
    times = np.linspace(0, 10, 101)
    scores = np.where((times >= 4) & (times <= 6), 0.9, 0.1)
    tl.set_curve(times, scores)
    assert tl.has_curve()
    assert tl.curve_value_at(5.0) == 0.9 and tl.curve_value_at(1.0) == 0.1
    img = tl.grab().toImage()
    y = 4 + Timeline.HEAT_H // 2
    hot = img.pixelColor(round(tl.x_for_time(5.0)) + 8, y)
    cold = img.pixelColor(round(tl.x_for_time(1.0)), y)
    assert hot.lightness() > cold.lightness() + 60


def test_heat_colour_ramp_is_monotonic_in_lightness() -> None:
    values = [heat_colour(v / 10).lightness() for v in range(11)]
    assert values == sorted(values)
    assert heat_colour(-1).name() == heat_colour(0).name()
    assert heat_colour(2).name() == heat_colour(1).name()
