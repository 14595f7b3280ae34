"""JSON export: the same shape ``vsearch search --json`` prints, plus length and timecodes."""

from __future__ import annotations

import json
from collections.abc import Sequence

from vsearch.export.base import (
    ExportOptions,
    SingleFileExporter,
    file_uri,
)
from vsearch.export.csvfile import moment_row
from vsearch.types import Moment


class JsonExporter(SingleFileExporter):
    """``{"query": ..., "results": [...]}``; readable again with ``vsearch export --from``.

    Each result is ``Moment.to_dict()`` (where ``duration`` is the whole video's) plus
    ``rank``, ``length`` (the moment's seconds), ``start_tc``/``end_tc`` and ``url``.
    """

    name = "json"
    extension = ".json"
    description = "JSON: the search results with timecodes (re-importable)"

    def render(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> bytes:
        """The moments as one JSON document (query, then the results in rank order)."""
        results = []
        for rank, m in enumerate(ms, 1):
            row = moment_row(m, rank, query)
            d = m.to_dict()
            d.update(
                rank=rank,
                length=row["duration"],
                start_tc=row["start_tc"],
                end_tc=row["end_tc"],
                fps=row["fps"],
                url=file_uri(m.path),
            )
            results.append(d)
        doc = {"query": query, "results": results}
        return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
