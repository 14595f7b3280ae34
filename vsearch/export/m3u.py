"""M3U playlist export: VLC plays each moment from its start to its end, one after another."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from vsearch.export.base import (
    ExportOptions,
    SingleFileExporter,
    file_uri,
    title_for,
)
from vsearch.export.edl import one_line
from vsearch.types import Moment


class M3uExporter(SingleFileExporter):
    """Extended M3U in UTF-8 (``.m3u8``) with VLC's per-entry options.

    ``#EXTVLCOPT:start-time`` / ``stop-time`` make VLC play only the moment; entries are
    ``file://`` URLs, so spaces and non-ASCII names survive any playlist reader. Players
    without those options (mpv, foobar) play the whole files in the same order.
    """

    name = "m3u"
    extension = ".m3u8"
    description = "M3U playlist that plays each moment in VLC"

    def render(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> bytes:
        """An extended M3U playlist, one entry per moment (VLC start/stop options)."""
        lines = ["#EXTM3U", f"#PLAYLIST:{one_line(title_for(query, options))}"]
        for rank, m in enumerate(ms, 1):
            seconds = max(1, round(m.end - m.start))
            title = one_line(f"#{rank} {Path(m.path).name} {m.start:.2f}-{m.end:.2f} s ({m.score:.3f})")
            lines.append(f"#EXTINF:{seconds},{title}")
            lines.append(f"#EXTVLCOPT:start-time={m.start:.3f}")
            lines.append(f"#EXTVLCOPT:stop-time={m.end:.3f}")
            lines.append(file_uri(m.path))
        return ("\n".join(lines) + "\n").encode("utf-8")
