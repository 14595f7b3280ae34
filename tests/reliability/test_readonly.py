"""Read-only libraries can be searched (issue 15, point 7): a folder nobody can write (a
mode-555 archive, a read-only share or DVD) is opened with ``mode=ro&immutable=1``, so a WAL
database needs no -shm file beside it. Tested as the unprivileged user 'nobody'."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, cli
from tests.reliability._nobody import IS_ROOT, cli_as_nobody, shared_dir

pytestmark = pytest.mark.skipif(
    not IS_ROOT or os.name != "posix", reason="needs root to switch to the user 'nobody' (root writes anywhere)"
)


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _chmod_tree(folder: Path, dirs: int, files: int) -> None:
    for p in [folder, *folder.rglob("*")]:
        p.chmod(dirs if p.is_dir() else files)


@pytest.fixture
def archive() -> Iterator[tuple[Path, Path, Path]]:
    """(videos, library, home): a library indexed by root, then locked down to mode 555/444."""
    base = shared_dir("vsearch-ro-")
    try:
        videos = base / "videos"
        for c in ("red", "blue", "green"):
            make_video(videos / f"{c}.mp4", segments=[(c, 3.0)] * 2, gop=5)
        lib = base / "lib"
        r = cli(lib, "index", "-q", "--no-speech", str(videos))
        assert r.returncode == 0, r.stderr
        assert not (lib / "library.sqlite3-wal").exists() or (lib / "library.sqlite3-wal").stat().st_size == 0
        home = base / "home"
        home.mkdir()
        home.chmod(0o777)
        _chmod_tree(videos, 0o755, 0o644)
        _chmod_tree(lib, 0o555, 0o444)
        yield videos, lib, home
    finally:
        _chmod_tree(base, 0o755, 0o644)
        shutil.rmtree(base, ignore_errors=True)


def _nobody(lib: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return cli_as_nobody(["--library", str(lib), "--model", MODEL, *args], env={"VSEARCH_HOME": str(home)})


def test_non_root_user_searches_a_mode_555_library(archive: tuple[Path, Path, Path]) -> None:
    videos, lib, home = archive
    before = _digest(lib)
    r = _nobody(lib, home, "status")
    assert r.returncode == 0, r.stderr
    assert "(read-only)" in r.stdout and "3 indexed" in r.stdout, r.stdout
    r = _nobody(lib, home, "search", "red", "-k", "3")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert "red.mp4" in first, r.stdout
    r = _nobody(lib, home, "search", "blue", "--json")
    assert r.returncode == 0 and '"path"' in r.stdout, r.stderr
    r = _nobody(lib, home, "index", str(videos))
    assert r.returncode == 3 and len(r.stderr.strip().splitlines()) == 1 and "read-only" in r.stderr, r.stderr
    assert _digest(lib) == before
    assert sorted(p.name for p in lib.iterdir()) == sorted(before_names(before))


def before_names(digest: dict[str, str]) -> set[str]:
    return {k.split("/")[0] for k in digest}


def test_read_only_bind_mount(archive: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The issue's first case: a read-only bind mount (skipped where mounting is not allowed)."""
    videos, lib, home = archive
    mnt = lib.parent / "mnt"
    mnt.mkdir()
    mnt.chmod(0o755)
    ok = subprocess.run(["mount", "--bind", str(lib), str(mnt)], capture_output=True).returncode == 0
    if not ok:
        mnt.rmdir()
        pytest.skip("mount --bind is not permitted here")
    try:
        if subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], capture_output=True).returncode:
            pytest.skip("a bind mount cannot be made read-only here")
        _chmod_tree(lib, 0o755, 0o644)  # root could write the files; the mount cannot
        for who in ("root", "nobody"):
            if who == "root":
                r = cli(mnt, "search", "green")
            else:
                r = _nobody(mnt, home, "search", "green")
            assert r.returncode == 0 and "green.mp4" in r.stdout, (who, r.stderr)
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)
        mnt.rmdir()
