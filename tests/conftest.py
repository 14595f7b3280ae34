"""Test-wide setup: offline, offscreen, a temporary vsearch home per test, markers by folder."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Module- and session-scoped fixtures run before the per-test home below: without a home of their
# own they read (and write) the real ~/.config/vsearch, whose settings (speech = false, say) then
# change what those fixtures index.
os.environ["VSEARCH_HOME"] = tempfile.mkdtemp(prefix="vsearch-test-home-")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _vsearch_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own VSEARCH_HOME, so nothing touches the user's real library."""
    home = tmp_path_factory.mktemp("vsearch-home")
    monkeypatch.setenv("VSEARCH_HOME", str(home))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/ui/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.gui)
