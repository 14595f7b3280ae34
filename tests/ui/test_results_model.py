"""The results model: Qt's model tester, stale generations dropped, thumbnails filled in later."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QListView

from vsearch.types import Moment
from vsearch.ui.results_model import MomentDelegate, MomentRole, ResultsModel, thumb_key


def moments(n: int, path: str = "/videos/a.mp4") -> list[Moment]:
    return [
        Moment(path=path, start=i * 2.0, end=i * 2.0 + 1.5, score=0.5 - i * 0.01, best_time=i * 2.0 + 0.5)
        for i in range(n)
    ]


def test_model_passes_qt_model_tester(qtmodeltester) -> None:
    model = ResultsModel()
    model.set_results(moments(5), generation=1, query="red")
    qtmodeltester.check(model, force_py=True)
    model.set_thumbnail(thumb_key(model.moment(0)), _image())
    model.set_results(moments(2), generation=2)
    model.clear()
    qtmodeltester.check(model, force_py=True)


def test_rows_show_file_span_and_moment() -> None:
    model = ResultsModel()
    model.set_results(moments(3), generation=1)
    assert model.rowCount() == 3
    idx = model.index(1, 0)
    assert "a.mp4" in idx.data(Qt.ItemDataRole.DisplayRole)
    assert "0:02.0 – 0:03.5" in idx.data(Qt.ItemDataRole.DisplayRole)
    assert idx.data(MomentRole).start == 2.0


def test_stale_generation_is_dropped() -> None:
    model = ResultsModel()
    assert model.set_results(moments(4), generation=5, query="new")
    assert not model.set_results(moments(1), generation=3, query="old")
    assert model.rowCount() == 4 and model.query == "new"


def test_thumbnails_requested_once_and_filled_in(qtbot) -> None:
    model = ResultsModel()
    with qtbot.waitSignal(model.thumbnailsWanted) as blocker:
        model.set_results(moments(3), generation=1)
    keys = blocker.args[0]
    assert len(keys) == 3
    with qtbot.waitSignal(model.dataChanged):
        model.set_thumbnail(keys[0], _image())
    assert isinstance(model.index(0, 0).data(Qt.ItemDataRole.DecorationRole), QPixmap)
    # the same results again: only the two still missing are asked for
    with qtbot.waitSignal(model.thumbnailsWanted) as blocker:
        model.set_results(moments(3), generation=2)
    assert len(blocker.args[0]) == 2


def test_delegate_paints_cards_in_grid_and_list(qtbot) -> None:
    model = ResultsModel()
    model.set_results(moments(4), generation=1)
    model.set_thumbnail(thumb_key(model.moment(0)), _image())
    view = QListView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setItemDelegate(MomentDelegate(view))
    view.resize(600, 400)
    for mode in (QListView.ViewMode.IconMode, QListView.ViewMode.ListMode):
        view.setViewMode(mode)
        view.show()
        assert not view.grab().isNull()


def _image() -> QImage:
    img = QImage(32, 18, QImage.Format.Format_RGB32)
    img.fill(QColor("red"))
    return img
