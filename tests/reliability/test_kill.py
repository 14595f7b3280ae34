"""Crash safety: SIGKILL `vsearch index` at random points; the library must stay sound and lose nothing.

The default run lands 6 kills inside indexing; the full loop (`pytest -m slow tests/reliability`)
lands 36 (kills during interpreter start-up come on top and are counted apart). Kills land during start-up, decoding, inside a SQLite transaction (after the writes,
before COMMIT) and inside an ANN save (after the index file was written to its temp path, before the rename):
tests/reliability/_driver.py widens those windows with short random sleeps and records the
phase each kill interrupted.
"""

from __future__ import annotations

import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, REPO, check_sound, cli, done_paths, snapshot

COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "cyan", "white"]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("kill-videos")
    for i in range(8):
        segs = [(COLOURS[(i + j) % len(COLOURS)], 3.0) for j in range(3)]
        make_video(d / f"clip {i}.mp4", segments=segs, fps=10, gop=5, seed=i)
    return d


@pytest.fixture(scope="module")
def reference(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    lib = tmp_path_factory.mktemp("kill-ref") / "lib"
    r = cli(lib, "index", "-q", "--no-speech", str(videos))
    assert r.returncode == 0, r.stderr
    snap = snapshot(lib)
    assert len(snap) > 30  # near-identical samples are skipped by default
    return snap


def _start(lib: Path, videos: Path, phase_file: Path) -> subprocess.Popen:
    args = ["--library", str(lib), "--model", MODEL, "index", "-q", "--no-speech", str(videos)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._driver", str(phase_file), "--", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "VSEARCH_TEST_WRITE_DELAY": "0.04"},
    )


def _last_phase(phase_file: Path) -> str:
    try:
        lines = phase_file.read_text().split()
    except OSError:
        return "startup"
    return lines[-1] if lines else "startup"


def kill_loop(videos: Path, reference: dict, tmp_path: Path, kills: int, seed: int) -> collections.Counter:
    rng = random.Random(seed)
    lib = tmp_path / "lib"
    landed: collections.Counter = collections.Counter()
    fresh_libraries = 1
    # count only kills that landed once indexing had begun (start-up kills are cheap and prove little)
    while sum(n for p, n in landed.items() if p not in ("startup", "start")) < kills:
        phase_file = tmp_path / "phase.txt"
        phase_file.unlink(missing_ok=True)
        proc = _start(lib, videos, phase_file)
        # start-up (imports) takes about a second; the indexing itself one to two more
        time.sleep(rng.uniform(0.8, 3.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            landed[_last_phase(phase_file)] += 1
        else:
            assert proc.returncode == 0
        check_sound(lib)
        # whatever was stored is exactly what a clean run stores: no torn or wrong frames
        snap = snapshot(lib)
        assert set(snap) <= set(reference)
        assert all(snap[k] == reference[k] for k in snap)
        # a video marked done has all its frames
        for p in done_paths(lib):
            assert {k for k in snap if k[0] == p} == {k for k in reference if k[0] == p}
        if len(done_paths(lib)) == 8:
            # finished before we could kill it: start again from an empty library
            shutil.rmtree(lib)
            fresh_libraries += 1
    r = cli(lib, "index", "-q", "--no-speech", str(videos))
    assert r.returncode == 0, r.stderr
    check_sound(lib)
    final = snapshot(lib)
    assert set(final) == set(reference), "frames differ from a run that was never killed"
    for k, v in reference.items():
        assert np.array_equal(np.frombuffer(final[k], "<f2"), np.frombuffer(v, "<f2")), k
    landed["libraries"] = fresh_libraries
    return landed


def test_kills_lose_nothing(videos: Path, reference: dict, tmp_path: Path) -> None:
    landed = kill_loop(videos, reference, tmp_path, kills=6, seed=1)
    print("kills by phase:", dict(landed))


@pytest.mark.slow
def test_kills_lose_nothing_full_loop(videos: Path, reference: dict, tmp_path: Path) -> None:
    landed = kill_loop(
        videos, reference, tmp_path, kills=36, seed=int(os.environ.get("VSEARCH_KILL_SEED", "7"))
    )
    print("kills by phase:", dict(landed))
    phases = set(landed) - {"libraries"}
    assert {"commit", "decode"} <= phases
