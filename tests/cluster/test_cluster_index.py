"""Facility mode end to end on a real local Ray cluster: index, search, kill, cancel, re-run."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cluster.conftest import make_archive
from vsearch.service import Service
from vsearch.store.shared import SharedDataset, video_key
from vsearch.types import CancelToken

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ray_cluster")]

MODEL = "test-color"


def _local(lib: Path, root: Path) -> Service:
    svc = Service(lib, model=MODEL)
    svc.settings = svc.settings.replace(speech=False)
    svc.index([str(root)])
    return svc


def _shared_frames(uri: str) -> tuple[SharedDataset, dict[int, tuple[np.ndarray, np.ndarray]]]:
    ds = SharedDataset(uri)
    model = ds.active_model()
    assert model is not None
    return ds, ds.video_vectors(model, list(ds.videos()))


def _assert_no_duplicates(uri: str) -> int:
    ds = SharedDataset(uri)
    model = ds.active_model() or ds.models()[-1]
    tb = ds._read(model.table, ["video_id", "t"])
    keys = list(zip(tb.column("video_id").to_pylist(), tb.column("t").to_pylist(), strict=True))
    assert len(keys) == len(set(keys)), "a frame was written twice"
    cover = ds.coverage(model.model_id)
    counts: dict[int, int] = {}
    for vid, _ in keys:
        counts[vid] = counts.get(vid, 0) + 1
    for vid, (state, _, _, n) in cover.items():
        if state == "done":
            assert counts.get(vid, 0) == n, "a committed video lacks frames"
    return len(keys)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory):
    """One archive indexed twice: by the local indexer and on the cluster (same model and settings)."""
    base = tmp_path_factory.mktemp("cluster")
    root = make_archive(base / "archive")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSEARCH_HOME", str(base / "home"))
        local = _local(base / "lib", root)
        uri = str(base / "shared")
        with Service(base / "driver", model=MODEL) as drv:
            stats = drv.cluster_index([str(root)], uri)
        yield root, local, uri, stats
        local.close()


def test_vectors_equal_the_local_indexers(indexed) -> None:
    root, local, uri, stats = indexed
    assert stats.indexed == 4 and stats.failed == 1 and not stats.cancelled
    assert [p for p, _ in stats.errors] == [str(root / "b" / "broken.mp4")]
    ds, shared = _shared_frames(uri)
    model = ds.active_model()
    assert model.model_id == "test-color-v1" and model.state == "active"
    rows = local.library.videos()
    lm = local.library.model("test-color-v1")
    assert len(shared) == 4
    compared = 0
    for row in rows.values():
        if row.status != "indexed":
            continue
        compared += 1
        _, lt, lv = local.library.video_vectors(row.id, lm.id, lm.dim)
        st, sv = shared[video_key(row.path)]
        np.testing.assert_array_equal(st, lt)  # same sampling: the same times
        np.testing.assert_array_equal(sv.astype(np.float16), lv.astype(np.float16))  # same vectors, as stored
    assert compared == 4
    videos = ds.videos()
    broken = videos[video_key(str(root / "b" / "broken.mp4"))]
    assert broken.status == "failed" and broken.error
    ok = [v for v in videos.values() if v.status == "ok"]
    assert all(v.duration and v.duration > 5 for v in ok)


@pytest.mark.parametrize("query", ["red", "green and yellow", "a white moment", "orange"])
def test_top_moments_equal_the_local_librarys(indexed, query: str, tmp_path: Path) -> None:
    root, local, uri, _ = indexed
    want = local.search(query, k=6, only="visual")
    assert want
    with Service(tmp_path / "desk", model=MODEL) as desk:  # an empty local library: shared only
        assert desk.attach_shared(uri)
        got = desk.search(query, k=6, only="visual")
        # the heat strip of a shared moment is the one the local library draws for that file
        lt, lc = local.similarity_curve(query, want[0].video_id)
        st, sc = desk.similarity_curve(query, got[0].video_id)
        np.testing.assert_array_equal(st, lt)
        np.testing.assert_allclose(sc, lc, atol=1e-6)
    assert [(m.path, m.start, m.end) for m in got] == [(m.path, m.start, m.end) for m in want]
    np.testing.assert_allclose([m.score for m in got], [m.score for m in want], rtol=1e-6)
    # attached beside the local library that holds the same files: ranked together, counted once
    local.attach_shared(uri)
    try:
        both = local.search(query, k=6, only="visual")
    finally:
        local._shared.clear()
    assert [(m.path, m.start, m.end) for m in both] == [(m.path, m.start, m.end) for m in want]


def test_the_driver_stores_the_query_banks_activation_and_a_desktop_searches_without_the_bank_pass(
    indexed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desktop's first search reads the activation the driver stored instead of searching the
    table once per bank sentence (2,644 LanceDB searches on a large table), with the same result."""
    from vsearch.cluster import attach
    from vsearch.cluster.attach import SharedAnn, current_activation

    _, local, uri, _ = indexed
    ds = SharedDataset(uri)
    model = ds.active_model()
    act = ds.activation(model)
    assert act is not None and act.frames == ds.frame_count(model) and act.hubs
    want = local.search("orange", k=6, only="visual")
    with Service(tmp_path / "desk", model=MODEL) as desk:
        assert desk.attach_shared(uri)

        def no_bank_pass(self: SharedAnn, vectors: np.ndarray, k: int) -> None:
            raise AssertionError("the first search ran the query bank over the shared table")

        with monkeypatch.context() as mp:
            mp.setattr(SharedAnn, "search_many", no_bank_pass)
            got = desk.search("orange", k=6, only="visual")
        sh = desk._shared[0]
        assert current_activation(sh) is not None
        sh._act = None
        with monkeypatch.context() as mp:  # computed on the desktop, as without the table
            mp.setattr(attach, "current_activation", lambda searcher: None)
            hubs, typical = sh._activation()
    assert hubs == set(act.hubs) and typical == pytest.approx(act.typical, abs=1e-12)
    assert [(m.path, m.start, m.end) for m in got] == [(m.path, m.start, m.end) for m in want]


def test_paths_are_mapped_to_the_local_mount(indexed, tmp_path: Path) -> None:
    root, _, uri, _ = indexed
    with Service(tmp_path / "desk", model=MODEL) as desk:
        desk.attach_shared(uri, [f"{root}=/Volumes/Archive"])
        got = desk.search("red", k=3, only="visual")
    assert got and all(m.path.startswith("/Volumes/Archive/") for m in got)
    assert {m.path for m in got} <= {"/Volumes/Archive/a/red_blue.mp4", "/Volumes/Archive/b/cyan_red.mp4"}


def test_rerun_over_unchanged_archive_adds_nothing(indexed, tmp_path: Path) -> None:
    root, _, uri, _ = indexed
    before = _assert_no_duplicates(uri)
    versions = {t: SharedDataset(uri).table(t).version for t in ("videos", "coverage", "activation")}
    with Service(tmp_path / "drv", model=MODEL) as drv:
        stats = drv.cluster_index([str(root)], uri)
    assert (stats.new, stats.changed, stats.gone, stats.indexed, stats.frames) == (0, 0, 0, 0, 0)
    assert stats.unchanged == 5  # four videos and the broken file, recorded as failed
    assert _assert_no_duplicates(uri) == before
    assert {t: SharedDataset(uri).table(t).version for t in ("videos", "coverage", "activation")} == versions


def test_changed_and_gone_files_are_replaced_and_removed(tmp_path: Path) -> None:
    from tests.helpers.videos import make_video

    root = make_archive(tmp_path / "archive")
    uri = str(tmp_path / "shared")
    with Service(tmp_path / "drv", model=MODEL) as drv:
        drv.cluster_index([str(root)], uri)
        os.remove(root / "a" / "green.mp4")
        changed = root / "b" / "cyan_red.mp4"
        make_video(changed, [("purple", 5.0)], fps=10, gop=10)
        os.utime(changed, (time.time() + 5, time.time() + 5))
        stats = drv.cluster_index([str(root)], uri)
    assert (stats.changed, stats.gone, stats.indexed, stats.unchanged) == (1, 1, 1, 3)
    _assert_no_duplicates(uri)
    ds = SharedDataset(uri)
    assert video_key(str(root / "a" / "green.mp4")) not in ds.videos()
    with Service(tmp_path / "desk", model=MODEL) as desk:
        desk.attach_shared(uri)
        top = desk.search("purple", k=1, only="visual")[0]
        assert top.path == str(changed) and top.end - top.start >= 4.0
        assert not [m for m in desk.search("green", k=5, only="visual") if "green.mp4" in m.path]


def _ray_workers() -> list[tuple[int, str]]:
    """(pid, title) of this machine's Ray worker processes that run our stages."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("ray::") and ("decode_videos" in title or "EmbedFrames" in title or "MapWorker" in title):
            out.append((int(pid), title.strip()))
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds Ray's worker processes in /proc")
def test_sigkill_of_workers_mid_run_still_gives_a_complete_duplicate_free_dataset(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "archive", extra=6)
    lib_root = root
    with pytest.MonkeyPatch.context():
        local = _local(tmp_path / "lib", lib_root)
    want = {row.path: local.library.frame_count(row.id) for row in local.library.videos().values()
            if row.status == "indexed"}
    local.close()
    assert len(want) == 10
    uri = str(tmp_path / "shared")
    killed: list[str] = []
    calls: list[int] = []
    lock = threading.Lock()

    def progress(p) -> None:  # noqa: ANN001
        # the first and third time frames reach the driver with work left: kill every stage's workers
        with lock:
            calls.append(p.done_files)
            if len(calls) not in (1, 3) or p.done_files >= p.total_files:
                return
            for pid, title in _ray_workers():
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(title)
                except ProcessLookupError:
                    pass

    with Service(tmp_path / "drv", model=MODEL) as drv:
        stats = drv.cluster_index([str(root)], uri, progress=progress)
    assert killed, "no Ray worker was running to be killed"
    print("killed:", killed)
    assert stats.indexed == len(want) and stats.failed == 1 and not stats.cancelled
    assert _assert_no_duplicates(uri) == sum(want.values())
    ds = SharedDataset(uri)
    model = ds.active_model()
    by_path = {v.path: ds.frame_count(model, vid) for vid, v in ds.videos().items() if v.status == "ok"}
    assert by_path == want


def test_cancel_keeps_finished_videos_and_a_rerun_resumes(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "archive", extra=3)
    uri = str(tmp_path / "shared")
    cancel = CancelToken()

    def progress(p) -> None:  # noqa: ANN001
        if p.done_files >= 1:
            cancel.cancel()

    with Service(tmp_path / "drv", model=MODEL) as drv:
        first = drv.cluster_index([str(root)], uri, progress=progress, cancel=cancel)
        assert first.cancelled and 1 <= first.indexed + first.failed < 8
        _assert_no_duplicates(uri)
        ds = SharedDataset(uri)
        assert ds.models()[-1].state == "building"  # not every video is in: not yet serving
        second = drv.cluster_index([str(root)], uri)
    assert not second.cancelled
    assert first.indexed + second.indexed == 7 and first.failed + second.failed == 1
    assert second.unchanged == first.indexed + first.failed
    _assert_no_duplicates(uri)
    assert SharedDataset(uri).active_model() is not None


def test_a_run_killed_between_commits_leaves_no_duplicates(indexed, tmp_path: Path) -> None:
    """A driver killed after adding a video's frames but before marking it done: the re-run rewrites it."""
    import shutil

    root, _, uri0, _ = indexed
    uri = str(tmp_path / "shared")
    shutil.copytree(uri0, uri)
    ds = SharedDataset(uri, readonly=False)
    model = ds.active_model()
    vid = video_key(str(root / "a" / "red_blue.mp4"))
    f = ds.videos()[vid]
    times, vecs = ds.video_vectors(model, [vid])[vid]
    ds.mark(model, [(vid, f.size, f.mtime, len(times))], "writing")
    ds.add_frames(model, np.full(len(times), vid), times, vecs)  # the half-finished commit
    with Service(tmp_path / "drv", model=MODEL) as drv:
        stats = drv.cluster_index([str(root)], uri)
    assert stats.indexed == 1 and stats.unchanged == 4
    _assert_no_duplicates(uri)
    assert SharedDataset(uri).frame_count(model, vid) == len(times)


def test_ctrl_c_in_the_terminal_stops_the_cli_cleanly_and_a_rerun_resumes(tmp_path: Path) -> None:
    """`vsearch cluster index` in a terminal, Ctrl-C once after the first files: a clean stop
    (exit 130, "run again to resume", no traceback), nothing doubled, and the same command again
    finishes the rest."""
    import re
    import subprocess
    import sys

    import ray

    root = make_archive(tmp_path / "archive", extra=20)
    uri = str(tmp_path / "shared")
    address = ray.get_runtime_context().gcs_address  # the tests' cluster, as `--ray HOST:PORT`
    cmd = [sys.executable, "-m", "vsearch", "--model", MODEL, "--library", str(tmp_path / "drv"),
           "cluster", "index", str(root), "--shared", uri, "--ray", address]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # a session of its own, signalled as a whole: what a terminal's Ctrl-C does to its foreground job
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    assert proc.stderr is not None
    err = ""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        ch = proc.stderr.read(1)
        if not ch:
            break
        err += ch
        if re.search(r"% +[1-9]\d*/\d+ files", err):
            os.killpg(proc.pid, signal.SIGINT)
            break
    out, rest = proc.communicate(timeout=240)
    err += rest
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "stopping: finished videos are committed" in err
    m = re.search(r"indexed (\d+) .*failed (\d+) -- cancelled, run again to resume", out)
    assert m, out
    first = int(m.group(1)) + int(m.group(2))
    print("after Ctrl-C:", out.strip())
    assert 1 <= first < 25
    _assert_no_duplicates(uri)
    again = subprocess.run([*cmd, "-q"], capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    m2 = re.search(r"(\d+) unchanged; indexed (\d+) .*failed (\d+)", again.stdout)
    assert m2, again.stdout
    assert int(m2.group(1)) == first and first + int(m2.group(2)) + int(m2.group(3)) == 25
    assert _assert_no_duplicates(uri) > 0
    assert SharedDataset(uri).active_model() is not None
