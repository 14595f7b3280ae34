"""The index worker's signals (progressed, finished, failed), pause and cancel; the task pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from vsearch.errors import UserError
from vsearch.service import Service
from vsearch.types import IndexStats
from vsearch.ui.workers import Failure, IndexController, TaskRunner


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    make_video(d / "a.mp4", segments=[("red", 1.0), ("blue", 1.0)], fps=10, gop=5)
    make_video(d / "b.mp4", segments=[("green", 1.0), ("red", 1.0)], fps=10, gop=5)
    return d


@pytest.fixture
def service(tmp_path: Path):
    svc = Service(tmp_path / "lib", model="test-color")
    yield svc
    svc.close()


@pytest.fixture
def controller(qtbot, service):
    c = IndexController(service)
    yield c
    assert c.shutdown(10_000)


def test_progress_then_finished_with_stats(qtbot, controller, folder: Path, service) -> None:
    reports = []
    controller.progressed.connect(reports.append)
    with qtbot.waitSignal(controller.finished, timeout=20_000) as blocker:
        controller.enqueue([str(folder)])
    stats: IndexStats = blocker.args[0]
    assert stats.indexed == 2 and not stats.cancelled
    assert reports and reports[-1].done_files == reports[-1].total_files == 2
    assert not controller.is_busy()
    assert [f.indexed for f in service.folders()] == [2]


def test_user_error_arrives_as_failed_signal(qtbot, controller, tmp_path: Path) -> None:
    with qtbot.waitSignal(controller.failed, timeout=10_000) as blocker:
        controller.enqueue([str(tmp_path / "missing")])
    failure: Failure = blocker.args[0]
    assert failure.expected and "no such folder" in failure.message
    assert not controller.is_busy()


def test_a_bug_in_the_service_is_reported_not_swallowed(qtbot) -> None:
    class Broken:
        def index(self, paths, progress=None, cancel=None):
            raise ZeroDivisionError("boom")

    c = IndexController(Broken())
    try:
        with qtbot.waitSignal(c.failed, timeout=5000) as blocker:
            c.enqueue(["/x"])
        failure: Failure = blocker.args[0]
        assert not failure.expected and "ZeroDivisionError: boom" in failure.message
        assert "Traceback" in failure.details
    finally:
        assert c.shutdown(5000)


def test_pause_then_cancel_stops_the_run_and_keeps_the_library_consistent(
    qtbot, controller, folder, service
) -> None:
    for i in range(4):
        make_video(folder / f"more{i}.mp4", segments=[("yellow", 1.0)], fps=10, gop=5)
    with qtbot.waitSignal(controller.busyChanged):
        controller.enqueue([str(folder)])
    controller.pause()  # the worker holds at its first batch boundary
    assert controller.is_paused()
    controller.enqueue(None)  # a second job waits in the queue...
    assert controller.queued() == [None]
    with qtbot.waitSignal(controller.finished, timeout=20_000) as blocker:
        controller.cancel()  # ...and cancel drops it too
    stats: IndexStats = blocker.args[0]
    assert stats.cancelled
    assert stats.indexed < 6
    qtbot.waitUntil(lambda: not controller.is_busy(), timeout=5000)
    assert controller.queued() == []
    folders = service.folders()
    assert len(folders) == 1 and folders[0].indexed == stats.indexed


def test_pause_holds_the_run_within_one_batch_and_resume_finishes_it(qtbot, controller, tmp_path: Path, service) -> None:
    d = tmp_path / "long"
    for i in range(6):
        make_video(d / f"v{i}.mp4", segments=[("red", 10.0), ("blue", 10.0)], fps=10, gop=5, seed=i)
    reports: list = []
    controller.progressed.connect(reports.append)
    controller.enqueue([str(d)])
    qtbot.waitUntil(lambda: any(r.done_seconds > 0 for r in reports), timeout=30_000)
    controller.pause()
    at_pause = len(reports)
    qtbot.wait(1500)
    held = len(reports)
    # the batch in flight (and a report already queued to the GUI thread) may still arrive; no more
    assert held - at_pause <= 2, [(r.stage, r.done_files, round(r.done_seconds, 1)) for r in reports[at_pause:]]
    qtbot.wait(1000)
    assert len(reports) == held and controller.is_paused() and controller.is_busy()
    assert reports[-1].done_files < 6  # it was stopped mid-run, not at the end
    with qtbot.waitSignal(controller.finished, timeout=60_000) as blocker:
        controller.resume()
    stats: IndexStats = blocker.args[0]
    assert not stats.cancelled and stats.indexed == 6
    assert [f.indexed for f in service.folders()] == [6]


def test_queued_folders_run_one_after_another(qtbot, controller, folder, tmp_path, service) -> None:
    other = tmp_path / "other"
    make_video(other / "c.mp4", segments=[("white", 1.0)], fps=10, gop=5)
    done = []
    controller.finished.connect(done.append)
    controller.enqueue([str(folder)])
    controller.enqueue([str(other)])
    qtbot.waitUntil(lambda: len(done) == 2, timeout=20_000)
    assert sorted(f.indexed for f in service.folders()) == [1, 2]


def test_task_runner_delivers_results_and_errors_on_the_gui_thread(qtbot) -> None:
    runner = TaskRunner(2)
    got, errors = [], []
    runner.submit(lambda a, b: a + b, 2, 3, on_done=got.append)
    runner.submit(_raise_user_error, on_done=got.append, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(got and errors), timeout=5000)
    assert got == [5]
    assert errors[0].expected and errors[0].message == "bad input"
    with qtbot.waitSignal(runner.failed) as blocker:  # no error callback: reported, not lost
        runner.submit(_raise_user_error)
    assert blocker.args[0].message == "bad input"
    assert runner.shutdown(5000)
    assert runner.submit(lambda: 1, on_done=got.append) == 0  # closed: nothing more runs


def _raise_user_error():
    raise UserError("bad input")
