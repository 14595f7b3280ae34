"""What every exporter shares: the Exporter protocol, ExportOptions, output checks, media facts."""

from __future__ import annotations

import functools
import math
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from vsearch import log
from vsearch.atomic import atomic_write
from vsearch.errors import UserError
from vsearch.types import CancelToken, Moment


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Read once at import (os.umask can only be read by setting it); exports get normal permissions.
_FILE_MODE = 0o666 & ~_read_umask()

#: Times beyond this (seconds, ~115 days) are not from any video: refused, not exported.
MAX_SECONDS = 1e7

#: Rate used for a file whose rate is unknown and cannot be probed.
FALLBACK_FPS = 25.0

Thumbnailer = Callable[[str, float], "np.ndarray | bytes"]


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """How to export; every field has a default that suits most people.

    Attributes:
        overwrite: replace files that already exist. When False an existing output is an error
            ("... exists; use --overwrite"), so a UI can ask and retry with True.
        clip_mode: for cut clips, "copy" (stream copy: fast, starts on the keyframe at or before
            the moment) or "reencode" (frame-accurate, slower).
        thumbnail: ``(path, seconds) -> RGB uint8 HxWx3 array or encoded image bytes`` for the
            contact sheet; None grabs frames with PyAV.
        fps: the timeline's frame rate; None uses the first moment's rate (25 if unknown).
        drop_frame: drop-frame timecode on the timeline; None means the convention for its rate.
        title: the timeline / playlist / page title; empty means one made from the query.
        progress: called as ``progress(done, total)`` after each file for slow formats (clips).
        cancel: checked between files for slow formats; a cancelled run removes nothing it
            finished and returns what it wrote.
    """

    overwrite: bool = False
    clip_mode: Literal["copy", "reencode"] = "copy"
    thumbnail: Thumbnailer | None = None
    fps: float | None = None
    drop_frame: bool | None = None
    title: str = ""
    progress: Callable[[int, int], None] | None = None
    cancel: CancelToken | None = None


@runtime_checkable
class Exporter(Protocol):
    """One output format.

    Attributes:
        name: the registry key and ``--format`` value.
        extension: the file extension (with the dot) of the main output; "" for a folder.
        description: one line for ``--help`` and menus.
    """

    name: str
    extension: str
    description: str

    def export(
        self, moments: Sequence[Moment], out: Path, *, query: str = "", options: ExportOptions
    ) -> list[Path]:
        """Write *moments* to *out*; return every file written, main file first."""
        ...


@dataclass(frozen=True, slots=True)
class MediaFacts:
    """What the exporters need to know about a source file (probed once, cached)."""

    fps: float
    width: int
    height: int
    duration: float
    has_audio: bool
    audio_rate: int = 48000
    audio_channels: int = 2


def _probe(path: str) -> MediaFacts | None:
    """Probe *path*, cached by (path, size, mtime) so an edited or new file is probed again."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _probe_cached(path, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _probe_cached(path: str, size: int, mtime_ns: int) -> MediaFacts | None:
    try:
        from vsearch.probe import open_input

        with open_input(path) as c:
            if not c.streams.video:
                return None
            v = c.streams.video[0]
            rate = v.average_rate or v.guessed_rate or v.base_rate
            fps = float(rate) if rate else 0.0
            duration = 0.0
            if v.duration is not None and v.time_base is not None:
                duration = float(v.duration * v.time_base)
            elif c.duration is not None:
                duration = c.duration / 1_000_000
            audio = c.streams.audio[0] if c.streams.audio else None
            return MediaFacts(
                fps=fps,
                width=v.codec_context.width or 0,
                height=v.codec_context.height or 0,
                duration=duration,
                has_audio=audio is not None,
                audio_rate=(audio.codec_context.sample_rate or 48000) if audio else 48000,
                audio_channels=(audio.codec_context.channels or 2) if audio else 2,
            )
    except Exception as exc:  # any container PyAV cannot open: fall back to defaults
        log.export.info("cannot probe %s for export: %s", path, exc)
        return None


def media_facts(m: Moment) -> MediaFacts:
    """The source file's rate, size, duration and audio, probed with PyAV when reachable.

    The moment's own ``fps``/``duration`` win when set; an unreachable file gets 1920x1080 at
    the fallback rate, so an export made on another machine still opens in an editor.
    """
    probed = _probe(m.path)
    fps = m.fps if m.fps and m.fps > 0 and math.isfinite(m.fps) else (probed.fps if probed else 0.0)
    if not fps or fps <= 0:
        fps = FALLBACK_FPS
    if probed is None:
        return MediaFacts(fps=fps, width=1920, height=1080, duration=max(m.duration, m.end), has_audio=False)
    duration = m.duration or probed.duration or m.end
    return replace(probed, fps=fps, duration=max(duration, m.end))


def source_fps(m: Moment) -> float:
    """The moment's file's own frame rate: the moment's, else probed, else 25."""
    return media_facts(m).fps


def timeline_fps(moments: Sequence[Moment], options: ExportOptions) -> float:
    """The timeline rate: the option, else the first moment's file rate, else 25."""
    if options.fps:
        return float(options.fps)
    return source_fps(moments[0]) if moments else FALLBACK_FPS


def title_for(query: str, options: ExportOptions) -> str:
    """The timeline title: the option, else ``vsearch: <query>``."""
    if options.title:
        return options.title
    return f"vsearch: {query}" if query else "vsearch moments"


class SingleFileExporter(Exporter):
    """Base of the exporters that write one file.

    Subclasses set name, extension and description, and implement ``render`` (and ``validate``
    when they have limits).
    """

    def export(
        self, moments: Sequence[Moment], out: Path, *, query: str = "", options: ExportOptions
    ) -> list[Path]:
        """Validate, render and write the one file (atomically); returns ``[path]``."""
        ms = check_moments(moments)
        self.validate(ms)
        out = with_extension(out, self.extension)
        ensure_writable([out], options.overwrite)
        write_file(out, self.render(ms, query=query, options=options))
        return [out]

    def validate(self, ms: Sequence[Moment]) -> None:
        """Raise UserError when these moments cannot go into this format."""

    def render(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> bytes:
        """The file's bytes for the checked moments *ms*."""
        raise NotImplementedError


def check_moments(moments: Sequence[Moment]) -> list[Moment]:
    """Reject an empty or malformed list with a UserError; return it as a list.

    A path that is a URL or an FFmpeg protocol (``http://``, ``concat:``, ...) is refused:
    exports read local files only, so a results file cannot make vsearch fetch anything.
    """
    from vsearch.probe import is_url_or_protocol

    ms = list(moments)
    if not ms:
        raise UserError("nothing to export: the result list is empty")
    for i, m in enumerate(ms, 1):
        if is_url_or_protocol(m.path):
            raise UserError(
                f"result {i}: {m.path!r} is not a local file; exports read local files only "
                "(no URLs or FFmpeg protocols)"
            )
        if (
            not (math.isfinite(m.start) and math.isfinite(m.end))
            or m.end <= m.start
            or m.start < 0
            or m.end > MAX_SECONDS
        ):
            raise UserError(f"bad moment {m.start:.6g}-{m.end:.6g} s in {m.path}")
    return ms


def ensure_writable(paths: Sequence[Path], overwrite: bool) -> None:
    """Refuse to replace existing files unless *overwrite*; checked before anything is written.

    Raises:
        UserError: naming the first existing file.
    """
    if overwrite:
        return
    for p in paths:
        if p.exists():
            raise UserError(f"{p} exists; use --overwrite to replace it")


def with_extension(out: Path, extension: str) -> Path:
    """Add *extension* to *out* when it has no suffix (``hits`` -> ``hits.edl``)."""
    out = Path(out)
    if extension and not out.suffix:
        return out.with_name(out.name + extension)
    return out


def slug(text: str, max_len: int = 40) -> str:
    """A file-name-safe version of *text* (letters, digits, ``-``; unicode letters kept)."""
    text = unicodedata.normalize("NFC", text).strip().lower()
    text = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    return text[:max_len].rstrip("-_") or "moments"


def default_filename(query: str, exporter: Exporter) -> str:
    """A file name for an export of *query* when the user gave none: ``vsearch-<query>.<ext>``."""
    return f"vsearch-{slug(query)}{exporter.extension}"


def file_uri(path: str) -> str:
    """``file://`` URL of an absolute path, percent-encoded (spaces, non-ASCII)."""
    return Path(path).absolute().as_uri()


def clip_label(m: Moment, rank: int) -> str:
    """A short human label: ``#1 d03.mp4 43.44-48.20 s``."""
    return f"#{rank} {Path(m.path).name} {m.start:.2f}-{m.end:.2f} s"


def finish_file(path: Path) -> None:
    """Give a finished export the usual permissions (atomic temp files are created 0600)."""
    try:
        os.chmod(path, _FILE_MODE)
    except OSError:
        pass  # a file system without modes (FAT, some network shares)


def write_file(path: Path, data: bytes) -> None:
    """Write *data* to *path* atomically, with normal file permissions."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    finish_file(path)
