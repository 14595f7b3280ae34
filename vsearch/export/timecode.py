"""Frame rates as exact fractions, seconds to frames, and SMPTE timecodes (drop-frame included)."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from vsearch.errors import UserError

#: Rates that editors store as 1000/1001 fractions of a whole timebase ("NTSC" rates).
_NTSC_BASES = (24, 30, 48, 60, 120)
_TC_RE = re.compile(r"^(\d+):(\d\d):(\d\d)([:;.,])(\d+)$")


def exact_rate(fps: float) -> Fraction:
    """Return the frame rate as an exact fraction: 29.97 -> 30000/1001, 25.0 -> 25.

    Rates within 0.01 of an NTSC rate (23.976, 29.97, 59.94, ...) snap to it; other rates
    within 0.01 of a whole number snap to that number; anything else is kept to 1/1000.

    Raises:
        UserError: for a rate that is zero, negative or not a number.
    """
    if not fps or not math.isfinite(fps) or fps <= 0:
        raise UserError(f"invalid frame rate {fps!r}")
    for base in _NTSC_BASES:
        ntsc = Fraction(base * 1000, 1001)
        if abs(fps - float(ntsc)) < 0.01:
            return ntsc
    if abs(fps - round(fps)) < 0.01:
        return Fraction(round(fps))
    return Fraction(fps).limit_denominator(1001)


def timebase(fps: float) -> int:
    """The whole-number timebase editors count frames in: 24 for 23.976, 30 for 29.97."""
    return round(float(exact_rate(fps)))


def is_ntsc(fps: float) -> bool:
    """True for 1000/1001 rates (23.976, 29.97, 59.94, ...)."""
    return exact_rate(fps).denominator == 1001


def default_drop_frame(fps: float) -> bool:
    """Drop-frame is the convention for 29.97 and 59.94 (not for 23.976, which has no DF)."""
    return exact_rate(fps) in (Fraction(30000, 1001), Fraction(60000, 1001))


def seconds_to_frames(seconds: float | Fraction, fps: float) -> int:
    """The nearest whole frame to *seconds* at *fps* (never negative)."""
    return max(0, round(Fraction(seconds).limit_denominator(1_000_000) * exact_rate(fps)))


def frames_to_seconds(frames: int, fps: float) -> Fraction:
    """The exact time of frame number *frames* at *fps*."""
    return Fraction(frames) / exact_rate(fps)


def frames_to_timecode(frames: int, fps: float, drop_frame: bool | None = None) -> str:
    """Format a frame count as SMPTE timecode ``HH:MM:SS:FF`` (``HH:MM:SS;FF`` when drop-frame).

    Args:
        frames: frames from 00:00:00:00.
        fps: the frame rate the frames are counted at; the timecode counts in its timebase.
        drop_frame: skip frame numbers as SMPTE 12M does; None means the convention for the
            rate (drop-frame for 29.97 and 59.94). Ignored for rates without drop-frame.

    Raises:
        UserError: for a negative frame count.
    """
    if frames < 0:
        raise UserError(f"negative frame count {frames}")
    base = timebase(fps)
    df = default_drop_frame(fps) if drop_frame is None else (drop_frame and default_drop_frame(fps))
    if df:
        frames = _add_dropped_numbers(frames, base)
    ff = frames % base
    total_s = frames // base
    sep = ";" if df else ":"
    return f"{total_s // 3600:02d}:{total_s // 60 % 60:02d}:{total_s % 60:02d}{sep}{ff:02d}"


def timecode_to_frames(tc: str, fps: float) -> int:
    """Parse ``HH:MM:SS:FF`` or ``HH:MM:SS;FF`` (drop-frame) back into a frame count.

    Raises:
        UserError: for text that is not a timecode.
    """
    m = _TC_RE.match(tc.strip())
    if not m:
        raise UserError(f"not a timecode: {tc!r}")
    hh, mm, ss, sep, ff = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5])
    base = timebase(fps)
    frames = ((hh * 60 + mm) * 60 + ss) * base + ff
    if sep in ";," and default_drop_frame(fps):
        drop = 2 * base // 30
        total_minutes = hh * 60 + mm
        frames -= drop * (total_minutes - total_minutes // 10)
    return frames


def _add_dropped_numbers(frames: int, base: int) -> int:
    """Turn a real frame count into the drop-frame frame number it is labelled with."""
    drop = 2 * base // 30  # 2 numbers a minute at 29.97, 4 at 59.94
    per_10min = base * 600 - drop * 9
    per_min = base * 60 - drop
    tens, rem = divmod(frames, per_10min)
    if rem < drop:
        extra = 0
    else:
        extra = drop * ((rem - drop) // per_min)
    return frames + drop * 9 * tens + extra
