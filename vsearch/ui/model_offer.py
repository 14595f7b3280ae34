"""The offer of a better model after the first indexing with the offline starter: size, speed here, gain, one click.

The starter model (an ImageNet classifier bridged to sentences) works offline but only knows
what its 1000 classes can say; nothing told the user it is a stopgap. After an index run with
it, :class:`ModelOffer` (a non-modal dialog) names the recommended preset, its download size,
the indexing speed to expect on this machine and what it gains; "Download and switch" starts
the download (SettingsController) and switches when it is verified. "Not now" and "Don't ask
again" are remembered in the window's state file.

The expected speed is an estimate, not a benchmark run: the starter's rate measured by the
index run that just finished (times real time), divided by the preset's cost per frame
relative to the starter's image tower on this kind of machine (:data:`RELATIVE_COST`, from the
CPU measurements in docs/PERFORMANCE.md; on a GPU both are far faster than decoding).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from vsearch.ui.helpers import download_text

#: The preset offered, and what it gains over the starter (shown as is).
OFFERED = "balanced"
GAINS = (
    "Finds what you describe, not only the 1000 everyday objects the starter model knows as "
    "categories: actions, scenes, places, colours and things it has no name for."
)
#: Cost of embedding one frame relative to the starter's image tower (EfficientNet-Lite0, fp32
#: channels-last, 43 images/s on 2 CPU threads): ViT-B-32 fp32 25-32 images/s (1.5x; bf16 on
#: CPUs with AMX is faster than the starter), MobileCLIP2-S0 0.65-0.85x of ViT-B-32, ViT-L-14
#: about 12x ViT-B-32 (docs/PERFORMANCE.md "CPU embedding", docs/MODELS.md).
RELATIVE_COST = {"balanced": 1.5, "fast": 2.0, "best": 18.0, "multilingual": 1.6}


def expected_rate(starter_rate: float, preset: str) -> float:
    """Times real time the preset is expected to index at, from the starter's measured rate."""
    return starter_rate / RELATIVE_COST.get(preset, 1.5)


class ModelOffer(QDialog):
    """Non-modal: the better model, its size, speed here and gain; Download and switch, Not now, Don't ask again.

    Args:
        preset: the offered model's status (name, size_mb, description).
        starter_rate: the starter's indexing rate measured here (times real time; 0 unknown).
        parent: the main window.

    Signals:
        accepted_offer(str): "Download and switch" was clicked (the preset's name).
        declined(bool): the offer was closed; True for "Don't ask again".
    """

    accepted_offer = Signal(str)
    declined = Signal(bool)

    def __init__(self, preset: object, starter_rate: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("A better model is available")
        self.setModal(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setMinimumWidth(460)
        self._name = str(getattr(preset, "name", OFFERED))
        size = int(getattr(preset, "size_mb", 0) or 0)
        rate = expected_rate(starter_rate, self._name) if starter_rate > 0 else 0.0
        speed = (
            f"about {rate:.0f}× real time here (the starter indexed at {starter_rate:.0f}×; estimated from "
            f"its cost per frame)"
            if rate >= 1
            else f"about {rate:.1f}× real time here (estimated from the starter's {starter_rate:.1f}×)"
            if rate > 0
            else "measured after its first video"
        )
        self.title = QLabel(f"<b>Search better with the {self._name} model</b>", self)
        self.text = QLabel(
            "Your videos are indexed with the offline starter model, a stopgap.\n\n"
            f"{GAINS}\n\n"
            f"{getattr(preset, 'description', '')}\n"
            f"Download: {size:,} MB (resumable, checksum verified).\n"
            f"Indexing speed: {speed}.\n"
            "Your library is re-indexed in the background; searches keep using the starter until it is done.",
            self,
        )
        self.text.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.download_btn = QPushButton("Download and switch", self)
        self.download_btn.setDefault(True)
        self.later_btn = QPushButton("Not now", self)
        self.never_btn = QPushButton("Don't ask again", self)
        self.download_btn.clicked.connect(self._on_download_clicked)
        self.later_btn.clicked.connect(lambda: self._decline(False))
        self.never_btn.clicked.connect(lambda: self._decline(True))
        buttons = QHBoxLayout()
        buttons.addWidget(self.never_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.later_btn)
        buttons.addWidget(self.download_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.text)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addLayout(buttons)

    def name(self) -> str:
        return self._name

    def download_progressed(self, done: int, total: int, speed: float, eta: float | None) -> None:
        self.progress.show()
        self.progress.setValue(int(1000 * done / total) if total else 0)
        self.status.setText(download_text(done, total, speed, eta))

    def download_finished(self, ok: bool, message: str) -> None:
        self.status.setText(message)
        self.download_btn.setEnabled(not ok)
        self.download_btn.setText("Download and switch" if not ok else "Switched")
        self.later_btn.setText("Close" if ok else "Not now")

    @Slot()
    def _on_download_clicked(self) -> None:
        self.download_btn.setEnabled(False)
        self.status.setText("Starting the download…")
        self.accepted_offer.emit(self._name)

    def _decline(self, forever: bool) -> None:
        self.declined.emit(forever)
        self.close()
