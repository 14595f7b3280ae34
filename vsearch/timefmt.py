"""Times as people read them: the one place the CLI, the app and the exports format seconds.

Each function's output is pinned by tests (tests/unit/test_timefmt.py) because CLI output,
contact sheets and copied timestamps show it verbatim. Frame-accurate timecodes for editors
(HH:MM:SS:FF, drop-frame) live in :mod:`vsearch.export.timecode`.
"""

from __future__ import annotations


def clock(seconds: float) -> str:
    """``m:ss.s`` below an hour, ``h:mm:ss`` from an hour on: a moment's start or end in the app.

    Rounded to the tenth first, so 59.97 s reads ``1:00.0`` (not ``0:60.0``).
    """
    seconds = round(max(0.0, float(seconds)), 1)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if h >= 1:
        return f"{int(h)}:{int(m):02d}:{int(s):02d}"
    return f"{int(m)}:{s:04.1f}"


def clock_fine(seconds: float) -> str:
    """``m:ss.ss`` (``h:mm:ss.ss`` from an hour on): CLI result lines and contact sheets."""
    m, s = divmod(max(0.0, seconds), 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m}:{s:05.2f}"


def clock_whole(seconds: float | None) -> str:
    """``m:ss`` (``h:mm:ss``) rounded to the second, ``--:--`` when unknown: an ETA on a terminal."""
    if seconds is None:
        return "--:--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def duration_words(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 05 s``, ``12 s`` for an ETA or a length; ``–`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    if h:
        return f"{h} h {m:02d} min"
    if m:
        return f"{m} min {s:02d} s"
    return f"{s} s"


def span(start: float, end: float) -> str:
    """``0:04.0 – 0:10.0``: a moment's span in the app (en dash between two :func:`clock` times)."""
    return f"{clock(start)} – {clock(end)}"


def timecode(seconds: float, fps: float) -> str:
    """SMPTE ``HH:MM:SS:FF`` at *fps* (``;FF`` for drop-frame 29.97 / 59.94), as editors show it.

    The nearest frame to *seconds*; a rate of 0 (unknown) counts at 25 fps.
    """
    from vsearch.export.timecode import frames_to_timecode, seconds_to_frames  # the editors' rules, one copy

    rate = fps if fps and fps > 0 else 25.0
    return frames_to_timecode(seconds_to_frames(max(0.0, float(seconds)), rate), rate)


def seconds_exact(seconds: float) -> str:
    """Seconds to the millisecond, ``12.345``: what a script or a spreadsheet wants."""
    return f"{max(0.0, float(seconds)):.3f}"
