"""Test-wide setup: offline, offscreen, a temporary vsearch home per test, markers by folder.

On-screen text (the OCR stage) is off in the temporary home's settings (``ocr = false``, what a
user gets from the app's setting or ``vsearch index --no-ocr``): most indexing tests do not look
at screen text, and reading it was most of their indexing time. Tests that need it get the
default (on): those marked ``@pytest.mark.ocr``, every test in a file whose name mentions
``ocr``, ``screen_text`` or ``text_expert`` or that uses tests/helpers/screen_text.py (it burns
text into its videos), and the quality tests (tests/quality/: the bars hold at default settings).
``VSEARCH_TEST_OCR=1`` turns it on for every test (what the suite did before: to measure what
OCR costs it, or to run everything at default settings). Module-scoped fixtures (a library
indexed once for a module) run before any test's home exists, so each module also gets a home
of its own, with the same rule.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Module- and session-scoped fixtures run before the per-test home below: without a home of their
# own they read (and write) the real ~/.config/vsearch, whose settings (speech = false, say) then
# change what those fixtures index. (Module-scoped ones get a module home, _module_home below.)
os.environ["VSEARCH_HOME"] = tempfile.mkdtemp(prefix="vsearch-test-home-")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

_OCR_FILES = ("ocr", "screen_text", "text_expert")


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Once the app's tests have moved the cyclic GC onto the GUI thread (vsearch/ui/gcguard.py),
    later tests would never collect: a due collection runs after each of them too."""
    import sys

    guard = sys.modules.get("vsearch.ui.gcguard")
    if guard is not None:
        guard.collect_now()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "ocr: reads on-screen text while indexing (the OCR stage is off otherwise)")


def _burns_text(module: object) -> bool:
    """The module uses tests/helpers/screen_text.py (it burns text into videos: it wants it read)."""
    return any(getattr(v, "__module__", None) == "tests.helpers.screen_text" for v in vars(module).values())


def wants_ocr(node: pytest.Item | pytest.Module, module: object = None) -> bool:
    """Whether a test (or a whole module) runs with the OCR stage on (see the module docstring)."""
    path = str(node.fspath).replace(os.sep, "/")
    name = os.path.basename(path)
    return (
        os.environ.get("VSEARCH_TEST_OCR") == "1"
        or node.get_closest_marker("ocr") is not None
        or any(w in name for w in _OCR_FILES)
        or "/tests/quality/" in path
        or (module is not None and _burns_text(module))
    )


def _new_home(tmp_path_factory: pytest.TempPathFactory, ocr: bool) -> str:
    home = tmp_path_factory.mktemp("vsearch-home")
    if not ocr:
        (home / "config").mkdir()
        (home / "config" / "settings.toml").write_text("ocr = false\n", encoding="utf-8")
    return str(home)


@pytest.fixture(autouse=True, scope="module")
def _module_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The home module-scoped fixtures see (they run before any test's own home is set)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSEARCH_HOME", _new_home(tmp_path_factory, wants_ocr(request.node, request.module)))
        yield


@pytest.fixture(autouse=True)
def _vsearch_home(
    _module_home: None,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every test gets its own VSEARCH_HOME, so nothing touches the user's real library."""
    monkeypatch.setenv("VSEARCH_HOME", _new_home(tmp_path_factory, wants_ocr(request.node, request.module)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/ui/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.gui)
