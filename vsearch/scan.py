"""Walk folders and yield the video files in them (stat only, nothing decoded)."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator

from vsearch import log
from vsearch.types import VideoFile

VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        "mp4",
        "m4v",
        "mov",
        "qt",
        "mkv",
        "mk3d",
        "webm",
        "avi",
        "divx",
        "mpg",
        "mpeg",
        "mpe",
        "m1v",
        "m2v",
        "mp2v",
        "mpv",
        "ts",
        "mts",
        "m2ts",
        "m2t",
        "tsv",
        "wmv",
        "asf",
        "flv",
        "f4v",
        "3gp",
        "3g2",
        "ogv",
        "ogm",
        "vob",
        "mxf",
        "dv",
        "rm",
        "rmvb",
        "nut",
        "y4m",
        "h264",
        "264",
        "hevc",
        "h265",
        "265",
        "ivf",
        "amv",
        "mjpeg",
        "mjpg",
        "evo",
        "dav",
        "insv",
        "lrv",
        "braw",
        "r3d",
        "mod",
        "tod",
        "vro",
    }
)
"""Lower-case file extensions (no dot) treated as videos."""

SYSTEM_DIRS: frozenset[str] = frozenset(
    {
        "$recycle.bin",
        "recycler",
        "recycled",
        "system volume information",
        "lost+found",
        "@eadir",
        "#recycle",
        "#snapshot",
        "@recycle",
        "found.000",
        "$windows.~bt",
        "$windows.~ws",
        "__macosx",
        "node_modules",
        "__pycache__",
    }
)
"""Folder names (lower-case) never entered: OS and NAS bookkeeping, trash, caches."""


def is_video_name(name: str) -> bool:
    """Return True when *name* has one of VIDEO_EXTENSIONS (case-insensitive)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot + 1 :].lower() in VIDEO_EXTENSIONS


def _skip_dir(name: str) -> bool:
    if name.startswith("."):  # hidden, .Trash-1000, .Trashes, .git, .thumbnails ...
        return True
    return name.lower() in SYSTEM_DIRS


def _one_line(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return " ".join(str(text).split()) or type(exc).__name__


def scan(
    roots: Iterable[str | os.PathLike[str]], errors: list[tuple[str, str]] | None = None
) -> Iterator[VideoFile]:
    """Yield every video file under *roots*, depth first, each path once.

    Hidden folders (name starts with a dot) and system folders (SYSTEM_DIRS) are skipped;
    symlinked folders are followed, but a folder already visited (same device and inode) is
    not entered again, so symlink loops end. A root may be a single file (yielded if it
    exists and is a regular file, whatever its extension). Zero-byte files are yielded too:
    the indexer records them as errors. Paths are absolute strings; names that are not valid
    UTF-8 keep their bytes through ``os.fsdecode``'s surrogateescape.

    Args:
        roots: folders or files.
        errors: when given, (path, one-line reason) is appended for each root or folder that
            could not be read; scanning goes on.

    Yields:
        VideoFile(path, size, mtime) in a stable (sorted by name) order per folder.
    """
    visited: set[tuple[int, int]] = set()
    seen_files: set[str] = set()

    def fail(path: str, exc: BaseException) -> None:
        msg = _one_line(exc)
        log.scan.warning("cannot read %r: %s", path, msg)
        if errors is not None:
            errors.append((path, msg))

    for root in roots:
        root_str = os.path.abspath(os.fsdecode(root))
        try:
            st = os.stat(root_str)
        except OSError as exc:
            fail(root_str, exc)
            continue
        if stat.S_ISREG(st.st_mode):
            if root_str not in seen_files:
                seen_files.add(root_str)
                yield VideoFile(root_str, st.st_size, st.st_mtime)
            continue
        if not stat.S_ISDIR(st.st_mode):
            fail(root_str, OSError(0, "not a folder or a regular file"))
            continue
        stack: list[tuple[str, os.stat_result]] = [(root_str, st)]
        while stack:
            folder, fst = stack.pop()
            key = (fst.st_dev, fst.st_ino)
            if key in visited:
                continue
            visited.add(key)
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                fail(folder, exc)
                continue
            subdirs: list[tuple[str, os.stat_result]] = []
            for entry in entries:
                name = entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=True)
                except OSError:
                    is_dir = False
                if is_dir:
                    if _skip_dir(name):
                        continue
                    try:
                        dst = os.stat(entry.path)  # DirEntry.stat has no inode on Windows
                    except OSError as exc:
                        fail(entry.path, exc)
                        continue
                    if (dst.st_dev, dst.st_ino) not in visited:
                        subdirs.append((entry.path, dst))
                    continue
                if not is_video_name(name):
                    continue
                try:
                    if not entry.is_file(follow_symlinks=True):
                        continue  # broken symlink, fifo, device...
                    est = entry.stat(follow_symlinks=True)
                except OSError as exc:
                    fail(entry.path, exc)
                    continue
                path = entry.path
                if path in seen_files:
                    continue
                seen_files.add(path)
                yield VideoFile(path, est.st_size, est.st_mtime)
            # Depth first, in name order: push in reverse so the first name is popped first.
            stack.extend(reversed(subdirs))


#: Bytes read at each of the fingerprint's fixed offsets (start, middle, end of the file).
FINGERPRINT_BLOCK = 64 * 1024


def fingerprint(path: str, size: int) -> str | None:
    """A cheap content fingerprint: the size and a hash of three 64 KiB blocks (start, middle, end).

    It recognises a file moved or renamed with its content unchanged (a copy keeps it too; an
    edit almost always changes it: the end holds an MP4's index or the last frames) after
    reading at most 192 KiB, whatever the file's size. None when the file cannot be read.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    try:
        with open(path, "rb") as fh:
            for offset in sorted({0, max(0, size // 2 - FINGERPRINT_BLOCK // 2), max(0, size - FINGERPRINT_BLOCK)}):
                fh.seek(offset)
                h.update(fh.read(FINGERPRINT_BLOCK))
    except OSError:
        return None
    return f"v1:{size}:{h.hexdigest()}"


#: File system types whose change notifications are unreliable or costly (network shares, FUSE
#: remotes): the app does not watch folders on them; a rescan (F5) still picks changes up.
NETWORK_FILESYSTEMS: frozenset[str] = frozenset(
    {"nfs", "nfs4", "cifs", "smbfs", "smb3", "afs", "9p", "ceph", "glusterfs", "davfs", "fuse.sshfs", "fuse.rclone"}
)


def is_network_path(path: str, mounts: str = "/proc/self/mounts") -> bool:
    """Whether *path* lies on a network file system (Linux: by its mount; elsewhere: False)."""
    try:
        with open(mounts, encoding="utf-8", errors="replace") as fh:
            table = [line.split()[1:3] for line in fh if len(line.split()) >= 3]
    except OSError:
        return False
    real = os.path.realpath(path)
    best, kind = "", ""
    for point, fstype in table:
        point = point.replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fstype
    return kind in NETWORK_FILESYSTEMS


def watch_list(roots: Iterable[str], limit: int) -> list[str]:
    """The folders to watch for changes: each root and its sub-folders (as the scan enters them), at most *limit*."""
    out: list[str] = []
    for root in roots:
        for folder, subdirs, _files in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if not _skip_dir(d))
            out.append(folder)
            if len(out) >= limit:
                return out
    return out
