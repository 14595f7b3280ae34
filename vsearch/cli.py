"""The `vsearch` command line: index, search, status, forget, rebuild-index, eval, models, export."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

from vsearch import __version__
from vsearch.errors import EnvironmentProblem, UserError, VSearchError
from vsearch.timefmt import clock_fine, clock_whole
from vsearch.types import PRECISIONS, CancelToken, Progress

if TYPE_CHECKING:  # imported on first use: `vsearch --help` stays fast
    from vsearch.service import Service


def printable(text: str) -> str:
    """*text* with control characters (a newline in a file name) and stray bytes shown as '?'."""
    return "".join(c if c.isprintable() else "?" for c in text)


class ProgressBar:
    """A one-line progress bar on stderr with rate (video-seconds per second) and ETA."""

    def __init__(self, stream: TextIO = sys.stderr, quiet: bool = False) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self._last = 0.0
        self._shown = False

    def __call__(self, p: Progress) -> None:
        """Show one progress report (rate-limited: a tty redraws at most every 0.1 s, a log every 2 s)."""
        now = time.monotonic()
        if self.quiet or (now - self._last < (0.1 if self.tty else 2.0) and p.done_files < p.total_files):
            return
        self._last = now
        frac = min(1.0, p.done_seconds / p.total_seconds) if p.total_seconds else 0.0
        bar = "#" * int(frac * 24)
        name = printable(os.path.basename(p.current))[:28]
        line = (
            f"[{bar:<24s}] {frac * 100:5.1f}% {p.done_files}/{p.total_files} files "
            f"{p.rate:5.1f}x real time  ETA {clock_whole(p.eta)}  {name}"
        )
        if self.tty:
            self.stream.write("\r" + line[:150].ljust(150))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the progress line, if one was drawn."""
        if self._shown and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of every command."""
    p = argparse.ArgumentParser(
        prog="vsearch", description="Search your video folders by sentence; find the moment."
    )
    p.add_argument("--version", action="version", version=f"vsearch {__version__}")
    p.add_argument(
        "--library", metavar="DIR", help="library folder (default: per-user data dir, or $VSEARCH_HOME)"
    )
    p.add_argument("--model", help="embedding model (see `vsearch models`); default: the library's model")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda or mps")
    p.add_argument(
        "--precision",
        default=None,
        choices=["auto", *PRECISIONS],
        help="model arithmetic: auto (default: fp16 on GPUs, bf16 on CPUs that have it, else fp32)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("index", help="add folders and index new or changed videos")
    s.add_argument("paths", nargs="*", help="folders (default: every folder in the library)")
    s.add_argument(
        "--sampling", choices=["keyframe", "exact"], help="keyframe (fast, default) or exact interval"
    )
    s.add_argument("--interval", type=float, help="seconds between samples (exact) / longest gap (keyframe)")
    s.add_argument("--no-speech", action="store_true", help="skip transcribing audio tracks")
    s.add_argument("--no-ocr", action="store_true", help="skip reading on-screen text")
    s.add_argument("-q", "--quiet", action="store_true")

    s = sub.add_parser("search", help="find moments matching a sentence")
    s.add_argument("text")
    s.add_argument("-k", type=int, default=10, help="number of moments (default 10)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--folder", help="only videos inside this folder")
    s.add_argument("--min-score", type=float)
    s.add_argument("--per-video", type=int)
    s.add_argument("--only", choices=["visual", "speech", "text"], help="use one expert only (text: on-screen text)")
    s.add_argument("--shared", action="append", metavar="URI", help="also search this shared library (read-only)")
    s.add_argument("--map", action="append", metavar="CLUSTER=LOCAL", help="path prefix of --shared files here")

    sub.add_parser("status", help="library summary, folders and failed files")

    s = sub.add_parser("forget", help="remove a folder (or file) and its vectors from the library")
    s.add_argument("path")

    sub.add_parser("rebuild-index", help="rebuild the ANN caches from the library database")

    s = sub.add_parser("eval", help="index a folder and score a ground truth (R@K, tIoU, mIoU)")
    s.add_argument("ground_truth")
    s.add_argument("--videos", required=True, help="folder holding the ground truth's videos")
    s.add_argument("--predictions", help="write the top 10 results per query to this JSON file")
    s.add_argument("--json", action="store_true", help="print the full report as JSON")

    s = sub.add_parser("models", help="list, download or import models")
    msub = s.add_subparsers(dest="models_command", metavar="ACTION")
    d = msub.add_parser("download", help="download a preset's weights (needs network)")
    d.add_argument("name")
    r = msub.add_parser("remove", help="delete a retired model's vectors from the library")
    r.add_argument("name")
    i = msub.add_parser("import", help="add a local open_clip checkpoint (offline)")
    i.add_argument("file")
    i.add_argument("--arch", required=True)
    i.add_argument("--name")

    s = sub.add_parser("export", help="export a search's moments as a clip list")
    s.add_argument("text", nargs="?", help="the query (or use --from)")
    s.add_argument(
        "--format",
        "-f",
        required=True,
        help="csv, json, edl, fcpxml, xmeml, resolve-markers, m3u, clips, sheet",
    )
    s.add_argument("--out", "-o", help="output file or folder")
    s.add_argument("--from", dest="from_json", help="a results JSON saved by `vsearch search --json`")
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--overwrite", action="store_true")
    s.add_argument(
        "--reencode", action="store_true", help="clips: re-encode (frame-accurate) instead of stream copy"
    )
    _add_cluster_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line *argv* (default: sys.argv); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    if args.verbose:
        from vsearch.service import Service

        Service.setup_logging(verbose=True)
    try:
        return _dispatch(args)
    except UserError as e:
        print(f"vsearch: error: {e}", file=sys.stderr)
        return 2
    except EnvironmentProblem as e:
        print(f"vsearch: error: {e}", file=sys.stderr)
        return 3
    except VSearchError as e:
        print(f"vsearch: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vsearch: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as e:  # the environment: a full disk, a read-only folder, a missing device
        print(f"vsearch: error: {describe_os_error(e)}", file=sys.stderr)
        return 3
    except Exception as e:  # noqa: BLE001 - a bug: one line here, the traceback in the log
        import logging

        logging.getLogger("vsearch").exception("unexpected error")
        print(f"vsearch: internal error: {type(e).__name__}: {e} (details in the log)", file=sys.stderr)
        return 1


def describe_os_error(e: OSError) -> str:
    """One line for an OSError: what failed and on which file, without Python's [Errno n] noise."""
    what = e.strerror or str(e) or type(e).__name__
    name = e.filename if e.filename is not None else None
    return " ".join(f"{what}: {os.fsdecode(name)}".split()) if name else " ".join(what.split())


def _service(args: argparse.Namespace, readonly: bool = False, create: bool = True) -> Service:
    from vsearch.service import Service

    svc = Service(
        args.library,
        model=args.model,
        device=args.device,
        precision=args.precision,
        readonly=readonly,
        create=create,
    )
    for notice in svc.library.notices:
        print(f"vsearch: warning: {notice}", file=sys.stderr)
    return svc


def _utf8(text: str, what: str) -> str:
    """*text* from the command line, refused when it is not valid UTF-8.

    argv keeps stray bytes as surrogates, which SQLite, the models and every output would choke on.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UserError(f"{what} is not valid UTF-8 text") from None
    return text


def _count(value: int | None, what: str) -> int | None:
    if value is not None and value < 1:
        raise UserError(f"{what} must be 1 or more, not {value}")
    return value


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "index":
        return _cmd_index(args)
    if cmd == "search":
        return _cmd_search(args)
    if cmd == "status":
        return _cmd_status(args)
    if cmd == "forget":
        _utf8(args.path, f"the name {args.path!r}")
        with _service(args, create=False) as svc:
            n = svc.remove_folder(args.path)
        print(f"forgot {n} video(s) under {os.path.abspath(args.path)}")
        return 0
    if cmd == "rebuild-index":
        with _service(args, create=False) as svc:
            n = svc.rebuild_index()
        print(f"rebuilt the ANN index: {n} vectors")
        return 0
    if cmd == "eval":
        return _cmd_eval(args)
    if cmd == "models":
        return _cmd_models(args)
    if cmd == "export":
        return _cmd_export(args)
    if cmd == "cluster":
        return _cmd_cluster(args)
    raise UserError(f"unknown command {cmd}")


@contextlib.contextmanager
def _ctrl_c_cancels(stopping: str) -> Iterator[CancelToken]:
    """A cancel token that the first Ctrl-C sets (printing *stopping*); a second one aborts."""
    cancel = CancelToken()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if cancel.cancelled:
            raise KeyboardInterrupt
        print(f"\n{stopping} (Ctrl-C again to abort)...", file=sys.stderr)
        cancel.cancel()

    old = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    try:
        yield cancel
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)


def _run_index(svc: Service, paths: Sequence[str], quiet: bool) -> int:
    bar = ProgressBar(quiet=quiet)
    with _ctrl_c_cancels("stopping after the current batch") as cancel:
        try:
            stats = svc.index(paths or None, progress=bar, cancel=cancel)
        finally:
            bar.close()
    secs = stats.stage_seconds.get("total", 0.0)
    rate = f", {stats.video_seconds / secs:.1f}x real time" if secs > 0 and stats.video_seconds else ""
    # errors also holds files the scan could not take (unreadable folders, names that are not
    # UTF-8): they are not in the library, so they are counted apart from the failed videos
    skipped = max(0, len(stats.errors) - stats.failed)
    print(
        f"{stats.scanned} videos found: {stats.new} new, {stats.changed} changed, {stats.moved} moved, "
        f"{stats.gone} gone; indexed {stats.indexed} ({stats.frames} frames{rate}), failed {stats.failed}"
        + (f", skipped {skipped}" if skipped else "")
        + (" -- cancelled, run again to resume" if stats.cancelled else "")
    )
    for path, err in stats.errors[:20]:
        print(f"  failed: {printable(path)}: {err}", file=sys.stderr)
    if len(stats.errors) > 20:
        print(f"  ... and {len(stats.errors) - 20} more (see `vsearch status`)", file=sys.stderr)
    return 130 if stats.cancelled else 0


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _cmd_index(args: argparse.Namespace) -> int:
    for p in args.paths:
        _utf8(p, f"the folder name {p!r}")
        if not os.path.exists(p):
            raise UserError(f"no such folder: {p}")
    with _service(args) as svc:
        changes = {}
        if args.sampling:
            changes["sampling"] = args.sampling
        if args.interval:
            changes["interval"] = args.interval
        if args.no_speech:
            changes["speech"] = False
        if args.no_ocr:
            changes["ocr"] = False
        if changes:
            svc.settings = svc.settings.replace(**changes)
        return _run_index(svc, args.paths, args.quiet)


def _cmd_search(args: argparse.Namespace) -> int:
    _utf8(args.text, "the query")
    if args.folder:
        _utf8(args.folder, "the --folder name")
    _count(args.k, "-k")
    _count(args.per_video, "--per-video")
    # a desktop that only attaches a shared library needs no local one: it is made empty
    with _service(args, create=bool(args.shared)) as svc:
        for uri in args.shared or ():
            svc.attach_shared(uri, args.map or ())
        if svc.search_model() is None and not args.shared and not svc.shared_libraries():
            raise UserError("nothing is indexed yet; run `vsearch index FOLDER` first")
        res = svc.search(
            args.text,
            k=args.k,
            folder=args.folder,
            min_score=args.min_score,
            per_video=args.per_video,
            only=args.only,
        )
        if svc.library.damaged:
            print(
                f"vsearch: warning: {len(svc.library.damaged)} damaged vector(s) were skipped; "
                "see `vsearch status`, `vsearch index` re-embeds their videos",
                file=sys.stderr,
            )
    if args.json:
        json.dump(
            {"query": args.text, "strong_match": svc.strong_match(res), "results": [m.to_dict() for m in res]},
            sys.stdout,
            indent=1,
            ensure_ascii=False,
        )
        print()
        return 0
    if not res:
        print("no matching moments")
        return 0
    if not svc.strong_match(res):
        print(f"no strong match: nothing here answers the query well (best {res[0].score:.2f}); weak results follow")
    for i, m in enumerate(res, 1):
        why = m.source if not m.text else f'{m.source}: "{m.text}"'
        if m.screen_text:
            why += f", on screen: '{m.screen_text}'"
        gone = "  (missing: not found at the last scan)" if m.missing else ""
        print(f"{i:2d}. {m.score:6.3f}  {clock_fine(m.start)}-{clock_fine(m.end)}  {m.path}{gone}  [{why}]")
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from vsearch.service import LibraryDamaged

    with _service(args, create=False) as svc:
        try:
            st = svc.status()
            fails = svc.failures()
            text_fails = svc.text_failures()
        except LibraryDamaged:  # the counts cannot be read: say so, then what the check finds
            print(f"library: {svc.dirs.library}")
            print("counts:  unreadable: the database is damaged; restore a backup or start a new library")
            st = None
        problems = svc.check()
    if st is None:
        print(f"check:   DAMAGED ({max(len(problems), 1)} problem(s)):")
        for line in problems or ["the database could not be read"]:
            print(f"  {printable(line)}")
        return 3
    print(f"library: {st.library}{' (read-only)' if st.readonly else ''}")
    print(f"model:   {st.model or '-'}  ({st.model_id or 'nothing indexed yet'})")
    print(
        f"videos:  {st.videos} ({st.indexed} indexed, {st.pending} pending, {st.failed} failed"
        + (f", {st.missing} missing" if st.missing else "")
        + f"), {st.frames} frames"
        + (f"; skipped {st.skipped} (not videos of the library)" if st.skipped else "")
    )
    for m in st.models:
        print(f"  model {m.name}: {m.state}, {m.model_id}")
    for f in st.folders:
        state = "" if f.online else "  [offline: entries kept, still searchable]"
        print(f"  {f.path}: {f.indexed}/{f.videos} indexed, {f.failed} failed, {f.frames} frames{state}")
    if st.ocr is not None:
        o = st.ocr
        print(
            f"on-screen text: {o.done + o.no_text + o.failed}/{o.done + o.no_text + o.failed + o.pending} videos read "
            f"({o.done} with text, {o.no_text} without, {o.failed} failed, {o.pending} to read), {o.spans} text spans"
        )
    if fails:
        print(f"failed files ({st.failed} failed, {st.skipped} skipped):" if st.skipped else f"failed files ({len(fails)}):")
        for fe in fails:
            print(f"  {printable(fe.path)}: {fe.error}")
    if text_fails:
        print(f"on-screen text not read ({len(text_fails)}; frames are indexed):")
        for fe in text_fails:
            print(f"  {printable(fe.path)}: {fe.error}")
    if problems:
        print(f"check:   DAMAGED ({len(problems)} problem(s)):")
        for line in problems:
            print(f"  {printable(line)}")
        return 3
    print("check:   ok (database and every vector)")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from vsearch.service import Service

    gt = Service.load_ground_truth(args.ground_truth)
    if not os.path.isdir(args.videos):
        raise UserError(f"no such folder: {args.videos}")
    with _service(args) as svc:
        _run_index(svc, [args.videos], quiet=False)
        report, preds = svc.evaluate(gt, args.videos)
        # each expert alone, beside the fusion: which one carries which kind of query
        report["experts"] = {only: svc.evaluate(gt, args.videos, only=only)[0] for only in ("visual", "speech", "text")}
    if args.predictions:
        Path(args.predictions).write_text(json.dumps(preds, indent=1))
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(Service.format_report(report))
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    if args.models_command == "remove":
        with _service(args, create=False) as svc:
            n = svc.remove_model(args.name)
        print(f"removed model {args.name} ({n} vectors) from {svc.dirs.library}")
        return 0
    from vsearch.service import Service

    Service.setup_logging()  # models live in the home: no library is opened (or created)
    if args.models_command == "import":
        name = Service.import_model(args.file, args.arch, name=args.name)
        print(f"imported {args.file} as model '{name}'; use it with --model {name}")
        return 0
    if args.models_command == "download":
        return _cmd_download(args)
    rows = Service.models()
    print(f"{'name':14s} {'size':>8s} {'here':>5s}  description")
    for r in rows:
        size = f"{r.size_mb} MB" if r.size_mb else "-"
        here = "yes" if r.present else ("part" if r.partial_bytes else "no")
        print(
            f"{r.name:14s} {size:>8s} {here:>5s}  {r.description}{'; ' + r.speed if r.speed else ''}"
        )
    return 0


def _cmd_download(args: argparse.Namespace) -> int:
    from vsearch.service import Service

    state = {"last": 0.0, "t0": 0.0, "first": -1, "shown": False}

    def prog(done: int, total: int) -> None:
        now = time.monotonic()
        if state["first"] < 0:
            state["first"], state["t0"] = done, now  # resumed bytes do not count for the speed
        if now - state["last"] > 0.2 or done >= total:
            state["last"] = now
            pct = 100 * done / total if total else 0
            secs = now - state["t0"]
            rate = (done - state["first"]) / secs if secs > 0.5 else 0.0
            speed = f" {rate / 1e6:5.1f} MB/s" if rate > 0 else ""
            eta = f"  ETA {clock_whole((total - done) / rate)}" if rate > 0 and total > done else ""
            print(
                f"\r{args.name}: {done / 1e6:7.1f}/{total / 1e6:.1f} MB {pct:5.1f}%{speed}{eta}   ",
                end="",
                file=sys.stderr,
                flush=True,
            )
            state["shown"] = True

    try:
        path = Service.download_model(args.name, progress=prog)
    except KeyboardInterrupt:
        print("\ndownload stopped; run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if state["shown"]:
            print(file=sys.stderr)  # end the progress line before any message
    print(f"downloaded {args.name} to {path}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from vsearch.service import Service

    if args.from_json:
        Service.setup_logging()  # the log file, as a command that opens no library
        query, moments = Service.read_results(args.from_json)
    elif args.text:
        query = _utf8(args.text, "the query")
        _count(args.k, "-k")
        with _service(args, create=False) as svc:
            moments = svc.search(args.text, k=args.k)
    else:
        raise UserError("give a query or --from RESULTS.json")
    if not moments:
        raise UserError("no moments to export")
    fmt = args.format.strip().lower()
    out = Path(args.out) if args.out else Path(Service.export_filename(query, fmt))

    opts: dict[str, object] = {"overwrite": args.overwrite}
    if fmt == "clips":
        opts["clip_mode"] = "reencode" if args.reencode else "copy"
    written = Service.export(moments, fmt, out, query=query, **opts)
    for w in written:
        print(w)
    return 0


# -- facility mode: `vsearch cluster ...` (vsearch.cluster, docs/CLUSTER.md) through the Service --
def _add_cluster_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _cmd_cluster(args: argparse.Namespace) -> int:
    cmd = getattr(args, "cluster_command", None)
    if cmd in ("attach", "detach", "list"):
        return _cluster_attachments(args)
    if cmd != "index":
        raise UserError("usage: vsearch cluster {index,attach,detach,list} ... (vsearch cluster -h)")
    for p in args.roots:
        if not os.path.isdir(p):
            raise UserError(f"no such folder: {p}")
    if args.cluster_model:
        args.model = args.cluster_model
    bar = ProgressBar(quiet=args.quiet)
    with _ctrl_c_cancels("stopping: finished videos are committed") as cancel:
        try:
            with _service(args) as svc:
                if args.sampling:
                    svc.settings = svc.settings.replace(sampling=args.sampling)
                if args.interval:
                    svc.settings = svc.settings.replace(interval=args.interval)
                extra: dict[str, float] = {}
                if args.workers:
                    extra["embed_workers"] = args.workers
                if args.gpus_per_worker is not None:
                    extra["gpus_per_worker"] = args.gpus_per_worker
                stats = svc.cluster_index(
                    args.roots, args.shared, address=args.ray, progress=bar, cancel=cancel, **extra
                )
        finally:
            bar.close()
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


def _cluster_attachments(args: argparse.Namespace) -> int:
    with _service(args) as svc:
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
