"""Cut clips: one video file per moment, by stream copy (fast) or re-encode (frame-accurate), via PyAV."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from vsearch import log
from vsearch.atomic import atomic_path
from vsearch.errors import DecodeError, UserError
from vsearch.export.base import ExportOptions, _probe, check_moments, ensure_writable, finish_file, slug
from vsearch.types import Moment

if TYPE_CHECKING:  # PyAV is imported where a clip is cut
    import av

#: Containers PyAV can write a copied stream into, by source extension; others get Matroska.
_CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


#: Bytes of the source's name kept in a clip's name (file systems allow 255 bytes a name).
NAME_BYTES = 160
#: A moment must start this far before the file's end to be cut (less is a few frames at most).
MIN_CLIP_SECONDS = 0.05


def clip_name(m: Moment, rank: int, extension: str) -> str:
    """``03 d03 43.44-48.20.mp4``: rank first, so a folder listing keeps the search order.

    A long source name is shortened (at a character boundary) so the clip's name fits any
    file system's 255 bytes.
    """
    stem = Path(m.path).stem.strip() or slug(Path(m.path).name)
    raw = stem.encode("utf-8", "surrogateescape")
    if len(raw) > NAME_BYTES:
        stem = raw[:NAME_BYTES].decode("utf-8", "ignore").rstrip() + "~"
    return f"{rank:02d} {stem} {m.start:.2f}-{m.end:.2f}{extension}"


def _copy_extension(path: str) -> str:
    ext = Path(path).suffix.lower()
    return ext if ext in _CONTAINERS else ".mkv"


class ClipsExporter:
    """One file per moment in the folder *out*.

    ``clip_mode="copy"`` remuxes packets without decoding: fast and lossless, but a clip
    starts on the keyframe at or before the moment (up to one GOP early). ``"reencode"``
    decodes and encodes H.264 + AAC in MP4: exact to the frame, slower.
    """

    name = "clips"
    extension = ""
    description = "cut clips: one video file per moment (stream copy or re-encode)"

    def export(
        self, moments: Sequence[Moment], out: Path, *, query: str = "", options: ExportOptions
    ) -> list[Path]:
        """Cut one clip per moment into the folder *out*; returns the files written."""
        ms = check_moments(moments)
        if options.clip_mode not in ("copy", "reencode"):
            raise UserError(f"unknown clip mode {options.clip_mode!r}; use 'copy' or 'reencode'")
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise UserError(f"{out} is a file; cut clips need a folder")
        for rank, m in enumerate(ms, 1):
            if not Path(m.path).is_file():
                raise UserError(f"cannot cut clips: {m.path} is not reachable")
            facts = _probe(m.path)
            if facts is not None and facts.duration > 0 and m.start > facts.duration - MIN_CLIP_SECONDS:
                raise UserError(
                    f"cannot cut clip {rank}: {m.start:.2f}-{m.end:.2f} s starts after the end of "
                    f"{m.path} ({facts.duration:.2f} s); is the results file from another version of it?"
                )
        targets = [
            out / clip_name(m, rank, _copy_extension(m.path) if options.clip_mode == "copy" else ".mp4")
            for rank, m in enumerate(ms, 1)
        ]
        ensure_writable(targets, options.overwrite)
        out.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for i, (m, target) in enumerate(zip(ms, targets, strict=True)):
            if options.cancel is not None and options.cancel.checkpoint():
                break
            fmt = _CONTAINERS.get(target.suffix, "matroska")
            with atomic_path(target) as tmp:
                try:
                    if options.clip_mode == "copy":
                        copy_clip(m.path, tmp, m.start, m.end, fmt)
                    else:
                        reencode_clip(m.path, tmp, m.start, m.end, fmt)
                except UserError:
                    raise
                except Exception as exc:
                    raise DecodeError(f"cannot cut {m.path} at {m.start:.2f}-{m.end:.2f} s: {exc}") from exc
            finish_file(target)
            written.append(target)
            if options.progress is not None:
                options.progress(i + 1, len(ms))
        log.export.info("cut %d clips (%s) into %s", len(written), options.clip_mode, out)
        return written


@contextlib.contextmanager
def _source(
    src: str,
) -> Iterator[tuple[av.container.InputContainer, av.VideoStream, av.AudioStream | None, Fraction]]:
    """The open source with its first video stream, first audio stream (or None) and video time base."""
    from vsearch.probe import open_input

    with open_input(src) as inp:
        if not inp.streams.video:
            raise UserError(f"{src} has no video stream")
        vin = inp.streams.video[0]
        ain = inp.streams.audio[0] if inp.streams.audio else None
        yield inp, vin, ain, vin.time_base or Fraction(1, 90000)


def copy_clip(src: str, dst: Path, start: float, end: float, fmt: str) -> None:
    """Remux the packets from the keyframe at or before *start* up to *end* into *dst*."""
    import av

    from vsearch.probe import local_path

    with _source(src) as (inp, vin, ain, vtb):
        ins = [s for s in (vin, ain) if s is not None]
        with av.open(local_path(dst), "w", format=fmt) as outp:
            outs = {s.index: outp.add_stream_from_template(s) for s in ins}
            if start > 0:
                inp.seek(int(start / vtb), stream=vin, backward=True, any_frame=False)
            t0: float | None = None
            done = dict.fromkeys(outs, False)
            for pkt in inp.demux(ins):
                if pkt.dts is None or pkt.pts is None:
                    continue
                s = pkt.stream
                stb = s.time_base or vtb
                t = float(pkt.pts * stb)
                dts_t = float(pkt.dts * stb)
                if s is vin:
                    if t0 is None:
                        if not pkt.is_keyframe:
                            continue
                        t0 = t
                    # decode order: once a packet decodes at or after the end, every later one does
                    if dts_t >= end - 1e-6:
                        done[s.index] = True
                        if all(done.values()):
                            break
                        continue
                else:
                    if t0 is None or t < t0:
                        continue
                    if t >= end:
                        done[s.index] = True
                        if all(done.values()):
                            break
                        continue
                shift = int(round(t0 / stb))
                pkt.pts -= shift
                pkt.dts -= shift
                pkt.stream = outs[s.index]
                outp.mux(pkt)
            if t0 is None:
                raise DecodeError(f"no keyframe found before {end:.2f} s in {src}")


def reencode_clip(src: str, dst: Path, start: float, end: float, fmt: str) -> None:
    """Decode from the keyframe before *start*, keep frames in [start, end), encode H.264 + AAC."""
    import av

    from vsearch.probe import local_path

    with _source(src) as (inp, vin, ain, vtb):
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        rate = Fraction(rate).limit_denominator(1001)
        half = 0.5 / float(rate)
        with av.open(local_path(dst), "w", format=fmt) as outp:
            vout = outp.add_stream("libx264", rate=rate)
            vout.width = vin.codec_context.width
            vout.height = vin.codec_context.height
            vout.pix_fmt = "yuv420p"
            vout.options = {"crf": "18", "preset": "veryfast"}
            # frames are stamped in 1/rate; the stream's own time base changes once the header is written
            frame_tb = Fraction(1) / rate
            vout.time_base = frame_tb
            aout = None
            if ain is not None:
                aout = outp.add_stream("aac", rate=ain.codec_context.sample_rate or 48000)
                aout.layout = "stereo" if (ain.codec_context.channels or 2) >= 2 else "mono"
            if start > 0:
                inp.seek(int(start / vtb), stream=vin, backward=True, any_frame=False)
            n = 0
            v_done = False
            a_done = ain is None
            for frame in inp.decode(*[s for s in (vin, ain) if s is not None]):
                if frame.pts is None or not isinstance(frame, (av.VideoFrame, av.AudioFrame)):
                    continue
                t = float(frame.pts * (frame.time_base or vtb))
                if isinstance(frame, av.VideoFrame):
                    if v_done or t < start - half:
                        continue
                    if t >= end - half:
                        v_done = True
                    else:
                        img = frame.reformat(format="yuv420p")
                        img.pts = n
                        img.time_base = frame_tb
                        n += 1
                        for p in vout.encode(img):
                            outp.mux(p)
                elif aout is not None:
                    if a_done:
                        continue
                    sr = frame.sample_rate or 48000
                    if t + frame.samples / sr <= start:
                        continue
                    if t >= end:
                        a_done = True
                        continue
                    trimmed = _trim_audio(frame, round((start - t) * sr), round((end - t) * sr))
                    if trimmed is not None:
                        for p in aout.encode(trimmed):
                            outp.mux(p)
                if v_done and a_done:
                    break
            if n == 0:
                raise DecodeError(f"no frames between {start:.2f} and {end:.2f} s in {src}")
            for p in vout.encode(None):
                outp.mux(p)
            if aout is not None:
                for p in aout.encode(None):
                    outp.mux(p)


def _trim_audio(frame: av.AudioFrame, first: int, stop: int) -> av.AudioFrame | None:
    """Keep samples [first, stop) of *frame* (clamped); None when nothing is left."""
    import av

    first, stop = max(0, first), min(frame.samples, stop)
    if stop <= first:
        return None
    if first == 0 and stop == frame.samples:
        frame.pts = None
        return frame
    arr = frame.to_ndarray()
    if frame.format.is_planar:
        arr = arr[:, first:stop]
    else:
        ch = len(frame.layout.channels)
        arr = arr[:, first * ch : stop * ch]
    out = av.AudioFrame.from_ndarray(arr.copy(), format=frame.format.name, layout=frame.layout.name)
    out.sample_rate = frame.sample_rate
    out.pts = None
    return out
