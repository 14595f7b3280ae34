"""First and second search in the app: does the first query pay the model load?

Usage::

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. python benchmarks/bench_app_search.py --library /tmp/devlib [--runs 3]

Each run is a fresh process (a cold start, page cache warm) on a copy of the library (the
original is never written): it builds the app's window, shows it, waits --delay seconds (a
user reads the window before typing; 0 types at once), types a query and measures from the
last keystroke to the results being shown, then does the same for a second, different query.
The search debounce (250 ms) is subtracted, so the numbers are the search itself. With
``--no-warm-up`` the window does not load the model ahead (what the app did before), to
compare side by side. Prints the window-up time and both latencies per run, and medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = ("a dog runs on the grass", "a rocket lifting off")


def one_run(library: Path, delay: float, warm_up: bool) -> dict[str, float]:
    """Runs in the child: window up, then the two queries; returns the timings in seconds."""
    t0 = time.perf_counter()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from vsearch.service import Service
    from vsearch.ui.app import create_app
    from vsearch.ui.controllers.search import SEARCH_DEBOUNCE_MS
    from vsearch.ui.main_window import MainWindow

    app = create_app([])
    svc = Service(library)
    if not warm_up:
        svc.warm_up = lambda: False  # type: ignore[method-assign]  # the app as it was before
    win = MainWindow(svc, autoplay=False, audio=False)
    win.show()
    QApplication.processEvents()
    up = time.perf_counter() - t0

    def wait(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def query(text: str) -> float:
        loop = QEventLoop()
        win.searchFinished.connect(loop.quit)
        QTimer.singleShot(60_000, loop.quit)
        win.query.setText(text)
        t = time.perf_counter()
        loop.exec()
        win.searchFinished.disconnect(loop.quit)
        return time.perf_counter() - t - SEARCH_DEBOUNCE_MS / 1000

    wait(delay)
    first = query(QUERIES[0])
    wait(0.5)
    second = query(QUERIES[1])
    win.close()
    svc.close()
    app.quit()
    return {"window_up": up, "first": first, "second": second}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--library", type=Path, required=True, help="an indexed library (copied, never written)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--delay", type=float, action="append", help="seconds between window up and typing (repeatable)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-warm-up", action="store_true")
    ns = ap.parse_args()
    delays = ns.delay or [0.0, 2.0]
    if ns.child:
        print(json.dumps(one_run(ns.library, delays[0], not ns.no_warm_up)))
        return
    la = os.getloadavg()
    print(f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp:
        lib = Path(tmp) / "lib"
        shutil.copytree(ns.library, lib, ignore=shutil.ignore_patterns("write.lock"))
        env = dict(os.environ, VSEARCH_HOME=str(Path(tmp) / "home"), QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1")
        for warm in (True, False):
            for delay in delays:
                rows = []
                for _ in range(ns.runs):
                    cmd = [sys.executable, __file__, "--child", "--library", str(lib), "--delay", str(delay)]
                    if not warm:
                        cmd.append("--no-warm-up")
                    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
                    if out.returncode != 0:
                        raise SystemExit(out.stderr[-2000:])
                    rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
                print(
                    f"warm-up {'on ' if warm else 'off'}  typing after {delay:.1f} s: window up {med['window_up']:.2f} s, "
                    f"first search {med['first']:.2f} s, second {med['second']:.2f} s   (median of {ns.runs})"
                )


if __name__ == "__main__":
    main()
