"""Named loggers per area and the rotating log file in the per-user log folder."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOGGER_NAMES = ("scan", "decode", "embed", "store", "query", "index", "speech", "export", "ui", "models")

scan = logging.getLogger("vsearch.scan")
decode = logging.getLogger("vsearch.decode")
embed = logging.getLogger("vsearch.embed")
store = logging.getLogger("vsearch.store")
query = logging.getLogger("vsearch.query")
index = logging.getLogger("vsearch.index")
speech = logging.getLogger("vsearch.speech")
export = logging.getLogger("vsearch.export")
ui = logging.getLogger("vsearch.ui")
models = logging.getLogger("vsearch.models")

_configured = False


class _FileHandler(logging.handlers.RotatingFileHandler):
    """The log file; when it cannot be written (disk full) records are dropped quietly.

    logging's default prints a traceback on stderr for every failed record, burying the one
    line the command line prints about the real problem.
    """

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.failed = True


def setup(log_dir: Path | None, level: int = logging.INFO, console_level: int | None = None) -> None:
    """Send vsearch's records to a rotating file in *log_dir* (and optionally stderr). Idempotent."""
    global _configured
    root = logging.getLogger("vsearch")
    if _configured:
        return
    _configured = True
    root.setLevel(logging.DEBUG)
    top = logging.getLogger()
    if not top.handlers:
        # some libraries call logging.warning() at module level, which runs basicConfig() and
        # would then print every vsearch DEBUG record on stderr; a handler here prevents that
        top.addHandler(logging.NullHandler())
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            fh = _FileHandler(
                log_dir / "vsearch.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
            fh.setLevel(level)
            fh.setFormatter(fmt)
            root.addHandler(fh)
        except OSError:
            pass  # a read-only home must not stop the app
    if console_level is not None:
        sh = logging.StreamHandler()
        sh.setLevel(console_level)
        sh.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(sh)
