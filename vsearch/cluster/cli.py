"""`vsearch cluster ...`: the facility-mode commands, registered by vsearch/cli.py."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from vsearch.errors import UserError
from vsearch.types import CancelToken


def add_parser(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("cluster", help="facility mode: index an archive on a Ray cluster (vsearch[cluster])")
    csub = c.add_subparsers(dest="cluster_command", metavar="ACTION")
    s = csub.add_parser("index", help="index folders on a Ray cluster into a shared library")
    s.add_argument("roots", nargs="+", help="folders, as every node of the cluster sees them")
    s.add_argument("--ray", default="auto", metavar="ADDRESS",
                   help="Ray cluster: auto (default, the one this node belongs to), HOST:PORT, "
                        "ray://HOST:10001, or local (start one on this machine)")
    s.add_argument("--shared", required=True, metavar="URI", help="the shared library (folder or object-store URI)")
    s.add_argument("--model", dest="cluster_model", metavar="NAME",
                   help="embedding model (as `vsearch --model`; default: this library's)")
    s.add_argument("--workers", type=int, help="embedding actors (default: one per GPU, else one)")
    s.add_argument("--gpus-per-worker", type=float, help="GPUs per embedding actor (default: 1 if the cluster has GPUs)")
    s.add_argument("--sampling", choices=["keyframe", "exact"])
    s.add_argument("--interval", type=float)
    s.add_argument("-q", "--quiet", action="store_true")
    a = csub.add_parser("attach", help="search a shared library from this desktop from now on (read-only)")
    a.add_argument("shared", metavar="URI")
    a.add_argument("--map", action="append", metavar="CLUSTER=LOCAL", help="path prefix of its files here")
    d = csub.add_parser("detach", help="stop searching a shared library")
    d.add_argument("shared", metavar="URI")
    csub.add_parser("list", help="the shared libraries this desktop searches")


def run(args: argparse.Namespace, service_factory) -> int:  # noqa: ANN001
    from vsearch.cli import ProgressBar, _main_thread

    cmd = getattr(args, "cluster_command", None)
    if cmd in ("attach", "detach", "list"):
        return _attachments(args, service_factory)
    if cmd != "index":
        raise UserError("usage: vsearch cluster {index,attach,detach,list} ... (vsearch cluster -h)")
    for p in args.roots:
        if not os.path.isdir(p):
            raise UserError(f"no such folder: {p}")
    if args.cluster_model:
        args.model = args.cluster_model
    cancel = CancelToken()
    bar = ProgressBar(quiet=args.quiet)

    def on_sigint(signum, frame):  # noqa: ANN001
        if cancel.cancelled:
            raise KeyboardInterrupt
        print("\nstopping: finished videos are committed (Ctrl-C again to abort)...", file=sys.stderr)
        cancel.cancel()

    old = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    try:
        with service_factory(args) as svc:
            if args.sampling:
                svc.settings = svc.settings.replace(sampling=args.sampling)
            if args.interval:
                svc.settings = svc.settings.replace(interval=args.interval)
            extra = {}
            if args.workers:
                extra["embed_workers"] = args.workers
            if args.gpus_per_worker is not None:
                extra["gpus_per_worker"] = args.gpus_per_worker
            stats = svc.cluster_index(
                args.roots, args.shared, address=args.ray, progress=bar, cancel=cancel, **extra
            )
    finally:
        bar.close()
        if old is not None:
            signal.signal(signal.SIGINT, old)
    secs = stats.stage_seconds.get("total", 0.0)
    rate = f", {stats.video_seconds / secs:.1f}x real time" if secs > 0 and stats.video_seconds else ""
    print(
        f"{stats.scanned} videos found: {stats.new} new, {stats.changed} changed, {stats.gone} gone, "
        f"{stats.unchanged} unchanged; indexed {stats.indexed} ({stats.frames} frames{rate}), "
        f"failed {stats.failed}" + (" -- cancelled, run again to resume" if stats.cancelled else "")
    )
    for path, err in stats.errors[:20]:
        print(f"  failed: {path}: {err}", file=sys.stderr)
    return 130 if stats.cancelled else 0


def _attachments(args: argparse.Namespace, service_factory) -> int:  # noqa: ANN001
    with service_factory(args) as svc:
        if args.cluster_command == "attach":
            has = svc.attach_shared(args.shared, args.map or (), remember=True)
            print(f"attached {args.shared}" + ("" if has else " (it holds no vectors yet)"))
        elif args.cluster_command == "detach":
            if not svc.detach_shared(args.shared):
                raise UserError(f"{args.shared} is not attached")
            print(f"detached {args.shared}")
        else:
            for uri, path_map in svc.shared_libraries():
                print(uri + "".join(f"  --map {m}" for m in path_map))
    return 0
