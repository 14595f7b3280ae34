"""Issue 15.9: what a scan skips (a name that is not UTF-8) is stored, listed by `status`, and cleared."""

from __future__ import annotations

import os
import sqlite3
from itertools import takewhile
from pathlib import Path

from tests.helpers.videos import make_hostile, make_video
from tests.reliability._lib import cli
from vsearch.store.db import DB_NAME


def _status_failures(lib: Path) -> tuple[str, list[str]]:
    """`vsearch status`'s output and the lines it lists under "failed files"."""
    r = cli(lib, "status")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = next((n for n, ln in enumerate(lines) if ln.startswith("failed files")), None)
    return r.stdout, [] if head is None else list(takewhile(lambda ln: ln.startswith("  "), lines[head + 1 :]))


def test_status_lists_the_name_that_is_not_utf8_and_counts_agree_with_the_summary(tmp_path: Path) -> None:
    d = tmp_path / "videos"
    make_video(d / "good.mp4", segments=[("red", 1.0)])
    for i, kind in enumerate(("zero", "random", "text")):
        make_hostile(kind, d / f"bad{i}.mp4")
    bad_name = os.fsencode(d) + b"/caf\xe9.mp4"
    with open(bad_name, "wb") as fh:  # a real file with a Latin-1 name on this Linux file system
        fh.write((d / "good.mp4").read_bytes())
    lib = tmp_path / "lib"
    r = cli(lib, "index", "--no-speech", "-q", str(d))
    assert r.returncode == 0, r.stderr
    assert "failed 3, skipped 1" in r.stdout, r.stdout
    out, listed = _status_failures(lib)
    # the same numbers as the index summary, and the same four files listed
    assert "3 failed" in out and "skipped 1" in out and "(3 failed, 1 skipped)" in out, out
    assert len(listed) == 4, out
    (line,) = [ln for ln in listed if "caf" in ln]
    assert "caf\\xe9.mp4" in line and "not valid UTF-8" in line, line  # its byte, escaped
    # stored by its raw bytes
    conn = sqlite3.connect(lib / DB_NAME)
    assert conn.execute("SELECT path FROM scan_problems").fetchall() == [(bad_name,)]
    conn.close()

    # renamed to a valid name: indexed, and the problem is gone from status
    os.rename(bad_name, d / "cafe.mp4")
    r = cli(lib, "index", "--no-speech", "-q")
    assert r.returncode == 0, r.stderr
    out, listed = _status_failures(lib)
    assert "skipped" not in out and len(listed) == 3 and all("caf" not in ln for ln in listed), out


def test_a_removed_bad_name_clears_too(tmp_path: Path) -> None:
    d = tmp_path / "videos"
    make_video(d / "good.mp4", segments=[("red", 1.0)])
    bad_name = os.fsencode(d) + b"/bad-\xff\xfe.mp4"
    with open(bad_name, "wb") as fh:
        fh.write((d / "good.mp4").read_bytes())
    lib = tmp_path / "lib"
    assert cli(lib, "index", "--no-speech", "-q", str(d)).returncode == 0
    out, listed = _status_failures(lib)
    assert "skipped 1" in out and any("bad-\\xff\\xfe.mp4" in ln for ln in listed), out
    os.unlink(bad_name)
    assert cli(lib, "index", "--no-speech", "-q").returncode == 0
    out, listed = _status_failures(lib)
    assert "skipped" not in out and listed == [], out
