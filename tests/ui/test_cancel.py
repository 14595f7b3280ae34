"""Cancel during indexing: the library panel, the status bar and the results agree, and it says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from vsearch.service import Service
from vsearch.ui.main_window import MainWindow

DEVSET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "devset" / "videos"
BATCH = 8


@pytest.mark.skipif(not DEVSET.is_dir(), reason="the dev set (../shared/data/devset) is not here")
def test_cancel_mid_index_leaves_counts_that_agree(qtbot, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    for f in sorted(DEVSET.glob("*.mp4")):
        shutil.copy(f, videos / f.name)
    svc = Service(tmp_path / "lib", model="test-color")
    svc.update_settings(speech=False, ocr=False, batch=BATCH)
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    win.show()
    frames_at_request: list[int] = []

    def on_progress(p: object) -> None:
        # cancel inside the second video, as a user would press Cancel
        if not frames_at_request and getattr(p, "done_files", 0) >= 1:
            frames_at_request.append(svc.library.counts().frames)
            win.library_panel.cancel_btn.click()

    win.indexer.progressed.connect(on_progress)
    try:
        with qtbot.waitSignal(win.indexer.finished, timeout=120_000) as done:
            win.add_folders([str(videos)])
        stats = done.args[0]
        assert stats.cancelled and frames_at_request
        st = svc.status()
        # the indexer checks the token between batches: at most one batch was stored after the request
        assert st.frames - frames_at_request[0] <= BATCH
        assert st.indexed < st.videos == 4
        qtbot.waitUntil(lambda: "cancelled" in win.statusBar().currentMessage(), timeout=10_000)
        msg = win.statusBar().currentMessage()
        top = win.library_panel.tree.topLevelItem(0)
        panel = top.text(0)
        label = win.status_label.text()
        # the same numbers everywhere: Service == panel == status bar (label and message)
        assert f"{st.indexed} of {st.videos} videos indexed" in panel
        assert label.startswith(f"{st.indexed} videos") and f"{st.frames:,} frames" in label
        assert f"{st.indexed} of {st.videos} videos indexed" in msg
        if st.partial:
            assert f"{st.partial} in part" in panel and f"+{st.partial} in part" in label and f"{st.partial} in part" in msg
        waiting = st.pending - st.partial
        assert (f"{waiting} waiting" in panel) == (waiting > 0)
        # what the results show comes from exactly the indexed and the partly indexed videos
        with qtbot.waitSignal(win.searchFinished, timeout=20_000):
            win.query.setText("a person")
        shown = {m.path for m in win.results.moments()}
        rows = svc.library.videos_in_root(svc.library.roots()[0].id).values()
        searchable = {r.path for r in rows if r.status == "indexed"} | {
            r.path for r in rows if r.status == "pending" and svc.library.last_frame_time(r.id, svc.search_model().id) is not None
        }
        assert shown <= searchable and len(searchable) == st.indexed + st.partial
        assert not win.library_panel.progress_box.isVisible()
    finally:
        win.close()
        svc.close()
