"""Fixtures for the app's tests: offscreen Qt, a temporary vsearch home, small generated videos."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests.helpers.videos import make_video  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _vsearch_home(qapp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every app test gets a QApplication and its own VSEARCH_HOME (settings, logs, cache)."""
    home = tmp_path / "home"
    monkeypatch.setenv("VSEARCH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def colour_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s video: 2 s red, 2 s blue, 2 s green (10 fps, keyframe every second)."""
    d = tmp_path_factory.mktemp("videos")
    return make_video(
        d / "colours.mp4", segments=[("red", 2.0), ("blue", 2.0), ("green", 2.0)], fps=10, gop=10
    )
