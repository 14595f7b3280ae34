"""The ANN cache never decides an answer on its own (issue 15.3, issue 14).

A cache that parses but lies (NaN vectors, shifted labels, ghost vectors at the library's
generation), a header claiming 1e11 entries, an old faiss / exact / hnswlib-v1 cache, and a
SIGKILL during a save or a compaction: each must leave a library that opens and answers as a
cache rebuilt from SQLite would, and `vsearch index` (not only `rebuild-index`) repairs the files.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, REPO, check_sound, cli
from vsearch.service import Service
from vsearch.store import ann as annmod
from vsearch.store.ann import AnnIndex

COLOURS = ["red", "blue", "green", "yellow"]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An indexed library (kept pristine: tests work on copies)."""
    root = tmp_path_factory.mktemp("anncache")
    d = root / "videos"
    for i, c in enumerate(COLOURS):
        make_video(d / f"{c}.mp4", segments=[(c, 3.0), ("white", 1.0), (c, 3.0)], fps=10, gop=5, seed=i)
    lib = root / "lib"
    assert (
        cli(lib, "index", "-q", "--no-speech", "--sampling", "exact", "--interval", "0.25", str(d)).returncode
        == 0
    ), "index failed"
    return lib


@pytest.fixture
def lib(library: Path, tmp_path: Path) -> Path:
    import shutil

    dst = tmp_path / "lib"
    shutil.copytree(library, dst)
    return dst


def _answers(lib: Path) -> list[tuple[str, float, float]]:
    with Service(lib, model=MODEL) as svc:
        out = []
        for c in COLOURS + ["white"]:
            out += [
                (Path(m.path).name, round(m.start, 3), round(m.score, 4))
                for m in svc.search(c, k=5, min_score=-1)
            ]
        return out


def _model(lib: Path):  # noqa: ANN202
    with Service(lib, model=MODEL) as svc:
        return svc.library.model_by_name(MODEL)


def _truth(lib: Path) -> tuple[np.ndarray, np.ndarray]:
    with Service(lib, model=MODEL) as svc:
        m = svc.library.model_by_name(MODEL)
        ids, vecs = zip(*svc.library.iter_vectors(m.id, m.dim), strict=True)
        return np.concatenate(ids), np.concatenate(vecs)


def _cache_agrees(lib: Path) -> bool:
    """The files on disk load, and a fresh index from them passes the check against SQLite."""
    m = _model(lib)
    with Service(lib, model=MODEL) as svc:
        ann = AnnIndex(lib / "ann", m.model_id, m.dim)
        if ann.load() is None:
            return False
        try:
            ann._verify(svc.library, m.id)
        except annmod.CacheMismatch:
            return False
        truth = set(int(i) for i in svc.library.vector_ids(m.id))
        return set(ann._ids.tolist()) == truth and ann.generation == svc.library.generation(m.id)


def _lying_cache(lib: Path, how: str) -> None:
    """Replace the saved cache with a self-consistent one (valid CRCs) that does not describe SQLite."""
    m = _model(lib)
    ids, vecs = _truth(lib)
    with Service(lib, model=MODEL) as svc:
        gen = svc.library.generation(m.id)
    ann = AnnIndex(lib / "ann", m.model_id, m.dim)
    if how == "shifted":
        ann.add(ids + 1, vecs)  # every label one off: each vector filed under its neighbour's id
    elif how == "ghosts":
        ann.add(ids, vecs)
        rng = np.random.default_rng(0)
        g = rng.normal(size=(50, m.dim)).astype(np.float32)
        ann.add(np.arange(10**6, 10**6 + 50), g / np.linalg.norm(g, axis=1, keepdims=True))
    elif how == "nan":
        ann.add(ids, vecs)
        bad = np.full((len(ids) // 2, m.dim), np.nan, dtype=np.float32)
        ann._s.index.add_items(bad, ids[: len(bad)])  # behind add()'s back, which refuses NaN
    ann.delete_files()
    ann.save(gen)  # claims the library's current generation


@pytest.mark.parametrize("how", ["shifted", "ghosts", "nan"])
def test_a_cache_that_parses_but_lies_is_rebuilt_by_search_and_by_index(lib: Path, how: str) -> None:
    want = _answers(lib)
    assert _cache_agrees(lib)
    _lying_cache(lib, how)
    assert not _cache_agrees(lib)
    assert _answers(lib) == want  # a search rebuilds it in memory (and saves it)
    _lying_cache(lib, how)
    r = cli(lib, "index", "-q", "--no-speech")  # nothing to index: the cache is still repaired
    assert r.returncode == 0, r.stderr
    assert _cache_agrees(lib)
    assert _answers(lib) == want
    check_sound(lib)


def _rewrite_manifest(lib: Path, **changes: object) -> None:
    m = _model(lib)
    ann = AnnIndex(lib / "ann", m.model_id, m.dim)
    man = json.loads(ann.manifest_path.read_text())
    man.update(changes)
    ann.manifest_path.write_text(json.dumps(man))


def test_a_graph_header_claiming_1e11_entries_allocates_nothing(lib: Path) -> None:
    want = _answers(lib)
    m = _model(lib)
    ann = AnnIndex(lib / "ann", m.model_id, m.dim)
    man = json.loads(ann.manifest_path.read_text())
    graph = lib / "ann" / f"{ann.manifest_path.stem}-{man['token']}.vidx"
    data = bytearray(graph.read_bytes())
    data[8:24] = struct.pack("<QQ", 10**11, 10**11)  # max_elements, cur_element_count
    graph.write_bytes(bytes(data))
    # a consistent lie: the manifest agrees with the header and the checksum matches
    _rewrite_manifest(lib, elements=10**11, count=10**11, graph_crc=zlib.crc32(bytes(data)))
    fresh = AnnIndex(lib / "ann", m.model_id, m.dim)
    assert fresh.load() is None  # refused before hnswlib (or numpy) allocates anything
    assert _answers(lib) == want


def test_a_side_file_claiming_1e11_ids_allocates_nothing(lib: Path) -> None:
    want = _answers(lib)
    m = _model(lib)
    ann = AnnIndex(lib / "ann", m.model_id, m.dim)
    man = json.loads(ann.manifest_path.read_text())
    side = lib / "ann" / f"{ann.manifest_path.stem}-{man['token']}.side"
    data = side.read_bytes()
    header_end = data.index(b"\n") + 1
    hdr = np.lib.format.header_data_from_array_1_0(np.zeros(10**11 // 10**11, np.int64))
    hdr["shape"] = (10**11,)
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, hdr)
    forged = buf.getvalue() + data[header_end:]
    side.write_bytes(forged)
    _rewrite_manifest(lib, count=10**11, side_size=len(forged), side_crc=zlib.crc32(forged))
    assert AnnIndex(lib / "ann", m.model_id, m.dim).load() is None
    assert _answers(lib) == want


def _old_cache(lib: Path, kind: str) -> None:
    m = _model(lib)
    ann = AnnIndex(lib / "ann", m.model_id, m.dim)
    ann.delete_files()
    n = len(_truth(lib)[0])
    with Service(lib, model=MODEL) as svc:
        gen = svc.library.generation(m.id)
    base = ann.manifest_path.stem
    if kind == "hnswlib-v1":
        (lib / "ann" / f"{base}.hnsw").write_bytes(b"\0" * 4096)
        man = {
            "model_id": m.model_id,
            "dim": m.dim,
            "count": n,
            "generation": gen,
            "version": 1,
            "m": 16,
            "ef_construction": 100,
        }
    else:
        ids = np.sort(_truth(lib)[0])
        with open(lib / "ann" / f"{base}.vidx", "wb") as fh:
            np.save(fh, ids)
            if kind == "exact":
                np.save(fh, ids)
                np.save(fh, np.zeros((n, m.dim), np.float16))  # zero vectors: every score would be 0
            else:
                fh.write(b"IwSq" + b"\0" * 256)  # a faiss IndexIVFScalarQuantizer header
        man = {
            "model_id": m.model_id,
            "dim": m.dim,
            "count": n,
            "generation": gen,
            "version": 2,
            "kind": "exact" if kind == "exact" else "ivf-sq8",
            "nlist": 0 if kind == "exact" else 39,
            "trained_on": 0 if kind == "exact" else n,
        }
    ann.manifest_path.write_text(json.dumps(man))


@pytest.mark.parametrize("kind", ["faiss", "exact", "hnswlib-v1"])
def test_an_old_cache_is_rebuilt_once(lib: Path, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    want = _answers(lib)
    _old_cache(lib, kind)
    with caplog.at_level(logging.INFO, logger="vsearch.store"):
        assert _answers(lib) == want
    assert "older format" in caplog.text
    names = sorted(p.name for p in (lib / "ann").iterdir())
    assert not [n for n in names if n.endswith((".hnsw",)) or (n.endswith(".vidx") and "-" not in n)], names
    assert _cache_agrees(lib)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vsearch.store"):
        assert _answers(lib) == want
    assert "older format" not in caplog.text and "rebuilding" not in caplog.text


KILL_DRIVER = r"""
import sys, time
from pathlib import Path
from vsearch.service import Service
from vsearch.store import ann as annmod
lib, what, model = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
svc = Service(lib, model=model)
row = svc.library.model_by_name(model)
ann = annmod.AnnIndex(lib / "ann", row.model_id, row.dim)
ann.load()
ann.sync(svc.library, row.id)
print("ready", flush=True)
while True:
    if what == "compact":
        ann.compact(svc.library, row.id)
    else:
        ann.dirty = True
    ann.save(svc.library.generation(row.id))
"""


@pytest.mark.parametrize("what", ["save", "compact"])
def test_sigkill_during_save_or_compaction_leaves_a_library_that_answers_the_same(
    lib: Path, what: str
) -> None:
    want = _answers(lib)
    rng = random.Random(4)
    for _ in range(6):
        p = subprocess.Popen(
            [sys.executable, "-c", KILL_DRIVER, str(lib), what, MODEL],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        assert p.stdout is not None and p.stdout.readline().strip() == "ready", (
            p.stderr.read() if p.stderr else ""
        )
        time.sleep(rng.uniform(0.0, 0.6))
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        assert _cache_agrees(lib), "the manifest must name a complete, matching set after a kill"
        assert _answers(lib) == want
    check_sound(lib)
    leftovers = [f for f in (lib / "ann").iterdir() if f.name.endswith(".tmp")]
    assert len(leftovers) <= 6  # killed mid-write; removed by a later save once an hour old


def test_searches_while_a_folder_is_indexed_in_the_same_process(tmp_path: Path) -> None:
    """The app's case: a search thread and the index thread share one Service (and one HNSW index)."""
    import threading

    d = tmp_path / "videos"
    for i, c in enumerate(COLOURS + ["purple", "orange"]):
        make_video(d / f"{c}.mp4", segments=[(c, 3.0), (c, 3.0)], fps=10, gop=5, seed=i)
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.update_settings(sampling="exact", interval=0.25, speech=False, batch=4)

        def searcher() -> None:
            while not done.is_set():
                try:
                    res = svc.search("red", k=3, min_score=-1)
                    seen.append(len(res))
                    for m in res:
                        assert 0.0 <= m.start <= m.end and -1.0 <= m.score <= 1.0001
                except BaseException as e:  # noqa: BLE001 - reported below
                    errors.append(e)
                    return

        t = threading.Thread(target=searcher)
        svc.add_folder(d)
        t.start()
        try:
            stats = svc.index()
        finally:
            done.set()
            t.join(timeout=60)
        assert not errors, repr(errors[0])
        assert stats.indexed == 6 and len(seen) > 0
        assert Path(svc.search("red", k=1)[0].path).name == "red.mp4"
        ann = svc._anns[svc.library.model_by_name(MODEL).model_id]
        assert set(ann._ids.tolist()) == set(
            svc.library.vector_ids(svc.library.model_by_name(MODEL).id).tolist()
        )


@pytest.mark.parametrize(("fraction", "saved"), [(0.5, False), (0.0, True)])
def test_a_search_that_adds_a_few_vectors_does_not_resave_a_large_index(
    lib: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fraction: float, saved: bool
) -> None:
    """hnswlib's save holds Python's lock (7 s at 1M: a frozen app), so a search's sync that adds
    a few vectors another process indexed keeps them in memory; a large change is saved."""
    import shutil

    import vsearch.service as svcmod

    monkeypatch.setattr(svcmod, "RESAVE_ALWAYS_BELOW", 0)  # the test library counts as large
    monkeypatch.setattr(svcmod, "RESAVE_FRACTION", fraction)
    before = tmp_path / "ann-before"
    shutil.copytree(lib / "ann", before)
    more = tmp_path / "more"
    make_video(more / "purple.mp4", segments=[("purple", 3.0), ("purple", 3.0)], fps=10, gop=5, seed=9)
    assert cli(lib, "index", "-q", "--no-speech", "--sampling", "exact", "--interval", "0.25", str(more)).returncode == 0
    # the index files as they were before that video: its indexer was killed before saving
    shutil.rmtree(lib / "ann")
    shutil.copytree(before, lib / "ann")

    def index_files() -> dict[str, bytes]:  # the graph, its side file and manifest (not the activation cache)
        return {f.name: f.read_bytes() for f in (lib / "ann").iterdir() if not f.name.endswith(".activation.json")}

    files = index_files()
    for _ in range(2):  # the next open finds the video again (added by its own sync)
        with Service(lib, model=MODEL) as svc:
            assert Path(svc.search("purple", k=1)[0].path).name == "purple.mp4"
        assert (index_files() == files) is not saved, sorted(set(index_files()) ^ set(files))
    check_sound(lib)
