"""Exporting moments: the file dialog with the service's formats, the export itself on a pool thread."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from vsearch.types import Moment
from vsearch.ui.controllers.base import ServiceController
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.protocols import AppService
from vsearch.ui.qtcompat import emit
from vsearch.ui.workers import TaskRunner

#: File-name extension offered in the save dialog per format ("clips" writes a folder).
EXTENSIONS = {"csv": "csv", "json": "json", "edl": "edl", "fcpxml": "fcpxml", "xmeml": "xml",
              "resolve-markers": "edl", "m3u": "m3u", "sheet": "html"}  # fmt: skip


class ExportController(ServiceController):
    """Asks where and in which format, then runs ``Service.export`` off the GUI thread.

    The list of formats comes from ``Service.export_formats`` on the pool, once; the dialog
    opens when it is in.

    Args:
        service: the app's service.
        window: parent of the file dialog.
        moments: what to export now (the selected moments, else all results) and the query.
        tasks: the pool exports run on.
        messages: where progress and failures are reported.

    Signals:
        exported(list): the files written (paths) by the last export.
    """

    exported = Signal(list)

    def __init__(
        self,
        service: AppService,
        window: QWidget,
        moments: Callable[[], tuple[list[Moment], str]],
        tasks: TaskRunner,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(service, tasks, messages, parent)
        self._window = window
        self._moments = moments
        self._formats: list[tuple[str, str]] | None = None

    def formats(self) -> list[tuple[str, str]] | None:
        """(name, description) of each export format, once read from the service (None before)."""
        return None if self._formats is None else list(self._formats)

    def export_dialog(self) -> None:
        """Ask for a file and a format (after reading the formats, the first time), then export."""
        moments, _query = self._moments()
        if not moments:
            self._messages.show_error(
                "Nothing to export yet: search first, then select moments (Ctrl+click, Shift+click)."
            )
            return
        if self._formats is not None:
            self._ask(moments)
            return

        def done(formats: list[tuple[str, str]]) -> None:
            self._formats = list(formats)
            self._ask(moments)

        self._tasks.submit(self._service.export_formats, on_done=done,
                           on_error=partial(self._messages.report, title="Export failed"))  # fmt: skip

    def _ask(self, moments: list[Moment]) -> None:
        formats = self._formats or []
        filters = [
            f"{desc} (*.{EXTENSIONS.get(name, name)})" if name != "clips" else f"{desc} (*)"
            for name, desc in formats
        ]
        path, chosen = QFileDialog.getSaveFileName(self._window, f"Export {len(moments)} moments", os.path.expanduser("~/moments.csv"),
                                                   ";;".join(filters))  # fmt: skip
        if not path:
            return
        fmt = formats[filters.index(chosen)][0] if chosen in filters else "csv"
        self.export_moments(moments, fmt, Path(path))

    def export_moments(self, moments: list[Moment], fmt: str, out: Path) -> None:
        """Export off the GUI thread (clips and contact sheets can take a while)."""
        _current, query = self._moments()
        svc = self._service

        def done(paths: list[Path]) -> None:
            written = list(paths or [out])
            where = ", ".join(str(p) for p in written[:3])
            self._messages.status(f"Exported {len(moments)} moments to {where}", 10000)
            emit(self.exported, written)

        self._messages.status(f"Exporting {len(moments)} moments…")
        self._tasks.submit(partial(svc.export, moments, fmt, out, query=query), on_done=done,
                           on_error=partial(self._messages.report, title="Export failed"))  # fmt: skip
