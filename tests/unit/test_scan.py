"""scan(): which files are found, and that odd folders and names do not break it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from vsearch.scan import VIDEO_EXTENSIONS, is_video_name, scan


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def found(*roots: object, errors: list[tuple[str, str]] | None = None) -> list[str]:
    return [v.path for v in scan(roots, errors)]  # type: ignore[arg-type]


def test_finds_videos_recursively_with_stat_and_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = touch(tmp_path / "a.mp4", b"12345")
    b = touch(tmp_path / "sub" / "deeper" / "B.MKV")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "photo.jpg")
    monkeypatch.chdir(tmp_path)
    files = list(scan(["."]))
    assert [f.path for f in files] == [str(a), str(b)]
    assert all(os.path.isabs(f.path) for f in files)
    assert files[0].size == 5
    assert files[0].mtime == pytest.approx(a.stat().st_mtime)


def test_extension_list_covers_common_containers() -> None:
    for ext in (
        "mp4",
        "mov",
        "m4v",
        "mkv",
        "webm",
        "avi",
        "mpg",
        "mpeg",
        "ts",
        "mts",
        "m2ts",
        "wmv",
        "flv",
        "3gp",
        "ogv",
        "vob",
        "mxf",
    ):
        assert ext in VIDEO_EXTENSIONS
        assert is_video_name(f"clip.{ext.upper()}")
    assert not is_video_name(".mp4")  # a hidden file with no name
    assert not is_video_name("mp4")


def test_skips_hidden_and_system_folders_but_not_hidden_named_roots(tmp_path: Path) -> None:
    keep = touch(tmp_path / "ok" / "v.mp4")
    for d in (".hidden", ".Trash-1000", "$RECYCLE.BIN", "System Volume Information", "@eaDir", "lost+found"):
        touch(tmp_path / d / "v.mp4")
    assert found(tmp_path) == [str(keep)]
    # A root the user named explicitly is scanned even if hidden.
    hidden = touch(tmp_path / ".hidden" / "v.mp4")
    assert found(tmp_path / ".hidden") == [str(hidden)]


def test_zero_byte_files_are_yielded_for_the_indexer_to_record(tmp_path: Path) -> None:
    empty = touch(tmp_path / "empty.mp4", b"")
    [f] = scan([tmp_path])
    assert f.path == str(empty) and f.size == 0


def test_a_single_file_root_and_missing_root(tmp_path: Path) -> None:
    v = touch(tmp_path / "one.webm")
    errors: list[tuple[str, str]] = []
    assert found(v, tmp_path / "missing", errors=errors) == [str(v)]
    assert errors and errors[0][0] == str(tmp_path / "missing")
    assert "\n" not in errors[0][1]


def test_each_file_once_when_roots_overlap(tmp_path: Path) -> None:
    v = touch(tmp_path / "sub" / "v.mp4")
    assert found(tmp_path, tmp_path / "sub", v) == [str(v)]


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
def test_symlink_loops_end_and_linked_folders_are_followed(tmp_path: Path) -> None:
    v = touch(tmp_path / "a" / "v.mp4")
    os.symlink(tmp_path, tmp_path / "a" / "loop")  # a -> root -> a -> ...
    os.symlink(tmp_path / "a", tmp_path / "a" / "self")
    other = tmp_path.parent / (tmp_path.name + "_elsewhere")
    w = touch(other / "w.mov")
    os.symlink(other, tmp_path / "linked")
    os.symlink(tmp_path / "nowhere", tmp_path / "broken.mp4")
    paths = found(tmp_path)
    assert str(v) in paths
    assert any(p.endswith("w.mov") for p in paths) and str(w) not in paths  # reached via the link
    assert len(paths) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_folder_is_reported_and_the_rest_scanned(tmp_path: Path) -> None:
    v = touch(tmp_path / "ok" / "v.mp4")
    locked = tmp_path / "locked"
    touch(locked / "secret.mp4")
    os.chmod(locked, 0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read anything (root)")
        errors: list[tuple[str, str]] = []
        assert found(tmp_path, errors=errors) == [str(v)]
        assert [e[0] for e in errors] == [str(locked)]
        assert "\n" not in errors[0][1] and errors[0][1]
    finally:
        os.chmod(locked, 0o755)


def test_weird_names_round_trip(tmp_path: Path) -> None:
    names = ["with space.mp4", 'quote\'s "double".mkv', "emoji 🎬 clip.mov", "ünïcödé.webm"]
    if sys.platform != "win32":
        names.append("new\nline.mp4")
    made = [touch(tmp_path / n) for n in names]
    paths = found(tmp_path)
    assert sorted(paths) == sorted(str(p) for p in made)
    for p in paths:
        assert os.path.exists(p)


@pytest.mark.skipif(sys.platform != "linux", reason="bytes file names are a Linux thing")
def test_invalid_utf8_name_survives_as_surrogate_escape(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/bad-\xff\xfe.mp4"
    try:
        with open(raw, "wb") as fh:
            fh.write(b"x")
    except OSError:
        pytest.skip("file system refuses non-UTF-8 names")
    [f] = scan([tmp_path])
    assert os.fsencode(f.path) == raw
    assert os.path.getsize(f.path) == 1


def test_folder_that_fails_to_list_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Same as above where permissions cannot be tested (root, Windows): listing raises."""
    v = touch(tmp_path / "ok" / "v.mp4")
    touch(tmp_path / "bad" / "w.mp4")
    real = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == "bad":
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    errors: list[tuple[str, str]] = []
    assert found(tmp_path, errors=errors) == [str(v)]
    assert errors == [(str(tmp_path / "bad"), "Permission denied")]
