"""Decide which moments of a video to sample and decode them, resized, into FrameBatches.

How it decodes (one pass, PyAV, frame threads):

Packets are demuxed in decode order and grouped into *segments*: a keyframe and the
packets up to the next keyframe (a GOP). When a segment is complete its wanted sample
times are planned (see ``SampleOptions``), and only the shortest decode-order prefix of its
packets that contains those times is sent to the decoder. A segment with nothing wanted
costs no decoding at all, and a GOP whose only wanted frame is its keyframe costs one
intra frame. Non-reference frames are skipped by the decoder (``skip_frame="NONREF"``);
a wanted time that falls on one takes the next decoded frame. Only kept frames are
converted to RGB, at the target size, by swscale.

Very long GOPs (one keyframe per minute, screen recordings) are cut into pieces of
``_LONG_SEGMENT`` seconds, decoded in full, so memory stays bounded.
"""

from __future__ import annotations

import math
import os
import time as _time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import av
import numpy as np

from vsearch import log
from vsearch.errors import DecodeError, ProbeError
from vsearch.probe import one_line, open_input, time_origin
from vsearch.types import FrameBatch, VideoInfo

ANCHOR_SECONDS = 10.0
"""With ``skip_similar``, a frame is kept at least this often however static the shot."""

_LONG_SEGMENT = 20.0  # seconds of packets buffered at most before a GOP is decoded in full
_LONG_SEGMENT_BYTES = 64 * 1024 * 1024
_MAX_DECODE_ERRORS = 25  # corrupt packets tolerated before giving up on the rest of a file

SamplingMode = Literal["keyframe", "exact"]
_MODES: dict[str, SamplingMode] = {"keyframe": "keyframe", "exact": "exact"}


def sampling_mode(name: str) -> SamplingMode:
    """*name* (a setting) as a sampling mode; ValueError for an unknown one."""
    try:
        return _MODES[name]
    except KeyError:
        raise ValueError(f"unknown sampling mode {name!r}") from None


@dataclass(slots=True)
class SampleOptions:
    """How frames are sampled from a video.

    Attributes:
        mode: "keyframe" (default, fast): keep keyframes, about one per ``interval``
            (dense keyframes are thinned without decoding them: the first keyframe in each
            ``interval`` bucket, never two closer than interval/2); where keyframes are more
            than ``max_gap`` apart, that stretch is decoded anyway, so evenly spaced frames
            are added about ``interval`` apart. Files with a keyframe every 1-2 s cost only
            their keyframes; long-GOP files get about one frame per ``interval``.
            "exact": one frame every ``interval`` seconds (the first decoded frame at or
            just after each multiple of ``interval``).
        interval: seconds; see mode.
        max_gap: seconds; largest spacing in keyframe mode.
        short_side: kept frames are resized so their shorter side has this many pixels
            (aspect kept, rotation applied).
        batch: most frames per FrameBatch.
        skip_similar: when set, a frame whose 16x16 grey thumbnail differs from the last
            kept frame's by less than this mean absolute difference (0-1 scale, e.g. 0.02)
            is dropped, but one frame is kept at least every ``ANCHOR_SECONDS``.
            None (default) keeps every sampled frame.
        timeout: wall-clock seconds after which decoding of one file stops (what was
            decoded is kept, the report says it is incomplete). None: no limit.
        threads: decoder threads, 0 = as many as cores.
        hwaccel: FFmpeg hardware decoder device type ("cuda" for NVDEC, ...) or None for
            software decoding; unsupported streams fall back to software.
    """

    mode: SamplingMode = "keyframe"
    interval: float = 1.0
    max_gap: float = 2.0
    short_side: int = 224
    batch: int = 32
    skip_similar: float | None = None
    timeout: float | None = None
    threads: int = 0
    hwaccel: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("keyframe", "exact"):
            raise ValueError(f"unknown sampling mode {self.mode!r}")
        if self.interval <= 0 or self.max_gap <= 0:
            raise ValueError("interval and max_gap must be positive")
        if self.short_side < 8 or self.batch < 1:
            raise ValueError("short_side must be >= 8 and batch >= 1")


@dataclass(slots=True)
class DecodeReport:
    """Filled in by ``iter_frames`` as it goes: what happened to one file.

    Attributes:
        frames: frames yielded.
        decoded_until: time of the last yielded frame (s), or None.
        complete: True once the whole file was read without stopping early and its data
            reached the probed duration.
        error: one-line reason decoding stopped early (corrupt data, timeout), or None.
        decoded: frames the decoder produced (kept or not), for measurements.
    """

    frames: int = 0
    decoded_until: float | None = None
    complete: bool = False
    error: str | None = None
    decoded: int = 0
    packets_sent: int = 0
    packets_read: int = 0


def output_size(width: int, height: int, short_side: int, sar: float = 1.0) -> tuple[int, int]:
    """(width, height) to scale a stored picture to so its shorter *displayed* side is short_side."""
    disp_w = width * (sar if sar and sar > 0 else 1.0)
    if disp_w <= height:
        out_w = short_side
        out_h = max(1, round(height * short_side / disp_w))
    else:
        out_h = short_side
        out_w = max(1, round(disp_w * short_side / height))
    return int(out_w), int(out_h)


def _upright(img: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a stored picture *rotation* degrees clockwise (VideoInfo.rotation's convention)."""
    k = (rotation // 90) % 4
    if k == 0:
        return img
    return np.ascontiguousarray(np.rot90(img, k=-k))


@dataclass(slots=True)
class _Segment:
    packets: list[Any] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # presentation time per packet (s, from 0)
    keyframe: bool = False
    start: float = 0.0
    nbytes: int = 0
    cut: bool = False  # ended by the size/length cap, not by a keyframe: decode in full


class _Sampler:
    """Plans wanted times per segment and picks decoded frames for them."""

    def __init__(self, opts: SampleOptions, fps: float, start_after: float | None) -> None:
        self.opts = opts
        self.frame_dur = 1.0 / fps if fps > 0 else 0.04
        self.tol = 0.5 * self.frame_dur
        self.start_after = start_after
        self.last_target: float | None = start_after
        self.targets: deque[float] = deque()

    def plan(self, seg: _Segment, end: float) -> list[float]:
        """Wanted times in [seg.start, end), appended to the queue; returned for the prefix cut."""
        opts = self.opts
        new: list[float] = []
        floor = self.start_after
        if opts.mode == "exact":
            step = opts.interval
            k = 0 if self.last_target is None else math.floor(self.last_target / step + 1e-9) + 1
            t = k * step
            if floor is not None and t <= floor:
                t = (math.floor(floor / step + 1e-9) + 1) * step
            while t < end - 1e-9:
                new.append(t)
                t += step
        else:
            ref = self.last_target
            if seg.keyframe and (floor is None or seg.start > floor):
                # Thin dense keyframes, unless skipping this one would leave a gap to fill.
                # Keep the first keyframe in each new ``interval`` bucket (about one per interval
                # on average, never closer than half an interval).
                step = opts.interval
                if (
                    ref is None
                    or (
                        math.floor(seg.start / step + 1e-9) > math.floor(ref / step + 1e-9)
                        and seg.start - ref >= 0.5 * step
                    )
                    or end - ref > opts.max_gap + self.tol
                ):
                    new.append(seg.start)
                    ref = seg.start
            if ref is None:
                ref = seg.start if floor is None else max(seg.start, floor)
                if floor is None:
                    new.append(ref)  # a stream starting without a keyframe: its first frame
            span = end - ref
            if span > opts.max_gap + self.tol:
                # the gap's frames get decoded anyway, so fill it at the finer ``interval``
                # spacing: the extra frames cost only their embedding, and moments get sharper
                n = math.ceil(span / min(opts.interval, opts.max_gap))
                new.extend(ref + span * i / n for i in range(1, n))
        if new:
            self.last_target = new[-1]
            self.targets.extend(new)
        return new

    def wants(self, t: float) -> bool:
        """True when the decoded frame at *t* should be kept; consumes the targets it meets."""
        if not self.targets or t < self.targets[0] - self.tol:
            return False
        if self.start_after is not None and t <= self.start_after:
            return False
        while self.targets and self.targets[0] <= t + self.tol:
            self.targets.popleft()
        return True


def iter_frames(
    path: str | os.PathLike[str],
    info: VideoInfo,
    opts: SampleOptions | None = None,
    start_after: float | None = None,
    report: DecodeReport | None = None,
) -> Iterator[FrameBatch]:
    """Decode the sampled frames of one video, in batches.

    Args:
        path: the video file.
        info: its probe() result (rotation, fps and duration are used).
        opts: sampling options (defaults: keyframe mode, 224 px short side).
        start_after: resume point: only frames later than this time (s) are yielded; the
            decoder seeks to the keyframe before it.
        report: filled in as decoding goes (partial results, errors, timeouts).

    Yields:
        FrameBatch with at most ``opts.batch`` frames: times (s from the start of the
        file, increasing) and upright RGB uint8 images, all the same size.

    Raises:
        DecodeError: (one line) when the file cannot be opened or not a single frame can
            be decoded. A file that fails part way yields what it decoded, logs a warning
            on ``vsearch.decode`` and sets ``report.error``.
    """
    opts = opts or SampleOptions()
    report = report if report is not None else DecodeReport()
    spath = os.fsdecode(path)
    try:
        container = open_input(spath, hwaccel=opts.hwaccel)
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(one_line(f"cannot open: {exc}")) from None
    try:
        yield from _Decoder(container, spath, info, opts, start_after, report).run()
    finally:
        container.close()


class _Decoder:
    """One pass over one video's packets: segments -> wanted prefix -> decoded, kept frames.

    Holds the state of a decode (the sampler, the frames kept and not yet batched, the last
    thumbnail for near-duplicate skipping, the corrupt packets met) that ``run`` advances.
    """

    def __init__(
        self,
        container: Any,
        path: str,
        info: VideoInfo,
        opts: SampleOptions,
        start_after: float | None,
        report: DecodeReport,
    ) -> None:
        videos = [s for s in container.streams.video]
        if not videos:
            raise DecodeError("no video stream")
        stream = videos[0]
        for s in videos:
            if not s.disposition & av.stream.Disposition.attached_pic:  # not cover art
                stream = s
                break
        cc = stream.codec_context
        stream.thread_type = "AUTO"
        cc.thread_count = opts.threads
        tb = stream.time_base
        if tb is None or cc.width <= 0 or cc.height <= 0:
            raise DecodeError("video stream has no time base or size")
        fps = info.fps if info.fps > 0 else 25.0
        self.sampler = _Sampler(opts, fps, start_after)
        if opts.mode == "keyframe" or opts.interval >= 1.5 / fps:
            cc.skip_frame = "NONREF"
        try:
            sar = float(stream.sample_aspect_ratio or 1) or 1.0
        except (TypeError, ZeroDivisionError):
            sar = 1.0
        self.out_w, self.out_h = output_size(cc.width, cc.height, opts.short_side, sar)
        self.container = container
        self.stream = stream
        self.cc = cc
        self.tb = tb
        self.path = path
        self.info = info
        self.opts = opts
        self.start_after = start_after
        self.report = report
        self.offset = time_origin(container, stream)
        self.fps = fps
        self.times: list[float] = []
        self.images: list[np.ndarray] = []
        self.last_thumb: np.ndarray | None = None
        self.last_kept_t = -math.inf
        self.last_out_t = -math.inf
        self.decode_errors = 0

    def run(self) -> Iterator[FrameBatch]:
        """Demux, decode and yield the batches; see ``iter_frames`` for what is raised."""
        info, opts, report, sampler = self.info, self.opts, self.report, self.sampler
        tb, offset = self.tb, self.offset
        deadline = _time.monotonic() + opts.timeout if opts.timeout else None
        limit_t = info.duration + max(30.0, 0.5 * info.duration) if info.duration > 0 else math.inf
        # A broken demuxer that keeps returning packets must not spin forever either.
        max_packets = (
            int((info.duration + 60.0) * max(self.fps, 1.0) * 3) + 10_000 if info.duration > 0 else 10**8
        )
        start_after = self.start_after
        if start_after is not None and start_after > 0:
            try:
                self.container.seek(int((start_after + offset) / tb), stream=self.stream, backward=True)
            except Exception as exc:  # noqa: BLE001 - fall back to reading from the start
                log.decode.debug("seek failed in %r: %s", self.path, one_line(exc))

        seg = _Segment()
        last_pkt_end = 0.0
        stopped: str | None = None
        try:
            for packet in self.container.demux(self.stream):
                if packet.size == 0 and packet.pts is None and packet.dts is None:
                    continue  # PyAV's end-of-stream packet
                report.packets_read += 1
                ts = packet.pts if packet.pts is not None else packet.dts
                t = float(ts * tb) - offset if ts is not None else (seg.times[-1] if seg.times else 0.0)
                if packet.duration:
                    last_pkt_end = max(last_pkt_end, t + float(packet.duration * tb))
                else:
                    last_pkt_end = max(last_pkt_end, t + sampler.frame_dur)
                if report.packets_read > max_packets:
                    stopped = (
                        f"stopped after {report.packets_read} packets: far more than {info.duration:.1f} s holds"
                    )
                    break
                if t > limit_t:
                    stopped = f"stopped at {t:.1f} s: past the probed duration {info.duration:.1f} s"
                    break
                if packet.is_keyframe and seg.packets:
                    self._flush_segment(seg, t)
                    seg = _Segment()
                if not seg.packets:
                    seg.keyframe = bool(packet.is_keyframe)
                    seg.start = t
                seg.packets.append(packet)
                seg.times.append(t)
                seg.nbytes += packet.size
                if (t - seg.start > _LONG_SEGMENT or seg.nbytes > _LONG_SEGMENT_BYTES) and len(seg.packets) > 1:
                    seg.cut = True
                    self._flush_segment(seg, t)
                    seg = _Segment()
                if deadline is not None and _time.monotonic() > deadline:
                    stopped = f"timed out after {opts.timeout:g} s at {t:.1f} s"
                    break
                if len(self.times) >= opts.batch:
                    yield from self._batches()
            if stopped is None and seg.packets:
                end = max(last_pkt_end, info.duration if info.duration > 0 else 0.0, seg.times[-1])
                self._flush_segment(seg, end)
            if stopped is None:
                self._take(self.cc.decode(None))
                report.complete = True
                if info.duration > 0 and last_pkt_end < info.duration - max(2.0, 0.05 * info.duration):
                    report.complete = False
                    report.error = f"data ends at {last_pkt_end:.1f} s of {info.duration:.1f} s (file cut short?)"
                    log.decode.warning("%r: %s", self.path, report.error)
        except GeneratorExit:
            raise
        except Exception as exc:  # noqa: BLE001 - corrupt data part way: keep what was decoded
            stopped = one_line(f"corrupt data: {exc}") if not isinstance(exc, ProbeError) else str(exc)
        if stopped is not None:
            report.error = stopped
        if report.frames == 0 and not self.times:
            if stopped is not None and start_after is None:
                raise DecodeError(one_line(f"no frame could be decoded ({stopped})"))
            if start_after is None:
                raise DecodeError("no frame could be decoded")
            return  # resuming past the last frame: nothing left is fine
        if stopped is not None:
            log.decode.warning("%r: decoding stopped early, %s", self.path, stopped)
        yield from self._batches(final=True)

    def _take(self, frames: list[Any]) -> None:
        """Keep the decoded frames the sampler wants (and, when skipping, that differ enough)."""
        report, sampler, similar = self.report, self.sampler, self.opts.skip_similar
        for frame in frames:
            report.decoded += 1
            if frame.pts is not None:
                t = float(frame.pts * self.tb) - self.offset
            else:
                t = self.last_out_t + sampler.frame_dur
            if t <= self.last_out_t:
                continue
            self.last_out_t = t
            if not sampler.wants(t):
                continue
            if similar is not None:
                thumb = frame.reformat(width=16, height=16, format="gray", interpolation="AREA").to_ndarray()
                thumb = thumb.astype(np.float32)
                if (
                    self.last_thumb is not None
                    and t - self.last_kept_t < ANCHOR_SECONDS
                    and float(np.abs(thumb - self.last_thumb).mean()) / 255.0 < similar
                ):
                    continue
                self.last_thumb = thumb
            img = frame.reformat(
                width=self.out_w, height=self.out_h, format="rgb24", interpolation="AREA"
            ).to_ndarray()
            self.images.append(_upright(img, self.info.rotation))
            self.times.append(t)
            self.last_kept_t = t

    def _send(self, packet: Any) -> None:
        """Decode one packet; a few corrupt packets are tolerated, then the error propagates."""
        self.report.packets_sent += 1
        try:
            self._take(self.cc.decode(packet))
        except Exception as exc:  # noqa: BLE001 - one corrupt packet is not the whole file
            self.decode_errors += 1
            log.decode.debug("decode error in %r: %s", self.path, one_line(exc))
            if self.decode_errors > _MAX_DECODE_ERRORS:
                raise

    def _flush_segment(self, seg: _Segment, end: float) -> None:
        """Plan *seg*'s wanted times and decode the shortest packet prefix that holds them."""
        wanted = self.sampler.plan(seg, end)
        if seg.cut or not seg.keyframe:
            for p in seg.packets:
                self._send(p)
            return
        if not wanted:
            return
        last = wanted[-1]
        slack = 0.0 if (len(wanted) == 1 and last == seg.start) else 1.01 * self.sampler.frame_dur
        cut = 0
        for i, pt in enumerate(seg.times):
            if pt <= last + slack + 1e-9:
                cut = i + 1
        for p in seg.packets[: max(cut, 1)]:
            self._send(p)

    def _batches(self, final: bool = False) -> Iterator[FrameBatch]:
        """Full batches of the kept frames (and, when *final*, the rest)."""
        times, images, batch_size = self.times, self.images, self.opts.batch
        while len(times) >= batch_size or (final and times):
            n = min(batch_size, len(times))
            batch = FrameBatch(np.asarray(times[:n], dtype=np.float64), np.stack(images[:n]))
            del times[:n], images[:n]
            self.report.frames += n
            self.report.decoded_until = float(batch.times[-1])
            yield batch


def grab_frame(
    path: str | os.PathLike[str], time: float, short_side: int = 256, info: VideoInfo | None = None
) -> np.ndarray:
    """Return one upright RGB frame at or just after *time* (s), for thumbnails.

    Seeks to the keyframe before *time* and decodes forward. Past the end, the last
    frame is returned.

    Args:
        path: the video file.
        time: seconds from the start of the file.
        short_side: pixels of the shorter side of the result.
        info: the probe() result if known (saves a probe).

    Raises:
        DecodeError: one line, when nothing can be decoded.
    """
    from vsearch.probe import probe

    spath = os.fsdecode(path)
    if info is None:
        try:
            info = probe(spath)
        except ProbeError as exc:
            raise DecodeError(str(exc)) from None
    try:
        container = open_input(spath)
    except Exception as exc:  # noqa: BLE001
        raise DecodeError(one_line(f"cannot open: {exc}")) from None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = stream.time_base
        offset = time_origin(container, stream)
        try:
            sar = float(stream.sample_aspect_ratio or 1) or 1.0
        except (TypeError, ZeroDivisionError):
            sar = 1.0
        out_w, out_h = output_size(stream.codec_context.width, stream.codec_context.height, short_side, sar)
        target = max(0.0, float(time))
        tol = 0.5 / (info.fps or 25.0)
        try:
            container.seek(int((target + offset) / tb), stream=stream, backward=True)
        except Exception:  # noqa: BLE001
            container.seek(0)
        best = None
        count = 0
        try:
            for frame in container.decode(stream):
                count += 1
                best = frame
                if frame.pts is not None and float(frame.pts * tb) - offset >= target - tol:
                    break
                if count > 3000:
                    break
        except Exception as exc:  # noqa: BLE001
            if best is None:
                raise DecodeError(one_line(f"corrupt data: {exc}")) from None
        if best is None:
            raise DecodeError("no frame could be decoded")
        img = best.reformat(width=out_w, height=out_h, format="rgb24", interpolation="AREA").to_ndarray()
        return _upright(img, info.rotation)
    finally:
        container.close()
