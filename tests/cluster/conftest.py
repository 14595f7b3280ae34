"""A real local Ray cluster for the facility-mode tests, started once and stopped afterwards."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray.data", reason="facility mode needs vsearch[cluster]")
pytest.importorskip("lancedb", reason="facility mode needs vsearch[cluster]")

from tests.helpers.videos import make_video  # noqa: E402

#: The archive the tests index: colour segments, a keyframe every second, and a broken file.
ARCHIVE = {
    "a/red_blue.mp4": [("red", 3.0), ("blue", 3.0)],
    "a/green.mp4": [("green", 2.0), ("yellow", 3.0), ("green", 2.0)],
    "b/cyan_red.mp4": [("cyan", 4.0), ("red", 2.0)],
    "b/deep/magenta.mp4": [("magenta", 2.0), ("white", 2.0), ("orange", 3.0)],
}


def make_archive(root: Path, extra: int = 0) -> Path:
    for i, (rel, segs) in enumerate(ARCHIVE.items()):
        make_video(root / rel, segs, fps=10, gop=10, seed=i)
    colours = ["red", "green", "blue", "yellow", "purple", "grey"]
    for i in range(extra):
        segs = [(colours[i % 6], 3.0), (colours[(i + 2) % 6], 3.0), (colours[(i + 4) % 6], 3.0)]
        make_video(root / f"more/v{i:02d}.mp4", segs, fps=10, gop=10, seed=100 + i)
    (root / "b" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 50)
    return root


def _restore_crash_handler(config: pytest.Config) -> None:
    """ray.shutdown() resets SIGSEGV and friends to the default action, taking pytest's
    faulthandler with them: a later crash in this process would die without a traceback (CI
    once printed only "Segmentation fault"). Enable it again on pytest's copy of stderr."""
    import faulthandler

    try:
        from _pytest.faulthandler import fault_handler_stderr_fd_key

        fd = config.stash.get(fault_handler_stderr_fd_key, None)
    except ImportError:  # pytest moved it: the real stderr is the next best place
        fd = None
    faulthandler.enable(file=fd if fd is not None else sys.__stderr__, all_threads=True)


@pytest.fixture(scope="package")
def ray_cluster(request: pytest.FixtureRequest) -> Iterator[None]:
    """ray.init on a fresh one-machine cluster in a short temp dir (socket paths are limited),
    shut down when the cluster tests are done, not at the end of the whole session.

    ``make test`` runs tests/cluster in a pytest process of its own: what Ray leaves in a
    process after shutdown (its native threads, its signal dispositions) stays out of the rest.
    """
    import ray

    tmp = tempfile.mkdtemp(prefix="vsray", dir="/tmp" if os.path.isdir("/tmp") else None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fork", category=RuntimeWarning)
        ray.init(
            num_cpus=2,
            object_store_memory=96 * 1024 * 1024,
            _temp_dir=tmp,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    try:
        yield
    finally:
        ray.shutdown()
        _restore_crash_handler(request.config)
        shutil.rmtree(tmp, ignore_errors=True)
