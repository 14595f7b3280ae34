"""Decoder processes (used on many-core GPU machines) store exactly what decoder threads store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers.videos import make_video
from vsearch.embed.testing import ColorEmbedder
from vsearch.indexer import Indexer, IndexOptions
from vsearch.store.library import Library
from vsearch.types import CancelToken


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("videos")
    make_video(d / "a.mp4", segments=[("red", 3.0), ("blue", 3.0)], gop=10)
    make_video(d / "b.mp4", segments=[("green", 2.0), ("yellow", 4.0)], gop=10)
    make_video(d / "c.mp4", segments=[("purple", 5.0)], gop=10)
    (d / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 5000)  # fails probing
    # probes fine (index at the end intact) but its picture data is noise: fails decoding
    bad = make_video(d / "noise.mp4", segments=[("white", 3.0)], gop=10)
    data = bytearray(bad.read_bytes())
    rng = np.random.default_rng(1)
    data[64 : len(data) - 1500] = rng.integers(0, 256, len(data) - 1564, dtype=np.uint8).tobytes()
    bad.write_bytes(bytes(data))
    return d


def index(tmp: Path, folder: Path, processes: bool, cancel: CancelToken | None = None):
    lib = Library(tmp / "lib")
    ix = Indexer(
        lib,
        ColorEmbedder,
        model_name="test-color",
        ann_folder=tmp / "ann",
        options=IndexOptions(decode_workers=2, decode_processes=processes, skip_similar=0.02),
    )
    stats = ix.update([str(folder)], cancel=cancel)
    stored = {}
    if ix.model is not None:
        for vid, row in lib.videos().items():
            _, times, vecs = lib.video_vectors(vid, ix.model.id, ix.model.dim)
            if len(times):
                stored[Path(row.path).name] = (times, vecs)
    failures = {Path(p).name: msg for p, msg in lib.failures()}
    lib.close()
    return stats, stored, failures


def test_processes_and_threads_store_the_same_frames(tmp_path: Path, folder: Path) -> None:
    s_thr, threads, f_thr = index(tmp_path / "t", folder, processes=False)
    s_proc, procs, f_proc = index(tmp_path / "p", folder, processes=True)
    assert s_proc.indexed == s_thr.indexed == 3
    assert set(procs) == set(threads) and len(procs["a.mp4"][0]) > 2
    for name, (times, vecs) in threads.items():
        np.testing.assert_allclose(procs[name][0], times)
        np.testing.assert_allclose(procs[name][1], vecs, atol=1e-3)
    # a broken file is recorded with the same one-line reason and the run goes on
    assert set(f_proc) == set(f_thr) == {"broken.mp4", "noise.mp4"}
    assert f_proc == f_thr


def test_cancelled_process_run_leaves_a_library_that_resumes(tmp_path: Path, folder: Path) -> None:
    cancel = CancelToken()
    cancel.cancel()
    stats, _, _ = index(tmp_path, folder, processes=True, cancel=cancel)
    assert stats.cancelled and stats.indexed == 0
    stats, stored, _ = index(tmp_path, folder, processes=True)
    assert stats.indexed == 3 and len(stored) == 3
