"""The OCR stage can be switched off (setting, `vsearch index --no-ocr`); the suite uses that."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import wants_ocr
from tests.helpers.screen_text import Overlay, burn
from vsearch.service import Service

pytest.importorskip("rapidocr_onnxruntime")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("clip")
    burn(d / "sale.mp4", [Overlay("SALE 50% OFF", 0.0, 3.0, "box")], 3.0, size=(320, 180))
    return d


def test_this_file_gets_the_default_and_the_setting_turns_the_stage_off(tmp_path: Path, clip: Path) -> None:
    with Service(tmp_path / "lib", model="test-color") as svc:
        assert svc.settings.ocr  # a file named *ocr*: the suite leaves the default on
        svc.update_settings(ocr=False)
        stats = svc.index([clip])
        assert stats.indexed == 1 and "ocr" not in stats.stage_seconds
        assert svc.status().ocr is None
    with Service(tmp_path / "lib", model="test-color") as svc:  # remembered, and undone
        assert not svc.settings.ocr
        svc.update_settings(ocr=True)
        stats = svc.index()
        assert "ocr" in stats.stage_seconds and svc.status().ocr.spans == 1


def test_the_cli_flag_skips_reading(tmp_path: Path, clip: Path) -> None:
    lib = tmp_path / "lib"
    cmd = [sys.executable, "-m", "vsearch", "--library", str(lib), "--model", "test-color"]
    r = subprocess.run([*cmd, "index", "-q", "--no-ocr", "--no-speech", str(clip)], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*cmd, "status"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert "0/1 videos read" in r.stdout and "1 to read" in r.stdout, r.stdout


def _node(path: str, marker: bool = False) -> SimpleNamespace:
    return SimpleNamespace(fspath=path, get_closest_marker=lambda name: object() if marker and name == "ocr" else None)


def test_which_tests_read_on_screen_text() -> None:
    assert not wants_ocr(_node("/r/tests/integration/test_index_search.py"))
    assert not wants_ocr(_node("/r/tests/ui/test_main_window.py"))
    assert wants_ocr(_node("/r/tests/integration/test_ocr_search.py"))
    assert wants_ocr(_node("/r/tests/reliability/test_schema_screen_text.py"))
    assert wants_ocr(_node("/r/tests/quality/test_devset.py"))
    assert wants_ocr(_node("/r/tests/ui/test_main_window.py", marker=True))
    # a module that burns text into its videos wants it read, whatever its name
    assert wants_ocr(_node("/r/tests/ui/test_cards.py"), SimpleNamespace(burn=burn, Path=Path))
    assert not wants_ocr(_node("/r/tests/ui/test_cards.py"), SimpleNamespace(Path=Path, Service=Service))
