"""Settings: the dialog (with the model list read off the GUI thread) and saving the changes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from vsearch import log
from vsearch.types import CancelToken
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
        downloadFinished(str, bool): a model download ended (name, whether it completed).
        downloadProgressed(int, int, float, object): bytes done, total, bytes/s, seconds left (or None).
    """

    saved = Signal(dict)
    downloadFinished = Signal(str, bool)
    downloadProgressed = Signal(int, int, float, object)
    _downloadProgressed = Signal(int, int)  # from the download thread, queued to the GUI thread

    #: open_clip architectures offered by "Import checkpoint…" (the presets' first).
    IMPORT_ARCHS = ("ViT-B-32", "ViT-B-16", "ViT-L-14", "MobileCLIP2-S0", "xlm-roberta-base-ViT-B-32", "ViT-H-14")

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
        # a download takes minutes: its own thread, so library reads and exports go on
        self._download_tasks = TaskRunner(1, self)
        self._download_token: CancelToken | None = None
        self._dialog: SettingsDialog | None = None
        self._speed = (0.0, -1)  # (start time, bytes at start) of the running download
        self.last_download_message = ""  # how the last download ended, in one line
        self._download_owner: SettingsDialog | None = None  # the dialog that started it (None: the offer)
        self._downloadProgressed.connect(self._on_download_progressed)

    def settings_dialog(self) -> None:
        """Open the settings once the model list is in (the dialog still works without it)."""

        def failed(failure: Failure) -> None:
            log.ui.warning("model list unavailable: %s", failure.message)
            self._open([])

        self._tasks.submit(self._service.models, on_done=self._open, on_error=failed)

    def _open(self, models: list) -> None:
        dlg = self.make_dialog(models)
        try:
            accepted = dlg.exec() == SettingsDialog.DialogCode.Accepted
        finally:
            if self._download_owner is dlg:  # its own download stops with it (the part is kept)
                self.cancel_download()
            self._dialog = None
        if accepted:
            self.apply_settings(dlg.changes())

    def make_dialog(self, models: list) -> SettingsDialog:
        """The settings dialog over *models*, its Download and Import buttons wired to this controller."""
        dlg = SettingsDialog(self._service.settings, models, str(self._service.dirs.library), self._window)
        dlg.downloadRequested.connect(self.download)
        dlg.downloadCancelled.connect(self.cancel_download)
        dlg.importRequested.connect(self._on_import_requested)
        self._dialog = dlg
        return dlg

    # --- models -----------------------------------------------------------------------------
    def download(self, name: str) -> None:
        """Download model *name* on the download thread (disk space checked first, resumable, verified).

        Nothing switches until it is complete and the user presses OK: searches keep the
        current model meanwhile, and a cancelled or failed download leaves it as it was.
        """
        if self._download_token is not None:
            return
        token = CancelToken()
        self._download_token = token
        self._speed = (time.monotonic(), -1)
        self._download_owner = self._dialog
        if self._dialog is not None:
            self._dialog.download_started(name)
        progressed = self._downloadProgressed
        svc = self._service

        def job() -> object:
            svc.download_model(name, progress=lambda done, total: emit(progressed, int(done), int(total)), cancel=token)
            return next((m for m in svc.models() if m.name == name), None)

        self._download_tasks.submit(job, on_done=partial(self._on_download_done, name),
                                    on_error=partial(self._on_download_failed, name, token))  # fmt: skip

    def is_downloading(self) -> bool:
        return self._download_token is not None

    def shutdown(self) -> None:
        """Cancel a running download (its part is kept) and stop the download thread."""
        self.cancel_download()
        self._download_tasks.shutdown()

    def cancel_download(self) -> None:
        """Stop the running download; what arrived is kept for the next try."""
        if self._download_token is not None:
            self._download_token.cancel()

    def _on_download_progressed(self, done: int, total: int) -> None:
        t0, base = self._speed
        if base < 0:  # the first report: resumed bytes do not count towards the speed
            self._speed = (time.monotonic(), done)
            t0, base = self._speed
        elapsed = time.monotonic() - t0
        speed = (done - base) / elapsed if elapsed > 0.2 and done > base else 0.0
        eta = (total - done) / speed if speed > 0 and total else None
        if self._dialog is not None and self._dialog is self._download_owner:
            self._dialog.download_progressed(done, total, speed, eta)
        emit(self.downloadProgressed, done, total, float(speed), eta)

    def _on_download_done(self, name: str, status: object) -> None:
        self._download_token = None
        msg = f"{name} is downloaded and verified; OK switches to it (searches use the current model until it is indexed)"
        self.last_download_message = msg
        if self._dialog is not None and self._dialog is self._download_owner:
            self._dialog.download_finished(status if status is not None else name, msg)
        self._messages.status(f"Downloaded {name}", 10000)
        emit(self.downloadFinished, name, True)

    def _on_download_failed(self, name: str, token: CancelToken, failure: Failure) -> None:
        self._download_token = None
        cancelled = token.cancelled
        msg = (
            f"Download of {name} cancelled; what arrived is kept, Download resumes it"
            if cancelled
            else f"Download of {name} failed: {failure.message}"
        )
        log.ui.warning("%s", msg)
        self.last_download_message = msg
        if self._dialog is not None and self._dialog is self._download_owner:
            self._dialog.download_finished(None, msg)
        emit(self.downloadFinished, name, False)

    def import_checkpoint(self, path: str, arch: str) -> None:
        """Check and register a local checkpoint (off the GUI thread); the dialog lists it when it loads."""
        svc = self._service

        def job() -> object:
            name = svc.import_model(path, arch)
            return next((m for m in svc.models() if m.name == name), None)

        def done(status: object) -> None:
            if self._dialog is not None and status is not None:
                self._dialog.add_model(status)
                self._dialog.select_model(getattr(status, "name", ""))
                self._dialog.download_label.setText(f"Imported {os.path.basename(path)} as {getattr(status, 'name', '')}")

        def failed(failure: Failure) -> None:
            line = failure.message.splitlines()[0] if failure.message else "import failed"
            if self._dialog is not None:
                self._dialog.download_label.setText(f"Not imported: {line}")
            else:
                self._messages.report(failure, title="Checkpoint not imported")

        self._download_tasks.submit(job, on_done=done, on_error=failed)

    def _on_import_requested(self) -> None:
        parent = self._dialog or self._window
        path, _ = QFileDialog.getOpenFileName(
            parent, "Import checkpoint", os.path.expanduser("~"),
            "open_clip checkpoints (*.pt *.pth *.bin *.safetensors);;All files (*)",
        )  # fmt: skip
        if not path:
            return
        arch, ok = QInputDialog.getItem(parent, "Import checkpoint", "Architecture:", list(self.IMPORT_ARCHS), 0, True)
        if ok and arch.strip():
            self.import_checkpoint(path, arch.strip())

    def apply_settings(self, changes: dict[str, object], then: Callable[[], None] | None = None) -> None:
        """Save *changes* on the pool; once saved, *then* runs and ``saved`` follows.

        If they could not be saved, a message says so and neither happens.
        """
        if not changes:
            return

        def done(_settings: object) -> None:
            if then is not None:
                then()
            notes = []
            if "model" in changes or "sampling" in changes or "interval" in changes:
                notes.append("rescan (F5) to re-index with the new settings")
            if "library" in changes:
                notes.append("the new library location applies on the next start")
            self._messages.status("Settings saved" + (": " + "; ".join(notes) if notes else ""), 10000)
            emit(self.saved, dict(changes))

        self._tasks.submit(partial(self._service.update_settings, **changes), on_done=done,
                           on_error=partial(self._messages.report, title="Settings not saved"))  # fmt: skip
