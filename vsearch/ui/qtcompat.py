"""Workarounds for Qt for Python bugs, each detected at run time so it turns itself off once fixed.

PySide6 6.12.0: ``Signal.emit()`` returns ``True`` without taking a reference, so every
emit from Python drops one reference to ``True``; a long session (or a test suite) ends in
"Fatal Python error: bool_dealloc: deallocating True or False". :func:`emit` gives the
reference back after each emit when (and only when) this PySide6 build has the bug.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_leak: bool | None = None


class _Probe(QObject):
    fired = Signal()


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
            _give_back(lost)  # repair what the probe itself cost
        _leak = lost >= n
        probe.deleteLater()
    return _leak


def _give_back(count: int = 1) -> None:
    for _ in range(count):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, safe from the refcount bug above (any thread)."""
    signal.emit(*args)
    if _leak or (_leak is None and emit_leaks_true()):
        _give_back()
