"""Facility mode (issue 19): cluster indexing throughput, shared-index search latency and client RSS.

Usage::

    python benchmarks/bench_cluster.py throughput [--cpus 1 2] [--model starter] [--videos DIR]
    python benchmarks/bench_cluster.py search [--frames 1000000] [--dim 512]
    python benchmarks/bench_cluster.py capacity --rate 40 [--rate-gpu 329]
    python benchmarks/bench_cluster.py ann --frames 10000000 --cache-gb 12 [--queries 5]

``throughput`` indexes a folder (default: the dev set, ../shared/data/devset/videos) with the
local indexer and then on a fresh one-machine Ray cluster with 1, 2, ... CPUs ("workers"), each
into a new shared dataset, and prints video-seconds per wall-second end to end (Ray start-up
excluded, actor start-up and the commits included).

``search`` writes N synthetic frames (unit vectors, float16, 1000 per video) into a shared
frames table, builds its vector index (IVF_HNSW_SQ, dot), then, in a fresh subprocess that only
attaches read-only, times searches (ANN candidates + one vector read for the candidate videos
+ the moment builder: the desktop's path) and reports that process's RSS.

``ann`` times ANN queries alone on an existing synthetic table (``search`` writes it) in this
process, with LanceDB's index cache set to ``--cache-gb`` (default: what vsearch uses, half the
RAM), printing per query the seconds, the bytes read (``/proc/self/io``) and the RSS.

``capacity`` prints machines x hours for 100k hours of footage at the given per-machine rates.
Everything goes under benchmarks/out/ (git-ignored). Note `uptime` beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out" / "cluster"
DEVSET = ROOT.parent / "shared" / "data" / "devset" / "videos"


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def throughput(args: argparse.Namespace) -> None:
    import ray

    from vsearch.service import Service

    videos = Path(args.videos)
    OUT.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tp", dir=OUT))
    os.environ["VSEARCH_HOME"] = str(work / "home")
    results = {}
    t0 = time.perf_counter()
    with Service(work / "local", model=args.model) as svc:
        svc.settings = svc.settings.replace(speech=False)
        st = svc.index([str(videos)])
    dt = time.perf_counter() - t0
    results["local indexer"] = (st.video_seconds, dt)
    print(f"local indexer: {st.indexed} videos, {st.video_seconds:.0f} s of video in {dt:.1f} s = "
          f"{st.video_seconds / dt:.1f}x real time ({_load()})", flush=True)
    for cpus in args.cpus:
        tmp = tempfile.mkdtemp(prefix="vsr", dir="/tmp")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*fork", category=RuntimeWarning)
            ray.init(num_cpus=cpus, object_store_memory=256 * 1024 * 1024, _temp_dir=tmp,
                     include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            t0 = time.perf_counter()
            with Service(work / f"drv{cpus}", model=args.model) as drv:
                st = drv.cluster_index([str(videos)], str(work / f"shared{cpus}"))
            dt = time.perf_counter() - t0
        finally:
            ray.shutdown()
            shutil.rmtree(tmp, ignore_errors=True)
        results[f"cluster, {cpus} CPU"] = (st.video_seconds, dt)
        print(f"cluster {cpus} CPU(s): {st.indexed} videos, {st.frames} frames, {st.video_seconds:.0f} s of video "
              f"in {dt:.1f} s = {st.video_seconds / dt:.1f}x real time ({_load()})", flush=True)
    (OUT / "throughput.json").write_text(json.dumps(results, indent=1))
    shutil.rmtree(work, ignore_errors=True)


def _write_synthetic(uri: str, n: int, dim: int, per_video: int = 1000) -> float:
    import numpy as np

    from vsearch.store.shared import SharedDataset, SharedVideo

    ds = SharedDataset(uri, readonly=False)
    model = ds.ensure_model(f"synthetic-{dim}", "synthetic", dim)
    rng = np.random.default_rng(0)
    chunk = 200_000
    videos = []
    t0 = time.perf_counter()
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        # clustered like footage: each video drifts around its own direction
        ids = np.arange(lo, lo + m)
        vid = ids // per_video + 1
        centres = np.random.default_rng(vid[0]).normal(size=(int(vid[-1] - vid[0] + 1), dim)).astype(np.float32)
        v = centres[vid - vid[0]] + 0.6 * rng.normal(size=(m, dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        ds.add_frames(model, vid, (ids % per_video).astype(np.float64), v)
        for x in np.unique(vid):
            videos.append(SharedVideo(int(x), f"/mnt/archive/{x:07d}.mp4", 1, 1.0, float(per_video), 25.0, 640, 360))
    ds.put_videos(videos)
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    what = ds.update_index(model, min_rows=1)
    index_s = time.perf_counter() - t0
    print(f"wrote {n} frames in {write_s:.1f} s; vector index {what} in {index_s:.1f} s ({_load()})", flush=True)
    return index_s


_CLIENT = r"""
import json, os, resource, sys, time
import numpy as np
from vsearch.cluster.attach import SharedAnn, SharedSearcher, SharedView
from vsearch.store.shared import SharedDataset
from vsearch.query.search import SearchOptions
uri, dim, queries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
t0 = time.perf_counter()
ds = SharedDataset(uri)
model = ds.active_model()
view = SharedView(ds, model, [("/mnt/archive", "/Volumes/Archive")])
class Q:  # the query embedder is not what is measured here
    model_id = model.model_id; dim = model.dim; image_size = 224
s = SharedSearcher(view, SharedAnn(view), Q())
open_s = time.perf_counter() - t0
rng = np.random.default_rng(1)
lat, ann_lat = [], []
for i in range(queries):
    q = rng.normal(size=dim).astype(np.float32); q /= np.linalg.norm(q)
    t1 = time.perf_counter(); s.ann.search(q, 200); ann_lat.append(time.perf_counter() - t1)
    view.forget()
    t1 = time.perf_counter(); res = s.search_vector(q, SearchOptions(k=10)); lat.append(time.perf_counter() - t1)
first = {}
if len(sys.argv) > 4:  # --bank: the first search with querybank normalisation, stored activation vs none
    from vsearch.cluster import attach
    from vsearch.query.bank import QueryBank
    bank = QueryBank(np.load(sys.argv[4]))
    for label in ("stored", "computed"):
        ds2 = SharedDataset(uri)
        view2 = SharedView(ds2, ds2.active_model(), [])
        s2 = SharedSearcher(view2, SharedAnn(view2), Q())
        s2.bank = bank
        if label == "computed":  # as without the driver's row, and as a table past EXACT_MANY frames
            attach.current_activation = lambda searcher: None
            attach.EXACT_MANY = 0
        q = rng.normal(size=dim).astype(np.float32); q /= np.linalg.norm(q)
        t1 = time.perf_counter(); s2.search_vector(q, SearchOptions(k=10)); first[label + "_first_search_s"] = time.perf_counter() - t1
print(json.dumps({**first, "open_s": open_s, "p50_ms": 1000 * float(np.median(lat[1:])), "p95_ms": 1000 * float(np.percentile(lat[1:], 95)),
                  "ann_p50_ms": 1000 * float(np.median(ann_lat[1:])), "rss_mb": rss(),
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "results": len(res)}))
"""


def _store_bank(uri: str, dim: int) -> str:
    """A random 2,644-sentence bank (timing only), its activation stored as the driver stores it; returns the bank's file."""
    import numpy as np

    from vsearch.cluster.attach import store_activation
    from vsearch.query.bank import QueryBank, sentences
    from vsearch.store.shared import SharedDataset

    path = OUT / f"bank-{dim}.npy"
    rng = np.random.default_rng(7)
    b = rng.normal(size=(len(sentences()), dim)).astype(np.float32)
    np.save(path, b / np.linalg.norm(b, axis=1, keepdims=True))
    ds = SharedDataset(uri, readonly=False)
    model = ds.active_model()

    class Q:  # the driver's embedder is not used: the bank is given
        model_id = model.model_id
        dim = model.dim
        image_size = 224

    t0 = time.perf_counter()
    stored = store_activation(ds, model, Q(), QueryBank(np.load(path)))  # type: ignore[arg-type]
    print(f"driver: activation {'stored' if stored else 'current'} in {time.perf_counter() - t0:.1f} s ({_load()})", flush=True)
    return str(path)


def search(args: argparse.Namespace) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    uri = str(OUT / f"synthetic-{args.frames}-{args.dim}")
    index_s = None
    if not Path(uri).exists() or args.rebuild:
        shutil.rmtree(uri, ignore_errors=True)
        index_s = _write_synthetic(uri, args.frames, args.dim)
    extra = []
    if args.bank:
        extra = [_store_bank(uri, args.dim)]
    size = sum(f.stat().st_size for f in Path(uri).rglob("*") if f.is_file())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", _CLIENT, uri, str(args.dim), str(args.queries), *extra],
                       capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        raise SystemExit(r.stderr[-3000:])
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res.update(frames=args.frames, dim=args.dim, disk_mb=size / 2**20, index_build_s=index_s, load=_load())
    print(json.dumps(res, indent=1))
    (OUT / f"search-{args.frames}.json").write_text(json.dumps(res, indent=1))


def ann(args: argparse.Namespace) -> None:
    import lancedb
    import numpy as np

    from vsearch.store import shared

    uri = OUT / f"synthetic-{args.frames}-{args.dim}"
    if not uri.exists():
        raise SystemExit(f"{uri} not found: run `search --frames {args.frames}` first")
    if args.cache_gb is not None:
        shared.index_cache_bytes = lambda: int(args.cache_gb * 2**30)
    from vsearch.cluster.attach import SharedAnn, SharedView

    def status(key: str, path: str) -> float:
        with open(path) as f:
            return next(int(line.split()[1]) for line in f if line.startswith(key))

    ds = shared.SharedDataset(str(uri))
    view = SharedView(ds, ds.active_model(), [])
    a = SharedAnn(view)
    print(f"index cache {shared.index_cache_bytes() / 2**30:.1f} GiB (lancedb {lancedb.__version__}; {_load()})")
    rng = np.random.default_rng(1)
    for i in range(args.queries):
        q = rng.normal(size=args.dim).astype(np.float32)
        q /= np.linalg.norm(q)
        r0, t0 = status("rchar", "/proc/self/io"), time.perf_counter()
        a.search(q, 200)
        dt, read = time.perf_counter() - t0, (status("rchar", "/proc/self/io") - r0) / 2**30
        print(f"query {i}: {dt:.2f} s, read {read:.2f} GiB, RSS {status('VmRSS', '/proc/self/status') / 1024:.0f} MB")


def capacity(args: argparse.Namespace) -> None:
    hours = args.hours
    print(f"{hours:,.0f} hours of footage; machine-hours = footage hours / rate (x real time)")
    for label, rate in (("CPU machine", args.rate), ("GPU machine", args.rate_gpu)):
        if not rate:
            continue
        mh = hours / rate
        for n in (1, 4, 16, 64):
            print(f"  {label:12s} at {rate:6.1f}x: {n:3d} machines -> {mh / n:8.1f} h ({mh / n / 24:5.1f} days)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="part", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--cpus", type=int, nargs="+", default=[1, 2])
    t.add_argument("--model", default="starter")
    t.add_argument("--videos", default=str(DEVSET))
    s = sub.add_parser("search")
    s.add_argument("--frames", type=int, default=1_000_000)
    s.add_argument("--dim", type=int, default=512)
    s.add_argument("--queries", type=int, default=30)
    s.add_argument("--rebuild", action="store_true")
    s.add_argument("--bank", action="store_true", help="also the first search with a query bank: stored activation vs computed")
    a = sub.add_parser("ann")
    a.add_argument("--frames", type=int, default=10_000_000)
    a.add_argument("--dim", type=int, default=512)
    a.add_argument("--queries", type=int, default=5)
    a.add_argument("--cache-gb", type=float, help="LanceDB's index cache (default: vsearch's, half the RAM)")
    c = sub.add_parser("capacity")
    c.add_argument("--hours", type=float, default=100_000)
    c.add_argument("--rate", type=float, required=True, help="x real time of one CPU machine")
    c.add_argument("--rate-gpu", type=float, default=0.0, help="x real time of one GPU machine")
    args = p.parse_args()
    {"throughput": throughput, "search": search, "ann": ann, "capacity": capacity}[args.part](args)


if __name__ == "__main__":
    main()
