"""Fixtures for the app's tests: a QApplication for every test, small generated videos.

tests/conftest.py already sets QT_QPA_PLATFORM=offscreen, a temporary VSEARCH_HOME and the gui marker.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.helpers.videos import make_video  # noqa: E402


@pytest.fixture(autouse=True)
def _qapp_for_every_test(qapp):
    """Pixmaps, fonts and the model tester need a QApplication even where no widget is shown.

    As in the app, the cyclic GC runs on the GUI thread only (vsearch/ui/gcguard.py), so that a
    worker thread's collection cannot destroy a widget; tests/conftest.py runs a due collection
    after every test.
    """
    from vsearch.ui import gcguard

    gcguard.install(qapp)
    return qapp


@pytest.fixture(scope="session")
def colour_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s video: 2 s red, 2 s blue, 2 s green (10 fps, keyframe every second)."""
    d = tmp_path_factory.mktemp("videos")
    return make_video(d / "colours.mp4", segments=[("red", 2.0), ("blue", 2.0), ("green", 2.0)], fps=10, gop=10)


@pytest.fixture
def colour_window(qtbot, tmp_path: Path):
    """A shown main window over an empty library with the colour test model (no real model)."""
    from vsearch.service import Service
    from vsearch.ui.main_window import MainWindow

    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    svc.close()
