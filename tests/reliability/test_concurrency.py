"""Concurrency: the CLI and the app (an in-process Service) on one library at once.

One writer at a time (LibraryLocked; the CLI exits 3 with one line), and readers see whole
batches only: a search while another process indexes never meets a half-written state.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, REPO, check_sound, cli
from vsearch.errors import LibraryLocked
from vsearch.service import Service
from vsearch.store.db import DB_NAME

COLOURS = ["red", "blue", "green", "yellow", "purple", "orange"]


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    for i, c in enumerate(COLOURS):
        make_video(d / f"{c}.mp4", segments=[(c, 4.0), (c, 4.0)], fps=10, gop=5, seed=i)
    return d


def _slow_cli(lib: Path, videos: Path, tmp_path: Path) -> subprocess.Popen:
    args = ["--library", str(lib), "--model", MODEL, "index", "-q", "--no-speech", str(videos)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._driver", str(tmp_path / "phase.txt"), "--", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "VSEARCH_TEST_WRITE_DELAY": "0.08", "VSEARCH_TEST_BATCH": "2"},
    )


def _wait_for_frames(lib: Path, proc: subprocess.Popen) -> None:
    import sqlite3

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (lib / DB_NAME).exists():
            try:
                conn = sqlite3.connect(f"file:{lib / DB_NAME}?mode=ro", uri=True)
                try:
                    if conn.execute("SELECT count(*) FROM vectors").fetchone()[0] > 0:
                        return
                finally:
                    conn.close()
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    raise AssertionError("the CLI never stored a frame")


def test_app_is_refused_while_the_cli_indexes_and_reads_stay_consistent(videos: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    proc = _slow_cli(lib, videos, tmp_path)
    try:
        _wait_for_frames(lib, proc)
        searches = 0
        with Service(lib, model=MODEL) as app:
            with pytest.raises(LibraryLocked, match="another vsearch process"):
                app.index([videos])
            while proc.poll() is None:
                # one read transaction: every stored frame has its vector, every finished video all its frames
                with app.library._sql.snapshot() as c:  # test-only: raw SQL through the store's connection
                    frames = c.execute("SELECT count(*) FROM frames").fetchone()[0]
                    vectors = c.execute("SELECT count(*) FROM vectors").fetchone()[0]
                    bad = c.execute(
                        "SELECT count(*) FROM video_models m WHERE m.frames != "
                        "(SELECT count(*) FROM frames f WHERE f.video_id = m.video_id)"
                    ).fetchone()[0]
                assert frames == vectors and bad == 0
                app._searchers.clear()  # reload the ANN from what is committed now, as a fresh app would
                for m in app.search("red", k=10, min_score=-1.0):
                    assert 0.0 <= m.start <= m.end <= m.duration + 1e-6
                    assert os.path.exists(m.path)
                searches += 1
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert searches >= 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check_sound(lib)
    with Service(lib, model=MODEL) as app:
        assert os.path.basename(app.search("red", k=1)[0].path) == "red.mp4"
        assert app.status().indexed == len(COLOURS)


def test_cli_is_refused_with_exit_3_while_the_app_indexes(videos: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    seen: list[subprocess.CompletedProcess] = []

    def progress(p) -> None:  # noqa: ANN001 - runs inside the app's index(), lock held
        if not seen:
            seen.append(cli(lib, "index", "-q", "--no-speech", str(videos)))

    with Service(lib, model=MODEL) as app:
        stats = app.index([videos], progress=progress)
        assert stats.indexed == len(COLOURS)
    (r,) = seen
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "another vsearch process" in lines[0] and str(os.getpid()) in lines[0]
    # searching from the CLI while the app holds the write lock is fine (readers never wait on it)
    with Service(lib, model=MODEL) as app, app.library.writer():
        r = cli(lib, "search", "blue", "-k", "1")
        assert r.returncode == 0 and "blue.mp4" in r.stdout
    check_sound(lib)


def test_two_services_in_one_process_share_the_rule(videos: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    with Service(lib, model=MODEL) as a, Service(lib, model=MODEL) as b, a.library.writer():
        with pytest.raises(LibraryLocked):
            b.index([videos])
