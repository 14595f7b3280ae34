"""A real local Ray cluster for the facility-mode tests, started once and stopped afterwards."""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[None]:
    """ray.init on a fresh one-machine cluster in a short temp dir (socket paths are limited),
    shut down when the cluster tests are done, not at the end of the whole session."""
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
        shutil.rmtree(tmp, ignore_errors=True)
