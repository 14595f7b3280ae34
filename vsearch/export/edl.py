"""CMX 3600 EDL export: one event per moment, source timecodes in each file's own frame rate."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from vsearch.errors import UserError
from vsearch.export.base import (
    ExportOptions,
    SingleFileExporter,
    media_facts,
    timeline_fps,
    title_for,
)
from vsearch.export.timecode import default_drop_frame, frames_to_timecode, seconds_to_frames
from vsearch.types import Moment

#: CMX 3600 numbers events with three digits.
MAX_EVENTS = 999
#: Reel names are at most 8 characters in CMX 3600 (Premiere and Resolve read longer, Avid does not).
REEL_LEN = 8
#: Record timecode starts at one hour, the broadcast convention editors expect.
RECORD_START_SECONDS = 3600


def reel_names(paths: Sequence[str]) -> dict[str, str]:
    """Give each file a unique reel name of at most 8 characters from A-Z, 0-9 and ``_``.

    The name comes from the file stem (accents folded to ASCII); clashes get a number suffix.
    """
    reels: dict[str, str] = {}
    used: set[str] = set()
    for p in paths:
        if p in reels:
            continue
        stem = unicodedata.normalize("NFKD", Path(p).stem).encode("ascii", "ignore").decode()
        base = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_").upper()[:REEL_LEN] or "REEL"
        name, n = base, 1
        while name in used:
            n += 1
            suffix = str(n)
            name = base[: REEL_LEN - len(suffix)] + suffix
        used.add(name)
        reels[p] = name
    return reels


def one_line(text: str) -> str:
    """Comments are line-based: fold newlines and control characters to spaces."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()


def event_line(num: int, reel: str, track: str, src_in: str, src_out: str, rec_in: str, rec_out: str) -> str:
    """One CMX 3600 cut event in the standard column layout."""
    return f"{num:03d}  {reel:<8} {track:<5} {'C':<8} {src_in} {src_out} {rec_in} {rec_out}"


class EdlExporter(SingleFileExporter):
    """CMX 3600 EDL for Premiere Pro, Resolve, Avid and most other editors.

    Each moment is a cut event on V (plus A1/A2 when the file has audio); ``* FROM CLIP NAME:``
    carries the file name (how Premiere and Resolve relink) and ``* FROM FILE:`` the full path.
    Source timecodes count from 00:00:00:00 at the first frame of each file, in its own rate.
    """

    name = "edl"
    extension = ".edl"
    description = "CMX 3600 EDL (Premiere Pro, DaVinci Resolve, Avid)"

    def validate(self, ms: Sequence[Moment]) -> None:
        """Refuse more events than a CMX 3600 EDL can number."""
        if len(ms) > MAX_EVENTS:
            raise UserError(f"an EDL holds at most {MAX_EVENTS} events; export fewer moments")

    def render(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> bytes:
        """The EDL text as UTF-8 bytes."""
        return self.render_text(ms, query=query, options=options).encode("utf-8")

    def render_text(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> str:
        """The EDL text."""
        tl_fps = timeline_fps(ms, options)
        tl_df = default_drop_frame(tl_fps) if options.drop_frame is None else options.drop_frame
        tl_df = tl_df and default_drop_frame(tl_fps)
        reels = reel_names([m.path for m in ms])
        title = one_line(title_for(query, options))[:70]
        lines = [f"TITLE: {title}", f"FCM: {'DROP FRAME' if tl_df else 'NON-DROP FRAME'}", ""]
        record = seconds_to_frames(RECORD_START_SECONDS, tl_fps)
        for num, m in enumerate(ms, 1):
            facts = media_facts(m)
            fps = facts.fps
            src_in_f = seconds_to_frames(m.start, fps)
            src_out_f = max(src_in_f + 1, seconds_to_frames(m.end, fps))
            # the record side lasts as long as the source side, counted in timeline frames
            rec_len = (
                max(1, seconds_to_frames((src_out_f - src_in_f) / fps, tl_fps))
                if fps != tl_fps
                else (src_out_f - src_in_f)
            )
            track = "AA/V" if facts.has_audio else "V"
            lines.append(
                event_line(
                    num,
                    reels[m.path],
                    track,
                    frames_to_timecode(src_in_f, fps),
                    frames_to_timecode(src_out_f, fps),
                    frames_to_timecode(record, tl_fps, tl_df),
                    frames_to_timecode(record + rec_len, tl_fps, tl_df),
                )
            )
            lines.append(f"* FROM CLIP NAME: {one_line(Path(m.path).name)}")
            lines.append(f"* FROM FILE: {one_line(m.path)}")
            comment = f"vsearch #{num} score {m.score:.3f} {m.start:.2f}-{m.end:.2f} s"
            if m.text:
                comment += f" said: {one_line(m.text)}"
            if m.screen_text:
                comment += f" on screen: {one_line(m.screen_text)}"
            lines.append(f"* COMMENT: {comment}")
            lines.append("")
            record += rec_len
        return "\r\n".join(lines) + "\r\n"
