"""Home and library folder: relocating the library through the settings keeps later settings (issue 13.6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vsearch import paths
from vsearch.service import SETTINGS_FILE, Service


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user without VSEARCH_HOME: the per-user folders (platformdirs, XDG on Linux) under tmp_path."""
    if sys.platform != "linux":
        pytest.skip("XDG variables steer platformdirs on Linux only")
    monkeypatch.delenv("VSEARCH_HOME", raising=False)
    monkeypatch.delenv("VSEARCH_MODELS", raising=False)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    return tmp_path


def test_relocated_library_keeps_settings_models_and_logs_in_the_home(xdg: Path) -> None:
    default = paths.home()
    assert default.config == xdg / "xdg_config_home" / "vsearch"
    moved = xdg / "elsewhere" / "my library"
    with Service(model="test-color") as first:
        assert first.dirs.library == default.library
        first.update_settings(library=str(moved))
    with Service(model="test-color") as second:  # a restart: the new location applies
        assert second.dirs.library == moved
        assert (second.dirs.config, second.dirs.models, second.dirs.logs) == (
            default.config,
            default.models,
            default.logs,
        )
        second.update_settings(interval=2.5, sampling="exact")  # a change after relocating
    assert not (moved / "config").exists()
    with Service(model="test-color") as third:  # the next start reads what the last one wrote
        assert third.settings.interval == 2.5 and third.settings.sampling == "exact"
        assert third.settings.library == str(moved) and third.dirs.library == moved
        third.update_settings(library="")
    with Service(model="test-color") as back:
        assert back.dirs.library == default.library and back.settings.interval == 2.5
    assert (default.config / SETTINGS_FILE).is_file()


def test_a_new_process_opens_the_relocated_library_and_keeps_its_settings(xdg: Path) -> None:
    moved = xdg / "moved-lib"
    with Service(model="test-color") as svc:
        svc.update_settings(library=str(moved))
    env = {k: v for k, v in os.environ.items() if k != "VSEARCH_HOME"}
    code = (
        "import sys\n"
        "from vsearch.service import Service\n"
        "with Service() as s:\n"
        "    s.update_settings(batch=7)\n"
        "    print(s.dirs.library)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(moved)
    r = subprocess.run(
        [sys.executable, "-m", "vsearch", "status"], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert f"library: {moved}" in r.stdout
    with Service() as again:
        assert again.settings.batch == 7 and again.dirs.library == moved


def test_an_explicit_library_folder_does_not_move_the_home(tmp_path: Path) -> None:
    home = paths.home()  # tests/conftest.py: a temporary VSEARCH_HOME
    with Service(tmp_path / "lib", model="test-color") as svc:
        assert svc.dirs.library == tmp_path / "lib"
        assert (svc.dirs.config, svc.dirs.models, svc.dirs.logs) == (home.config, home.models, home.logs)
        svc.update_settings(interval=3.0)
    with Service(model="test-color") as other:  # the home's own library sees the same settings
        assert other.settings.interval == 3.0 and other.dirs.library == home.library


def test_under_vsearch_home_the_settings_choose_the_library_too(tmp_path: Path) -> None:
    moved = tmp_path / "chosen"
    with Service(model="test-color") as svc:
        svc.update_settings(library=str(moved))
    with Service(model="test-color") as svc:
        assert svc.dirs.library == moved and svc.dirs.config == paths.home().config
