"""The quantised (IVF + 8-bit) index that serves libraries beyond BRUTE_MAX vectors.

BRUTE_MAX is lowered so that the quantised path runs on a few thousand vectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vsearch.store import ann as annmod
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Library

DIM = 64
N = 3000


@pytest.fixture(autouse=True)
def small_brute_max(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(annmod, "BRUTE_MAX", 1000)


def _clustered(n: int = N, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, DIM))
    x = centres[rng.integers(0, 40, n)] + 0.6 * rng.normal(size=(n, DIM))
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float16).astype(np.float32)  # as SQLite stores them


def _queries(x: np.ndarray, n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(1)
    q = x[rng.integers(0, len(x), n)] + 0.8 * rng.normal(size=(n, DIM)).astype(np.float32)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def _recall(ann: AnnIndex, x: np.ndarray, ids: np.ndarray, k: int = 10) -> float:
    hits = 0
    for q in _queries(x):
        truth = set(ids[np.argsort(-(x @ q))[:k]].tolist())
        got, _ = ann.search(q, k)
        hits += len(truth & set(got.tolist()))
    return hits / (k * len(_queries(x)))


def _grown(tmp_path: Path) -> tuple[AnnIndex, np.ndarray, np.ndarray]:
    """An index grown batch by batch past BRUTE_MAX, as the indexer grows it."""
    x = _clustered()
    ids = np.arange(1, N + 1, dtype=np.int64)
    ann = AnnIndex(tmp_path, "m", DIM)
    for a in range(0, N, 64):
        ann.add(ids[a : a + 64], x[a : a + 64])
    return ann, ids, x


def test_growing_past_brute_max_switches_to_the_quantised_index_and_agrees_with_exact(tmp_path: Path) -> None:
    ann, ids, x = _grown(tmp_path)
    assert not ann.exact and ann.count == N and ann.nlist > 1
    assert _recall(ann, x, ids) >= 0.95
    got, sims = ann.search(x[41], 5)
    assert got[0] == 42 and sims[0] == pytest.approx(1.0, abs=0.02)
    assert (np.diff(sims) <= 1e-6).all(), "best first"
    # similarities are the cosines, up to the 8-bit quantisation
    assert sims == pytest.approx(x[got - 1] @ x[41], abs=0.02)


def test_deleted_frames_disappear_and_re_added_ones_come_back(tmp_path: Path) -> None:
    ann, ids, x = _grown(tmp_path)
    ann.delete(np.arange(40, 61))
    got, _ = ann.search(x[49], 50)
    assert not set(got.tolist()) & set(range(40, 61)) and ann.count == N - 21
    ann.add(np.array([50]), x[49:50])
    assert ann.search(x[49], 1)[0][0] == 50 and ann.count == N - 20
    ann.add(np.array([50]), x[49:50])  # already present: not added twice
    assert ann.count == N - 20 and list(ann.search(x[49], 2)[0]).count(50) == 1


def test_save_and_load_round_trip_answers_the_same(tmp_path: Path) -> None:
    ann, ids, x = _grown(tmp_path)
    ann.delete(np.array([7]))
    ann.save(5)
    again = AnnIndex(tmp_path, "m", DIM)
    man = again.load()
    assert man is not None and man.kind == "ivf-sq8" and man.count == N - 1 and again.generation == 5
    assert not again.exact and again.count == N - 1
    for q in _queries(x, 10):
        a, sa = ann.search(q, 10)
        b, sb = again.search(q, 10)
        assert list(a) == list(b) and sa == pytest.approx(sb)
    assert 7 not in again.search(x[6], 20)[0]


def test_k_beyond_the_probed_lists_still_returns_k(tmp_path: Path) -> None:
    ann, _, x = _grown(tmp_path)
    got, _ = ann.search(x[0], 2500)
    assert len(got) == 2500 and len(set(got.tolist())) == 2500


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing"])
def test_a_damaged_file_is_rebuilt_from_the_library(tmp_path: Path, damage: str) -> None:
    x = _clustered()
    lib = Library(tmp_path / "lib")
    model = lib.ensure_model("m", "m", DIM)
    with lib.writer():
        with lib._sql.transaction() as c:
            vid = c.execute(
                "INSERT INTO videos(path, size, mtime, status, added) VALUES ('/v.mp4', 1, 0, 'indexed', 0)"
            ).lastrowid
        fids = np.asarray(lib.add_frames(vid, model.id, np.arange(N, dtype=np.float64), x), dtype=np.int64)
    ann = AnnIndex(tmp_path / "ann", "m", DIM)
    ann.sync(lib, model.id)
    assert not ann.exact and ann.count == N
    ann.save(lib.generation(model.id))
    want = [ann.search(q, 10)[0].tolist() for q in _queries(x, 5)]
    data = ann.path.read_bytes()
    if damage == "truncate":
        ann.path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        ann.path.write_bytes(b"corrupt" + data[7:])
    else:
        ann.path.unlink()
    again = AnnIndex(tmp_path / "ann", "m", DIM)
    assert again.load() is None
    assert again.sync(lib, model.id) == (N, 0)
    assert not again.exact and again.count == N
    got = [again.search(q, 10)[0].tolist() for q in _queries(x, 5)]
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, want, strict=True)]) >= 0.9
    assert set(again.search(x[3], 1)[0].tolist()) == {int(fids[3])}
    lib.close()


def test_a_version_1_cache_is_replaced_silently(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ann = AnnIndex(tmp_path, "m", DIM)
    old = ann.path.with_suffix(".hnsw")
    old.write_bytes(b"\0" * 100)
    ann.manifest_path.write_text(
        '{"model_id": "m", "dim": 64, "count": 1, "generation": 1, "version": 1, "m": 16, "ef_construction": 100}'
    )
    assert ann.load() is None and not caplog.records
    ann.add(np.array([1]), _clustered(1))
    ann.save(1)
    assert not old.exists() and AnnIndex(tmp_path, "m", DIM).load() is not None


def test_shrinking_below_brute_max_returns_to_exact_search(tmp_path: Path) -> None:
    x = _clustered()
    lib = Library(tmp_path / "lib")
    model = lib.ensure_model("m", "m", DIM)
    with lib.writer():
        with lib._sql.transaction() as c:
            vid = c.execute(
                "INSERT INTO videos(path, size, mtime, status, added) VALUES ('/v.mp4', 1, 0, 'indexed', 0)"
            ).lastrowid
        lib.add_frames(vid, model.id, np.arange(N, dtype=np.float64), x)
    ann = AnnIndex(tmp_path / "ann", "m", DIM)
    ann.sync(lib, model.id)
    assert not ann.exact
    with lib.writer(), lib._sql.transaction() as c:
        c.execute("DELETE FROM vectors WHERE frame_id > 500")
        c.execute("UPDATE models SET generation = generation + 1")
    ann.sync(lib, model.id)
    assert ann.exact and ann.count == 500
    lib.close()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="RLIMIT_FSIZE is POSIX")
def test_a_full_disk_during_a_quantised_save_keeps_the_old_pair(tmp_path: Path) -> None:
    import hashlib
    import subprocess
    import sys

    ann, _, _ = _grown(tmp_path)
    ann.save(1)
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    limit = ann.path.stat().st_size // 2
    code = (
        "import resource, signal, sys\n"
        "import numpy as np\n"
        "from pathlib import Path\n"
        "from vsearch.store import ann as annmod\n"
        "annmod.BRUTE_MAX = 1000\n"
        "a = annmod.AnnIndex(Path(sys.argv[1]), 'm', 64)\n"
        "assert a.load() is not None and not a.exact\n"
        "a.add(np.array([10**6]), np.ones((1, 64), dtype=np.float32) / 8)\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))\n"
        "try:\n"
        "    a.save(2)\n"
        "except OSError as e:\n"
        "    print(e)\n"
        "    sys.exit(5)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path), str(limit)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 5, (r.stdout, r.stderr)
    assert "written incompletely" in r.stdout
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    assert after == before, "the previous index and manifest must survive byte-identical"


def test_a_library_that_grew_far_beyond_its_training_is_retrained_on_open(tmp_path: Path) -> None:
    n = 4500
    x = _clustered(n)
    lib = Library(tmp_path / "lib")
    model = lib.ensure_model("m", "m", DIM)
    with lib.writer():
        with lib._sql.transaction() as c:
            vid = c.execute(
                "INSERT INTO videos(path, size, mtime, status, added) VALUES ('/v.mp4', 1, 0, 'indexed', 0)"
            ).lastrowid
        fids = np.asarray(lib.add_frames(vid, model.id, np.arange(n, dtype=np.float64), x), dtype=np.int64)
    ann = AnnIndex(tmp_path / "ann", "m", DIM)
    ann.add(fids[:1001], x[:1001])  # crosses BRUTE_MAX: trained on 1001 vectors
    assert not ann.exact and ann._trained_on == 1001
    small = ann.nlist
    ann.save(-5)
    again = AnnIndex(tmp_path / "ann", "m", DIM)
    again.load()
    again.sync(lib, model.id)
    assert again._trained_on == n and again.nlist > small and again.count == n
    assert again.search(x[4400], 1)[0][0] == fids[4400]
    lib.close()
