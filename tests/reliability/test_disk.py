"""Disk full and read-only libraries: a failed save keeps the previous index and says so.

A full disk is simulated with RLIMIT_FSIZE in a child process (SIGXFSZ ignored, so writes
past the limit fail with EFBIG as they would with ENOSPC).
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, REPO, check_sound, cli, snapshot
from vsearch.errors import EnvironmentProblem
from vsearch.service import Service

pytestmark = pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE is POSIX")


def _limit(nbytes: int):  # noqa: ANN202
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return pre


def _digest(folder: Path) -> dict[str, str]:
    """The index files and their manifest (not the query bank's activation cache a search writes beside them)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix in (".vidx", ".json") and not p.name.endswith(".activation.json")
    }


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    d = tmp_path / "videos"
    for c in ("red", "blue", "green"):
        make_video(d / f"{c}.mp4", segments=[(c, 4.0)] * 3, gop=5)
    lib = tmp_path / "lib"
    assert cli(lib, "index", "-q", "--no-speech", str(d)).returncode == 0
    return d, lib


def test_database_write_fails_on_a_full_disk_and_nothing_is_lost(indexed: tuple[Path, Path]) -> None:
    d, lib = indexed
    before = snapshot(lib)
    for c in ("yellow", "purple", "white", "orange"):
        make_video(d / f"{c}.mp4", segments=[(c, 4.0)] * 6, gop=5)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "vsearch",
            "--library",
            str(lib),
            "--model",
            MODEL,
            "index",
            "-q",
            "--no-speech",
            str(d),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit(40_000),
    )
    assert r.returncode == 3, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vsearch: error: cannot save to the library")
    check_sound(lib)
    after = snapshot(lib)
    assert {k: before[k] for k in before} == {k: after[k] for k in before}, "stored frames changed"
    # with space again, the run completes
    assert cli(lib, "index", "-q", "--no-speech").returncode == 0
    check_sound(lib)
    with Service(lib, model=MODEL) as svc:
        assert svc.status().indexed == 7
        assert os.path.basename(svc.search("orange", k=1)[0].path) == "orange.mp4"


def test_ann_save_on_a_full_disk_keeps_the_previous_index(indexed: tuple[Path, Path]) -> None:
    d, lib = indexed
    before = _digest(lib / "ann")
    assert before
    # room for half the index file: its write must fail part-way, not before it starts
    limit = max(p.stat().st_size for p in (lib / "ann").glob("*.vidx")) // 2
    code = (
        "import resource, signal, sys\n"
        "from vsearch.service import Service\n"
        "svc = Service(sys.argv[1], model='test-color')\n"
        "svc.search('red')\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))\n"
        "try:\n"
        "    svc.rebuild_index()\n"
        "except OSError as e:\n"
        "    print(e)\n"
        "    sys.exit(5)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(lib), str(limit)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 5, (r.stdout, r.stderr)
    assert "written incompletely" in r.stdout
    assert _digest(lib / "ann") == before, "the previous index and manifest must survive byte-identical"
    assert not [p for p in (lib / "ann").iterdir() if p.name.endswith(".tmp")], "temp files left behind"
    check_sound(lib)


def test_indexing_survives_a_failed_ann_save(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    """The indexer logs a failed ANN save; SQLite has everything and the cache is rebuilt on open."""
    d, lib = indexed
    make_video(d / "yellow.mp4", segments=[("yellow", 4.0)] * 3, gop=5)
    code = (
        "import sys\n"
        "from vsearch.store import ann\n"
        "def boom(self, generation):\n"
        "    raise OSError(28, 'No space left on device')\n"
        "ann.AnnIndex.save = boom\n"
        "from vsearch.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, "--library", str(lib), "--model", MODEL, "index", "-q", "--no-speech"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    check_sound(lib, query="yellow")
    with Service(lib, model=MODEL) as svc:
        assert os.path.basename(svc.search("yellow", k=1)[0].path) == "yellow.mp4"


def test_read_only_library_can_be_searched_and_is_not_touched(indexed: tuple[Path, Path]) -> None:
    d, lib = indexed
    files = {
        p: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in lib.rglob("*")
        if p.is_file()
    }
    # a checkpointed library as a read-only copy would be (no -wal/-shm beside it)
    with Service(lib, model=MODEL, readonly=True) as svc:
        assert svc.readonly
        assert os.path.basename(svc.search("green", k=1)[0].path) == "green.mp4"
        assert svc.status().indexed == 3
        with pytest.raises(EnvironmentProblem, match="read-only"):
            svc.index()
        with pytest.raises(EnvironmentProblem, match="read-only"):
            svc.add_folder(d)
    after = {
        p: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in lib.rglob("*")
        if p.is_file()
    }
    changed = [str(p.relative_to(lib)) for p in files if files[p] != after.get(p)]
    changed = [c for c in changed if not c.startswith("logs")]
    assert changed == [], changed
