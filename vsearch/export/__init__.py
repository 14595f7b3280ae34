"""The exporter registry: one module per format behind one interface, plus results-JSON loading.

Usage::

    from vsearch.export import export
    export(moments, "fcpxml", Path("dog.fcpxml"), query="a dog running")
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from vsearch.errors import UserError
from vsearch.export.base import (
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

    Raises:
        UserError: unknown format or option, empty list, or an output that exists without
            ``overwrite``.
    """
    exporter = get_exporter(fmt)
    if options is None:
        known = {f.name for f in fields(ExportOptions)}
        bad = sorted(set(opts) - known)
        if bad:
            raise UserError(f"unknown export option(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        options = ExportOptions(**opts)  # type: ignore[arg-type]
    elif opts:
        raise UserError("give either options= or keyword options, not both")
    return exporter.export(list(moments), Path(out), query=query, options=options)


def load_results_json(path: str | Path) -> tuple[str, list[Moment]]:
    """Read the JSON ``vsearch search --json`` prints (or the ``json`` export writes).

    Returns:
        ``(query, moments)``; fields a Moment does not have (rank, timecodes) are ignored.

    Raises:
        UserError: the file is missing, not JSON, or not a results document.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{p} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{p} is not a results JSON file: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise UserError(f'{p} is not a results JSON file: expected {{"query": ..., "results": [...]}}')
    query = doc.get("query") or ""
    if not isinstance(query, str):
        raise UserError(f"{p}: 'query' must be text")
    moments = []
    for i, r in enumerate(doc["results"], 1):
        try:
            m = Moment(
                path=str(r["path"]),
                start=float(r["start"]),
                end=float(r["end"]),
                score=float(r.get("score", 0.0)),
                best_time=float(r.get("best_time", r["start"])),
                video_id=int(r.get("video_id", 0) or 0),
                duration=float(r.get("duration", 0.0) or 0.0),
                fps=float(r.get("fps", 0.0) or 0.0),
                source=str(r.get("source", "visual") or "visual"),
                text=r.get("text") if isinstance(r.get("text"), str) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{p}: result {i} is not a moment ({exc!r})") from None
        if not (math.isfinite(m.start) and math.isfinite(m.end)) or m.end <= m.start:
            raise UserError(f"{p}: result {i} has a bad span {m.start}-{m.end}")
        moments.append(m)
    return query, moments
