"""Cold start of the command line: ``vsearch search`` and a no-op ``vsearch index``, wall time and peak RSS.

Usage::

    PYTHONPATH=. python benchmarks/bench_cold.py --library /tmp/devlib [--runs 5] [--query "a dog runs"]
    python benchmarks/bench_cold.py --library /tmp/devlib --repo ../main   # another checkout, to compare

Each run is a fresh interpreter (``python -m vsearch``), so it pays every import and the model
load a user's first command pays; the page cache is warm after the first run, as it is for a
user who searched a minute ago (the median of --runs is reported, with min and max).
Three commands are timed:

* ``search``: ``vsearch --library LIB search QUERY -k 10`` (the library's model; the starter
  on the dev library);
* ``index-unchanged``: ``vsearch --library COPY index`` on a copy of LIB (the library is
  never written) whose folders have not changed: nothing to embed, so no model may load;
* ``index-empty``: ``vsearch --library NEW index EMPTY`` on a fresh library and an empty folder;
* ``index-video`` (with ``--video FILE``, asked for by ``--only index-video``): ``vsearch index``
  of a folder holding FILE into a fresh library, its wall time beside the frame stage's own.

Peak RSS is the child's ``ru_maxrss`` (``os.wait4``). Note the machine's load average beside
the numbers (printed first): on a shared machine they move with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_once(args: list[str], env: dict[str, str], out: list[str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one ``python -m vsearch ARGS``, run from the checkout $BENCH_REPO.

    With *out*, its standard output is appended there.
    """
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
        p = subprocess.Popen(
            [sys.executable, "-m", "vsearch", *args],
            env=env,
            cwd=env["BENCH_REPO"],  # `-m` imports from the working directory first
            stdout=so,
            stderr=se,
        )
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        se.seek(0)
        so.seek(0)
        err = se.read().decode(errors="replace")
        if out is not None:
            out.append(so.read().decode(errors="replace"))
    if p.returncode != 0:
        raise SystemExit(f"vsearch {' '.join(args)} failed ({p.returncode}): {err.strip()}")
    return wall, usage.ru_maxrss / 1024  # Linux: kilobytes


def measure_video(video: Path, env: dict[str, str], runs: int, tmp: Path, extra: list[str] | None = None) -> None:
    """One command indexing one file into a fresh library: wall time beside the frame stage's own time.

    The frame stage's seconds come from the summary line ("N.Nx real time" of the file's duration),
    so the difference is what the command pays around it: start-up, model load, speech and
    on-screen text stages, the index save.
    """
    import re

    from vsearch.probe import probe

    duration = probe(str(video)).duration
    folder = tmp / "one-video"
    folder.mkdir(exist_ok=True)
    link = folder / video.name
    if not link.exists():
        link.symlink_to(video.resolve())
    walls, stages = [], []
    for i in range(runs):
        out: list[str] = []
        w, _ = run_once(["--library", str(tmp / f"lib-video-{i}"), "index", *(extra or []), str(folder)], env, out)
        m = re.search(r"([\d.]+)x real time", out[0])
        walls.append(w)
        stages.append(duration / float(m.group(1)) if m else float("nan"))
        shutil.rmtree(tmp / f"lib-video-{i}", ignore_errors=True)
    if i == runs - 1 and out:
        print("  last run said:", " | ".join(line.strip() for line in out[0].splitlines() if line.strip())[:400])
    print(
        f"index-video {' '.join(extra or [])} {video.name} ({duration:.0f} s): wall median {statistics.median(walls):.2f} s "
        f"(min {min(walls):.2f}, max {max(walls):.2f}); frame stage median {statistics.median(stages):.2f} s; "
        f"around it {statistics.median(walls) - statistics.median(stages):.2f} s   [{runs} runs]"
    )


def measure(name: str, args: list[str], env: dict[str, str], runs: int) -> None:
    walls, rss = [], []
    for _ in range(runs):
        w, m = run_once(args, env)
        walls.append(w)
        rss.append(m)
    print(
        f"{name:16s} wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
        f"peak RSS median {statistics.median(rss):.0f} MB   [{runs} runs]"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--library", required=True, type=Path, help="an indexed library (only read)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--query", default="a dog runs on the beach")
    ap.add_argument("--repo", type=Path, default=REPO, help="the checkout to time (default: this one)")
    ap.add_argument("--only", choices=["search", "index-unchanged", "index-empty", "index-video"], action="append")
    ap.add_argument("--video", type=Path, help="index-video: a file to index into a fresh library per run")
    ap.add_argument("--index-args", default="", help='index-video: extra `vsearch index` options, e.g. "--no-ocr --no-speech"')
    ns = ap.parse_args()
    only = set(ns.only or ["search", "index-unchanged", "index-empty"])
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"python {sys.version.split()[0]}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        env = dict(os.environ, VSEARCH_HOME=str(Path(tmp) / "home"), HF_HUB_OFFLINE="1")
        env["PYTHONPATH"] = os.pathsep.join([str(ns.repo.resolve()), env.get("PYTHONPATH", "")])
        env["BENCH_REPO"] = str(ns.repo.resolve())
        if "search" in only:
            run_once(["--library", str(ns.library), "search", ns.query], env)  # warm the page cache
            measure("search", ["--library", str(ns.library), "search", ns.query, "-k", "10"], env, ns.runs)
        if "index-unchanged" in only:
            copy = Path(tmp) / "lib-copy"
            shutil.copytree(ns.library, copy, ignore=shutil.ignore_patterns("write.lock", "*.lock"))
            measure("index-unchanged", ["--library", str(copy), "index"], env, ns.runs)
        if "index-empty" in only:
            empty = Path(tmp) / "empty"
            empty.mkdir()
            measure("index-empty", ["--library", str(Path(tmp) / "lib-new"), "index", str(empty)], env, ns.runs)
        if "index-video" in only:
            if ns.video is None:
                raise SystemExit("index-video needs --video FILE")
            measure_video(ns.video, env, ns.runs, Path(tmp), ns.index_args.split())


if __name__ == "__main__":
    main()
