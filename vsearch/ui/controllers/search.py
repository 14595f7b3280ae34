"""Searching: the query box and filters, debounced; results tagged with a generation so stale ones drop."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QSlider

from vsearch.types import Moment
from vsearch.ui.controllers.base import ServiceController
from vsearch.ui.controllers.messages import Messages
from vsearch.ui.helpers import count_words, distinct_names
from vsearch.ui.icons import icon
from vsearch.ui.protocols import AppService
from vsearch.ui.qtcompat import emit
from vsearch.ui.results_model import ResultsModel
from vsearch.ui.workers import Failure, TaskRunner

SEARCH_DEBOUNCE_MS = 250
RESULTS_K = 60


class SearchController(ServiceController):
    """Runs ``Service.search`` for the query box and filters on a pool thread, newest query wins.

    Typing waits :data:`SEARCH_DEBOUNCE_MS` before searching, a filter change 60 ms, Enter none.
    Each search takes the next generation; a result that comes back for an older one is
    dropped, and a job that has not started when a newer query arrives does not run at all.

    Args:
        service: the app's service.
        query, folder_filter, length_filter, source_filter, floor, floor_label, one_per_video,
        count_label: the widgets of the query bar (see :class:`vsearch.ui.main_view.MainWindowView`).
        results: the model the moments go into.
        tasks: the pool searches run on (one thread: searches queue, they never overlap).
        messages: where failures are reported.

    Signals:
        finished(int): the current query's results are in the model (row count).
    """

    finished = Signal(int)

    def __init__(
        self,
        service: AppService,
        *,
        query: QLineEdit,
        folder_filter: QComboBox,
        length_filter: QComboBox,
        source_filter: QComboBox,
        floor: QSlider,
        floor_label: QLabel,
        one_per_video: QCheckBox,
        count_label: QLabel,
        results: ResultsModel,
        tasks: TaskRunner,
        messages: Messages,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(service, tasks, messages, parent)
        self._query = query
        self._folder_filter = folder_filter
        self._length_filter = length_filter
        self._source_filter = source_filter
        self._floor = floor
        self._floor_label = floor_label
        self._one_per_video = one_per_video
        self._count_label = count_label
        self._results = results
        self._generation = 0
        self._wanted_folder: str | None = None  # a restored folder filter, until the folders are known
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run)

        query.textChanged.connect(self._on_query_text_changed)
        query.returnPressed.connect(self.run)
        folder_filter.currentIndexChanged.connect(self._on_filter_changed)
        length_filter.currentIndexChanged.connect(self._on_filter_changed)
        source_filter.currentIndexChanged.connect(self._on_filter_changed)
        floor.valueChanged.connect(self._on_floor_value_changed)
        one_per_video.toggled.connect(self._on_filter_changed)

    # --- state ---------------------------------------------------------------------------
    def text(self) -> str:
        """The query as searched: the box's text with runs of white space made one space."""
        return " ".join(self._query.text().split())

    def params(self) -> dict[str, Any]:
        """Service.search's keyword arguments for the filters as set now."""
        lo, hi = self._length_filter.currentData() or (None, None)
        return {
            "k": RESULTS_K,
            "folder": self._folder_filter.currentData(),
            "min_score": None if self._floor.value() == 0 else self._floor.value() / 100.0,
            "per_video": 1 if self._one_per_video.isChecked() else None,
            "min_duration": lo,
            "max_duration": hi,
            "only": self._source_filter.currentData(),
            "group_similar": True,  # loops and copies of a file: one card, "+N similar"
        }

    def state(self) -> dict[str, Any]:
        """The query box and filters, to remember across restarts (see :meth:`restore`)."""
        return {
            "query": self._query.text(),
            "folder": self._folder_filter.currentData() or self._wanted_folder,
            "length": self._length_filter.currentIndex(),
            "source": self._source_filter.currentData(),
            "floor": self._floor.value(),
            "per_video": self._one_per_video.isChecked(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Set the query box and filters as :meth:`state` gave them, then search once.

        A folder filter waits for :meth:`set_folders` (the library is read off the GUI thread);
        the search runs when it is applied.
        """
        widgets = (self._query, self._length_filter, self._source_filter, self._floor, self._one_per_video)
        for w in widgets:
            w.blockSignals(True)
        try:
            self._query.setText(str(state.get("query") or ""))
            length = int(state.get("length") or 0)
            if 0 <= length < self._length_filter.count():
                self._length_filter.setCurrentIndex(length)
            self._source_filter.setCurrentIndex(max(0, self._source_filter.findData(state.get("source"))))
            self._floor.setValue(int(state.get("floor") or 0))
            self._floor_label.setText("auto" if self._floor.value() == 0 else f"{self._floor.value() / 100:.2f}")
            self._one_per_video.setChecked(bool(state.get("per_video")))
        finally:
            for w in widgets:
                w.blockSignals(False)
        folder = state.get("folder")
        if folder and self._folder_filter.findData(folder) < 0:
            self._wanted_folder = str(folder)
        else:
            self._folder_filter.setCurrentIndex(max(0, self._folder_filter.findData(folder)))
            if self.text():
                self.schedule(0)

    # --- commands ------------------------------------------------------------------------
    def schedule(self, delay_ms: int) -> None:
        """Search after *delay_ms* (restarts the wait: keystrokes coalesce)."""
        self._debounce.start(max(0, delay_ms))

    def stop(self) -> None:
        self._debounce.stop()

    @Slot()
    def run(self) -> None:
        """Search now for the query box's text with the current filters."""
        self._debounce.stop()
        text = self.text()
        self._generation += 1
        gen = self._generation
        if not text:
            self._results.set_results([], gen, "")
            self._count_label.setText("")
            emit(self.finished, 0)
            return
        params = self.params()
        svc = self._service

        def job() -> tuple[list[Moment], bool] | None:
            if gen != self._generation:  # a newer query came in before this one started
                return None
            found = svc.search(text, **params)
            return found, svc.strong_match(found)  # both off the GUI thread

        self._count_label.setText("Searching…")
        self._tasks.submit(job, on_done=partial(self._on_search_done, gen, text),
                           on_error=partial(self._on_search_failed, gen))  # fmt: skip

    def scope_to(self, folder: str | None) -> bool:
        """Search only in *folder* (a library folder; None: all folders); False if it is not one."""
        i = self._folder_filter.findData(folder) if folder else 0
        if i < 0:
            return False
        self._folder_filter.setCurrentIndex(i)  # the filter's change runs the search
        return True

    @Slot(list)
    def set_folders(self, folders: list) -> None:
        """Offer the library's folders in the folder filter, keeping the chosen one."""
        combo = self._folder_filter
        wanted, self._wanted_folder = self._wanted_folder, None
        current = wanted or combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("All folders", None)
        names = distinct_names([f.path for f in folders])
        for f in folders:
            combo.addItem(icon("folder"), names.get(f.path) or f.path, f.path)
            combo.setItemData(combo.count() - 1, f.path, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)
        if wanted and self.text():
            self.schedule(0)  # the restored query, now inside its restored folder

    # --- internals -----------------------------------------------------------------------
    @Slot(str)
    def _on_query_text_changed(self, _text: str) -> None:
        self.schedule(SEARCH_DEBOUNCE_MS)

    @Slot()
    def _on_filter_changed(self) -> None:
        self.schedule(60)

    @Slot(int)
    def _on_floor_value_changed(self, value: int) -> None:
        self._floor_label.setText("auto" if value == 0 else f"{value / 100:.2f}")
        self.schedule(150)

    def _on_search_done(self, gen: int, text: str, result: tuple[list[Moment], bool] | None) -> None:
        if gen != self._generation or result is None:
            return  # stale: the user typed on
        moments, strong = result
        self._results.set_results(moments, gen, text)
        n = len(moments)
        videos = len({m.path for m in moments})
        label = f"{count_words(n, 'moment')} in {count_words(videos, 'video')}" if n else ""
        if n and not strong:
            label += " \u00b7 no strong match"  # calibrated scores: nothing answers the query well
        self._count_label.setText(label)
        emit(self.finished, n)

    def _on_search_failed(self, gen: int, failure: Failure) -> None:
        if gen != self._generation:
            return
        self._count_label.setText("")
        self._messages.report(failure, title="Search failed")
        emit(self.finished, 0)
