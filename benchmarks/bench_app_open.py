"""Opening the app on a large library: when is the window up, and does it respond while the index loads?

Usage::

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_app_open.py [--size 1000000] [--cold] [--runs 3] [--torch-text]

Each run is a fresh process that builds the app's main window on bench_search.py's synthetic
library (``benchmarks/out/search_<size>``, built by ``bench_search.py --sizes <size>``) with its
synthetic text model (the tiny random text tower), shows it and runs the event loop with a 10 ms
timer until the window's warm-up (the model, the vector index and one search, on the search
thread) has finished, then one more second. Printed per run:

* ``shown``: from building the window (the service and the synthetic model are ready) to the
  return of ``show()``;
* ``up``: to the first turn of the event loop after ``show()``;
* ``ready``: to the end of the warm-up (a search typed now is answered at once);
* ``pause``: the longest gap between two 10 ms ticks once the window was up: the longest time
  the window could not run Python code (repaint, take a click, show a result).

``--cold`` drops the library's index files from the page cache first (``posix_fadvise``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def child(folder: Path, torch_text: bool = False) -> None:
    import numpy as np
    from bench_search import FRAMES_PER_VIDEO, MODEL_NAME, SyntheticTextEmbedder
    from PySide6.QtCore import QTimer

    from vsearch.service import Service
    from vsearch.ui.app import create_app
    from vsearch.ui.main_window import MainWindow

    app = create_app([])
    svc = Service(folder, model=MODEL_NAME, device="cpu")
    nframes = json.loads((folder / "built.json").read_text())["frames"]
    svc._embedders[MODEL_NAME] = SyntheticTextEmbedder(max(1, nframes // FRAMES_PER_VIDEO), torch_text=torch_text)
    times: dict[str, float] = {}
    warm = svc.warm_up

    def timed_warm_up() -> bool:
        out = warm()
        times["ready"] = time.perf_counter() - T0
        return out

    svc.warm_up = timed_warm_up  # type: ignore[method-assign]  # the window's warm-up, timed
    times["start"] = time.perf_counter() - T0
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(svc, state_file=Path(tmp) / "window.json")
        window.show()
        times["shown"] = time.perf_counter() - T0
        ticks: list[float] = []

        def up() -> None:
            times["up"] = time.perf_counter() - T0
            timer.start()

        def tick() -> None:
            now = time.perf_counter()
            ticks.append(now)
            if "ready" in times and now - T0 > times["ready"] + 1.0:
                app.quit()
            if now - T0 > 120:
                app.quit()

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(tick)
        QTimer.singleShot(0, up)
        app.exec()
        window.close()
    gap = float(np.diff(ticks).max()) if len(ticks) > 1 else float("nan")
    print(json.dumps({**times, "pause": gap, "torch": "torch" in sys.modules}))
    svc.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument(
        "--torch-text", action="store_true", help="the tiny tower encodes in torch (imported), not numpy"
    )
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child), args.torch_text)
        return
    from bench_gil import evict
    from bench_search import OUT, export_text_tower

    if not args.torch_text:
        export_text_tower("tiny-random")  # as a first search would have

    folder = OUT / f"search_{args.size}"
    if not (folder / "built.json").exists():
        raise SystemExit(f"build it first: python benchmarks/bench_search.py --sizes {args.size}")
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"), HF_HUB_OFFLINE="1")
    rows = []
    for i in range(args.runs):
        if args.cold:
            evict(folder / "ann")
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), *(["--torch-text"] if args.torch_text else [])],
            env=env, capture_output=True, text=True, check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append(r)
        print(
            f"run {i + 1}: from building the window (at {r['start']:.2f} s, after the synthetic model): shown "
            f"{r['shown'] - r['start']:.2f} s, event loop running {r['up'] - r['start']:.2f} s, ready for a search "
            f"{r['ready'] - r['start']:.2f} s; longest pause after it was up {r['pause']:.2f} s; torch imported: {r['torch']}  [load {os.getloadavg()[0]:.1f}]",
            flush=True,
        )
    med = {k: statistics.median(r[k] - (r["start"] if k != "pause" else 0.0) for r in rows) for k in ("up", "ready", "pause")}
    print(
        f"median of {len(rows)}, from building the window: up {med['up']:.2f} s, ready {med['ready']:.2f} s; "
        f"longest pause {med['pause']:.2f} s"
    )


if __name__ == "__main__":
    main()
