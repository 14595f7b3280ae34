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


def test_none_and_true_survive_a_long_session_of_void_calls() -> None:
    from PySide6.QtCore import QObject

    import vsearch.ui  # noqa: F401 - importing the app package applies the protection
    from vsearch.ui import qtcompat

    if sys.version_info < (3, 12) and qtcompat.void_call_leaks_none():
        assert qtcompat.protect_singletons()
        assert sys.getrefcount(None) > 1 << 39 and sys.getrefcount(True) > 1 << 39
    o = QObject()
    for _ in range(20_000):  # would exhaust None's references on an unprotected, affected build
        o.setObjectName("x")
    assert o.objectName() == "x"
