"""Removable and network drives: an absent folder keeps its entries (offline, searchable) and,
when it returns, only what changed is re-indexed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, check_sound, snapshot
from vsearch.service import Service


@pytest.fixture
def drive(tmp_path: Path) -> Path:
    d = tmp_path / "media" / "USB STICK"
    for c in ("red", "blue", "green", "yellow"):
        make_video(d / f"{c}.mp4", segments=[(c, 3.0)], gop=5)
    return d


def _frame_ids(svc: Service) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for vid, row in svc.library.videos().items():
        out[os.path.basename(row.path)] = {
            r[0] for r in svc.library._sql.query("SELECT id FROM frames WHERE video_id = ?", (vid,))
        }
    return out


def test_unplugged_drive_stays_searchable_and_only_changes_are_redone(drive: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    other = tmp_path / "home videos"
    make_video(other / "purple.mp4", segments=[("purple", 3.0)])
    with Service(lib, model=MODEL) as svc:
        svc.index([drive, other])
        ids_before = _frame_ids(svc)
    snap_before = snapshot(lib)
    # unplug
    away = tmp_path / "drawer"
    shutil.move(str(drive), str(away))
    with Service(lib, model=MODEL) as svc:
        stats = svc.index()  # the other folder is still indexed normally
        assert stats.gone == 0
        st = {f.path: f for f in svc.folders()}
        assert st[str(drive)].online is False and st[str(drive)].indexed == 4
        assert st[str(other)].online is True
        assert svc.search("green", k=1)[0].path == str(drive / "green.mp4")
        assert svc.search("purple", k=1)[0].path == str(other / "purple.mp4")
    assert snapshot(lib) == snap_before, "an unplugged drive must not lose a single vector"
    # edit the files elsewhere, then plug it back in
    make_video(away / "white.mp4", segments=[("white", 3.0)])  # new
    make_video(away / "blue.mp4", segments=[("orange", 3.0)], gop=5)  # changed
    os.utime(away / "blue.mp4", (time.time() + 10, time.time() + 10))
    (away / "yellow.mp4").unlink()  # deleted
    shutil.move(str(away), str(drive))
    with Service(lib, model=MODEL) as svc:
        stats = svc.index()
        assert (stats.new, stats.changed, stats.gone, stats.indexed) == (1, 1, 1, 2)
        ids_after = _frame_ids(svc)
        for name in ("red.mp4", "green.mp4", "purple.mp4"):
            assert ids_after[name] == ids_before[name], f"{name} was re-embedded although unchanged"
        # the deleted one keeps its row and vectors, marked missing (issue 16.13)
        assert svc.library.video_by_path(str(drive / "yellow.mp4")).missing
        assert os.path.basename(svc.search("orange", k=1)[0].path) == "blue.mp4"
        assert os.path.basename(svc.search("white", k=1)[0].path) == "white.mp4"
        assert all(f.online for f in svc.folders())
    check_sound(lib)


def test_empty_mount_point_is_treated_as_offline_not_as_everything_deleted(
    drive: Path, tmp_path: Path
) -> None:
    """A network share or drive whose mount point stays behind, empty, when it is gone."""
    lib = tmp_path / "lib"
    with Service(lib, model=MODEL) as svc:
        svc.index([drive])
    snap_before = snapshot(lib)
    away = tmp_path / "away"
    shutil.move(str(drive), str(away))
    drive.mkdir()  # the bare mount point
    with Service(lib, model=MODEL) as svc:
        stats = svc.index()
        assert stats.gone == 0
        assert svc.search("red", k=1)[0].path == str(drive / "red.mp4")
    assert snapshot(lib) == snap_before
    # removing the folder from the library is how a user drops entries on purpose
    with Service(lib, model=MODEL) as svc:
        svc.remove_folder(drive)
        assert svc.status().videos == 0


def test_single_missing_file_in_a_present_folder_is_marked_missing(drive: Path, tmp_path: Path) -> None:
    """The counterpart: in a folder that is there, a deleted file is marked missing (issue 16.13)."""
    lib = tmp_path / "lib"
    with Service(lib, model=MODEL) as svc:
        svc.index([drive])
        (drive / "red.mp4").unlink()
        stats = svc.index()
        st = svc.status()
        assert stats.gone == 1 and st.videos == 4 and st.indexed == 3
        assert svc.library.video_by_path(str(drive / "red.mp4")).missing
        # forgetting it is explicit
        svc.remove_folder(drive / "red.mp4")
        assert svc.status().videos == 3
