"""Run the vsearch command line as the unprivileged user 'nobody' (root ignores file modes).

The interpreter lives under /root here, where 'nobody' cannot read, so instead of a new process
the CLI runs in a fork of this one that drops to uid/gid 65534 first; every module the commands
need is imported before the fork.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

NOBODY = 65534
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
_PRELOAD = (
    "vsearch.cli",
    "vsearch.service",
    "vsearch.export",
    "vsearch.embed.registry",
    "vsearch.embed.testing",
    "vsearch.query.search",
    "vsearch.speech.index",
    "vsearch.speech.fusion",
    "vsearch.store.ann",
    "vsearch.evaluate",
    "PIL.Image",
    "PIL.ImageDraw",
    "PIL.ImageFont",
    "PIL.ImageOps",
    "PIL.PngImagePlugin",
    "PIL.JpegImagePlugin",
    "encodings.idna",
    "encodings.utf_8_sig",
    "vsearch.export.csvfile",
    "csv",
    "av",
)


def shared_dir(prefix: str) -> Path:
    """A fresh folder under /tmp that 'nobody' can enter (pytest's tmp_path is mode 700)."""
    d = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    d.chmod(0o755)
    return d


def cli_as_nobody(argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """``vsearch ARGV`` as 'nobody' with *env* added; returns its exit code, stdout and stderr."""
    for name in _PRELOAD:
        importlib.import_module(name)
    import vsearch.cli

    out_dir = Path(tempfile.mkdtemp(prefix="vsearch-nobody-out-", dir="/tmp"))
    out_dir.chmod(0o777)
    out_f, err_f = out_dir / "out", out_dir / "err"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        rc = 99
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.environ.update(env)
            sys.stdout = open(out_f, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
            sys.stderr = open(err_f, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
            rc = vsearch.cli.main(argv)
        except BaseException:  # noqa: BLE001 - report anything to the parent
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(rc if isinstance(rc, int) else 98)
    _, status = os.waitpid(pid, 0)
    rc = os.waitstatus_to_exitcode(status)
    out = out_f.read_text() if out_f.exists() else ""
    err = err_f.read_text() if err_f.exists() else ""
    for f in (out_f, err_f):
        f.unlink(missing_ok=True)
    out_dir.rmdir()
    return subprocess.CompletedProcess(argv, rc, out, err)
