"""Take the README's screenshots from the running app (run it under Xvfb).

Usage (after indexing a library, e.g. ``VSEARCH_HOME=/tmp/shots vsearch --model starter index VIDEOS``)::

    xvfb-run -a -s "-screen 0 1600x1000x24" python tools/screenshots.py --library /tmp/shots \
        --query "a dog running on the grass" --out docs/screenshots

It starts the real app (vsearch.ui.app.build: same window, theme and Service as ``vsearch-gui``),
types the query, waits for results and thumbnails, opens the first result in the player and saves:
``main_window.png`` (results + player), ``player_heat_strip.png`` (the player with its heat strip)
and, with ``--first-run``, ``first_run.png`` from an empty library; with ``--indexing VIDEOS``,
``indexing.png`` while VIDEOS index into a fresh library; with ``--text-query '"EXIT"'``,
``screen_text.png``: the Text expert's results and the matched box framed in the player.

Run it under a window manager so the shots show a real frame and placement, e.g.::

    xvfb-run -a -s "-screen 0 1600x900x24" sh -c 'openbox & sleep 1; python tools/screenshots.py ...'
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from vsearch.ui.app import build  # noqa: E402
from vsearch.ui.results_model import ThumbnailKeyRole  # noqa: E402


def pump(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        pump(50)
    print(f"warning: timed out waiting for {what}", file=sys.stderr)
    return False


def save(widget, path: Path, height: int | None = None) -> None:
    """Grab what the X server shows for *widget* (falls back to rendering the widget)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    screen = QGuiApplication.primaryScreen()
    top = widget.window()
    pix = None
    if screen is not None and QGuiApplication.platformName() == "xcb":
        pos = widget.mapTo(top, widget.rect().topLeft())
        pix = screen.grabWindow(top.winId(), pos.x(), pos.y(), widget.width(), height or widget.height())
    if pix is None or pix.isNull():
        pix = widget.grab()
        if height:
            pix = pix.copy(0, 0, widget.width(), height)
    pix.save(str(path))
    print(f"saved {path} ({pix.width()}x{pix.height()})")


def shoot_results(args: argparse.Namespace) -> None:
    app, win = build(["--library", args.library], autoplay=False, state_file=None)
    win.resize(args.width, args.height)
    win.show()
    wait_until(lambda: bool(win.folders()), 20, "the library")
    win.query.setFocus()
    win.query.setText(args.query)
    got = []
    win.searchFinished.connect(got.append)
    wait_until(lambda: bool(got), 60, "search results")
    model = win.results
    rows = min(model.rowCount(), 8)
    wait_until(
        lambda: all(model.has_thumbnail(model.index(r, 0).data(ThumbnailKeyRole)) for r in range(rows)),
        60,
        "thumbnails",
    )
    if model.rowCount():
        win.view.setCurrentIndex(model.index(args.row, 0))
        win.view.setFocus()
        wait_until(lambda: not win.player.video.image().isNull(), 20, "the first video frame")
        wait_until(win.player.timeline.has_curve, 20, "the heat strip")
    pump(800)
    out = Path(args.out)
    save(win, out / "main_window.png")
    m = win.player.matches
    rows = m.count()
    used = m.geometry().top() + (m.sizeHintForRow(0) * rows if rows else 0) + 16
    save(win.player, out / "player_heat_strip.png", min(win.player.height(), used))
    win.close()
    app.processEvents()


def shoot_screen_text(args: argparse.Namespace) -> None:
    """The Text expert: "on screen: ..." on the cards, the matched text framed in the player."""
    app, win = build(["--library", args.library], autoplay=False, state_file=None)
    win.resize(args.width, args.height)
    win.show()
    wait_until(lambda: bool(win.folders()), 20, "the library")
    win.source_filter.setCurrentIndex(win.source_filter.findData("text"))
    got = []
    win.searchFinished.connect(got.append)
    win.query.setText(args.text_query)
    wait_until(lambda: bool(got), 60, "search results")
    model = win.results
    wait_until(lambda: model.rowCount() == 0 or model.has_thumbnail(model.index(0, 0).data(ThumbnailKeyRole)),
               60, "thumbnails")  # fmt: skip
    if model.rowCount():
        win.view.setCurrentIndex(model.index(0, 0))
        win.view.setFocus()
        wait_until(lambda: not win.player.video.image().isNull(), 20, "the first video frame")
        m = model.moment(0)
        win.player.seek((m.start + m.end) / 2)  # inside the span, where the text surely shows
        wait_until(lambda: win.player.video.box() is not None, 20, "the matched box")
    pump(800)
    save(win, Path(args.out) / "screen_text.png")
    win.close()
    app.processEvents()


def shoot_first_run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app, win = build(["--library", tmp], autoplay=False, state_file=None)
        win.resize(args.width, args.height)
        win.show()
        pump(1000)
        save(win, Path(args.out) / "first_run.png")
        win.close()
        app.processEvents()
        win.service.close()


def shoot_indexing(args: argparse.Namespace) -> None:
    """The library panel while a folder indexes (progress, rate, ETA, pause / cancel), then close mid-run."""
    with tempfile.TemporaryDirectory() as tmp:
        app, win = build(["--library", tmp, "--model", args.model], autoplay=False, state_file=None)
        win.resize(args.width, args.height)
        win.show()
        pump(300)
        win.add_folders([args.indexing])
        panel = win.library_panel
        wait_until(lambda: "real time" in panel.progress_label.text(), 120, "the first progress report")
        wait_until(lambda: panel.progress.value() > 150, 120, "some progress")
        pump(1600)  # let the folder list refresh once with its counts
        save(win, Path(args.out) / "indexing.png")
        win.close()  # cancels at the next batch and waits
        app.processEvents()
        win.service.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--library", required=True)
    ap.add_argument("--query", default="a dog running on the grass")
    ap.add_argument("--row", type=int, default=0, help="which result to open in the player")
    ap.add_argument("--out", default="docs/screenshots")
    ap.add_argument("--width", type=int, default=1560)
    ap.add_argument("--height", type=int, default=940)
    ap.add_argument("--first-run", action="store_true", help="also shoot the empty first-run window")
    ap.add_argument("--indexing", metavar="VIDEOS", help="also shoot indexing VIDEOS into a fresh library")
    ap.add_argument("--model", default="starter", help="model for --indexing")
    ap.add_argument("--text-query", help="also shoot the Text expert's results for this query")
    args = ap.parse_args()
    shoot_results(args)
    if args.text_query:
        shoot_screen_text(args)
    if args.first_run:
        shoot_first_run(args)
    if args.indexing:
        shoot_indexing(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
