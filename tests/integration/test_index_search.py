"""End to end through the service facade with the colour test embedder: index, search, update."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from vsearch.service import Service


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    d.mkdir()
    make_video(d / "a.mp4", segments=[("red", 4.0), ("blue", 4.0), ("green", 4.0)])
    make_video(d / "b.mp4", segments=[("yellow", 4.0), ("purple", 4.0)])
    return d


def _svc(tmp_path: Path) -> Service:
    return Service(tmp_path / "lib", model="test-color")


def test_red_finds_the_red_span(tmp_path: Path, folder: Path) -> None:
    with _svc(tmp_path) as svc:
        stats = svc.index([folder])
        assert stats.indexed == 2 and stats.failed == 0
        res = svc.search("red", k=5)
        top = res[0]
        assert os.path.basename(top.path) == "a.mp4"
        # the red segment is 0-4 s: the moment must lie on it, not on the blue part
        assert top.start < 1.0 and 3.0 <= top.end <= 5.5
        assert top.start <= top.best_time <= top.end
        blue = svc.search("blue", k=1)[0]
        assert os.path.basename(blue.path) == "a.mp4"
        assert 3.0 <= blue.start <= 5.0 and 7.0 <= blue.end <= 9.5
        purple = svc.search("purple", k=1)[0]
        assert os.path.basename(purple.path) == "b.mp4" and purple.start >= 3.0


def test_every_moment_lies_inside_its_video(tmp_path: Path, folder: Path) -> None:
    with _svc(tmp_path) as svc:
        svc.index([folder])
        for q in ("red", "green", "yellow", "a grey cat"):
            for m in svc.search(q, k=20):
                assert 0.0 <= m.start < m.end <= m.duration + 1e-6


def test_rerun_on_unchanged_folder_does_no_work(tmp_path: Path, folder: Path) -> None:
    with _svc(tmp_path) as svc:
        svc.index([folder])
    with _svc(tmp_path) as svc:
        built = []
        real = svc.embedder
        svc.embedder = lambda name: built.append(name) or real(name)  # type: ignore[method-assign]
        stats = svc.index()
        assert stats.unchanged == 2 and stats.indexed == 0 and stats.frames == 0
        assert built == [], "no model may be loaded when nothing changed"


def test_new_changed_deleted_and_moved_files(tmp_path: Path, folder: Path) -> None:
    with _svc(tmp_path) as svc:
        svc.index([folder])
        # new
        make_video(folder / "c.mp4", segments=[("cyan", 4.0)])
        # changed: b becomes all orange
        time.sleep(0.01)
        make_video(folder / "b.mp4", segments=[("orange", 4.0)])
        os.utime(folder / "b.mp4", (time.time() + 5, time.time() + 5))
        # moved: a goes into a sub-folder (same size, mtime, name)
        (folder / "sub").mkdir()
        shutil.move(str(folder / "a.mp4"), str(folder / "sub" / "a.mp4"))
        stats = svc.index()
        assert (stats.new, stats.changed, stats.moved, stats.gone) == (1, 1, 1, 0)
        assert stats.indexed == 2  # c and b; the moved a keeps its vectors
        assert os.path.basename(svc.search("cyan", k=1)[0].path) == "c.mp4"
        assert svc.search("orange", k=1)[0].path.endswith("b.mp4")
        red = svc.search("red", k=1)[0]
        assert red.path == str(folder / "sub" / "a.mp4")
        # deleted
        os.remove(folder / "c.mp4")
        stats = svc.index()
        assert stats.gone == 1
        # kept and still found, but marked missing (issue 16.13: it can be located, not played)
        cyan = [m for m in svc.search("cyan", k=10) if m.path.endswith("c.mp4")]
        assert cyan and all(m.missing for m in cyan)
        assert not any(m.missing for m in svc.search("red", k=10) if not m.path.endswith("c.mp4"))
        assert svc.status().videos == 3 and svc.status().indexed == 2


def test_bad_files_are_recorded_and_skipped(tmp_path: Path, folder: Path) -> None:
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "noise.mp4").write_bytes(os.urandom(5000))
    (folder / "notes.mkv").write_text("not a video at all\n")
    with _svc(tmp_path) as svc:
        stats = svc.index([folder])
        assert stats.indexed == 2 and stats.failed == 3
        fails = {os.path.basename(f.path): f.error for f in svc.failures()}
        assert set(fails) == {"empty.mp4", "noise.mp4", "notes.mkv"}
        assert all(e and "\n" not in e for e in fails.values())
        assert svc.search("red", k=1)[0].path.endswith("a.mp4")
        # failed files are not retried while unchanged
        assert svc.index().failed == 0


def test_folder_filter_and_forget(tmp_path: Path, folder: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    make_video(other / "r.mp4", segments=[("red", 4.0)])
    with _svc(tmp_path) as svc:
        svc.index([folder, other])
        assert {os.path.dirname(m.path) for m in svc.search("red", k=10)} == {str(folder), str(other)}
        only = svc.search("red", k=10, folder=str(other))
        assert only and all(m.path.startswith(str(other)) for m in only)
        svc.remove_folder(other)
        assert all(not m.path.startswith(str(other)) for m in svc.search("red", k=10))


def test_offline_folder_keeps_its_entries(tmp_path: Path, folder: Path) -> None:
    with _svc(tmp_path) as svc:
        svc.index([folder])
        moved_away = tmp_path / "unplugged"
        shutil.move(str(folder), str(moved_away))
        stats = svc.index()
        assert stats.gone == 0
        st = {f.path: f for f in svc.folders()}
        assert st[str(folder)].online is False and st[str(folder)].indexed == 2
        assert svc.search("red", k=1)[0].path == str(folder / "a.mp4")
        shutil.move(str(moved_away), str(folder))
        stats = svc.index()
        assert stats.unchanged == 2 and stats.indexed == 0


def test_cancel_then_resume(tmp_path: Path, folder: Path) -> None:
    from vsearch.types import CancelToken

    for i in range(3):
        make_video(folder / f"x{i}.mp4", segments=[("white", 4.0), ("black", 4.0)])
    with _svc(tmp_path) as svc:
        tok = CancelToken()
        seen = []

        def progress(p):  # noqa: ANN001
            seen.append(p)
            tok.cancel()

        stats = svc.index([folder], progress=progress, cancel=tok)
        assert stats.cancelled and seen
        assert svc.library.integrity_ok()
        stats = svc.index()
        assert not stats.cancelled
        assert svc.status().indexed == 5 and svc.status().pending == 0


def test_ann_cache_mismatch_is_rebuilt(tmp_path: Path, folder: Path) -> None:
    with _svc(tmp_path) as svc:
        svc.index([folder])
        want = svc.search("green", k=3)
        frames = svc.status().frames
    ann_dir = tmp_path / "lib" / "ann"
    for f in ann_dir.glob("*.vidx"):
        f.write_bytes(b"corrupt")
    with _svc(tmp_path) as svc:
        assert svc.search("green", k=3) == want
    for f in ann_dir.glob("*"):
        f.unlink()
    with _svc(tmp_path) as svc:
        assert svc.search("green", k=3) == want
        assert svc.rebuild_index() == frames


def test_readonly_library_can_search(tmp_path: Path, folder: Path) -> None:
    with _svc(tmp_path) as svc:
        svc.index([folder])
    with Service(tmp_path / "lib", model="test-color", readonly=True) as svc:
        assert svc.search("red", k=1)[0].path.endswith("a.mp4")
        from vsearch.errors import EnvironmentProblem

        with pytest.raises(EnvironmentProblem):
            svc.index()


def test_long_video_reads_only_a_window_around_the_hit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Long videos get a curve only around their best frame: the moment must be the same."""
    from vsearch.query import search as search_mod

    d = tmp_path / "long"
    d.mkdir()
    make_video(d / "long.mp4", segments=[("grey", 12.0), ("red", 4.0), ("grey", 12.0), ("blue", 4.0)])
    with _svc(tmp_path) as svc:
        svc.index([d])
        full = svc.search("red", k=1)[0]
        monkeypatch.setattr(search_mod, "LONG_VIDEO_FRAMES", 4)
        monkeypatch.setattr(search_mod, "WINDOW_SECONDS", 6.0)
        svc._searchers.clear()
        win = svc.search("red", k=1)[0]
        assert (win.start, win.end) == pytest.approx((full.start, full.end), abs=0.01)
        assert 11.0 <= win.start <= 12.5 and 15.5 <= win.end <= 17.0
        blue = svc.search("blue", k=1)[0]
        assert 27.0 <= blue.start <= 28.5 and blue.end == pytest.approx(32.0, abs=0.6)
