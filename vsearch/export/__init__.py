"""The exporter registry: one module per format behind one interface, plus results-JSON loading.

Usage::

    from vsearch.export import export
    export(moments, "fcpxml", Path("dog.fcpxml"), query="a dog running")
"""

from __future__ import annotations

import errno
import json
import math
import os
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from vsearch.errors import EnvironmentProblem, UserError
from vsearch.export.base import (
    MAX_SECONDS,
    Exporter,
    ExportOptions,
    MediaFacts,
    Thumbnailer,
    default_filename,
    media_facts,
)
from vsearch.export.clips import ClipsExporter
from vsearch.export.csvfile import CsvExporter
from vsearch.export.edl import EdlExporter
from vsearch.export.fcpxml import FcpxmlExporter
from vsearch.export.jsonfile import JsonExporter
from vsearch.export.m3u import M3uExporter
from vsearch.export.markers import ResolveMarkersExporter
from vsearch.export.sheet import ContactSheetExporter
from vsearch.export.xmeml import XmemlExporter
from vsearch.types import Moment

__all__ = [
    "EXPORTERS",
    "ExportOptions",
    "Exporter",
    "MediaFacts",
    "Thumbnailer",
    "default_filename",
    "export",
    "get_exporter",
    "load_results_json",
    "media_facts",
]

#: Every format by its ``--format`` name, in the order menus should list them.
EXPORTERS: dict[str, Exporter] = {
    e.name: e
    for e in (
        CsvExporter(),
        JsonExporter(),
        EdlExporter(),
        FcpxmlExporter(),
        XmemlExporter(),
        ResolveMarkersExporter(),
        M3uExporter(),
        ClipsExporter(),
        ContactSheetExporter(),
    )
}


def get_exporter(name: str) -> Exporter:
    """The exporter called *name* (case-insensitive).

    Raises:
        UserError: for an unknown name; the message lists the known ones.
    """
    key = name.strip().lower()
    if key not in EXPORTERS:
        raise UserError(f"unknown export format {name!r}; choose one of: {', '.join(EXPORTERS)}")
    return EXPORTERS[key]


def export(
    moments: Sequence[Moment],
    fmt: str,
    out: str | Path,
    *,
    query: str = "",
    options: ExportOptions | None = None,
    **opts: object,
) -> list[Path]:
    """Write *moments* in format *fmt* to *out*; return the files written, main one first.

    Args:
        moments: the moments, best first (the order is kept).
        fmt: a key of :data:`EXPORTERS`.
        out: the output file (its extension is added when missing), or folder for ``clips``.
        query: the search sentence, written into titles and comments.
        options: an ExportOptions; or give its fields as keywords (``overwrite=True``).
        **opts: ExportOptions fields, when *options* is not given.

    An existing folder as *out* of a single-file format gets the file inside it, under the
    default name (``DIR/vsearch-<query>.edl``).

    Raises:
        UserError: unknown format or option, empty list, an output that exists without
            ``overwrite``, or an output name the file system cannot hold.
        EnvironmentProblem: the output cannot be written (read-only folder, disk full).
    """
    exporter = get_exporter(fmt)
    if options is None:
        known = {f.name for f in fields(ExportOptions)}
        bad = sorted(set(opts) - known)
        if bad:
            raise UserError(f"unknown export option(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        options = ExportOptions(**opts)  # type: ignore[arg-type]  # names checked just above
    elif opts:
        raise UserError("give either options= or keyword options, not both")
    out = Path(out)
    if exporter.extension and out.is_dir():
        out = out / default_filename(query, exporter)
    try:
        return exporter.export(list(moments), out, query=query, options=options)
    except OSError as exc:
        what = exc.strerror or str(exc)
        where = os.fsdecode(exc.filename) if exc.filename is not None else str(out)
        if exc.errno == errno.ENAMETOOLONG:
            raise UserError(f"cannot write {where}: the name is too long for the file system") from None
        raise EnvironmentProblem(f"cannot write {where}: {what}") from None


#: Frame rates outside this range are refused (0 in a results file means "unknown").
FPS_RANGE = (1.0, 1000.0)
#: Results files larger than this are refused before parsing (a search of 100k moments is ~30 MB).
MAX_RESULTS_BYTES = 256 * 1024 * 1024


def _text(value: object, what: str, p: Path, i: int) -> str:
    s = str(value)
    if "\0" in s:
        raise UserError(f"{p}: result {i}: {what} contains a NUL character")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{p}: result {i}: {what} is not valid UTF-8 text") from None
    return s


def _number(value: object, what: str, p: Path, i: int, lo: float, hi: float) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]  # untrusted JSON: the except below catches what float() refuses
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"{p}: result {i}: {what} is not a number") from None
    if not math.isfinite(x) or not lo <= x <= hi:
        raise UserError(f"{p}: result {i}: {what} {x:.6g} is out of range ({lo:g} to {hi:g})")
    return x


def load_results_json(path: str | Path) -> tuple[str, list[Moment]]:
    """Read the JSON ``vsearch search --json`` prints (or the ``json`` export writes).

    Every field is checked (paths without NUL, UTF-8 text, finite times within MAX_SECONDS,
    a frame rate of 0 or within FPS_RANGE), so a hostile file fails here with one line.

    Returns:
        ``(query, moments)``; fields a Moment does not have (rank, timecodes) are ignored.

    Raises:
        UserError: the file is missing, not JSON, or not a results document.
    """
    p = Path(path)
    try:
        if p.stat().st_size > MAX_RESULTS_BYTES:
            raise UserError(f"{p} is larger than {MAX_RESULTS_BYTES >> 20} MB; not a results file")
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{p} does not exist") from None
    except RecursionError:
        raise UserError(f"{p} is not a results JSON file: nested too deeply") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: JSON, a 5000-digit number
        raise UserError(f"{p} is not a results JSON file: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise UserError(f'{p} is not a results JSON file: expected {{"query": ..., "results": [...]}}')
    query = doc.get("query") or ""
    if not isinstance(query, str):
        raise UserError(f"{p}: 'query' must be text")
    query = _text(query, "the query", p, 0)
    moments = []
    for i, r in enumerate(doc["results"], 1):
        try:
            if not isinstance(r, dict):
                raise TypeError(f"expected an object, got {type(r).__name__}")
            start = _number(r["start"], "start", p, i, 0.0, MAX_SECONDS)
            fps = _number(r.get("fps", 0.0) or 0.0, "fps", p, i, 0.0, FPS_RANGE[1])
            if 0 < fps < FPS_RANGE[0]:
                raise UserError(f"{p}: result {i}: fps {fps:.6g} is not a video frame rate (0 for unknown, or 1-1000)")
            text = r.get("text")
            m = Moment(
                path=_text(r["path"], "path", p, i),
                start=start,
                end=_number(r["end"], "end", p, i, 0.0, MAX_SECONDS),
                score=_number(r.get("score", 0.0), "score", p, i, -1e6, 1e6),
                best_time=_number(r.get("best_time", start), "best_time", p, i, 0.0, MAX_SECONDS),
                video_id=int(r.get("video_id", 0) or 0),
                duration=_number(r.get("duration", 0.0) or 0.0, "duration", p, i, 0.0, MAX_SECONDS),
                fps=fps,
                source=_text(r.get("source", "visual") or "visual", "source", p, i),
                text=_text(text, "text", p, i) if isinstance(text, str) else None,
                screen_text=_text(r["screen_text"], "screen_text", p, i) if isinstance(r.get("screen_text"), str) else None,
                screen_box=_box(r.get("screen_box")),
                screen_span=_span(r.get("screen_span")),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise UserError(f"{p}: result {i} is not a moment ({' '.join(repr(exc).split())[:200]})") from None
        if not m.path:
            raise UserError(f"{p}: result {i} has an empty path")
        if m.end <= m.start:
            raise UserError(f"{p}: result {i} has a bad span {m.start}-{m.end}")
        moments.append(m)
    return query, moments


def _span(v: object) -> tuple[float, float] | None:
    """A results file's ``screen_span`` ([start, end] seconds), or None when absent or malformed."""
    if not isinstance(v, list) or len(v) != 2:
        return None
    try:
        a, b = float(v[0]), float(v[1])
    except (TypeError, ValueError):
        return None
    return (a, b) if math.isfinite(a) and math.isfinite(b) and 0.0 <= a <= b else None


def _box(v: object) -> tuple[float, float, float, float] | None:
    """A results file's ``screen_box`` ([x0, y0, x1, y1] fractions), or None when absent or malformed."""
    if not isinstance(v, list) or len(v) != 4:
        return None
    try:
        box = tuple(float(x) for x in v)
    except (TypeError, ValueError):
        return None
    return box if all(math.isfinite(x) for x in box) else None  # type: ignore[return-value]  # four items: len(v) == 4 above
