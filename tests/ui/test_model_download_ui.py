"""Models in the app: the settings list sizes, Download (progress, cancel, resume, checksum), Import.

Downloads go to the local hub of tests/helpers/hub.py (``HF_ENDPOINT`` at 127.0.0.1), which
serves a randomly initialised tiny open_clip model as ``tiny_clip/hubtest``. The app's own
HF_HUB_OFFLINE default is in force, as when the app runs: only the explicit Download reaches out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tests.helpers import hub
from vsearch.embed.registry import ModelStatus
from vsearch.service import Service
from vsearch.ui.main_window import MainWindow
from vsearch.ui.settings_dialog import SettingsDialog

KEY = f"{hub.REPO}/{hub.FILE}"
TINY = ModelStatus(hub.NAME, "tiny random CLIP for tests, served by a local hub", 6, False, "", "preset")


@pytest.fixture(scope="module")
def checkpoint() -> bytes:
    return hub.tiny_checkpoint()


@pytest.fixture
def online(checkpoint: bytes, monkeypatch: pytest.MonkeyPatch) -> Iterator[hub.HubServer]:
    import huggingface_hub.constants
    from open_clip import pretrained

    from vsearch.embed.arch import TINY_ARCH, ensure_bundled_configs

    ensure_bundled_configs()
    with hub.HubServer({KEY: checkpoint}) as srv:
        # offline as the app sets it by default; the app's mark lets the explicit download through
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        monkeypatch.setenv("VSEARCH_APP_SET_OFFLINE", "1")
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 64 << 10)
        monkeypatch.setenv("HF_ENDPOINT", srv.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        tags = dict(pretrained._PRETRAINED.get(TINY_ARCH, {}))
        tags[hub.TAG] = pretrained._pcfg(hf_hub=f"{hub.REPO}/")
        monkeypatch.setitem(pretrained._PRETRAINED, TINY_ARCH, tags)
        yield srv


@pytest.fixture
def app(qtbot, tmp_path: Path) -> Iterator[tuple[MainWindow, SettingsDialog, Service]]:
    svc = Service(tmp_path / "lib", model="test-color")
    win = MainWindow(svc, autoplay=False, audio=False)
    qtbot.addWidget(win)
    dlg = win.settings_ctrl.make_dialog([*Service.models(), TINY])
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.select_model(hub.NAME)
    yield win, dlg, svc
    win.close()
    svc.close()


def _parts(svc: Service) -> list[Path]:
    return list((svc.dirs.models / "hf").rglob("*.vsearch-part"))


def test_presets_are_listed_with_their_size(app) -> None:
    _win, dlg, _svc = app
    labels = [dlg.model.itemText(i) for i in range(dlg.model.count())]
    assert any(t.startswith("balanced  (605 MB, not downloaded)") for t in labels), labels
    assert f"{hub.NAME}  (6 MB, not downloaded)" in labels
    assert dlg.download_btn.isVisible() and not dlg.cancel_download_btn.isVisible()


def test_the_model_description_is_not_clipped(app, qtbot) -> None:
    _win, dlg, _svc = app
    dlg.select_model("best")
    qtbot.wait(50)
    hint = dlg.model_hint
    assert hint.wordWrap() and "Download fetches" in hint.text()
    assert hint.height() >= hint.heightForWidth(hint.width())  # every wrapped line shows


def test_download_reaches_100_percent_and_lists_the_model_downloaded(app, online, qtbot, checkpoint) -> None:
    win, dlg, svc = app
    with qtbot.waitSignal(win.settings_ctrl.downloadFinished, timeout=60_000) as done:
        qtbot.mouseClick(dlg.download_btn, Qt.MouseButton.LeftButton)
    assert done.args == [hub.NAME, True]
    assert dlg.download_bar.value() == 1000
    assert "downloaded and verified" in dlg.download_label.text()
    assert dlg.model.currentData() == hub.NAME and "not downloaded" not in dlg.model.currentText()
    assert not dlg.download_btn.isVisible()
    assert dlg.changes() == {"model": hub.NAME}  # OK switches to it
    assert [r.range for r in online.gets()] == [None] and not _parts(svc)


def test_a_slow_download_shows_its_speed_and_time_left(app, online, qtbot) -> None:
    win, dlg, _svc = app
    online.state.pace = 0.02  # ~100 chunks of 64 KB: about two seconds
    seen: list[str] = []
    win.settings_ctrl.downloadProgressed.connect(lambda *_a: seen.append(dlg.download_label.text()))
    with qtbot.waitSignal(win.settings_ctrl.downloadFinished, timeout=60_000) as done:
        qtbot.mouseClick(dlg.download_btn, Qt.MouseButton.LeftButton)
    assert done.args == [hub.NAME, True]
    shown = [t for t in seen if "MB/s" in t and "s left" in t]
    assert shown, seen[-3:]
    assert re.fullmatch(r"[\d.]+ of [\d.]+ MB \(\d+ %\) · [\d.]+ MB/s · about \d+ s left", shown[0]), shown[0]


def test_cancel_keeps_the_old_model_and_download_resumes_from_the_partial_bytes(
    app, online, qtbot, checkpoint
) -> None:
    win, dlg, svc = app
    ctrl = win.settings_ctrl

    def press_cancel_at_a_third(done: int, total: int) -> None:  # on the download thread
        if done >= total // 3:
            ctrl.cancel_download()

    ctrl._downloadProgressed.connect(press_cancel_at_a_third, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(ctrl.downloadFinished, timeout=60_000) as done:
        qtbot.mouseClick(dlg.download_btn, Qt.MouseButton.LeftButton)
    ctrl._downloadProgressed.disconnect(press_cancel_at_a_third)
    assert done.args == [hub.NAME, False]
    assert "cancelled" in dlg.download_label.text() and "\n" not in dlg.download_label.text()
    [part] = _parts(svc)
    have = part.stat().st_size
    assert 0 < have < len(checkpoint)
    assert dlg.changes() == {"model": hub.NAME} and svc.settings.model == ""  # nothing switched
    assert svc.model_name() == "test-color" and dlg.download_btn.isVisible()

    with qtbot.waitSignal(ctrl.downloadFinished, timeout=60_000) as done:
        qtbot.mouseClick(dlg.download_btn, Qt.MouseButton.LeftButton)
    assert done.args == [hub.NAME, True] and dlg.download_bar.value() == 1000
    assert online.gets()[-1].range == f"bytes={have}-"  # resumed where it stopped
    assert online.gets()[-1].sent == len(checkpoint) - have and not _parts(svc)


def test_a_corrupted_download_is_refused(app, online, qtbot) -> None:
    win, dlg, svc = app
    online.state.corrupt = True
    with qtbot.waitSignal(win.settings_ctrl.downloadFinished, timeout=60_000) as done:
        qtbot.mouseClick(dlg.download_btn, Qt.MouseButton.LeftButton)
    assert done.args == [hub.NAME, False]
    text = dlg.download_label.text()
    assert "is corrupt (sha256" in text and "\n" not in text
    assert "not downloaded" in dlg.model.currentText() and not _parts(svc)


def test_import_refuses_a_file_that_is_not_a_checkpoint(app, qtbot, tmp_path: Path) -> None:
    win, dlg, svc = app
    fake = tmp_path / "fake.pt"
    fake.write_bytes(b"this is not a checkpoint" * 100)
    before = dlg.model.count()
    win.settings_ctrl.import_checkpoint(str(fake), "ViT-B-32")
    qtbot.waitUntil(lambda: dlg.download_label.text().startswith("Not imported"), timeout=60_000)
    assert "not an open_clip checkpoint" in dlg.download_label.text()
    assert "\n" not in dlg.download_label.text() and dlg.model.count() == before
    assert "fake" not in {m.name for m in svc.models()}


def test_import_through_the_picker_and_architecture_choice_lists_and_selects_the_model(
    app, qtbot, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    from tests.unit.test_registry import save_tiny_checkpoint

    win, dlg, svc = app
    ckpt = save_tiny_checkpoint(tmp_path / "my clip.pt")
    offered: list[list[str]] = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ckpt), ""))

    def choose(parent, title, label, items, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        offered.append(list(items))
        return "tiny_clip", True  # typed in: the combo is editable

    monkeypatch.setattr(QInputDialog, "getItem", choose)
    before = dlg.model.count()
    qtbot.mouseClick(dlg.import_btn, Qt.MouseButton.LeftButton)
    assert offered and offered[0][0] == "ViT-B-32"  # the presets' architectures are offered
    qtbot.waitUntil(lambda: dlg.download_label.text().startswith("Imported"), timeout=60_000)
    assert "my clip.pt" in dlg.download_label.text()
    assert dlg.model.count() == before + 1
    name = dlg.model.currentData()
    assert name and "not downloaded" not in dlg.model.currentText()
    assert dlg.changes() == {"model": name}  # OK switches to it
    assert any(m.name == name and m.present and m.kind == "imported" for m in svc.models())


def test_the_offers_one_click_downloads_switches_and_rescans(online, qtbot, tmp_path: Path, monkeypatch) -> None:
    """The better-model offer's "Download and switch", with the local hub standing in for the hub."""
    from tests.helpers.videos import make_video
    from tests.ui.test_model_offer import offer_after_indexing
    from vsearch.ui.controllers import offer as offer_mod

    make_video(tmp_path / "videos" / "a.mp4", segments=[("red", 2.0), ("blue", 2.0)])
    svc = Service(tmp_path / "lib")  # as the app opens it: the settings' model (none yet: the starter)
    svc.update_settings(speech=False, ocr=False)
    assert svc.model_name() == "starter"
    monkeypatch.setattr(offer_mod, "OFFERED", hub.NAME)  # the tiny preset the local hub serves
    real_models = svc.models
    monkeypatch.setattr(svc, "models", lambda: [*real_models(), TINY])
    win = MainWindow(svc, autoplay=False, audio=False, state_file=tmp_path / "config" / "window.ini")
    try:
        offer = offer_after_indexing(qtbot, win, tmp_path / "videos")
        qtbot.waitUntil(lambda: not win.indexer.is_busy(), timeout=60_000)
        with qtbot.waitSignal(win.settings_ctrl.saved, timeout=60_000) as saved:
            qtbot.mouseClick(offer.download_btn, Qt.MouseButton.LeftButton)
        assert saved.args == [{"model": hub.NAME}]
        assert svc.settings.model == hub.NAME
        assert "re-indexing with it in the background" in offer.status.text()
        qtbot.waitUntil(lambda: win.indexer.is_busy() or svc.status().model == hub.NAME, timeout=30_000)
        qtbot.waitUntil(lambda: not win.indexer.is_busy(), timeout=180_000)
        assert svc.status().model == hub.NAME  # the library now searches with the new model
    finally:
        win.close()
        svc.close()
