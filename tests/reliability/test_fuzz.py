"""Fuzzing: byte-mutated small videos through probe and sampling never hang or crash the process.

The cases run in a child process (python -m tests.reliability._fuzz_worker) so that a segfault
or a hang inside FFmpeg fails this test with the worker's output instead of killing pytest.
Default: 150 cases (a few seconds); `pytest -m slow` runs 1500.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import REPO


def _seeds(d: Path) -> Path:
    d.mkdir()
    make_video(d / "a.mp4", segments=[("red", 1.0), ("blue", 1.0)], fps=5, size=(64, 48), gop=3)
    make_video(d / "b.mkv", segments=[("green", 1.0), ("yellow", 1.0)], fps=5, size=(64, 48), gop=3)
    make_video(d / "c.webm", segments=[("purple", 1.0)], fps=5, size=(64, 48), codec="libvpx-vp9")
    make_video(d / "d.avi", segments=[("white", 1.0)], fps=5, size=(64, 48), codec="mpeg4")
    return d


def _fuzz(tmp_path: Path, examples: int, timeout: float) -> dict:
    seeds = _seeds(tmp_path / "seeds")
    out = tmp_path / "counts.json"
    r = subprocess.run(
        [sys.executable, "-m", "tests.reliability._fuzz_worker", str(seeds), str(examples), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, f"fuzz worker died (rc {r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    counts = json.loads(out.read_text())
    print("fuzz:", counts)
    assert counts["cases"] >= examples
    return counts


def test_fuzz_probe_and_sampling(tmp_path: Path) -> None:
    counts = _fuzz(tmp_path, 150, timeout=120)
    assert counts["probe_errors"] + counts["probed_ok"] == counts["cases"]


@pytest.mark.slow
def test_fuzz_probe_and_sampling_long(tmp_path: Path) -> None:
    counts = _fuzz(tmp_path, 1500, timeout=590)
    assert counts["decoded_ok"] > 0 and counts["probe_errors"] > 0
