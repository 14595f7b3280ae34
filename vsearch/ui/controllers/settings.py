"""Settings: the dialog (with the model list read off the GUI thread) and saving the changes."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from vsearch import log
from vsearch.ui.controllers.base import ServiceController
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.protocols import AppService
from vsearch.ui.qtcompat import emit
from vsearch.ui.settings_dialog import SettingsDialog
from vsearch.ui.workers import Failure, TaskRunner


class SettingsController(ServiceController):
    """Reads ``Service.models`` and saves with ``Service.update_settings``, both on the pool.

    Args:
        service: the app's service (``settings`` and ``dirs`` are read directly: plain values).
        window: parent of the dialog.
        tasks: the pool the service calls run on.
        messages: where the outcome is reported.

    Signals:
        saved(dict): the changes were saved (what changed).
    """

    saved = Signal(dict)

    def __init__(
        self,
        service: AppService,
        window: QWidget,
        tasks: TaskRunner,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(service, tasks, messages, parent)
        self._window = window

    def settings_dialog(self) -> None:
        """Open the settings once the model list is in (the dialog still works without it)."""

        def failed(failure: Failure) -> None:
            log.ui.warning("model list unavailable: %s", failure.message)
            self._open([])

        self._tasks.submit(self._service.models, on_done=self._open, on_error=failed)

    def _open(self, models: list) -> None:
        dlg = SettingsDialog(self._service.settings, models, str(self._service.dirs.library), self._window)
        if dlg.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dlg.changes())

    def apply_settings(self, changes: dict[str, object]) -> None:
        """Save *changes* on the pool; ``saved`` follows (or a message if they could not be saved)."""
        if not changes:
            return

        def done(_settings: object) -> None:
            notes = []
            if "model" in changes or "sampling" in changes or "interval" in changes:
                notes.append("rescan (F5) to re-index with the new settings")
            if "library" in changes:
                notes.append("the new library location applies on the next start")
            self._messages.status("Settings saved" + (": " + "; ".join(notes) if notes else ""), 10000)
            emit(self.saved, dict(changes))

        self._tasks.submit(partial(self._service.update_settings, **changes), on_done=done,
                           on_error=partial(self._messages.report, title="Settings not saved"))  # fmt: skip
