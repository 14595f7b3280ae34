"""The PySide6 emit() refcount workaround keeps True alive however often the app emits."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from vsearch.ui.qtcompat import emit, emit_leaks_true


class _Sender(QObject):
    fired = Signal(object)


def test_many_emits_leave_the_refcount_of_true_unchanged() -> None:
    s = _Sender()
    got = []
    s.fired.connect(got.append)
    emit_leaks_true()  # measure once, outside the window
    before = sys.getrefcount(True)
    for i in range(2000):
        emit(s.fired, i)
    assert len(got) == 2000
    assert abs(sys.getrefcount(True) - before) < 20  # unpatched: -2000
