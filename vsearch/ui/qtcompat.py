"""Workarounds for Qt for Python bugs, each detected at run time so it turns itself off once fixed.

PySide6 6.12.0 (abi3 wheel) on Python 3.10/3.11 returns ``None`` from every void method and
``True`` from ``Signal.emit()`` without taking a reference. Each call from Python then drops one
reference to ``None`` / ``True``; after enough painting, a long session (or a test suite) dies
with "Fatal Python error: none_dealloc" or "bool_dealloc". Python 3.12+ is immune (these
objects are immortal there) and PySide6 6.11.x does not have the bug.

:func:`protect_singletons` (run when vsearch.ui is imported) makes ``None``, ``True`` and
``False`` effectively immortal on affected builds, as Python 3.12 does; :func:`emit` also
gives back the reference each emit loses.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_leak: bool | None = None
_protected = False
_IMMORTAL_BOOST = 1 << 40  # far more references than any session can lose


class _Probe(QObject):
    fired = Signal()


def _give_back(obj: object, count: int = 1) -> None:
    for _ in range(count):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


def emit_leaks_true() -> bool:
    """True if this PySide6 loses a reference to ``True`` per ``emit()`` (measured once)."""
    global _leak
    if _leak is None:
        probe = _Probe()
        n = 16
        before = sys.getrefcount(True)
        for _ in range(n):
            probe.fired.emit()
        lost = before - sys.getrefcount(True)
        if lost >= n:
            _give_back(True, lost)  # repair what the probe itself cost
        _leak = lost >= n
        probe.deleteLater()
    return _leak


def void_call_leaks_none() -> bool:
    """True if a void Qt method called from Python loses a reference to ``None``."""
    probe = _Probe()
    n = 16
    before = sys.getrefcount(None)
    for _ in range(n):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    if lost >= n:
        _give_back(None, lost)
    probe.deleteLater()
    return lost >= n


def protect_singletons() -> bool:
    """On an affected PySide6 before Python 3.12, make None/True/False effectively immortal.

    Returns:
        True if the protection was applied (now or earlier).
    """
    global _protected
    if _protected:
        return True
    if sys.version_info >= (3, 12):
        return False
    if not (void_call_leaks_none() or emit_leaks_true()):
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every PyObject; same effect as many Py_IncRef calls.
        ctypes.c_ssize_t.from_address(id(obj)).value += _IMMORTAL_BOOST
    _protected = True
    return True


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, safe from the refcount bug above (any thread)."""
    signal.emit(*args)
    if _leak or (_leak is None and emit_leaks_true()):
        _give_back(True)
