"""Smoke test of the built bundle (``make package-test``): the frozen CLI and GUI really work.

Runs the programs in ``dist/vsearch`` (or the folder given as the first argument) against a
temporary library and prints the bundle size and start-up times:

1. ``vsearch --version`` prints the version in pyproject.toml (timed, best of 3: start time);
2. ``vsearch index`` indexes a small generated video with the offline starter model, and
   ``vsearch search`` finds it (no network: HF_HUB_OFFLINE=1, HOME points to a temp folder);
3. portable mode: with a ``vsearch-portable`` marker beside the executable (in a hard-linked
   copy of the bundle), the library lands in ``vsearch-data/`` beside it and nowhere else;
4. ``vsearch-gui`` starts offscreen, shows its window and quits cleanly (VSEARCH_GUI_SMOKE=1).

Not collected by pytest (the file name does not start with ``test_``). Needs PyAV and numpy
in the Python that runs it (the build or dev venv). Exit status 0 when every check passed;
a JSON summary goes to build/package-smoke.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = float(os.environ.get("VSEARCH_SMOKE_TIMEOUT", "900"))


def make_video(path: Path, seconds: float = 4.0, fps: int = 10, size: tuple[int, int] = (160, 120)) -> None:
    """A small H.264 MP4: a red then a blue half with a moving square, and a quiet audio track."""
    import av
    import numpy as np

    w, h = size
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4", rate=fps)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        a = out.add_stream("aac", rate=16000)
        a.layout = "mono"
        n = int(seconds * fps)
        for i in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[:] = (220, 20, 20) if i < n // 2 else (20, 40, 220)
            img[10 + i % 40 : 30 + i % 40, 10 + 2 * i % 100 : 30 + 2 * i % 100] = 255
            for pkt in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in v.encode():
            out.mux(pkt)
        samples = np.zeros((1, int(seconds * 16000)), np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        frame.pts, frame.time_base = 0, Fraction(1, 16000)
        for pkt in a.encode(frame):
            out.mux(pkt)
        for pkt in a.encode():
            out.mux(pkt)


class Smoke:
    """Runs the checks, collecting failures and numbers."""

    def __init__(self, bundle: Path, work: Path) -> None:
        self.bundle = bundle
        self.work = work
        self.failures: list[str] = []
        self.numbers: dict[str, object] = {}
        home = work / "home"
        home.mkdir()
        self.env = {
            **os.environ,
            "HOME": str(home),  # platformdirs' folders: must stay empty
            "XDG_DATA_HOME": str(home / ".local/share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local/state"),
            "VSEARCH_HOME": str(work / "library"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "QT_QPA_PLATFORM": "offscreen",
        }
        for var in ("VSEARCH_MODELS", "PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH"):
            self.env.pop(var, None)

    def run(self, args: list[str], env: dict[str, str] | None = None, exe: Path | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
        t0 = time.perf_counter()
        proc = subprocess.run([str(exe or self.bundle / "vsearch"), *args], env=env or self.env, capture_output=True,
                              text=True, timeout=TIMEOUT, cwd=self.work)
        return proc, time.perf_counter() - t0

    def check(self, ok: bool, what: str, proc: subprocess.CompletedProcess[str] | None = None) -> bool:
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            self.failures.append(what)
            if proc is not None:
                print(f"     exit {proc.returncode}\n     stdout: {proc.stdout[-3000:]}\n     stderr: {proc.stderr[-3000:]}")
        return ok

    def version(self) -> None:
        want = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
        times = []
        for _ in range(3):
            proc, secs = self.run(["--version"])
            times.append(secs)
        self.numbers["cli_version_seconds_best_of_3"] = round(min(times), 2)
        self.numbers["cli_version_seconds_first"] = round(times[0], 2)
        self.check(proc.returncode == 0 and proc.stdout.strip() == f"vsearch {want}",
                   f"vsearch --version prints 'vsearch {want}' ({min(times):.2f} s)", proc)

    def index_and_search(self, videos: Path) -> None:
        proc, secs = self.run(["--model", "starter", "index", "-q", str(videos)])
        self.numbers["cli_index_seconds"] = round(secs, 1)
        if not self.check(proc.returncode == 0 and "indexed 1" in proc.stdout and "failed 0" in proc.stdout,
                          f"vsearch index: 1 generated video with the starter model ({secs:.1f} s)", proc):
            return
        proc, secs = self.run(["search", "--json", "a red screen"])
        self.numbers["cli_search_seconds"] = round(secs, 1)
        found = []
        if proc.returncode == 0:
            try:
                found = [r.get("path") for r in json.loads(proc.stdout)["results"]]
            except (ValueError, KeyError, AttributeError):
                pass
        self.check(any(str(p).endswith("clip.mp4") for p in found), f"vsearch search finds the video ({secs:.1f} s)", proc)

    def portable(self, videos: Path) -> None:
        copy = self.work / "usb" / "vsearch"
        copy.parent.mkdir()
        try:
            shutil.copytree(self.bundle, copy, copy_function=os.link, symlinks=True)
        except OSError:  # another file system: a real copy
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(self.bundle, copy, symlinks=True)
        (copy / "vsearch-portable").write_text("")
        env = {k: v for k, v in self.env.items() if k != "VSEARCH_HOME"}
        proc, _ = self.run(["--model", "starter", "index", "--no-speech", "-q", str(videos)], env=env, exe=copy / "vsearch")
        data = copy / "vsearch-data"
        leaked = [str(p) for p in (self.work / "home").rglob("*") if "vsearch" in p.name.lower()]
        self.check(proc.returncode == 0 and data.is_dir() and any(data.rglob("*.sqlite*")) and not leaked,
                   f"portable mode: library in {data.relative_to(self.work)}, nothing in the user folders {leaked or ''}", proc)

    def gui(self) -> None:
        env = {**self.env, "VSEARCH_GUI_SMOKE": "1"}
        proc, secs = self.run([], env=env, exe=self.bundle / "vsearch-gui")
        self.numbers["gui_start_and_quit_seconds"] = round(secs, 2)
        self.check(proc.returncode == 0 and "window shown=[True]" in proc.stdout,
                   f"vsearch-gui starts offscreen, shows its window and quits ({secs:.2f} s)", proc)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str]) -> int:
    bundle = Path(argv[1] if len(argv) > 1 else ROOT / "dist" / "vsearch").resolve()
    if not (bundle / "vsearch").exists():
        print(f"no bundle at {bundle}: run `make package` first", file=sys.stderr)
        return 2
    (ROOT / "build").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="smoke-", dir=ROOT / "build"))  # same file system as dist/: hard links
    try:
        smoke = Smoke(bundle, work)
        videos = work / "videos"
        videos.mkdir()
        make_video(videos / "clip.mp4")
        smoke.numbers["bundle_bytes"] = size = du(bundle)
        smoke.numbers["bundle_files"] = sum(1 for _ in bundle.rglob("*"))
        print(f"bundle: {bundle} ({size / 2**20:.0f} MiB, {smoke.numbers['bundle_files']} files)")
        smoke.version()
        smoke.index_and_search(videos)
        smoke.portable(videos)
        smoke.gui()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {"ok": not smoke.failures, "failures": smoke.failures, **smoke.numbers}
    (ROOT / "build" / "package-smoke.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0 if not smoke.failures else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
