"""The settings dialog: model, device, sampling, speech and library location (saved by Service)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from PySide6.QtCore import Slot
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
    QPushButton,
    QVBoxLayout,
    QWidget,
)

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


class SettingsDialog(QDialog):
    """Edits a copy of the settings; :meth:`changes` lists what the user changed.

    Args:
        settings: the current vsearch.config.Settings.
        models: model statuses from Service.models() (objects with name, description, present).
        library: the library folder in use (shown when settings.library is empty).
    """

    def __init__(self, settings, models: Sequence, library: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._settings = settings

        self.model = QComboBox(self)
        self.model.addItem("Library's model (default)", "")
        for m in models:
            name = getattr(m, "name", str(m))
            present = getattr(m, "present", True)
            label = name if present else f"{name}  (not downloaded)"
            self.model.addItem(label, name)
            self.model.setItemData(self.model.count() - 1, getattr(m, "description", ""), 3)  # ToolTipRole
        self._select(self.model, settings.model)
        self.model_hint = QLabel("", self)
        self.model_hint.setObjectName("Dim")
        self.model_hint.setWordWrap(True)
        self._models = {getattr(m, "name", str(m)): m for m in models}
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

        self.library = QLineEdit(settings.library or "", self)
        self.library.setPlaceholderText(library or "default location")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._on_browse_clicked)
        lib_row = QHBoxLayout()
        lib_row.addWidget(self.library, 1)
        lib_row.addWidget(browse)

        form = QFormLayout()
        form.setSpacing(10)
        form.addRow("Model", self.model)
        form.addRow("", self.model_hint)
        form.addRow("Device", self.device)
        form.addRow("Precision", self.precision)
        form.addRow("Sampling", self.sampling)
        form.addRow("Interval", self.interval)
        form.addRow("", self.speech)
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
            "library": self.library.text().strip(),
        }
        return {k: v for k, v in new.items() if getattr(self._settings, k) != v}

    @Slot()
    def _on_model_changed(self) -> None:
        m = self._models.get(self.model.currentData() or "")
        if m is None:
            self.model_hint.setText("Searches use the model the library was indexed with.")
            return
        text = getattr(m, "description", "")
        speed = getattr(m, "speed", "")
        if speed:
            text += f" — {speed}"
        if not getattr(m, "present", True):
            text += "\nNot on this machine yet: get it with `vsearch models download NAME`."
        self.model_hint.setText(text)

    @Slot()
    def _on_browse_clicked(self) -> None:
        start = self.library.text() or self.library.placeholderText() or os.path.expanduser("~")
        path = QFileDialog.getExistingDirectory(self, "Library location", start)
        if path:
            self.library.setText(path)
