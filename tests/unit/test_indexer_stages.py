"""The indexer's stages: typed decoder events, the progress tracker, one consumer that survives a failed save."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.videos import make_video
from vsearch import indexer
from vsearch.decode_pool import Batch, DecodeJob, Done, Failed, start_pool
from vsearch.embed.testing import ColorEmbedder
from vsearch.frames import SampleOptions
from vsearch.indexer import Indexer, IndexOptions, ProgressTracker
from vsearch.probe import probe
from vsearch.store import ann
from vsearch.store.library import Library
from vsearch.types import FrameBatch, Progress


def test_events_survive_pickling_for_the_process_pool() -> None:
    frames = FrameBatch(np.array([0.0, 1.5]), np.zeros((2, 4, 4, 3), dtype=np.uint8))
    batch = pickle.loads(pickle.dumps(Batch(3, frames)))
    assert isinstance(batch, Batch) and batch.job == 3
    np.testing.assert_array_equal(batch.frames.times, frames.times)
    assert batch.frames.images.shape == (2, 4, 4, 3)
    assert pickle.loads(pickle.dumps(Done(1))) == Done(1)
    assert pickle.loads(pickle.dumps(Failed(2, "cannot decode: boom"))) == Failed(2, "cannot decode: boom")


@pytest.mark.parametrize("processes", [False, True])
def test_pool_delivers_batches_then_done_or_failed_per_job(tmp_path: Path, processes: bool) -> None:
    good = make_video(tmp_path / "good.mp4", segments=[("red", 2.0), ("blue", 2.0)], gop=10)
    info = probe(good)
    missing = DecodeJob(str(tmp_path / "gone.mp4"), info)
    pool = start_pool([DecodeJob(str(good), info), missing], SampleOptions(batch=2), 2, processes)
    events = []
    try:
        while sum(not isinstance(e, Batch) for e in events) < 2:
            events.append(pool.get(timeout=60))
    finally:
        pool.close()
    ends = [e for e in events if not isinstance(e, Batch)]
    assert Done(0) in ends
    failed = [e for e in ends if isinstance(e, Failed)]
    assert [e.job for e in failed] == [1] and "cannot open" in failed[0].reason
    batches = [e for e in events if isinstance(e, Batch)]
    assert batches and all(e.job == 0 and 1 <= len(e.frames) <= 2 for e in batches)
    done_at = next(i for i, e in enumerate(events) if isinstance(e, Done))
    assert not [e for e in events[done_at + 1 :] if e.job == 0], "nothing follows a job's Done"


def test_progress_tracker_counts_every_second_once() -> None:
    now = [100.0]
    tracker = ProgressTracker([10.0, 5.0], clock=lambda: now[0])
    tracker.advanced(0, 4.0)
    assert tracker.done_seconds == 4.0 and tracker.done_files == 0
    tracker.advanced(0, 12.0)  # a frame stamped past the probed duration counts only up to it
    assert tracker.done_seconds == 10.0
    tracker.ended(0)
    assert tracker.done_seconds == 10.0 and tracker.done_files == 1
    tracker.advanced(1, 1.0)
    now[0] = 102.0
    p = tracker.progress("b.mp4")
    assert p == Progress("index", 1, 2, 11.0, 15.0, current="b.mp4", rate=5.5, eta=pytest.approx(4 / 5.5))
    tracker.ended(1)  # failed part way: the rest of it counts as covered
    assert tracker.done_seconds == tracker.total_seconds == 15.0 and tracker.done_files == 2


def test_progress_tracker_without_durations_has_no_eta() -> None:
    tracker = ProgressTracker([0.0], clock=lambda: 5.0)
    assert tracker.total_seconds == 1.0
    p = tracker.progress("")
    assert p.rate == 0.0 and p.eta is None and p.total_files == 1


def _index(tmp_path: Path, folder: Path, progress=None):  # noqa: ANN001, ANN202
    lib = Library(tmp_path / "lib")
    ix = Indexer(
        lib, ColorEmbedder, model_name="test-color", ann_folder=tmp_path / "ann", options=IndexOptions(batch=2)
    )
    try:
        return ix.update([str(folder)], progress=progress)
    finally:
        lib.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("videos")
    make_video(d / "a.mp4", segments=[("red", 3.0), ("blue", 3.0)], gop=10)
    make_video(d / "b.mp4", segments=[("green", 4.0)], gop=10)
    (d / "c.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 5000)  # fails probing
    return d


def test_progress_ends_at_the_total_once_per_event(tmp_path: Path, folder: Path) -> None:
    reports: list[Progress] = []
    stats = _index(tmp_path, folder, reports.append)
    assert stats.indexed == 2 and stats.failed == 1
    done = [r.done_seconds for r in reports]
    assert done == sorted(done), "progress never goes back"
    last = reports[-1]
    assert last.done_files == last.total_files == 2  # the file that failed probing is not a job
    assert last.done_seconds == pytest.approx(last.total_seconds) and last.total_seconds > 9.0
    # one report per batch and one per finished video
    assert len(reports) == sum(1 for r in reports if r.stage == "index") >= stats.frames // 2 + 2


def test_a_failed_periodic_ann_save_is_logged_and_indexing_goes_on(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The periodic save gets the final save's handling: SQLite has everything, the cache is rebuilt."""
    calls = []

    def full_disk(self: ann.AnnIndex, generation: int) -> None:
        calls.append(generation)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(indexer, "ANN_SAVE_EVERY", -1.0)  # save after every event
    monkeypatch.setattr(ann.AnnIndex, "save", full_disk)
    caplog.set_level(logging.ERROR, logger="vsearch.store")
    stats = _index(tmp_path, folder)
    assert stats.indexed == 2 and not stats.cancelled
    assert len(calls) > 2, "periodic saves and the final one were all tried"
    assert caplog.text.count("could not save the ANN index") == len(calls)
    monkeypatch.undo()
    lib = Library(tmp_path / "lib")
    try:
        model = lib.model_by_name("test-color")
        assert model is not None
        assert sum(len(lib.video_vectors(v, model.id, model.dim)[1]) for v in lib.videos()) == stats.frames
    finally:
        lib.close()
