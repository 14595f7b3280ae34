"""Start-up of the app: the model's text tower loads in the background, before the first search."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject

from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.ui import main_window
from vsearch.ui.main_window import WARM_UP_MESSAGE, MainWindow


@pytest.fixture(scope="module")
def starter_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("start")
    make_video(root / "videos" / "a.mp4", segments=[("red", 2.0), ("blue", 2.0)])
    # a home of its own: the settings written here must not reach the session's other fixtures
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSEARCH_HOME", str(root / "home"))
        with Service(root / "lib", model="starter") as svc:
            svc.update_settings(speech=False, ocr=False)
            assert svc.index([root / "videos"]).indexed == 1
    return root / "lib"


def test_the_text_tower_loads_at_start_and_a_query_typed_meanwhile_waits(
    qtbot, starter_library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = Service(starter_library)
    svc.update_settings(speech=False, ocr=False)
    real_warm_up = svc.warm_up
    gate = threading.Event()
    ran_on: list[threading.Thread] = []

    def slow_warm_up() -> bool:  # the real warm-up, held until the test lets it go
        ran_on.append(threading.current_thread())
        gate.wait(30)
        return real_warm_up()

    monkeypatch.setattr(svc, "warm_up", slow_warm_up)
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: bool(ran_on), timeout=5000)
        assert ran_on[0] is not threading.main_thread()
        assert svc.models_built == []  # still loading (held): nothing built on the GUI thread
        searched: list[int] = []
        win.searchFinished.connect(searched.append)
        qtbot.keyClicks(win.query, "a red wall")  # the GUI takes keys while the model loads
        assert win.query.text() == "a red wall"
        qtbot.wait(600)  # past the debounce: the search is queued behind the warm-up
        assert searched == [] and win.count_label.text() == "Searching…"
        gate.set()
        qtbot.waitUntil(lambda: bool(searched), timeout=30_000)
        assert searched[0] >= 1
        assert svc.models_built == ["starter"]  # loaded once, by the warm-up
    finally:
        gate.set()
        win.close()
        svc.close()


class _Paints(QObject):
    """Records when a widget paints."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.times.append(time.perf_counter())
        return False


def _held_warm_up(svc: Service, monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, list[float]]:
    real_warm_up = svc.warm_up
    gate = threading.Event()
    started: list[float] = []

    def held() -> bool:
        started.append(time.perf_counter())
        gate.wait(30)
        return real_warm_up()

    monkeypatch.setattr(svc, "warm_up", held)
    return gate, started


def test_the_index_loads_after_the_window_has_painted_and_the_status_bar_says_so(
    qtbot, starter_library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hnswlib holds Python's lock while it loads a large index: a window that had not painted
    # before the load stayed blank for as long (docs/PERFORMANCE.md)
    svc = Service(starter_library)
    gate, started = _held_warm_up(svc, monkeypatch)
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    paints = _Paints()
    win.query.installEventFilter(paints)
    refreshed: list[float] = []
    win.libraryRefreshed.connect(lambda: refreshed.append(time.perf_counter()))
    try:
        qtbot.wait(300)
        assert started == []  # not on screen yet: nothing is loaded
        win.show()
        qtbot.waitUntil(lambda: bool(started), timeout=5000)
        assert paints.times and paints.times[0] < started[0]
        # the folder list was read (and painted) first: not "No folders yet" during the load
        assert refreshed and refreshed[0] < started[0] and win.library_ctrl.folders()
        assert win.statusBar().currentMessage() == WARM_UP_MESSAGE
        gate.set()
        qtbot.waitUntil(lambda: win.statusBar().currentMessage() == "", timeout=30_000)
    finally:
        gate.set()
        win.close()
        svc.close()


def test_a_window_that_is_not_shown_still_loads_the_index(
    qtbot, starter_library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main_window, "WARM_UP_AFTER_MS", 200)
    svc = Service(starter_library)
    gate, started = _held_warm_up(svc, monkeypatch)
    gate.set()
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: bool(started), timeout=5000)
        qtbot.waitUntil(lambda: svc.models_built == ["starter"], timeout=30_000)
    finally:
        win.close()
        svc.close()


def test_warm_up_loads_the_text_tower_and_the_index(starter_library: Path) -> None:
    with Service(starter_library) as svc:
        assert svc.warm_up()
        emb = svc.embedder("starter")
        assert emb._text_model is not None  # type: ignore[attr-defined]
        assert emb._classifier is None  # type: ignore[attr-defined]  # a search needs no image tower


def test_warm_up_of_an_empty_library_loads_nothing(tmp_path: Path) -> None:
    with Service(tmp_path / "lib") as svc:
        assert svc.warm_up() is False
        assert svc.models_built == []
