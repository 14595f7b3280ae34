"""Read a video's duration, frame rate, displayed size, rotation and codec with PyAV."""

from __future__ import annotations

import os
import re
import statistics
from fractions import Fraction
from typing import Any

import av

from vsearch import log
from vsearch.errors import ProbeError
from vsearch.types import VideoInfo

OPEN_TIMEOUT = 10.0
"""Seconds PyAV may block opening or reading (network shares, stuck devices)."""

_TAIL_PACKETS = 600  # at most this many packets read when checking where the file really ends
_STILL_IMAGE_CODECS = {"png", "bmp", "gif", "webp", "tiff", "jpegls", "jpeg2000"}
_ISO_BRANDS = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


def one_line(text: object) -> str:
    """Collapse *text* to a single line (errors are shown in lists and logs, one per line)."""
    return " ".join(str(text).split())


def time_origin(container: Any, stream: Any) -> float:
    """Seconds of the file's time 0 in *stream*'s clock: the earliest start of any stream.

    Players show position 0 there, so frame times are measured from it (MPEG-TS files
    start at 1.4 s or anywhere; a video track may start after its audio).
    """
    if container.start_time is not None:  # microseconds; PyAV gives None for "unknown"
        return float(container.start_time) / av.time_base
    if stream.start_time is not None and stream.time_base is not None:
        return float(stream.start_time * stream.time_base)
    return 0.0


#: FFmpeg reads a "name:" prefix (letters, digits, + - .) as a protocol: http:, tcp:, concat:,
#: pipe:, data:, ... and "subfile,,start,end,:" likewise. A single letter is a drive (C:\\).
_PROTOCOL_PREFIX = re.compile(r"^(?:[A-Za-z0-9+.\-]{2,}:|subfile,)")
#: Demuxer options for every open: only the file protocol, also for what a file refers to
#: (an HLS playlist's segments, a concat list's entries).
LOCAL_ONLY = {"protocol_whitelist": "file"}


class NotLocalFile(ProbeError):
    """A path that names a URL or an FFmpeg protocol: vsearch opens local files only."""


def is_url_or_protocol(path: str | os.PathLike[str]) -> bool:
    """True when FFmpeg would read *path* as a URL or protocol (http:, concat:, file:, ...)."""
    return bool(_PROTOCOL_PREFIX.match(os.fsdecode(path)))


def local_path(path: str | os.PathLike[str]) -> str:
    """*path* as an absolute local path that FFmpeg can only read as a file.

    Raises:
        NotLocalFile: *path* is a URL or names an FFmpeg protocol.
    """
    spath = os.fsdecode(path)
    if is_url_or_protocol(spath):
        scheme = spath.split(":", 1)[0].split(",", 1)[0]
        raise NotLocalFile(f"not a local file ({scheme}: URLs and protocols are never opened)")
    return os.path.abspath(spath)


def open_input(path: str, timeout: float | None = OPEN_TIMEOUT, hwaccel: str | None = None) -> Any:
    """Open the local file *path* with PyAV for reading, with an open/read timeout. Raises av errors.

    Only local files: a URL or protocol prefix raises NotLocalFile, and the demuxer may use
    the file protocol only (so a playlist cannot make FFmpeg fetch anything).

    *hwaccel* names an FFmpeg hardware device type ("cuda", "vaapi", "videotoolbox", ...) to
    decode on; streams it cannot handle, and machines without that device, fall back to
    software decoding.
    """
    path = local_path(path)
    if hwaccel:
        from av.codec.hwaccel import HWAccel

        try:
            accel = HWAccel(device_type=hwaccel, allow_software_fallback=True)
            return av.open(
                path,
                mode="r",
                timeout=timeout,
                metadata_errors="replace",
                hwaccel=accel,
                container_options=LOCAL_ONLY,
            )
        except Exception as exc:  # noqa: BLE001 - no such device here: decode in software
            from vsearch.log import decode as log

            log.debug("no %s hardware decoding for %r (%s); decoding in software", hwaccel, path, exc)
    return av.open(path, mode="r", timeout=timeout, metadata_errors="replace", container_options=LOCAL_ONLY)


def _looks_like_iso_media(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return len(head) >= 8 and head[4:8] in _ISO_BRANDS


def _explain_open_error(path: str, exc: Exception) -> ProbeError:
    if (
        isinstance(exc, av.error.InvalidDataError)
        or isinstance(exc, av.error.FFmpegError)
        and "Invalid data" in str(exc)
    ):
        if _looks_like_iso_media(path):
            return ProbeError("truncated or corrupt: MP4/MOV index (moov) missing or damaged")
        return ProbeError("not a video file")
    if isinstance(exc, av.error.ExitError | TimeoutError):
        return ProbeError("timed out opening the file")
    if isinstance(exc, PermissionError):
        return ProbeError("permission denied")
    if isinstance(exc, FileNotFoundError):
        return ProbeError("file not found")
    msg = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    msg = msg.replace(repr(path), "").replace(path, "").rstrip(": ")
    return ProbeError(one_line(f"cannot open: {msg or type(exc).__name__}"))


def probe(path: str | os.PathLike[str], timeout: float | None = OPEN_TIMEOUT) -> VideoInfo:
    """Return what the indexer needs to know about the video at *path*.

    Duration comes from the container (or the stream), checked against the timestamps of
    the last packets when that is cheap (the MP4 sample index, or one seek near the end),
    so a header that claims hours for a file holding seconds is corrected. Width and height
    are as displayed: swapped for 90/270 degree rotation. The first frame is decoded, so a
    file whose video cannot be decoded at all fails here.

    Args:
        path: the video file.
        timeout: seconds any single open/read may block.

    Returns:
        VideoInfo with duration (s), fps, displayed width/height, rotation (degrees the
        stored picture must turn clockwise to be upright, one of 0/90/180/270, as the
        legacy 'rotate' tag; a portrait phone clip is 90),
        codec name, has_audio and keyframe_interval (s, None when not cheap to know).

    Raises:
        ProbeError: with a one-line message: "empty file", "not a video file",
            "no video stream (audio only)", "truncated or corrupt: ...", ...
    """
    spath = local_path(path)
    try:
        size = os.path.getsize(spath)
    except OSError as exc:
        raise _explain_open_error(spath, exc) from None
    if size == 0:
        raise ProbeError("empty file")
    try:
        container = open_input(spath, timeout)
    except Exception as exc:  # noqa: BLE001 - every open failure is this file's problem
        raise _explain_open_error(spath, exc) from None
    try:
        return _probe_open(container, spath)
    except ProbeError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ProbeError(one_line(f"truncated or corrupt: {exc}")) from None
    finally:
        container.close()


def _probe_open(container: Any, path: str) -> VideoInfo:
    videos = [s for s in container.streams.video if not _is_cover_art(s)]
    if not videos:
        if container.streams.audio:
            raise ProbeError("no video stream (audio only)")
        raise ProbeError("not a video file")
    stream = videos[0]
    cc = stream.codec_context
    codec = cc.name or ""
    if (
        codec in _STILL_IMAGE_CODECS
        or container.format.name.startswith("image2")
        or container.format.name.endswith("_pipe")
    ):
        raise ProbeError("not a video file (a still image)")
    fps = _fps(stream)
    duration, kf_interval = _duration(container, stream, os.path.getsize(path))
    first = _first_frame(container, stream)
    if first is None:
        raise ProbeError("truncated or corrupt: no frame could be decoded")
    rotation = _rotation(stream, first)
    width, height = int(cc.width or first.width), int(cc.height or first.height)
    if width <= 0 or height <= 0:
        raise ProbeError("truncated or corrupt: no picture size")
    if rotation in (90, 270):
        width, height = height, width
    if duration <= 0:
        raise ProbeError("truncated or corrupt: no duration")
    return VideoInfo(
        duration=duration,
        fps=fps,
        width=width,
        height=height,
        rotation=rotation,
        codec=codec,
        has_audio=bool(container.streams.audio),
        keyframe_interval=kf_interval,
    )


def _is_cover_art(stream: Any) -> bool:
    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except Exception:  # noqa: BLE001
        return False


def _fps(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        try:
            value = float(rate) if rate else 0.0
        except (TypeError, ZeroDivisionError):
            value = 0.0
        if 0.5 <= value <= 1000:
            return value
    return 25.0


def _seconds(ts: int | None, time_base: Fraction | None) -> float | None:
    if ts is None or time_base is None:
        return None
    return float(ts * time_base)


def _claimed_duration(container: Any, stream: Any) -> float:
    d = _seconds(stream.duration, stream.time_base)
    if d and d > 0:
        return d
    if container.duration and container.duration > 0:
        return float(container.duration / av.time_base)
    return 0.0


def _duration(container: Any, stream: Any, file_size: int) -> tuple[float, float | None]:
    """(duration, keyframe interval): header values checked against the last timestamps."""
    claimed = _claimed_duration(container, stream)
    tb = stream.time_base
    entries = stream.index_entries
    n = len(entries)
    fmt = container.format.name or ""
    if n >= 2 and tb is not None and ("mov" in fmt.split(",") or fmt == "avi"):
        # MP4/MOV and AVI carry an index of every sample: the last sample's time is exact,
        # and a sample stored past the end of the file means the file was cut short.
        last_i = n - 1
        if entries[last_i].pos + entries[last_i].size > file_size:
            lo, hi = 0, last_i  # samples are stored in time order: find the last one inside
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if entries[mid].pos + entries[mid].size <= file_size:
                    lo = mid
                else:
                    hi = mid - 1
            last_i = lo
            log.decode.info("file cut short: %d of %d samples present", last_i + 1, n)
        last = entries[last_i]
        step = float((entries[n - 1].timestamp - entries[n - 2].timestamp) * tb)
        first = min(0, entries[0].timestamp)  # edit lists can start DTS below zero
        end = float((last.timestamp - first) * tb) + max(0.0, step)
        keys = [e.timestamp for e in entries if e.is_keyframe]
        kfi = None
        if len(keys) >= 2:
            kfi = float(statistics.median(b - a for a, b in zip(keys, keys[1:], strict=False)) * tb)
        if end > 0 and (claimed <= 0 or abs(end - claimed) > max(1.0, 0.02 * claimed)):
            log.decode.info("duration: header says %.2f s, index ends at %.2f s", claimed, end)
            return end, kfi
        return claimed, kfi
    tail_end, tail_kfi = _tail_end(container, stream, claimed)
    if (
        tail_end is not None
        and tail_end > 0
        and (claimed <= 0 or tail_end < claimed - max(1.0, 0.02 * claimed))
    ):
        log.decode.info("duration: header says %.2f s, last packet at %.2f s", claimed, tail_end)
        return tail_end, tail_kfi
    return claimed, tail_kfi


def _tail_end(container: Any, stream: Any, claimed: float) -> tuple[float | None, float | None]:
    """Seek near the claimed end and read the last packets' times (bounded work)."""
    tb = stream.time_base
    if tb is None:
        return None, None
    offset = time_origin(container, stream)
    try:
        target = max(0.0, claimed - 5.0) if claimed > 0 else 0.0
        if target > 0:
            container.seek(int((target + offset) / tb), stream=stream, backward=True)
        end: float | None = None
        keys: list[float] = []
        count = 0
        limit = _TAIL_PACKETS if target > 0 else 20 * _TAIL_PACKETS
        for packet in container.demux(stream):
            if packet.pts is None and packet.dts is None:
                continue  # the flush packet
            count += 1
            ts = packet.pts if packet.pts is not None else packet.dts
            t = float(ts * tb) - offset
            dur = float(packet.duration * tb) if packet.duration else 0.0
            if end is None or t + dur > end:
                end = t + dur
            if packet.is_keyframe:
                keys.append(t)
            if count >= limit:
                return None, None  # too far from the end to tell; trust the header
        kfi = (
            statistics.median(b - a for a, b in zip(keys, keys[1:], strict=False)) if len(keys) >= 3 else None
        )
        return end, kfi
    except Exception as exc:  # noqa: BLE001 - a failed check leaves the header's word
        log.decode.debug("tail check failed: %s", one_line(exc))
        return None, None
    finally:
        try:
            container.seek(0, stream=stream, backward=True)
        except Exception:  # noqa: BLE001
            pass


def _first_frame(container: Any, stream: Any) -> Any:
    count = 0
    try:
        for packet in container.demux(stream):
            count += 1
            for frame in packet.decode():
                return frame
            if count > 500:
                break
    except Exception as exc:  # noqa: BLE001
        raise ProbeError(one_line(f"truncated or corrupt: {exc}")) from None
    return None


def _rotation(stream: Any, frame: Any) -> int:
    """Degrees clockwise to turn the stored picture upright (0, 90, 180, 270), like the 'rotate' tag."""
    deg: float | None = None
    try:
        deg = -float(frame.rotation)  # display matrix: FFmpeg gives counter-clockwise degrees
    except Exception:  # noqa: BLE001
        deg = None
    if not deg:
        tag = stream.metadata.get("rotate")  # legacy tag: clockwise degrees
        if tag:
            try:
                deg = float(tag)
            except ValueError:
                deg = None
    if not deg:
        return 0
    return int(round(deg / 90.0)) % 4 * 90
