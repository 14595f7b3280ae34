"""`vsearch models` as a user runs it: list, import (good and bad files), download refused offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_registry import save_tiny_checkpoint


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, VSEARCH_HOME=str(home), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "vsearch", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_importing_a_file_that_is_not_a_checkpoint_is_one_line_exit_2(tmp_path: Path) -> None:
    """Issue 16.6: it was a 40-line traceback ending in "internal error: UnpicklingError"."""
    fake = tmp_path / "fake.pt"
    fake.write_bytes(os.urandom(2048))
    r = run("models", "import", str(fake), "--arch", "ViT-B-32", home=tmp_path / "home")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"vsearch: error: not an open_clip checkpoint: {fake}")
    assert not (tmp_path / "home" / "models" / "models.json").exists()


def test_import_then_list_shows_it_with_its_size(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ckpt = save_tiny_checkpoint(tmp_path / "tiny.pt")
    r = run("models", "import", str(ckpt), "--arch", "tiny_clip", "--name", "mytiny", home=home)
    assert r.returncode == 0, r.stderr
    assert "imported" in r.stdout and "--model mytiny" in r.stdout
    reg = json.loads((home / "models" / "models.json").read_text())
    assert reg["imported"]["mytiny"]["arch"] == "tiny_clip"
    r = run("models", home=home)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith("mytiny"))
    assert " MB" in row and "yes" in row
    assert any(line.startswith("balanced") and "605 MB" in line for line in r.stdout.splitlines())
    assert not list(home.glob("*.sqlite3*"))  # models live in the home: no library was created


def test_download_is_refused_offline_in_one_line(tmp_path: Path) -> None:
    r = run("models", "download", "balanced", home=tmp_path / "home")
    assert r.returncode == 3 and r.stderr.count("\n") == 1, r.stderr
    assert "downloads are disabled" in r.stderr
