"""After an index run with the offline starter: offer the better model once (vsearch/ui/model_offer.py).

It is shown when an index run that stored videos finishes (not cancelled) while the library
searches with the starter, the offered preset is not on this machine, and the user has not
declined it: "Not now" for this session, "Don't ask again" for good (in the window's state
file). "Download and switch" downloads through the settings controller and, once the file is
verified, makes the preset the model and rescans (re-indexing in the background while
searches keep the starter).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QWidget

from vsearch import log
from vsearch.types import IndexStats, Progress
from vsearch.ui.controllers.base import ServiceController
from vsearch.ui.controllers.library import LibraryController
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.controllers.settings import SettingsController
from vsearch.ui.model_offer import OFFERED, ModelOffer
from vsearch.ui.protocols import AppService
from vsearch.ui.qtcompat import emit
from vsearch.ui.workers import TaskRunner

DISMISSED_KEY = "offers/better_model_declined"


class OfferController(ServiceController):
    """Decides when to offer the better model and carries out the one click.

    Args:
        service: the app's service.
        window: the offer's parent.
        library: its index runs (rate and outcome) and rescans.
        settings: downloads and saves the model choice.
        tasks: the pool the service calls run on.
        messages: where problems are reported.
        state_file: where "Don't ask again" is kept (None: not kept).

    Signals:
        offered(ModelOffer): the offer is shown.
    """

    offered = Signal(object)

    def __init__(
        self,
        service: AppService,
        window: QWidget,
        library: LibraryController,
        settings: SettingsController,
        tasks: TaskRunner,
        messages: Messages,
        state_file: Path | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(service, tasks, messages, parent)
        self._window = window
        self._library = library
        self._settings = settings
        self._state_file = state_file
        self._rate = 0.0  # the last indexing rate seen (times real time)
        self._later = False  # "Not now" in this session
        self.offer: ModelOffer | None = None
        library.indexer.progressed.connect(self._on_indexer_progressed)
        library.indexer.finished.connect(self._on_indexer_finished)
        settings.downloadProgressed.connect(self._on_download_progressed)
        settings.downloadFinished.connect(self._on_download_finished)

    def declined_for_good(self) -> bool:
        if self._state_file is None or not self._state_file.exists():
            return False
        value = QSettings(str(self._state_file), QSettings.Format.IniFormat).value(DISMISSED_KEY, False)
        return value is True or str(value).lower() in ("true", "1")

    def _remember_declined(self) -> None:
        if self._state_file is None:
            return
        try:
            self._state_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.ui.warning("could not remember the declined offer: %s", exc)
            return
        s = QSettings(str(self._state_file), QSettings.Format.IniFormat)
        s.setValue(DISMISSED_KEY, True)
        s.sync()

    # --- when -------------------------------------------------------------------------
    def _on_indexer_progressed(self, p: Progress) -> None:
        if p.stage in ("", "index") and p.rate > 0:
            self._rate = p.rate

    def _on_indexer_finished(self, stats: IndexStats) -> None:
        if stats.cancelled or stats.indexed == 0 or self._later or self.offer is not None:
            return
        if self.declined_for_good():
            return
        svc = self._service

        def read() -> object | None:
            status = svc.status()
            if status.model != "starter":
                return None
            return next((m for m in svc.models() if m.name == OFFERED and not m.present), None)

        self._tasks.submit(read, on_done=self._show, on_error=lambda f: log.ui.warning("no model offer: %s", f.message))

    def _show(self, preset: object | None) -> None:
        if preset is None or self.offer is not None:
            return
        offer = ModelOffer(preset, self._rate, self._window)
        offer.accepted_offer.connect(self._settings.download)
        offer.declined.connect(self._on_declined)
        self.offer = offer
        offer.show()
        emit(self.offered, offer)

    # --- the one click ------------------------------------------------------------------
    def _on_declined(self, forever: bool) -> None:
        self._later = True
        if forever:
            self._remember_declined()
        if self._settings.is_downloading():
            self._settings.cancel_download()
        self.offer = None

    def _on_download_progressed(self, done: int, total: int, speed: float, eta: object) -> None:
        if self.offer is not None:
            self.offer.download_progressed(done, total, speed, eta if isinstance(eta, float) else None)

    def _on_download_finished(self, name: str, ok: bool) -> None:
        if self.offer is None or name != self.offer.name():
            return
        if ok:
            # the rescan only once the new model is saved: started before, it indexes with the old
            # one and finds the library up to date
            self._settings.apply_settings({"model": name}, then=lambda: self._library.rescan(None))
            self.offer.download_finished(True, f"Downloaded {name}; re-indexing with it in the background.")
            self._later = True
        else:
            self.offer.download_finished(False, self._settings.last_download_message)
