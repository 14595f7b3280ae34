"""DaVinci Resolve marker EDL: one marker per moment, spanning it, on each source clip's timecode."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vsearch.errors import UserError
from vsearch.export.base import (
    ExportOptions,
    check_moments,
    ensure_writable,
    media_facts,
    slug,
    title_for,
    with_extension,
    write_file,
)
from vsearch.export.edl import MAX_EVENTS, event_line, one_line
from vsearch.export.timecode import frames_to_timecode, seconds_to_frames
from vsearch.types import Moment

#: Resolve's marker colours; the best moments get the first one.
COLOURS = ("ResolveColorBlue", "ResolveColorCyan", "ResolveColorGreen", "ResolveColorYellow")


def _colour(rank: int, total: int) -> str:
    """Blue for the top quarter of the list, then cyan, green, yellow."""
    return COLOURS[min(len(COLOURS) - 1, (rank - 1) * len(COLOURS) // max(total, 1))]


class ResolveMarkersExporter:
    """Resolve's own marker EDL, the format of "Timeline Markers to EDL".

    Each marker sits at the moment's start in the file's own timecode (00:00:00:00 = first
    frame) and lasts as long as the moment (``|D:`` frames); its name is the rank, score and
    query. Moments from several files give one EDL per file (``<out>-<file>.edl``).
    """

    name = "resolve-markers"
    extension = ".edl"
    description = "DaVinci Resolve marker EDL (one marker per moment on its source clip)"

    def export(
        self, moments: Sequence[Moment], out: Path, *, query: str = "", options: ExportOptions
    ) -> list[Path]:
        """Write the marker file for the moments; returns ``[path]``."""
        ms = check_moments(moments)
        out = with_extension(out, self.extension)
        by_file: dict[str, list[tuple[int, Moment]]] = {}
        for rank, m in enumerate(ms, 1):
            by_file.setdefault(m.path, []).append((rank, m))
        if any(len(v) > MAX_EVENTS for v in by_file.values()):
            raise UserError(f"an EDL holds at most {MAX_EVENTS} markers per file; export fewer moments")
        if len(by_file) == 1:
            targets = {next(iter(by_file)): out}
        else:
            targets = {}
            for path in by_file:
                name = f"{out.stem}-{slug(Path(path).stem, 30)}{out.suffix}"
                while out.with_name(name) in targets.values():
                    name = f"{Path(name).stem}_{len(targets)}{out.suffix}"
                targets[path] = out.with_name(name)
        ensure_writable(list(targets.values()), options.overwrite)
        written = []
        for path, items in by_file.items():
            text = self.render(items, total=len(ms), query=query, options=options)
            write_file(targets[path], text.encode("utf-8"))
            written.append(targets[path])
        return written

    def render(
        self, items: Sequence[tuple[int, Moment]], *, total: int, query: str, options: ExportOptions
    ) -> str:
        """The marker EDL text for the moments of one file (``(rank, moment)`` pairs)."""
        first = items[0][1]
        fps = media_facts(first).fps
        title = one_line(f"{title_for(query, options)} - {Path(first.path).name}")[:70]
        lines = [
            f"TITLE: {title}",
            "FCM: NON-DROP FRAME" if ";" not in frames_to_timecode(0, fps) else "FCM: DROP FRAME",
            "",
        ]
        for num, (rank, m) in enumerate(sorted(items, key=lambda it: it[1].start), 1):
            start = seconds_to_frames(m.start, fps)
            length = max(1, seconds_to_frames(m.end, fps) - start)
            tc_in = frames_to_timecode(start, fps)
            tc_out = frames_to_timecode(start + 1, fps)
            lines.append(event_line(num, f"{num:03d}", "V", tc_in, tc_out, tc_in, tc_out) + "  ")
            label = f"#{rank} {m.score:.3f} {query}".strip()
            if m.text:
                label += f" - {m.text}"
            if m.screen_text:
                label += f" - on screen: {m.screen_text}"
            # "|" separates Resolve's fields, so it cannot appear inside the name
            label = one_line(label).replace("|", "/")
            lines.append(f" |C:{_colour(rank, total)} |M:{label} |D:{length}")
            lines.append("")
        return "\r\n".join(lines) + "\r\n"
