"""How long recording a scan takes: Indexer.sync_folders over a folder of fake video files.

Usage::

    PYTHONPATH=. python benchmarks/bench_scan_diff.py [--files 1000] [--repeat 5]

Times three scans of one folder of N empty ``.mp4`` files (scanning only stats them): the
first (N new files), a rescan after every file changed (N resets) and an unchanged rescan.
Nothing is decoded or embedded. Prints the median of --repeat runs of each, in milliseconds.
To compare two checkouts side by side, run it with PYTHONPATH pointing at each in turn.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from vsearch.indexer import Indexer
from vsearch.store.library import Library
from vsearch.types import IndexStats


def one_run(n: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        videos = Path(tmp) / "videos"
        videos.mkdir()
        for i in range(n):
            (videos / f"v{i:05d}.mp4").write_bytes(b"x")
        lib = Library(Path(tmp) / "lib")
        ix = Indexer(lib, lambda: None, model_name="none", ann_folder=Path(tmp) / "ann")  # type: ignore[arg-type]
        out = []
        for step in ("new", "changed", "unchanged"):
            if step == "changed":
                for i in range(n):
                    (videos / f"v{i:05d}.mp4").write_bytes(b"xy")
            stats = IndexStats()
            t0 = time.perf_counter()
            ix.sync_folders([str(videos)], stats)
            out.append((time.perf_counter() - t0) * 1000)
            assert (stats.new, stats.changed, stats.unchanged)[
                ("new", "changed", "unchanged").index(step)
            ] == n
        lib.close()
        return out[0], out[1], out[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    runs = [one_run(args.files) for _ in range(args.repeat)]
    med = [statistics.median(r[i] for r in runs) for i in range(3)]
    load = os.getloadavg()[0]
    import vsearch

    print(
        f"{args.files} files, median of {args.repeat}: first scan {med[0]:.0f} ms, "
        f"all changed {med[1]:.0f} ms, unchanged {med[2]:.0f} ms  "
        f"[load {load:.1f}; {Path(vsearch.__file__).parent.parent}]"
    )


if __name__ == "__main__":
    main()
