"""One clear line, never a traceback (issue 15, points 8 and 9): each hostile input or
environment below used to print "internal error" or a traceback, or silently did the wrong
thing. Each must now print one line naming the cause and exit 2 (input) or 3 (environment)."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.videos import make_hostile, make_video
from tests.reliability._lib import MODEL, REPO, cli
from tests.reliability._nobody import IS_ROOT, cli_as_nobody, shared_dir
from vsearch.cli import ProgressBar
from vsearch.store.db import DB_NAME
from vsearch.store.library import WriteLock
from vsearch.types import Progress


def _one_line(r: subprocess.CompletedProcess, code: int, *words: str) -> str:
    err = r.stderr.strip()
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert len(err.splitlines()) == 1, r.stderr
    assert "Traceback" not in err and "internal error" not in err, err
    for w in words:
        assert w in err, err
    return err


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cli-errors")
    d = tmp / "videos"
    for c in ("red", "blue"):
        make_video(d / f"{c}.mp4", segments=[(c, 2.0)] * 2, gop=5)
    lib = tmp / "lib"
    r = cli(lib, "index", "-q", "--no-speech", str(d))
    assert r.returncode == 0, r.stderr
    return d, lib


def _results(tmp: Path, results: list | str, name: str = "r.json") -> Path:
    p = tmp / name
    p.write_text(results if isinstance(results, str) else json.dumps({"query": "q", "results": results}))
    return p


# -- point 8 ----------------------------------------------------------------------------------
def test_query_with_invalid_utf8_bytes(indexed: tuple[Path, Path]) -> None:
    _, lib = indexed
    r = subprocess.run(
        [sys.executable, "-m", "vsearch", "--library", str(lib), "--model", MODEL, "search", b"red \xff\xfe"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    _one_line(r, 2, "not valid UTF-8")
    r = subprocess.run(
        [sys.executable, "-m", "vsearch", "--library", str(lib), "export", b"\xc3(", "-f", "csv"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    _one_line(r, 2, "not valid UTF-8")


@pytest.mark.skipif(not IS_ROOT, reason="needs root to switch to the user 'nobody' (root writes anywhere)")
def test_export_into_a_read_only_folder(indexed: tuple[Path, Path]) -> None:
    d, _ = indexed
    base = shared_dir("vsearch-ro-export-")
    try:
        (base / "home").mkdir(mode=0o777)
        (base / "home").chmod(0o777)
        video = base / "red.mp4"
        video.write_bytes((d / "red.mp4").read_bytes())
        video.chmod(0o644)
        res = _results(base, [{"path": str(video), "start": 0.0, "end": 1.0}])
        res.chmod(0o644)
        ro = base / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        for fmt in ("csv", "edl", "sheet", "clips"):
            r = cli_as_nobody(
                ["export", "--from", str(res), "-f", fmt, "-o", str(ro / "out")],
                env={"VSEARCH_HOME": str(base / "home")},
            )
            _one_line(r, 3, "ermission denied")
        assert list(ro.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ('{"query": "q", "results": [{"path": "/a.mp4", "start": 1, "end": %s}]}' % ("9" * 5000), "not a results"),
        ('{"query": "q", "results": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
        (json.dumps({"query": "q", "results": [{"path": "/a\x00.mp4", "start": 1, "end": 2}]}), "NUL"),
        (json.dumps({"query": "q", "results": [{"path": "/a.mp4", "start": 1, "end": 2, "fps": 1e-300}]}), "fps"),
        (json.dumps({"query": "q", "results": [{"path": "/a.mp4", "start": 1e300, "end": 2e300}]}), "out of range"),
        (json.dumps({"query": "q", "results": [{"path": "/a.mp4", "start": 1, "end": 2, "score": "nan"}]}), "score"),
        (json.dumps({"query": "q\udcff", "results": [{"path": "/a.mp4", "start": 1, "end": 2}]}), "UTF-8"),
        (json.dumps({"query": "q", "results": [7]}), "not a moment"),
    ],
    ids=["5000-digits", "100k-nested", "nul-in-path", "fps-1e-300", "times-1e300", "nan-score", "surrogate", "not-object"],
)
def test_hostile_results_files(tmp_path: Path, doc: str, words: str) -> None:
    res = _results(tmp_path, doc)
    for fmt in ("csv", "edl", "clips"):
        r = cli(tmp_path / "lib", "export", "--from", str(res), "-f", fmt, "-o", str(tmp_path / f"out-{fmt}"))
        _one_line(r, 2, words)
    assert not any(p.name.startswith("out-") for p in tmp_path.iterdir())


def test_clip_names_fit_the_file_system(tmp_path: Path) -> None:
    """A 240-byte source name still gives clips (the name is shortened), never ENAMETOOLONG."""
    v = make_video(tmp_path / ("é" * 120 + ".mp4"), segments=[("red", 2.0)], gop=5)
    res = _results(tmp_path, [{"path": str(v), "start": 0.0, "end": 1.0}, {"path": str(v), "start": 1.0, "end": 2.0}])
    r = cli(tmp_path / "lib", "export", "--from", str(res), "-f", "clips", "-o", str(tmp_path / "clips"))
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "clips").iterdir())
    assert len(names) == 2 and all(len(n.encode()) <= 255 for n in names), names


def test_second_index_on_a_full_disk(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    """ENOSPC from the lock file, and the log cannot be written either: still one line."""
    d, lib = indexed
    full = tmp_path / "full"
    full.mkdir()
    os.symlink("/dev/full", full / "write.lock")  # every write there fails with ENOSPC
    logs = tmp_path / "home" / "logs"
    logs.mkdir(parents=True)
    os.symlink("/dev/full", logs / "vsearch.log")
    # a copy of the library whose lock file and log sit on a "full disk"
    with sqlite3.connect(lib / DB_NAME) as src, sqlite3.connect(full / DB_NAME) as dst:
        src.backup(dst)
    for _ in range(2):
        r = cli(full, "index", "-q", "--no-speech", str(d), env={"VSEARCH_HOME": str(tmp_path / "home")})
        _one_line(r, 3, "No space left on device")


def test_export_from_json_writes_the_log(tmp_path: Path) -> None:
    res = _results(tmp_path, [{"path": str(tmp_path / "gone.mp4"), "start": 0.0, "end": 1.0}])
    r = cli(tmp_path / "lib", "export", "--from", str(res), "-f", "sheet", "-o", str(tmp_path / "s"))
    assert r.returncode == 0, r.stderr
    log = Path(os.environ["VSEARCH_HOME"]) / "logs" / "vsearch.log"
    assert "no thumbnail for" in log.read_text()


# -- point 9 ----------------------------------------------------------------------------------
def test_zero_byte_database_is_reported_and_old_caches_dropped(tmp_path: Path) -> None:
    d = tmp_path / "videos"
    make_video(d / "red.mp4", segments=[("red", 2.0)], gop=5)
    lib = tmp_path / "lib"
    assert cli(lib, "index", "-q", "--no-speech", str(d)).returncode == 0
    old_caches = sorted(p.name for p in (lib / "ann").iterdir())
    assert old_caches
    (lib / DB_NAME).write_bytes(b"")
    r = cli(lib, "status")  # opens it: a new, empty library, and says so
    assert r.returncode == 0
    assert "was empty (0 bytes)" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (lib / "ann").exists() or not any((lib / "ann").iterdir())
    r = cli(lib, "index", "-q", "--no-speech", str(d))
    assert r.returncode == 0 and "0 bytes" not in r.stderr, r.stderr


def test_zero_byte_database_read_only(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / DB_NAME).write_bytes(b"")
    from vsearch.errors import EnvironmentProblem
    from vsearch.service import Service

    with pytest.raises(EnvironmentProblem, match="0 bytes"):
        Service(lib, readonly=True)


def test_index_refused_by_the_lock_adds_no_folder(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    _, lib = indexed
    new = tmp_path / "new"
    make_video(new / "green.mp4", segments=[("green", 1.0)])
    before = sqlite3.connect(lib / DB_NAME).execute("SELECT path FROM roots").fetchall()
    lock = WriteLock(lib)
    lock.acquire()
    try:
        r = cli(lib, "index", "-q", "--no-speech", str(new))
    finally:
        lock.release()
    _one_line(r, 3, "another vsearch process")
    assert sqlite3.connect(lib / DB_NAME).execute("SELECT path FROM roots").fetchall() == before


@pytest.mark.parametrize("k", ["0", "-1", "-5"])
def test_k_below_one_is_refused(indexed: tuple[Path, Path], k: str) -> None:
    _, lib = indexed
    _one_line(cli(lib, "search", "red", "-k", k), 2, "-k must be 1 or more")
    _one_line(cli(lib, "export", "red", "-f", "csv", "-k", k), 2, "-k must be 1 or more")
    _one_line(cli(lib, "search", "red", "--per-video", k), 2, "--per-video must be 1 or more")


def test_search_and_status_without_a_library_create_nothing(tmp_path: Path) -> None:
    lib = tmp_path / "nolib"
    for args in (("search", "red"), ("status",), ("forget", str(tmp_path)), ("rebuild-index",)):
        _one_line(cli(lib, *args), 2, "nothing is indexed yet")
        assert not (lib / DB_NAME).exists()


def test_output_naming_a_directory_writes_into_it(indexed: tuple[Path, Path], tmp_path: Path) -> None:
    _, lib = indexed
    out = tmp_path / "exports"
    out.mkdir()
    for fmt, ext in (("csv", ".csv"), ("edl", ".edl"), ("sheet", ".html")):
        r = cli(lib, "export", "red", "-f", fmt, "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert (out / f"vsearch-red{ext}").is_file()
        assert not (tmp_path / f"exports{ext}").exists()


def test_summary_counts_what_it_lists(tmp_path: Path) -> None:
    d = tmp_path / "videos"
    make_video(d / "good.mp4", segments=[("red", 1.0)])
    for i, kind in enumerate(("zero", "random", "text")):
        make_hostile(kind, d / f"bad{i}.mp4")
    bad_name = os.fsencode(d) + b"/caf\xe9.mp4"
    with open(bad_name, "wb") as fh:
        fh.write((d / "good.mp4").read_bytes())
    r = cli(tmp_path / "lib", "index", "--no-speech", "-q", str(d))
    assert r.returncode == 0, r.stderr
    assert "failed 3, skipped 1" in r.stdout, r.stdout
    listed = [line for line in r.stderr.splitlines() if line.startswith("  failed:")]
    assert len(listed) == 4, r.stderr


def test_progress_line_escapes_newlines_in_names() -> None:
    out = io.StringIO()
    bar = ProgressBar(stream=out)
    bar(Progress("embed", 1, 1, 2.0, 2.0, current="/v/evil\nname\r\x1b[2J.mp4", rate=1.0))
    text = out.getvalue()
    assert text.count("\n") == 1 and "\r" not in text and "\x1b" not in text, repr(text)
    assert "evil?name??[2J" in text


def test_moment_past_the_end_of_the_file_is_refused(tmp_path: Path) -> None:
    v = make_video(tmp_path / "short.mp4", segments=[("red", 3.0)], gop=5)
    res = _results(tmp_path, [{"path": str(v), "start": 50.0, "end": 52.0}])
    for extra in ((), ("--reencode",)):
        r = cli(tmp_path / "lib", "export", "--from", str(res), "-f", "clips", "-o", str(tmp_path / "c"), *extra)
        _one_line(r, 2, "starts after the end")
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())
