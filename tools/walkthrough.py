"""The new user's journey through the real app, step by step, with what the window showed.

Usage (under Xvfb with a window manager, so the window is placed and framed as on a desktop)::

    xvfb-run -a -s "-screen 0 1366x768x24" sh -c 'openbox & sleep 1; \
        python tools/walkthrough.py --home /tmp/walk --videos ../shared/data/devset/videos'

One process does first run, add folder, index, search, play, step, trim and export (the play
step once crashed right after indexing in the same process: docs/WALKTHROUGH.md); a second
process is the restart. The app is ``vsearch.ui.app.build`` (the window, theme and Service of
``vsearch-gui``) driven by real key presses (``QTest.keyClick``). Each step prints PASS or FAIL
and what the window showed; the exit status is the number of failed steps.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

failures = 0


def step(name: str, ok: bool, shown: str) -> None:
    global failures
    failures += 0 if ok else 1
    print(f"[{'PASS' if ok else 'FAIL'}] {name}: {shown}", flush=True)


def journey(args: argparse.Namespace) -> None:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtTest import QTest

    from vsearch.ui.app import build

    def pump(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(cond: Callable[[], bool], timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return True
            pump(50)
        return False

    app, win = build([])
    win.show()
    pump(800)
    g = win.frameGeometry()
    screen = app.primaryScreen().availableGeometry()
    step("first run", screen.contains(g),
         f"window {g.width()}x{g.height()} at {g.x()},{g.y()} on a {screen.width()}x{screen.height()} screen; "
         f"inside: {screen.contains(g)}")
    t0 = time.monotonic()
    win.add_folders([args.videos])
    panel = win.library_panel
    started = wait_until(lambda: "real time" in panel.progress_label.text(), 300)
    step("add folder", started, f"first progress line: {panel.progress_label.text()!r}")
    done = wait_until(lambda: not win.library_ctrl.is_indexing(), args.index_timeout)
    pump(1500)
    step("index", done, f"{time.monotonic() - t0:.0f} s; status bar {win.status_label.text()!r}; "
         f"{win.statusBar().currentMessage()!r}")
    got: list[int] = []
    win.searchFinished.connect(got.append)
    win.query.setFocus()
    t1 = time.monotonic()
    QTest.keyClicks(win.query, args.query)
    found = wait_until(lambda: bool(got) and win.results.rowCount() > 0, 60)
    first = win.results.moment(0) if win.results.rowCount() else None
    step("search", found, f"{win.count_label.text()!r} {time.monotonic() - t1:.1f} s after the first key; first: "
         + (f"{os.path.basename(first.path)} {first.start:.1f}-{first.end:.1f} s score {first.score:.3f}" if first else "-"))
    QTest.keyClick(win.query, Qt.Key.Key_Down)
    playing = wait_until(lambda: not win.player.video.image().isNull(), 30)
    pump(1500)  # thumbnails decode, the player plays, the offer may ask for the model list: the old crash
    step("play", playing, f"header {win.player.title.text()!r}; time {win.player.time_label.text()!r}")
    QTest.keyClick(win.player, Qt.Key.Key_K)
    pump(300)
    before = win.player.time_label.text().split(" / ")[0]
    QTest.keyClick(win.player, Qt.Key.Key_Right)
    pump(200)
    QTest.keyClick(win.player, Qt.Key.Key_Right)
    pump(400)
    after = win.player.time_label.text().split(" / ")[0]
    step("step", after != before, f"K then Right, Right: {before} -> {after}")
    QTest.keyClick(win.player, Qt.Key.Key_I)
    pump(200)
    trim = win.player.trim_label.text()
    step("trim", "in" in trim, f"I: {trim!r}")
    QTest.keyClick(win.player, Qt.Key.Key_N)
    pump(600)
    step("next mark", True, f"N: header {win.player.title.text()!r}")
    out = Path(args.home) / "export" / "journey.edl"
    out.parent.mkdir(parents=True, exist_ok=True)
    exported: list[list] = []
    win.export_ctrl.exported.connect(exported.append)
    moments = [win.results.moment(r) for r in range(win.results.rowCount())]
    win.export_moments(moments, "edl", out)
    wait_until(lambda: bool(exported), 60)
    lines = out.read_text().splitlines() if out.exists() else []
    event = next((ln for ln in lines if ln.startswith("001")), "")
    step("export", out.exists() and bool(event), f"{len(moments)} moments to {out.name} "
         f"({out.stat().st_size if out.exists() else 0} bytes); first event {event!r}")
    size = (win.width(), win.height())
    win.close()
    app.processEvents()
    print(f"window closed at {size[0]}x{size[1]}", flush=True)


def restart(args: argparse.Namespace) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    from vsearch.ui.app import build

    app, win = build([])
    win.show()
    loop = QEventLoop()
    end = time.monotonic() + 30
    while time.monotonic() < end and not (win.results.rowCount() and win.query.text()):
        QTimer.singleShot(100, loop.quit)
        loop.exec()
    step("restart", win.query.text() == args.query and win.results.rowCount() > 0,
         f"{win.width()}x{win.height()}, query {win.query.text()!r}, {win.count_label.text()!r}, "
         f"{len(win.folders())} folder(s)")
    win.close()
    app.processEvents()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", required=True, help="a fresh VSEARCH_HOME (removed first if it exists)")
    ap.add_argument("--videos", required=True)
    ap.add_argument("--query", default="a tractor working in a field")
    ap.add_argument("--index-timeout", type=float, default=900)
    ap.add_argument("--restart", action="store_true", help=argparse.SUPPRESS)  # the second process
    args = ap.parse_args()
    os.environ["VSEARCH_HOME"] = args.home
    if args.restart:
        restart(args)
        return failures
    import shutil

    shutil.rmtree(args.home, ignore_errors=True)
    Path(args.home).mkdir(parents=True)
    journey(args)
    r = subprocess.run([sys.executable, "-X", "faulthandler", *sys.argv, "--restart"], env=os.environ)
    if r.returncode < 0:
        step("restart", False, f"the second process died with signal {-r.returncode}")
    return failures + max(r.returncode, 0)


if __name__ == "__main__":
    sys.exit(main())
