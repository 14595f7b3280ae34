"""The app reaches the core only through the Service, only as AppService lists it, never on the GUI thread."""

from __future__ import annotations

import ast
import inspect
import threading
from pathlib import Path

import vsearch.ui
from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.ui import controllers
from vsearch.ui.main_window import MainWindow
from vsearch.ui.protocols import AppService
from vsearch.ui.settings_dialog import SettingsDialog

UI_DIR = Path(vsearch.ui.__file__).parent
#: What vsearch/ui may import of the core at run time: the facade and the shared values and helpers.
ALLOWED_CORE = {"vsearch", "vsearch.service", "vsearch.types", "vsearch.errors", "vsearch.log",
                "vsearch.timefmt", "vsearch.paths"}  # fmt: skip


def protocol_members() -> set[str]:
    return {n for n in dir(AppService) if not n.startswith("_")} | set(AppService.__annotations__)


def ui_sources() -> list[Path]:
    return sorted(UI_DIR.rglob("*.py"))


def test_service_satisfies_the_protocol(tmp_path: Path) -> None:
    members = protocol_members()
    assert {"search", "index", "models", "update_settings", "export", "settings", "dirs"} <= members
    svc = Service(tmp_path / "lib", model="test-color")
    try:
        assert isinstance(svc, AppService)
        for name in members - set(AppService.__annotations__):
            want = inspect.signature(getattr(AppService, name))
            have = inspect.signature(getattr(Service, name))
            for p in want.parameters.values():
                if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self":
                    assert p.name in have.parameters or any(
                        q.kind is q.VAR_KEYWORD for q in have.parameters.values()
                    ), f"Service.{name} has no parameter {p.name}"
    finally:
        svc.close()


def test_the_ui_uses_only_what_the_protocol_lists() -> None:
    members = protocol_members() | {"dirs.library", "dirs.logs"}
    used: dict[str, str] = {}
    for path in ui_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
                base = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
                if base in {"service", "svc", "_service"}:
                    used[node.attr] = path.name
    assert used, "the scan found no service calls at all"
    unknown = {n: f for n, f in used.items() if n not in members}
    assert not unknown, f"vsearch/ui uses Service members that AppService does not list: {unknown}"


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Modules imported by *tree*, leaving out ``if TYPE_CHECKING:`` blocks (annotations only)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return out


def test_the_ui_imports_only_the_service_and_shared_values_of_the_core() -> None:
    bad = []
    for path in ui_sources():
        for mod in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if mod.startswith("vsearch") and not mod.startswith("vsearch.ui") and mod not in ALLOWED_CORE:
                bad.append(f"{path.relative_to(UI_DIR)}: {mod}")
    assert not bad, bad
    assert Path(controllers.__file__).parent.is_dir()


class ThreadRecorder:
    """Wraps a Service; every method call is recorded with whether it ran on the GUI thread."""

    def __init__(self, service: Service) -> None:
        self._svc = service
        self.calls: list[tuple[str, bool]] = []
        self._lock = threading.Lock()

    def __getattr__(self, name: str):  # noqa: ANN204
        value = getattr(self._svc, name)
        if not callable(value):
            return value

        def call(*args, **kwargs):  # noqa: ANN202
            with self._lock:
                self.calls.append((name, threading.current_thread() is threading.main_thread()))
            return value(*args, **kwargs)

        return call


def test_no_service_call_runs_on_the_gui_thread(qtbot, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "videos"
    make_video(folder / "red_blue.mp4", segments=[("red", 2.0), ("blue", 1.5)], fps=10, gop=5)
    svc = Service(tmp_path / "lib", model="test-color")
    rec = ThreadRecorder(svc)
    win = MainWindow(rec, autoplay=False, audio=False)  # type: ignore[arg-type]
    qtbot.addWidget(win)
    win.show()
    try:
        with qtbot.waitSignal(win.indexer.finished, timeout=30_000):
            win.add_folders([str(folder)])
        qtbot.waitUntil(lambda: bool(win.folders()) and win.folders()[0].indexed == 1, timeout=10_000)
        with qtbot.waitSignal(win.searchFinished, timeout=10_000):
            win.query.setText("red")
        win.view.setCurrentIndex(win.results.index(0, 0))  # player: curve and transcript
        qtbot.waitUntil(win.player.timeline.has_curve, timeout=10_000)
        # export through the dialog (the formats are read first), with the file dialog answered
        out = tmp_path / "moments.csv"
        monkeypatch.setattr(
            "vsearch.ui.controllers.export.QFileDialog.getSaveFileName",
            lambda *a, **k: (str(out), "CSV table (*.csv)"),
        )
        win.export_action.trigger()
        qtbot.waitUntil(out.exists, timeout=10_000)
        # settings: the dialog opens with the model list (answered "Cancel"); then a change is saved
        opened: list[SettingsDialog] = []
        monkeypatch.setattr(SettingsDialog, "exec", lambda self: opened.append(self) or 0)
        win.settings_action.trigger()
        qtbot.waitUntil(lambda: bool(opened), timeout=60_000)  # the first models() imports open_clip: seconds
        assert opened[0].model.findData("test-color") >= 0 or opened[0].model.count() > 1
        with qtbot.waitSignal(win.settings_ctrl.saved, timeout=5000):
            win.apply_settings({"interval": 2.5})
        qtbot.waitUntil(
            lambda: win.lib_tasks.pending() == 0 and win.search_tasks.pending() == 0, timeout=10_000
        )
    finally:
        win.close()
        svc.close()
    names = {n for n, _ in rec.calls}
    assert {"index", "search", "similarity_curve", "thumbnail", "folders", "status", "export_formats",
            "export", "models", "update_settings"} <= names  # fmt: skip
    on_gui = sorted({n for n, gui in rec.calls if gui})
    assert on_gui == [], f"Service calls on the GUI thread: {on_gui}"
