"""Does the app's window keep responding while the vector index loads or saves on a worker thread?

Usage::

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. python benchmarks/bench_gil.py [--size 1000000]

A Qt event loop on the main thread runs a 10 ms timer (as the app's window does its work:
Python slots, model data, painting through delegates) while a worker thread does what the app's
search and indexing threads do with the library's HNSW index (built by bench_search.py under
benchmarks/out/search_<size>): ``AnnIndex.load``, a batch of searches, and ``AnnIndex.save``
(into a temporary folder). Prints how long each took and the longest gap between two timer
ticks during it: the longest time the window could not run Python code.

``--cold`` first drops the index files from the page cache (``posix_fadvise(DONTNEED)``: as after a
reboot, or a library on a slow disk); ``--no-prefetch`` loads without reading the graph file
through first (the behaviour before docs/PERFORMANCE.md "hnswlib holds Python's lock"), for a
side-by-side comparison. ``--load-only`` stops after the load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_search import DIM, MODEL_ID, OUT, centres, query_vectors  # noqa: E402
from PySide6.QtCore import QCoreApplication, QTimer  # noqa: E402

from vsearch.store import ann as ann_module  # noqa: E402
from vsearch.store.ann import AnnIndex  # noqa: E402


def evict(folder: Path) -> None:
    """Drop the files under *folder* from the page cache (clean pages only: no root needed)."""
    for f in folder.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def during(app: QCoreApplication, work) -> tuple[float, float]:  # noqa: ANN001
    """(seconds *work* took on a worker thread, longest gap between 10 ms ticks on the main thread)."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    done = threading.Event()
    took = [0.0]

    def run() -> None:
        t0 = time.perf_counter()
        work()
        took[0] = time.perf_counter() - t0
        done.set()

    timer.start()
    end = time.perf_counter() + 0.2
    while time.perf_counter() < end:
        app.processEvents()
    threading.Thread(target=run, daemon=True).start()
    while not done.is_set():
        app.processEvents()
        time.sleep(0.001)
    end = time.perf_counter() + 0.2
    while time.perf_counter() < end:
        app.processEvents()
    timer.stop()
    return took[0], float(np.diff(ticks).max()) if len(ticks) > 1 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--cold", action="store_true", help="drop the index files from the page cache first")
    ap.add_argument("--no-prefetch", action="store_true", help="do not read the graph file through before hnswlib loads it")
    ap.add_argument("--load-only", action="store_true")
    args = ap.parse_args()
    if args.no_prefetch:
        ann_module._prefetch = lambda path: None  # type: ignore[assignment]  # the reader before the change
    folder = OUT / f"search_{args.size}"
    if not (folder / "built.json").exists():
        raise SystemExit(f"build it first: python benchmarks/bench_search.py --sizes {args.size}")
    app = QCoreApplication.instance() or QCoreApplication([])
    ann = AnnIndex(folder / "ann", MODEL_ID, DIM)
    if args.cold:
        evict(folder / "ann")
    took, gap = during(app, ann.load)
    how = ("cold" if args.cold else "cached") + (", no prefetch" if args.no_prefetch else "")
    print(f"AnnIndex.load of {ann.count} vectors ({how}): {took:.2f} s; longest pause of the main thread {gap:.2f} s; load {os.getloadavg()[0]:.1f}")
    if args.load_only:
        return
    qs = query_vectors(50, centres(), max(1, args.size // 1000))
    took, gap = during(app, lambda: [ann.search(q, 200) for q in qs])
    print(f"50 searches (k=200): {took:.2f} s; longest pause of the main thread {gap * 1000:.0f} ms")
    tmp = Path(tempfile.mkdtemp(prefix="vsearch-gil-"))
    try:
        copy = AnnIndex(tmp, MODEL_ID, DIM)
        copy._s = ann._s  # the same graph, saved elsewhere (the library's files are not touched)
        copy.dirty = True
        took, gap = during(app, lambda: copy.save(0))
        print(f"AnnIndex.save: {took:.2f} s; longest pause of the main thread {gap:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
