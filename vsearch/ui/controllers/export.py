"""Exporting moments: the file dialog with the service's formats, the export itself on a pool thread."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from vsearch.types import Moment
from vsearch.ui.controllers.base import ServiceController
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.helpers import count_words
from vsearch.ui.protocols import AppService
from vsearch.ui.qtcompat import emit
from vsearch.ui.workers import TaskRunner

#: File-name extension offered in the save dialog per format ("clips" writes a folder).
EXTENSIONS = {"csv": "csv", "json": "json", "edl": "edl", "fcpxml": "fcpxml", "xmeml": "xml",
              "resolve-markers": "edl", "m3u": "m3u", "sheet": "html"}  # fmt: skip


#: What the clip-mode question offers: (button text, ExportOptions.clip_mode).
CLIP_MODES = (
    ("Stream copy (fast; cuts at keyframes)", "copy"),
    ("Re-encode (frame-accurate; slower)", "reencode"),
)


class ExportController(ServiceController):
    """Asks where and in which format, then runs ``Service.export`` off the GUI thread.

    The formats and the file names the service suggests for the query are read on the pool each
    time; the dialog opens when they are in, in the folder and format used last time (kept in the
    window's state file when there is one), with the file named from the query. Clips ask whether
    to stream-copy or re-encode. The user confirmed any overwrite in the file dialog.

    Args:
        service: the app's service.
        window: parent of the file dialog.
        moments: what to export now (the selected moments, else all results) and the query.
        tasks: the pool exports run on.
        messages: where progress and failures are reported.
        state_file: where the last folder, format and clip mode are kept (None: this run only).

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
        *,
        state_file: Path | None = None,
    ) -> None:
        super().__init__(service, tasks, messages, parent)
        self._window = window
        self._moments = moments
        self._formats: list[tuple[str, str]] | None = None
        self._state = QSettings(str(state_file), QSettings.Format.IniFormat) if state_file else None
        self._last = {"folder": "", "format": "csv", "clip_mode": "copy"}
        if self._state is not None:
            for key in self._last:
                value = self._state.value(f"export/{key}")
                if isinstance(value, str) and value:
                    self._last[key] = value

    def formats(self) -> list[tuple[str, str]] | None:
        """(name, description) of each export format, once read from the service (None before)."""
        return None if self._formats is None else list(self._formats)

    def last_folder(self) -> str:
        """Where the next export dialog opens: the last export's folder, else the home folder."""
        folder = self._last["folder"]
        return folder if folder and os.path.isdir(folder) else os.path.expanduser("~")

    def last_format(self) -> str:
        return self._last["format"]

    def export_dialog(self) -> None:
        """Ask for a file and a format (read with the query's file names first), then export."""
        moments, query = self._moments()
        if not moments:
            self._messages.show_error(
                "Nothing to export yet: search first, then select moments (Ctrl+click, Shift+click)."
            )
            return
        svc = self._service

        def job() -> tuple[list[tuple[str, str]], dict[str, str]]:
            formats = svc.export_formats()
            return formats, {name: svc.export_filename(query, name) for name, _ in formats}

        def done(answer: tuple[list[tuple[str, str]], dict[str, str]]) -> None:
            formats, names = answer
            self._formats = list(formats)
            self._ask(moments, names)

        self._tasks.submit(job, on_done=done, on_error=partial(self._messages.report, title="Export failed"))

    def ask_clip_mode(self) -> str | None:
        """Clips: stream copy or re-encode ("copy" / "reencode"; None: cancelled)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Export clips",
                          "Cut the clips by stream copy or by re-encoding?", parent=self._window)  # fmt: skip
        box.setInformativeText(
            "Stream copy keeps the original quality and is fast, but a clip starts on the keyframe at or "
            "before the moment. Re-encoding starts exactly on the moment's first frame."
        )
        buttons = {box.addButton(text, QMessageBox.ButtonRole.AcceptRole): mode for text, mode in CLIP_MODES}
        box.addButton(QMessageBox.StandardButton.Cancel)
        for b, mode in buttons.items():
            if mode == self._last["clip_mode"]:
                box.setDefaultButton(b)
        box.exec()
        return buttons.get(box.clickedButton())  # type: ignore[call-overload]

    def _ask(self, moments: list[Moment], names: dict[str, str]) -> None:
        formats = self._formats or []
        filters = [
            f"{desc} (*.{EXTENSIONS.get(name, name)})" if name != "clips" else f"{desc} (*)"
            for name, desc in formats
        ]
        known = [name for name, _ in formats]
        fmt = self.last_format() if self.last_format() in known else (known[0] if known else "csv")
        initial = os.path.join(self.last_folder(), names.get(fmt, f"moments.{EXTENSIONS.get(fmt, fmt)}"))
        chosen_filter = filters[known.index(fmt)] if fmt in known else ""
        path, chosen = QFileDialog.getSaveFileName(self._window, f"Export {count_words(len(moments), 'moment')}",
                                                   initial, ";;".join(filters), chosen_filter)  # fmt: skip
        if not path:
            return
        picked = formats[filters.index(chosen)][0] if chosen in filters else fmt
        if picked != fmt and os.path.basename(path) == names.get(fmt):
            # another format picked, the suggested name kept: the name follows the format
            path = os.path.join(os.path.dirname(path), names.get(picked, os.path.basename(path)))
        options: dict[str, object] = {"overwrite": True}  # the file dialog asked before replacing
        if picked == "clips":
            mode = self.ask_clip_mode()
            if mode is None:
                return
            options["clip_mode"] = mode
            self._remember(clip_mode=mode)
        self._remember(folder=os.path.dirname(path), format=picked)
        self.export_moments(moments, picked, Path(path), **options)

    def _remember(self, **values: str) -> None:
        self._last.update(values)
        if self._state is not None:
            for key, value in values.items():
                self._state.setValue(f"export/{key}", value)
            self._state.sync()

    def export_moments(self, moments: list[Moment], fmt: str, out: Path, **options: object) -> None:
        """Export off the GUI thread (clips and contact sheets can take a while).

        Args:
            moments: what to export.
            fmt: the format's name.
            out: the file (the folder for clips).
            **options: ExportOptions fields (``overwrite``, ``clip_mode``).
        """
        _current, query = self._moments()
        svc = self._service

        def done(paths: list[Path]) -> None:
            written = list(paths or [out])
            where = ", ".join(str(p) for p in written[:3])
            self._messages.status(f"Exported {count_words(len(moments), 'moment')} to {where}", 10000)
            emit(self.exported, written)

        self._messages.status(f"Exporting {count_words(len(moments), 'moment')}…")
        self._tasks.submit(partial(svc.export, moments, fmt, out, query=query, **options), on_done=done,
                           on_error=partial(self._messages.report, title="Export failed"))  # fmt: skip
