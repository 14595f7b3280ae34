"""Compute thread pools: numpy's BLAS on one thread in a process that searches with a torch text tower.

torch (OpenMP) and numpy's OpenBLAS each keep a thread per core, and both spin for a while
after each call before they sleep. A search with a CLIP model runs the text tower in torch and
then ranks (matrix-vector products over anchors and candidate videos, hnswlib, SQLite) while
torch's threads still spin, so on a 2-core machine BLAS's second thread fights them for the
cores. Measured on the 1M bench library with ViT-B-32's text tower (docs/PERFORMANCE.md):
search p50 112-143 -> 87-92 ms and p95 178-197 -> 99-109 ms with BLAS on one thread.

Only for such processes: the starter model's text encoder is numpy (BLAS) itself, and one BLAS
thread slowed its searches by 7-10 ms. The limit cannot be scoped to a search: OpenBLAS takes a
lower thread count from any thread but a higher one only from the main thread (measured with
OpenBLAS 0.3.31), and searches run on worker threads.
"""

from __future__ import annotations

import os
import threading

from vsearch import log

_guard = threading.Lock()
_done = False


def one_blas_thread() -> None:
    """Put numpy's BLAS on one thread for the rest of the process (unless the user set its threads)."""
    global _done
    with _guard:
        if _done:
            return
        _done = True
        if any(os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")):
            return  # the user chose
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1, user_api="blas")
        except Exception as e:  # noqa: BLE001 - a speed setting only
            log.query.debug("BLAS threads left as they are: %s", e)
            return
        log.query.debug("numpy's BLAS on one thread beside torch's (vsearch/threads.py)")
