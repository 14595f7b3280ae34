"""The cyclic GC runs on the GUI thread only, however much garbage a worker thread makes."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtWidgets import QLabel

from vsearch.ui import gcguard


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_worker_never_collects_and_the_gui_thread_frees_a_widget_caught_in_a_cycle(qtbot, qapp) -> None:
    guard = gcguard.install(qapp)
    assert gcguard.install(qapp) is guard
    assert not gc.isenabled()
    threads: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            threads.append(threading.get_ident())

    label = QLabel("in a cycle")
    label.cycle = label  # type: ignore[attr-defined]  # the Python wrapper refers to itself: only the GC frees it
    gone = weakref.ref(label)
    del label
    gc.callbacks.append(seen)
    try:
        worker = threading.Thread(target=lambda: [_Cycle() for _ in range(200_000)])
        worker.start()
        worker.join()
        assert threads == []  # 200,000 cycles past the threshold, and the worker collected nothing
        assert gone() is not None
        qtbot.waitUntil(lambda: gone() is None, timeout=5000)  # the timer's collection, on this thread
    finally:
        gc.callbacks.remove(seen)
    assert threads and set(threads) == {threading.get_ident()}
