"""The settings dialog: model, device, sampling, speech, on-screen text, folder watching and library location (saved by Service)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from vsearch.ui.helpers import download_text

DEVICES = (
    ("auto", "Automatic (GPU when present)"),
    ("cpu", "CPU"),
    ("cuda", "NVIDIA GPU (CUDA)"),
    ("mps", "Apple GPU (MPS)"),
)
PRECISIONS = (
    ("auto", "Automatic (fastest that keeps results)"),
    ("fp32", "Full (fp32)"),
    ("bf16", "bfloat16"),
    ("fp16", "Half (fp16, GPUs)"),
)
SAMPLING = (("keyframe", "Keyframes (fast)"), ("exact", "Every interval (thorough)"))


def model_label(m: object) -> str:
    """A model's line in the list: its name, download size and whether it is here."""
    name = getattr(m, "name", str(m))
    size = int(getattr(m, "size_mb", 0) or 0)
    if getattr(m, "present", True):
        return name if not size or getattr(m, "kind", "") == "starter" else f"{name}  ({size:,} MB)"
    partial = int(getattr(m, "partial_bytes", 0) or 0)
    if partial:
        return f"{name}  ({size:,} MB, {partial / 1e6:,.0f} MB downloaded, not finished)"
    return f"{name}  ({size:,} MB, not downloaded)"


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`changes` lists what the user changed.

    The model row also downloads a preset (progress, speed, ETA, cancel; the controller runs
    it) and imports a local checkpoint; both only ask, :class:`SettingsController` does them.

    Args:
        settings: the current vsearch.config.Settings.
        models: model statuses from Service.models() (objects with name, description, present).
        library: the library folder in use (shown when settings.library is empty).

    Signals:
        downloadRequested(str): the user asked to download this model.
        downloadCancelled(): the user cancelled the running download.
        importRequested(): the user asked to import a checkpoint.
    """

    downloadRequested = Signal(str)
    downloadCancelled = Signal()
    importRequested = Signal()

    def __init__(self, settings, models: Sequence, library: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._settings = settings
        self._downloading: str | None = None

        self.model = QComboBox(self)
        self.model.addItem("Library's model (default)", "")
        self._models: dict[str, object] = {}
        for m in models:
            self.add_model(m)
        self._select(self.model, settings.model)
        self.model_hint = QLabel("", self)
        self.model_hint.setObjectName("Dim")
        # wrapped, and allowed to grow in height: the description was clipped until the
        # dialog was enlarged (a wrapped label in a form row keeps its one-line height otherwise)
        self.model_hint.setWordWrap(True)
        self.model_hint.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.MinimumExpanding)
        self.model_hint.setMinimumWidth(360)
        self.download_btn = QPushButton("Download", self)
        self.download_btn.setToolTip("Download this model (resumable); OK then switches to it")
        self.download_btn.clicked.connect(self._on_download_clicked)
        self.cancel_download_btn = QPushButton("Cancel download", self)
        self.cancel_download_btn.clicked.connect(self._on_cancel_download_clicked)
        self.import_btn = QPushButton("Import checkpoint…", self)
        self.import_btn.setToolTip("Add a local open_clip checkpoint (.pt, .bin, .safetensors), checked before use")
        self.import_btn.clicked.connect(self.importRequested)
        self.download_bar = QProgressBar(self)
        self.download_bar.setRange(0, 1000)
        self.download_label = QLabel("", self)
        self.download_label.setWordWrap(True)
        self.download_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.MinimumExpanding)
        self.model.currentIndexChanged.connect(self._on_model_changed)
        self._on_model_changed()

        self.device = QComboBox(self)
        for key, label in DEVICES:
            self.device.addItem(label, key)
        self._select(self.device, settings.device)

        self.precision = QComboBox(self)
        for key, label in PRECISIONS:
            self.precision.addItem(label, key)
        self._select(self.precision, settings.precision)
        self.precision.setToolTip(
            "Automatic: half precision on GPUs, bfloat16 on CPUs with hardware support (several times faster), else full"
        )

        self.sampling = QComboBox(self)
        for key, label in SAMPLING:
            self.sampling.addItem(label, key)
        self._select(self.sampling, settings.sampling)

        self.interval = QDoubleSpinBox(self)
        self.interval.setRange(0.1, 60.0)
        self.interval.setSingleStep(0.5)
        self.interval.setDecimals(1)
        self.interval.setSuffix(" s")
        self.interval.setValue(float(settings.interval))
        self.interval.setToolTip(
            "Seconds between sampled frames (exact mode); the longest gap in keyframe mode"
        )

        self.speech = QCheckBox("Transcribe speech while indexing (find spoken words too)", self)
        self.speech.setChecked(bool(settings.speech))
        self.ocr = QCheckBox("Read on-screen text after indexing (titles, slates, signs, subtitles)", self)
        self.ocr.setChecked(bool(settings.ocr))
        self.watch = QCheckBox("Watch library folders and rescan when files change (local disks only)", self)
        self.watch.setChecked(bool(settings.watch_folders))
        self.watch.setToolTip(
            "Folders on network shares are never watched (costly there); F5 rescans them"
        )

        self.library = QLineEdit(settings.library or "", self)
        self.library.setPlaceholderText(library or "default location")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        lib_row = QHBoxLayout()
        lib_row.addWidget(self.library, 1)
        lib_row.addWidget(browse)

        form = QFormLayout()
        form.setSpacing(10)
        model_buttons = QHBoxLayout()
        model_buttons.addWidget(self.download_btn)
        model_buttons.addWidget(self.cancel_download_btn)
        model_buttons.addStretch(1)
        model_buttons.addWidget(self.import_btn)
        form.addRow("Model", self.model)
        form.addRow("", self.model_hint)
        form.addRow("", model_buttons)
        form.addRow("", self.download_bar)
        form.addRow("", self.download_label)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("Sampling", self.sampling)
        form.addRow("Interval", self.interval)
        form.addRow("", self.speech)
        form.addRow("", self.ocr)
        form.addRow("", self.watch)
        form.addRow("Library location", lib_row)
        note = QLabel(
            "A new model re-indexes your folders on the next rescan. A new library location applies on the next start.",
            self,
        )
        note.setObjectName("Dim")
        note.setWordWrap(True)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(buttons)

    # --- models: download and import (the controller does the work) -------------------------
    def add_model(self, m: object) -> None:
        """List (or re-list, after a download or an import) one model."""
        name = getattr(m, "name", str(m))
        self._models[name] = m
        i = self.model.findData(name)
        if i < 0:
            self.model.addItem(model_label(m), name)
            i = self.model.count() - 1
        else:
            self.model.setItemText(i, model_label(m))
        self.model.setItemData(i, getattr(m, "description", ""), 3)  # ToolTipRole
        if i == self.model.currentIndex():
            self._on_model_changed()

    def select_model(self, name: str) -> None:
        self._select(self.model, name)

    def download_started(self, name: str) -> None:
        self._downloading = name
        self.download_bar.setValue(0)
        self.download_label.setText(f"Downloading {name}…")
        self._update_download_row()

    def download_progressed(self, done: int, total: int, speed: float, eta: float | None) -> None:
        """Bytes done of total, bytes/s since the start (resumed bytes excluded), seconds left."""
        self.download_bar.setValue(int(1000 * done / total) if total else 0)
        self.download_label.setText(download_text(done, total, speed, eta, percent=True))

    def download_finished(self, m: object | None, message: str) -> None:
        """The download ended: *m* the model's new status or its name (None: failed or cancelled), and a line."""
        self._downloading = None
        if isinstance(m, str):  # downloaded, but not among Service.models() (an ARCH/TAG name)
            old = self._models.get(m)
            is_row = dataclasses.is_dataclass(old) and not isinstance(old, type)
            m = dataclasses.replace(old, present=True, partial_bytes=0) if is_row else None  # type: ignore[type-var]
        if m is not None:
            self.add_model(m)
            self.select_model(getattr(m, "name", ""))
            self.download_bar.setValue(1000)
        self.download_label.setText(message)
        self._update_download_row()

    def is_downloading(self) -> bool:
        return self._downloading is not None

    def _update_download_row(self) -> None:
        m = self._models.get(self.model.currentData() or "")
        absent = m is not None and not getattr(m, "present", True)
        busy = self._downloading is not None
        self.download_btn.setVisible(absent and not busy)
        self.cancel_download_btn.setVisible(busy)
        self.download_bar.setVisible(busy or self.download_bar.value() == 1000)
        self.import_btn.setEnabled(not busy)

    @Slot()
    def _on_download_clicked(self) -> None:
        name = self.model.currentData() or ""
        if name and not self.is_downloading():
            self.downloadRequested.emit(name)

    @Slot()
    def _on_cancel_download_clicked(self) -> None:
        if self.is_downloading():
            self.download_label.setText("Cancelling… (what arrived is kept: Download resumes it)")
            self.downloadCancelled.emit()

    @staticmethod
    def _select(combo: QComboBox, value: str) -> None:
        i = combo.findData(value)
        combo.setCurrentIndex(i if i >= 0 else 0)

    def changes(self) -> dict[str, object]:
        """Only the settings whose value the user changed."""
        new = {
            "model": self.model.currentData() or "",
            "device": self.device.currentData(),
            "precision": self.precision.currentData(),
            "sampling": self.sampling.currentData(),
            "interval": round(float(self.interval.value()), 2),
            "speech": self.speech.isChecked(),
            "ocr": self.ocr.isChecked(),
            "watch_folders": self.watch.isChecked(),
            "library": self.library.text().strip(),
        }
        return {k: v for k, v in new.items() if getattr(self._settings, k) != v}

    @Slot()
    def _on_model_changed(self) -> None:
        if not hasattr(self, "download_btn"):
            return  # still building the dialog
        self._update_download_row()
        m = self._models.get(self.model.currentData() or "")
        if m is None:
            self.model_hint.setText("Searches use the model the library was indexed with.")
            return
        text = getattr(m, "description", "")
        speed = getattr(m, "speed", "")
        if speed:
            text += f" — {speed}"
        if not getattr(m, "present", True):
            size = int(getattr(m, "size_mb", 0) or 0)
            text += f"\nNot on this machine yet: Download fetches {size:,} MB (resumable, checked), then OK switches to it."
        self.model_hint.setText(text)

    @Slot()
    def _on_browse_clicked(self) -> None:
        start = self.library.text() or self.library.placeholderText() or os.path.expanduser("~")
        path = QFileDialog.getExistingDirectory(self, "Library location", start)
        if path:
            self.library.setText(path)
