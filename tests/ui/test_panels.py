"""Library panel (folders, failures, progress text, drops) and settings dialog (only changed values)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from vsearch.config import Settings
from vsearch.service import FileError, FolderStatus
from vsearch.types import Progress
from vsearch.ui.helpers import local_folders
from vsearch.ui.library_panel import LibraryPanel
from vsearch.ui.settings_dialog import SettingsDialog


def test_folders_show_counts_and_failed_files(qtbot) -> None:
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    assert panel.empty_hint.isVisibleTo(panel) and not panel.tree.isVisibleTo(panel)
    f = FolderStatus(path="/media/holiday", videos=5, indexed=3, failed=1, pending=1, frames=120, online=True)
    gone = FolderStatus(path="/mnt/usb", videos=2, indexed=2, failed=0, pending=0, frames=40, online=False)
    panel.set_folders([f, gone], {f.path: [FileError("/media/holiday/x.mp4", "not a video file")]})
    top = panel.tree.topLevelItem(0)
    assert "holiday" in top.text(0) and "3 of 5 videos indexed" in top.text(0)
    assert "1 waiting" in top.text(0) and "1 failed" in top.text(0)
    assert "x.mp4" in top.child(0).text(0) and "not a video file" in top.child(0).text(0)
    assert "offline" in panel.tree.topLevelItem(1).text(0)
    assert panel.folder_paths() == ["/media/holiday", "/mnt/usb"]


def test_progress_shows_rate_eta_and_pause_state(qtbot) -> None:
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    panel.set_busy(True)
    panel.set_progress(Progress("index", 2, 8, 30.0, 120.0, "/v/clip.mp4", rate=4.5, eta=75.0))
    text = panel.progress_label.text()
    assert (
        "clip.mp4" in text and "2 of 8 videos" in text and "4.5× real time" in text and "1 min 15 s" in text
    )
    assert panel.progress.value() == 250
    with qtbot.waitSignal(panel.pauseRequested):
        panel.pause_btn.click()
    panel.set_paused(True)
    assert panel.pause_btn.text() == "Resume"
    with qtbot.waitSignal(panel.resumeRequested):
        panel.pause_btn.click()
    with qtbot.waitSignal(panel.cancelRequested):
        panel.cancel_btn.click()


def test_dropping_a_folder_asks_to_add_it(qtbot, tmp_path: Path) -> None:
    panel = LibraryPanel()
    qtbot.addWidget(panel)
    (tmp_path / "clip.mp4").write_bytes(b"")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path)), QUrl("https://example.com/x.mp4")])
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(panel.addRequested) as blocker:
        panel.dropEvent(event)
    assert blocker.args == [[str(tmp_path)]]
    assert local_folders([QUrl.fromLocalFile(str(tmp_path / "clip.mp4"))]) == [str(tmp_path)]


def test_settings_dialog_reports_only_changes(qtbot) -> None:
    class M:
        def __init__(self, name: str, present: bool) -> None:
            self.name, self.present, self.description, self.speed = name, present, f"{name} model", "fast"

    s = Settings(model="starter", interval=1.0)
    dlg = SettingsDialog(s, [M("starter", True), M("balanced", False)], "/lib")
    qtbot.addWidget(dlg)
    assert dlg.changes() == {}
    dlg.interval.setValue(2.5)
    dlg.model.setCurrentIndex(dlg.model.findData("balanced"))
    assert "not on this machine" in dlg.model_hint.text().lower()
    dlg.device.setCurrentIndex(dlg.device.findData("cpu"))
    dlg.precision.setCurrentIndex(dlg.precision.findData("fp32"))
    assert dlg.changes() == {"interval": 2.5, "model": "balanced", "device": "cpu", "precision": "fp32"}
