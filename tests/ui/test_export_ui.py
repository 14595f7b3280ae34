"""Exporting from the app (issue 16.15): remembered folder and format, named from the query, clip mode,
Ctrl+E from the search box, results dragged out as files and an FCPXML timeline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt
from PySide6.QtGui import QKeyEvent

from tests.helpers.videos import make_video
from vsearch.service import Service
from vsearch.ui.main_window import MainWindow


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    make_video(d / "red_blue.mp4", segments=[("red", 2.0), ("blue", 2.0)], fps=10, gop=5)
    make_video(d / "green_red.mp4", segments=[("green", 2.0), ("red", 2.0)], fps=10, gop=5)
    return d


def open_window(qtbot, tmp_path: Path, folder: Path, index: bool = True) -> tuple[MainWindow, Service]:
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False, state_file=tmp_path / "config" / "window.ini")
    qtbot.addWidget(win)
    win.show()
    if index:
        with qtbot.waitSignal(win.indexer.finished, timeout=30_000):
            win.add_folders([str(folder)])
    qtbot.waitUntil(lambda: bool(win.folders()) and win.folders()[0].indexed == 2, timeout=10_000)
    # a restarted window searches its restored query by itself, possibly while the wait above
    # runs: wait for the results, not for a signal that may have come already
    win.query.setText("red car")
    qtbot.waitUntil(lambda: win.results.rowCount() >= 2, timeout=10_000)
    return win, svc


class SaveDialog:
    """Stands in for QFileDialog.getSaveFileName: records what it was offered, answers a path."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.answer: tuple[str, str] = ("", "")

    def __call__(self, _parent, _title, initial, filters, selected="", *_a, **_k):  # noqa: ANN001, ANN204
        self.calls.append((initial, filters, selected))
        return self.answer


@pytest.fixture
def dialog(monkeypatch) -> SaveDialog:
    d = SaveDialog()
    monkeypatch.setattr("vsearch.ui.controllers.export.QFileDialog.getSaveFileName", d)
    return d


def test_named_from_the_query_and_the_last_folder_and_format_are_remembered(
    qtbot, tmp_path: Path, folder: Path, dialog: SaveDialog
) -> None:
    win, svc = open_window(qtbot, tmp_path, folder)
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    try:
        win.export_action.trigger()
        qtbot.waitUntil(lambda: bool(dialog.calls), timeout=10_000)
        initial, filters, selected = dialog.calls[-1]
        assert Path(initial).name == "vsearch-red-car.csv"  # named from the query
        edl = next(f for f in filters.split(";;") if "*.edl" in f and "EDL" in f and "marker" not in f.lower())
        # the user picks EDL in another folder, keeping the suggested name: the name follows the format
        dialog.answer = (str(out_dir / "vsearch-red-car.csv"), edl)
        win.export_action.trigger()
        qtbot.waitUntil(lambda: (out_dir / "vsearch-red-car.edl").exists(), timeout=10_000)
        assert "TITLE:" in (out_dir / "vsearch-red-car.edl").read_text(encoding="utf-8")
        # exporting over the file again: the dialog asked already, no "exists" error
        win.export_action.trigger()
        qtbot.waitUntil(lambda: len(dialog.calls) == 3 and win.lib_tasks.pending() == 0, timeout=10_000)
        assert win.last_error == ""
    finally:
        win.close()
        svc.close()
    # a restart opens the dialog in that folder, on that format
    win, svc = open_window(qtbot, tmp_path, folder, index=False)
    try:
        dialog.answer = ("", "")
        win.export_action.trigger()
        qtbot.waitUntil(lambda: len(dialog.calls) == 4, timeout=10_000)
        initial, _filters, selected = dialog.calls[-1]
        assert Path(initial) == out_dir / "vsearch-red-car.edl" and selected == edl
    finally:
        win.close()
        svc.close()


def test_clips_ask_stream_copy_or_re_encode(qtbot, tmp_path: Path, folder: Path, dialog: SaveDialog,
                                           monkeypatch) -> None:  # fmt: skip
    win, svc = open_window(qtbot, tmp_path, folder)
    asked: list[bool] = []
    monkeypatch.setattr(win.export_ctrl, "ask_clip_mode", lambda: asked.append(True) or "reencode")
    calls: list[dict] = []
    real = svc.export
    monkeypatch.setattr(svc, "export", lambda *a, **k: (a[1] == "clips" and calls.append(k)) or real(*a, **k))
    try:
        win.view.setCurrentIndex(win.results.index(0, 0))
        out = tmp_path / "clips"
        win.export_action.trigger()  # answered "" (cancelled): only to learn the filters
        qtbot.waitUntil(lambda: bool(dialog.calls), timeout=10_000)
        assert not calls
        dialog.answer = (str(out), next(f for f in dialog.calls[-1][1].split(";;") if f.endswith("(*)")))
        win.export_action.trigger()
        qtbot.waitUntil(lambda: bool(calls) and win.lib_tasks.pending() == 0, timeout=30_000)
        assert asked and calls[-1]["clip_mode"] == "reencode"
        assert sorted(p.suffix for p in out.iterdir()) == [".mp4"]
        # cancelling the question exports nothing
        monkeypatch.setattr(win.export_ctrl, "ask_clip_mode", lambda: None)
        n = len(calls)
        win.export_action.trigger()
        qtbot.waitUntil(lambda: len(dialog.calls) == 3, timeout=10_000)
        qtbot.wait(200)
        assert len(calls) == n
    finally:
        win.close()
        svc.close()


class X11LineEditKeys(QObject):
    """Claims Ctrl+E for the line edit, as QLineEdit does under X11's key bindings (end of line)."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_E and event.modifiers() == Qt.KeyboardModifier.ControlModifier:
                event.accept()
        return False


def test_ctrl_e_works_while_the_search_box_has_focus(qtbot, tmp_path: Path, folder: Path,
                                                     dialog: SaveDialog) -> None:  # fmt: skip
    win, svc = open_window(qtbot, tmp_path, folder)
    claimer = X11LineEditKeys()
    try:
        win.activateWindow()
        win.query.setFocus()
        assert win.query.hasFocus()
        qtbot.keyClick(win.query, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: len(dialog.calls) == 1, timeout=10_000)
        # where the platform binds Ctrl+E in line edits (X11: end of line), the window still gets it
        win.query.installEventFilter(claimer)  # runs before the window's own filter
        qtbot.keyClick(win.query, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: len(dialog.calls) == 2, timeout=10_000)
        assert win.query.text() == "red car"
    finally:
        win.query.removeEventFilter(claimer)
        win.close()
        svc.close()


def test_results_drag_out_as_files_and_an_fcpxml_timeline(qtbot, tmp_path: Path, folder: Path) -> None:
    win, svc = open_window(qtbot, tmp_path, folder)
    try:
        model, sel = win.results, win.view.selectionModel()
        rows = [0, 1]
        for r in rows:
            sel.select(model.index(r, 0), QItemSelectionModel.SelectionFlag.Select)
        chosen = win.selected_moments()
        qtbot.waitUntil(lambda: model.drag_file() is not None and model.drag_file()[0] == tuple(chosen),
                        timeout=10_000)  # fmt: skip
        assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled
        assert win.view.dragEnabled()
        data = model.mimeData([model.index(r, 0) for r in rows])
        files = [u.toLocalFile() for u in data.urls()]
        videos = list(dict.fromkeys(m.path for m in chosen))
        assert files[: len(videos)] == videos
        timeline = Path(files[-1])
        assert timeline.suffix == ".fcpxml" and timeline.name == "vsearch-red-car.fcpxml"
        root = ET.parse(timeline).getroot()
        assert root.tag == "fcpxml"
        assert len(root.findall(".//asset-clip")) + len(root.findall(".//clip")) >= len(chosen)
        assert chosen[0].path.split("/")[-1] in data.text()
        # another selection: the old timeline is not carried for it
        sel.select(model.index(0, 0), QItemSelectionModel.SelectionFlag.Deselect)
        data = model.mimeData([model.index(1, 0)])
        assert [Path(u.toLocalFile()).suffix for u in data.urls()] == [".mp4"]
    finally:
        win.close()
        svc.close()


@pytest.mark.parametrize("choice", ["Stream copy", "Re-encode", "Cancel"])
def test_the_clip_question_offers_both_modes_and_says_what_each_costs(qtbot, tmp_path: Path, folder: Path,
                                                                      choice: str) -> None:  # fmt: skip
    """The real question box (not patched): both modes, what each does, Cancel; the answer is what was clicked."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    win, svc = open_window(qtbot, tmp_path, folder)
    seen: dict[str, object] = {}

    def answer() -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        texts = [b.text() for b in box.buttons()]
        seen["buttons"], seen["info"] = texts, box.informativeText()
        button = next(b for b in box.buttons() if b.text().replace("&", "").startswith(choice))
        button.click()

    try:
        QTimer.singleShot(300, answer)
        mode = win.export_ctrl.ask_clip_mode()
        assert any(t.startswith("Stream copy") for t in seen["buttons"])  # type: ignore[union-attr]
        assert any(t.startswith("Re-encode") for t in seen["buttons"])  # type: ignore[union-attr]
        assert "keyframe" in str(seen["info"]) and "exactly" in str(seen["info"])
        assert mode == {"Stream copy": "copy", "Re-encode": "reencode", "Cancel": None}[choice]
    finally:
        win.close()
        svc.close()
