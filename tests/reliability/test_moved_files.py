"""Issue 16.13: a file renamed or moved keeps its vectors (content fingerprint); a deleted one is marked missing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, check_sound, cli
from vsearch.errors import UserError
from vsearch.scan import fingerprint
from vsearch.service import Service


def _frame_ids(svc: Service, vid: int) -> list[int]:
    return [r[0] for r in svc.library._sql.query("SELECT id FROM frames WHERE video_id = ? ORDER BY id", (vid,))]


def _counting(svc: Service) -> list[int]:
    """Count image embeddings from now on (an unchanged or moved file must cause none)."""
    calls: list[int] = []
    emb = svc.embedder(svc.model_name())
    real = emb.embed_images
    emb.embed_images = lambda images: calls.append(len(images)) or real(images)  # type: ignore[method-assign]
    return calls


@pytest.fixture
def two_roots(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    make_video(a / "red.mp4", segments=[("red", 3.0)])
    make_video(a / "blue.mp4", segments=[("blue", 3.0)])
    make_video(b / "green.mp4", segments=[("green", 3.0)])
    return a, b


def test_fingerprint_reads_blocks_not_the_whole_file(tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(3_000_000))
    fp = fingerprint(str(f), f.stat().st_size)
    assert fp == fingerprint(str(f), f.stat().st_size) and fp.startswith("v1:3000000:")
    data = bytearray(f.read_bytes())
    data[-1] ^= 1  # the end block changes
    f.write_bytes(bytes(data))
    assert fingerprint(str(f), len(data)) != fp
    assert fingerprint(str(tmp_path / "nope"), 1) is None


def test_renamed_file_keeps_its_vectors_and_nothing_is_embedded(tmp_path: Path, two_roots: tuple[Path, Path]) -> None:
    a, b = two_roots
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.index([a, b])
        red = svc.library.video_by_path(str(a / "red.mp4"))
        before = _frame_ids(svc, red.id)
        calls = _counting(svc)
        (a / "archive").mkdir()
        os.rename(a / "red.mp4", a / "archive" / "2024 red take.mp4")  # another name, another folder
        stats = svc.index()
        assert (stats.moved, stats.new, stats.gone, stats.indexed) == (1, 0, 0, 0)
        assert calls == [], "a moved file was embedded again"
        row = svc.library.video(red.id)
        assert row.path == str(a / "archive" / "2024 red take.mp4") and not row.missing
        assert _frame_ids(svc, red.id) == before
        top = svc.search("red", k=1)[0]
        assert top.path == row.path and not top.missing
    check_sound(tmp_path / "lib")


@pytest.mark.parametrize("direction", ["a_to_b", "b_to_a"])
def test_move_between_library_folders_is_recognised_whichever_is_scanned_first(
    tmp_path: Path, two_roots: tuple[Path, Path], direction: str
) -> None:
    a, b = two_roots
    src, dst = (a / "blue.mp4", b / "blue moved.mp4") if direction == "a_to_b" else (b / "green.mp4", a / "g.mp4")
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.index([a, b])
        vid = svc.library.video_by_path(str(src)).id
        before = _frame_ids(svc, vid)
        calls = _counting(svc)
        shutil.move(str(src), str(dst))
        stats = svc.index()
        assert stats.moved == 1 and stats.indexed == 0 and calls == []
        assert svc.library.video(vid).path == str(dst) and _frame_ids(svc, vid) == before
        assert svc.status().videos == 3


def test_a_copy_is_a_new_video(tmp_path: Path, two_roots: tuple[Path, Path]) -> None:
    a, b = two_roots
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.index([a, b])
        shutil.copy(a / "red.mp4", b / "red copy.mp4")
        stats = svc.index()
        assert (stats.moved, stats.new, stats.indexed) == (0, 1, 1)
        assert {os.path.basename(m.path) for m in svc.search("red", k=10)} >= {"red.mp4", "red copy.mp4"}


def test_deleted_file_is_marked_missing_then_found_again_or_located(tmp_path: Path, two_roots: tuple[Path, Path]) -> None:
    a, b = two_roots
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.index([a, b])
        red = svc.library.video_by_path(str(a / "red.mp4"))
        before = _frame_ids(svc, red.id)
        shutil.move(str(a / "red.mp4"), str(outside / "red.mp4"))
        stats = svc.index()
        assert stats.gone == 1 and svc.library.video(red.id).missing
        top = svc.search("red", k=1)[0]
        assert top.video_id == red.id and top.missing  # still found, flagged: it cannot play
        st = svc.status()
        assert (st.videos, st.indexed, st.missing) == (3, 2, 1)
        r = cli(tmp_path / "lib", "status")
        assert "videos:  3 (2 indexed, 0 pending, 0 failed, 1 missing)" in r.stdout, r.stdout
        # a second scan does not count it gone again
        assert svc.index().gone == 0
        # Locate...: outside every library folder is refused, a different file is refused
        with pytest.raises(UserError, match="not inside a library folder"):
            svc.locate(red.id, outside / "red.mp4")
        with pytest.raises(UserError, match="already in the library"):
            svc.locate(red.id, b / "green.mp4")
        make_video(b / "impostor.mp4", segments=[("red", 3.0)], fps=5)
        with pytest.raises(UserError, match="not the same file"):
            svc.locate(red.id, b / "impostor.mp4")
        os.unlink(b / "impostor.mp4")
        shutil.move(str(outside / "red.mp4"), str(b / "found again.mp4"))
        calls = _counting(svc)
        svc.locate(red.id, b / "found again.mp4")
        row = svc.library.video(red.id)
        assert row.path == str(b / "found again.mp4") and not row.missing
        assert _frame_ids(svc, red.id) == before
        assert not svc.search("red", k=1)[0].missing
        stats = svc.index()
        assert (stats.new, stats.moved, stats.gone, stats.indexed) == (0, 0, 0, 0) and calls == []
    check_sound(tmp_path / "lib")


def test_missing_file_back_at_its_place_is_unmarked_without_reindexing(tmp_path: Path, two_roots: tuple[Path, Path]) -> None:
    a, b = two_roots
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.index([a, b])
        red = svc.library.video_by_path(str(a / "red.mp4"))
        shutil.move(str(a / "red.mp4"), str(tmp_path / "red.mp4"))
        svc.index()
        assert svc.library.video(red.id).missing
        shutil.move(str(tmp_path / "red.mp4"), str(a / "red.mp4"))
        calls = _counting(svc)
        stats = svc.index()
        assert stats.indexed == 0 and calls == [] and not svc.library.video(red.id).missing


def test_folders_on_network_mounts_are_not_watched(tmp_path: Path) -> None:
    from vsearch.scan import is_network_path, watch_list

    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n//nas/video /mnt/nas cifs rw 0 0\nsrv:/x /mnt/my\\040nfs nfs4 rw 0 0\n"
    )
    assert is_network_path("/mnt/nas/2024/a.mp4", str(mounts))
    assert is_network_path("/mnt/my nfs", str(mounts))
    assert not is_network_path("/mnt/nasty", str(mounts)) and not is_network_path("/home/me", str(mounts))
    (tmp_path / "v" / "a" / "b").mkdir(parents=True)
    (tmp_path / "v" / ".hidden").mkdir()
    assert watch_list([str(tmp_path / "v")], 10) == [str(tmp_path / "v"), str(tmp_path / "v" / "a"), str(tmp_path / "v" / "a" / "b")]
    assert len(watch_list([str(tmp_path / "v")], 2)) == 2
