"""File > Add shared library: a facility's shared library is attached, remembered and searched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lancedb", reason="facility mode needs vsearch[cluster]")

from tests.helpers.videos import make_video  # noqa: E402
from vsearch.embed.testing import ColorEmbedder  # noqa: E402
from vsearch.frames import SampleOptions, iter_frames  # noqa: E402
from vsearch.probe import probe  # noqa: E402
from vsearch.service import Service  # noqa: E402
from vsearch.store.shared import SharedDataset, SharedVideo, video_key  # noqa: E402
from vsearch.ui.main_window import MainWindow  # noqa: E402


def _shared_library(uri: str, video: Path) -> None:
    """What `vsearch cluster index` writes for one file, written directly (no Ray here)."""
    emb = ColorEmbedder()
    ds = SharedDataset(uri, readonly=False)
    model = ds.ensure_model(emb.model_id, "test-color", emb.dim)
    info = probe(video)
    times, vecs = [], []
    for b in iter_frames(video, info, SampleOptions(short_side=emb.image_size)):
        times.append(b.times)
        vecs.append(emb.embed_images(list(b.images)))
    vid = video_key("/mnt/archive/cluster.mp4")
    t = np.concatenate(times)
    ds.add_frames(model, np.full(len(t), vid), t, np.concatenate(vecs))
    st = video.stat()
    ds.put_videos([SharedVideo(vid, "/mnt/archive/cluster.mp4", st.st_size, st.st_mtime, info.duration,
                               info.fps, info.width, info.height)])
    ds.activate(model)


def test_add_shared_library_then_search_finds_its_moments(qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    local_dir = tmp_path / "Volumes" / "Archive"
    video = make_video(local_dir / "cluster.mp4", segments=[("blue", 2.0), ("red", 2.0)], fps=10, gop=10)
    uri = str(tmp_path / "shared")
    _shared_library(uri, video)
    answers = iter([(uri, True), (f"/mnt/archive={local_dir}", True)])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: next(answers))
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    try:
        assert win.shared_action in win.menuBar().actions()[0].menu().actions()
        win.shared_action.trigger()
        qtbot.waitUntil(lambda: bool(svc._shared), timeout=20_000)
        with qtbot.waitSignal(win.searchFinished, timeout=20_000):
            win.query.setText("red")
        paths = [win.results.moment(i).path for i in range(win.results.rowCount())]
        assert paths and paths[0] == str(video)  # the cluster's path, mapped to this machine
    finally:
        win.close()
        svc.close()
    with Service(tmp_path / "lib", model="test-color") as again:  # remembered by the next start
        assert again.shared_libraries() == [(uri, [f"/mnt/archive={local_dir}"])]
        assert again.search("red", only="visual")[0].path == str(video)


def test_the_shared_libraries_dialog_changes_a_path_map_and_removes_a_library(qtbot, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    local_dir = tmp_path / "Volumes" / "Archive"
    video = make_video(local_dir / "cluster.mp4", segments=[("blue", 2.0), ("red", 2.0)], fps=10, gop=10)
    uri = str(tmp_path / "shared")
    _shared_library(uri, video)
    svc = Service(tmp_path / "lib", model="test-color")
    svc.attach_shared(uri, ["/mnt/archive=/Volumes/Wrong"], remember=True)  # a mount that moved
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    try:
        assert win.manage_shared_action in win.menuBar().actions()[0].menu().actions()
        dlg = win.library_ctrl.manage_shared_libraries()
        qtbot.waitUntil(lambda: dlg.list.count() == 1, timeout=10_000)
        assert "/mnt/archive=/Volumes/Wrong" in dlg.list.item(0).text() and dlg.edit_btn.isEnabled()
        with qtbot.waitSignal(win.searchFinished, timeout=20_000):
            win.query.setText("red")
        assert win.results.moment(0).path == "/Volumes/Wrong/cluster.mp4"  # the old map: not here

        seen: list[str] = []

        def answer(*a, **k):  # noqa: ANN002, ANN003, ANN202
            seen.append(k.get("text", ""))
            return f"/mnt/archive={local_dir}", True

        monkeypatch.setattr(QInputDialog, "getText", answer)
        dlg.edit_btn.click()
        assert seen == ["/mnt/archive=/Volumes/Wrong"]  # the field starts from the current map
        qtbot.waitUntil(lambda: f"/mnt/archive={local_dir}" in dlg.list.item(0).text(), timeout=10_000)
        assert svc.shared_libraries() == [(uri, [f"/mnt/archive={local_dir}"])]
        with qtbot.waitSignal(win.searchFinished, timeout=20_000):
            win.query.setText("red frame")
        assert win.results.moment(0).path == str(video)  # found on this machine now

        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
        dlg.remove_btn.click()
        qtbot.waitUntil(lambda: dlg.list.count() == 0 and dlg.empty.isVisibleTo(dlg), timeout=10_000)
        assert svc.shared_libraries() == [] and not dlg.remove_btn.isEnabled()
        assert svc.search("red", only="visual") == []  # its results left the searches
        dlg.close()
    finally:
        win.close()
        svc.close()
    with Service(tmp_path / "lib", model="test-color") as again:  # forgotten for the next start too
        assert again.shared_libraries() == []
