"""Model downloads end to end against a local hub-compatible server (issue 16.5).

The server (tests/helpers/hub.py) speaks huggingface_hub's protocol on 127.0.0.1 and serves a
randomly initialised tiny open_clip checkpoint as ``vsearch-test/tiny-clip``; ``HF_ENDPOINT``
points at it and downloads are allowed (HF_HUB_OFFLINE unset) only inside these tests: in a
monkeypatched scope or in the environment of their own subprocesses.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hub
from tests.helpers.videos import make_video
from vsearch.errors import Cancelled, EnvironmentProblem
from vsearch.service import Service
from vsearch.types import CancelToken

ROOT = Path(__file__).resolve().parents[2]
KEY = f"{hub.REPO}/{hub.FILE}"


@pytest.fixture(scope="module")
def checkpoint() -> bytes:
    return hub.tiny_checkpoint()


@pytest.fixture
def server(checkpoint: bytes) -> Iterator[hub.HubServer]:
    with hub.HubServer({KEY: checkpoint}) as srv:
        yield srv


@pytest.fixture
def online(server: hub.HubServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> hub.HubServer:
    """This test's own process may download from the local hub (and knows the tiny tag)."""
    import huggingface_hub.constants
    from open_clip import pretrained

    from vsearch.embed.arch import TINY_ARCH, ensure_bundled_configs

    ensure_bundled_configs()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "DOWNLOAD_CHUNK_SIZE", 64 << 10)
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    tags = dict(pretrained._PRETRAINED.get(TINY_ARCH, {}))
    tags[hub.TAG] = pretrained._pcfg(hf_hub=f"{hub.REPO}/")
    monkeypatch.setitem(pretrained._PRETRAINED, TINY_ARCH, tags)
    return server


def cli(server: hub.HubServer, tmp_path: Path, *args: str, wait: bool = True):  # noqa: ANN201
    """`vsearch ARGS` in a subprocess that may download from *server* (the tiny tag registered)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
        and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")
    }
    env.update(
        HF_ENDPOINT=server.url,
        HF_HOME=str(tmp_path / "hf-home"),
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
    )
    cmd = [sys.executable, "-m", "tests.helpers.hub", *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def repo_dir() -> Path:
    return Path(os.environ["VSEARCH_HOME"]) / "models" / "hf" / ("models--" + hub.REPO.replace("/", "--"))


def parts() -> list[Path]:
    return sorted((repo_dir() / "blobs").glob("*.vsearch-part"))


def snapshot() -> Path:
    return repo_dir() / "snapshots" / hub.COMMIT / hub.FILE


def test_download_reports_progress_to_100_percent_then_works_offline(
    online: hub.HubServer, checkpoint: bytes
) -> None:
    seen: list[tuple[int, int]] = []
    with Service(model="test-color") as svc:
        path = svc.download_model(hub.NAME, progress=lambda done, total: seen.append((done, total)))
    assert path == snapshot() and hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(checkpoint).digest()
    assert seen[-1] == (len(checkpoint), len(checkpoint))  # 100 %
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) > 3
    assert (repo_dir() / "refs" / "main").read_text() == hub.COMMIT
    assert [r.range for r in online.gets()] == [None] and not parts()
    # present now: a second request touches no network, and the model loads from the cache
    n = len(online.state.requests)
    with Service(model="test-color") as svc:
        assert svc.download_model(hub.NAME) == path
        emb = svc.embedder(hub.NAME)
        assert emb.model_id == f"openclip:tiny_clip:{hub.TAG}:pp1" and emb.embed_text(["a dog"]).shape == (1, 32)
    assert len(online.state.requests) == n


def test_cancelled_download_keeps_its_part_and_the_next_one_resumes(
    online: hub.HubServer, checkpoint: bytes
) -> None:
    tok = CancelToken()

    def progress(done: int, total: int) -> None:
        if done >= total // 3:
            tok.cancel()

    with Service(model="test-color") as svc:
        with pytest.raises(Cancelled):
            svc.download_model(hub.NAME, progress=progress, cancel=tok)
        [part] = parts()
        have = part.stat().st_size
        assert 0 < have < len(checkpoint) and not snapshot().exists()
        seen: list[tuple[int, int]] = []
        svc.download_model(hub.NAME, progress=lambda d, t: seen.append((d, t)))
    assert online.gets()[-1].range == f"bytes={have}-" and online.gets()[-1].sent == len(checkpoint) - have
    assert seen[0][0] > have and seen[-1] == (len(checkpoint), len(checkpoint))
    assert snapshot().read_bytes() == checkpoint and not parts()


def test_too_little_disk_space_is_refused_before_the_first_byte(
    online: hub.HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    with Service(model="test-color") as svc, pytest.raises(EnvironmentProblem, match="not enough disk space"):
        svc.download_model(hub.NAME)
    assert online.gets() == [] and not snapshot().exists()


def test_a_download_killed_midway_resumes_where_it_stopped(
    online: hub.HubServer, checkpoint: bytes, tmp_path: Path
) -> None:
    online.state.stall_after = len(checkpoint) // 2
    proc = cli(online, tmp_path, "models", "download", hub.NAME, wait=False)
    try:
        assert online.state.stalled.wait(240), "the download never started"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(p.stat().st_size for p in parts()) < len(checkpoint) // 4:
            time.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL: no cleanup runs
        proc.communicate(timeout=60)
    online.state.stall_after = None
    online.state.released.set()
    [part] = parts()
    have = part.stat().st_size
    assert len(checkpoint) // 4 <= have < len(checkpoint) and not snapshot().exists()
    seen: list[tuple[int, int]] = []
    with Service(model="test-color") as svc:  # the next try (here: this process) goes on from there
        svc.download_model(hub.NAME, progress=lambda d, t: seen.append((d, t)))
    last = online.gets()[-1]
    assert last.range == f"bytes={have}-" and last.sent == len(checkpoint) - have
    assert seen[0][0] > have and seen[-1] == (len(checkpoint), len(checkpoint))
    assert snapshot().read_bytes() == checkpoint and not parts()


def test_a_corrupted_download_is_refused_and_deleted(online: hub.HubServer, checkpoint: bytes) -> None:
    online.state.corrupt = True
    with Service(model="test-color") as svc:
        with pytest.raises(EnvironmentProblem, match=r"is corrupt \(sha256 .*run the download again") as err:
            svc.download_model(hub.NAME)
        assert "\n" not in str(err.value)
        assert not snapshot().exists() and not parts()
        assert not any((repo_dir() / "blobs").iterdir())
        assert not any(r.name == hub.NAME and r.present for r in svc.models())
        online.state.corrupt = False
        assert svc.download_model(hub.NAME).read_bytes() == checkpoint


def test_switch_to_the_downloaded_model_while_the_old_one_serves_searches(
    online: hub.HubServer, tmp_path: Path
) -> None:
    folder = tmp_path / "videos"
    folder.mkdir()
    for i in range(3):
        make_video(folder / f"v{i}.mp4", segments=[("red", 2.0), ("blue", 2.0)], fps=10)
    with Service(model="test-color") as svc:
        svc.index([folder])
    with Service() as svc:  # as the app does: download, choose it in the settings, rescan
        before = svc.search("red", k=3)
        assert before and svc.search_model().name == "test-color"
        svc.download_model(hub.NAME)
        svc.update_settings(model=hub.NAME)
        gate, entered = threading.Event(), threading.Event()

        def progress(p: object) -> None:
            entered.set()
            assert gate.wait(60)

        result: dict[str, object] = {}
        worker = threading.Thread(target=lambda: result.update(stats=svc.index(progress=progress)))
        worker.start()
        try:
            assert entered.wait(120), "indexing with the new model never started"
            # the new model is being built: searches are still answered by the old, complete one
            assert {m.name: m.state for m in svc.status().models} == {"test-color": "active", hub.NAME: "building"}
            assert svc.search("red", k=3) == before
        finally:
            gate.set()
            worker.join(300)
        assert not worker.is_alive() and not result["stats"].cancelled
        assert {m.name: m.state for m in svc.status().models} == {"test-color": "retired", hub.NAME: "active"}
        assert svc.search_model().name == hub.NAME and svc.search("red", k=3)
