"""The player opens a moment at its start (pending seek), plays just the moment, and steps through matches."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer

from vsearch.types import Moment
from vsearch.ui.player import PlayerPanel


def moment(path: Path, start: float, end: float) -> Moment:
    return Moment(
        path=str(path), start=start, end=end, score=0.3, best_time=start + 0.5, duration=6.0, fps=10.0
    )


def make(qtbot, **kw) -> PlayerPanel:
    p = PlayerPanel(audio=False, **kw)
    qtbot.addWidget(p)
    p.resize(640, 480)
    p.show()
    return p


def loaded(p: PlayerPanel) -> bool:
    return p.pending_seek() is None and p.player.mediaStatus() in (
        QMediaPlayer.MediaStatus.LoadedMedia,
        QMediaPlayer.MediaStatus.BufferedMedia,
        QMediaPlayer.MediaStatus.BufferingMedia,
    )


def test_opens_at_the_moments_start_and_shows_that_frame(qtbot, colour_video: Path) -> None:
    p = make(qtbot, autoplay=False)
    p.open_moment(moment(colour_video, 3.0, 4.0))
    assert p.pending_seek() == 3.0  # kept while the media loads
    qtbot.waitUntil(lambda: loaded(p), timeout=5000)
    qtbot.waitUntil(lambda: abs(p.player.position() / 1000 - 3.0) < 0.5, timeout=5000)
    qtbot.waitUntil(lambda: not p.video.image().isNull(), timeout=5000)
    img = p.video.image()
    c = img.pixelColor(2, img.height() - 3)
    assert c.blue() > 150 and c.red() < 90, c.name()  # the blue segment
    assert abs(p.timeline.duration() - 6.0) < 0.3


def test_play_moment_stops_at_its_end(qtbot, colour_video: Path) -> None:
    p = make(qtbot, autoplay=False)
    p.open_moment(moment(colour_video, 1.0, 1.6))
    qtbot.waitUntil(lambda: loaded(p), timeout=5000)
    p.play_moment()
    qtbot.waitUntil(lambda: p.player.playbackState() == QMediaPlayer.PlaybackState.PausedState, timeout=5000)
    assert 1.5 <= p.player.position() / 1000 <= 2.2


def test_n_and_p_walk_the_matches_then_hand_over(qtbot, colour_video: Path) -> None:
    p = make(qtbot, autoplay=False)
    m = moment(colour_video, 0.5, 1.0)
    p.open_moment(m, marks=[(0.5, 1.0), (4.5, 5.0)])
    qtbot.waitUntil(lambda: loaded(p), timeout=5000)
    with qtbot.waitSignal(p.currentMarkChanged) as blocker:
        qtbot.keyClick(p, Qt.Key.Key_N)
    assert blocker.args == [1]
    qtbot.waitUntil(lambda: abs(p.position() - 4.5) < 0.5, timeout=3000)
    with qtbot.waitSignal(p.matchesExhausted) as blocker:
        qtbot.keyClick(p, Qt.Key.Key_N)
    assert blocker.args == [1]
    qtbot.keyClick(p, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: abs(p.position() - 0.5) < 0.5, timeout=3000)


def test_space_toggles_playback(qtbot, colour_video: Path) -> None:
    p = make(qtbot, autoplay=False)
    p.open_moment(moment(colour_video, 0.0, 1.0))
    qtbot.waitUntil(lambda: loaded(p), timeout=5000)
    qtbot.keyClick(p, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: p.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState, timeout=3000)
    qtbot.keyClick(p, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: p.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState, timeout=3000)


def test_unplayable_file_shows_a_message(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video" * 100)
    p = make(qtbot, autoplay=False)
    with qtbot.waitSignal(p.errorOccurred, timeout=5000):
        p.open_moment(moment(bad, 0.0, 1.0))
    assert p.message.isVisibleTo(p)
