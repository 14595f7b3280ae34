"""CSV export: one row per moment, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from vsearch.export.base import (
    ExportOptions,
    SingleFileExporter,
    media_facts,
)
from vsearch.export.timecode import frames_to_timecode, seconds_to_frames
from vsearch.types import Moment

COLUMNS = (
    "rank",
    "path",
    "file_name",
    "start",
    "end",
    "duration",
    "score",
    "best_time",
    "start_tc",
    "end_tc",
    "fps",
    "source",
    "text",
    "screen_text",
    "query",
    "video_duration",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Defuse spreadsheet formula injection: text starting with = + - @ gets a leading quote.

    Numbers are left alone (a negative number is not a formula), so the columns stay numeric.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def moment_row(m: Moment, rank: int, query: str) -> dict[str, object]:
    """The CSV/JSON fields of one moment; timecodes use the file's own frame rate."""
    facts = media_facts(m)
    fps = facts.fps
    return {
        "rank": rank,
        "path": m.path,
        "file_name": Path(m.path).name,
        "start": round(m.start, 3),
        "end": round(m.end, 3),
        "duration": round(m.end - m.start, 3),
        "score": round(float(m.score), 5),
        "best_time": round(m.best_time, 3),
        "start_tc": frames_to_timecode(seconds_to_frames(m.start, fps), fps),
        "end_tc": frames_to_timecode(seconds_to_frames(m.end, fps), fps),
        "fps": round(fps, 3),
        "source": m.source,
        "text": m.text or "",
        "screen_text": m.screen_text or "",
        "query": query,
        "video_duration": round(facts.duration, 3),
    }


class CsvExporter(SingleFileExporter):
    """Spreadsheet-friendly CSV (UTF-8 with BOM, so Excel reads accents right)."""

    name = "csv"
    extension = ".csv"
    description = "CSV table: path, start, end, duration, score, timecodes"

    def render(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> bytes:
        """One CSV row per moment (UTF-8 with BOM, CRLF, spreadsheet-safe cells)."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for rank, m in enumerate(ms, 1):
            writer.writerow({k: safe_cell(v) for k, v in moment_row(m, rank, query).items()})
        return buf.getvalue().encode("utf-8-sig")
