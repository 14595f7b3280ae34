"""Issue 15.4: `forget` while `index` runs, both real CLI processes.

Before the fix the forget went through: the indexer then died on a frame of the deleted video
(IntegrityError: FOREIGN KEY constraint failed) and saved a cache holding the forgotten
vectors under the database's new generation (ghost vectors trusted afterwards). Every
mutation now takes the writer lock: the forget is refused with one line (exit 3) and works
once the index run is over; a cache is only ever saved under a generation that describes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, REPO, assert_cache_truthful, check_sound, cli
from tests.reliability.test_concurrency import COLOURS, _wait_for_frames
from vsearch.service import Service
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Library


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    d = tmp_path / "videos"
    for i, c in enumerate(COLOURS):
        make_video(d / f"{c}.mp4", segments=[(c, 4.0), (c, 4.0)], fps=10, gop=5, seed=i)
    return d


def _index_cli(lib: Path, videos: Path, tmp_path: Path, pause: Path) -> subprocess.Popen:
    args = ["--library", str(lib), "--model", MODEL, "index", "-q", "--no-speech", str(videos)]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._driver", str(tmp_path / "phase.txt"), "--", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "VSEARCH_TEST_BATCH": "2", "VSEARCH_TEST_PAUSE_FILE": str(pause)},
    )


def _refused(r, what: str) -> None:  # noqa: ANN001 - CompletedProcess
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 3, (what, r.returncode, r.stdout, r.stderr)
    assert len(lines) == 1 and "another vsearch process" in lines[0], (what, r.stderr)


def test_forget_while_index_runs_is_refused_and_the_indexer_survives(videos: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    other = tmp_path / "other"
    make_video(other / "extra.mp4", segments=[("white", 2.0)], fps=10, gop=5)
    pause = tmp_path / "pause"
    pause.touch()  # the index run stops after its first stored batch until the forgets were tried
    proc = _index_cli(lib, videos, tmp_path, pause)
    try:
        _wait_for_frames(lib, proc)
        _refused(cli(lib, "forget", str(videos / "red.mp4")), "forget a file")
        _refused(cli(lib, "forget", str(videos)), "forget the folder")
        _refused(cli(lib, "index", "-q", "--no-speech", str(other)), "index a new folder")
        running = proc.poll() is None
        pause.unlink()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert running, "the index run ended before the forgets were tried"
    assert proc.returncode == 0 and "FOREIGN KEY" not in err, err
    assert_cache_truthful(lib)
    assert check_sound(lib) > 0
    with Service(lib, model=MODEL) as svc:
        st = svc.status()
        assert st.indexed == len(COLOURS)
        assert [f.path for f in st.folders] == [str(videos)]  # the refused index did not add its folder

    # once the indexer is done, forgetting works and leaves no ghost behind
    r = cli(lib, "forget", str(videos / "red.mp4"))
    assert r.returncode == 0 and "forgot 1 video" in r.stdout, r.stderr
    assert_cache_truthful(lib)
    r = cli(lib, "search", "red", "-k", "10", "--json")
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)["results"]
    assert results and all(os.path.basename(m["path"]) != "red.mp4" for m in results)
    assert_cache_truthful(lib)
    check_sound(lib)


def test_a_search_saves_its_cache_under_the_generation_it_read(videos: Path, tmp_path: Path) -> None:
    """A searching process reconciles a stale cache while another process forgets a video.

    The cache must not be saved under the generation of after the forget: it still holds the
    forgotten vectors, and a cache at the database's generation is trusted without a check.
    """
    lib = tmp_path / "lib"
    with Service(lib, model=MODEL) as svc:
        svc.index([videos])
        model = svc.library.model_by_name(MODEL)
        gen = svc.library.generation(model.id)
    # a stale cache: one vector short, labelled with an older generation
    ann = AnnIndex(lib / "ann", model.model_id, model.dim)
    ann.load()
    ann.delete(np.asarray(ann._ids[:1]))
    ann.save(gen - 1)

    with Service(lib, model=MODEL) as svc:
        real = svc.library.vector_ids

        def ids_then_forget(model_pk: int) -> np.ndarray:
            ids = real(model_pk)
            other = Library(lib)  # "another process" forgets red.mp4 right after the ids were read
            try:
                with other.writer():
                    assert other.remove_root(str(videos / "red.mp4")) == 1
            finally:
                other.close()
            return ids

        svc.library.vector_ids = ids_then_forget  # type: ignore[method-assign]
        assert svc.searcher() is not None  # reconciles the stale cache and saves it
        svc.library.vector_ids = real  # type: ignore[method-assign]
    assert_cache_truthful(lib)
    check_sound(lib)
