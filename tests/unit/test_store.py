"""The library database: schema versioning, refusal of newer libraries, ANN against brute force."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from vsearch.errors import EnvironmentProblem, LibraryLocked
from vsearch.store import migrations
from vsearch.store.ann import AnnIndex
from vsearch.store.db import SchemaTooNew
from vsearch.store.library import Library


def test_new_library_has_current_schema(tmp_path: Path) -> None:
    lib = Library(tmp_path)
    assert lib.schema_version() == migrations.SCHEMA_VERSION
    assert lib._sql.query("PRAGMA journal_mode")[0][0] == "wal"
    assert lib.integrity_ok()
    lib.close()


def test_newer_library_is_refused_and_untouched(tmp_path: Path) -> None:
    Library(tmp_path).close()
    db = tmp_path / "library.sqlite3"
    c = sqlite3.connect(db)
    c.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    c.close()
    before = db.read_bytes()
    with pytest.raises(SchemaTooNew, match="newer"):
        Library(tmp_path)
    assert db.read_bytes() == before


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "library.sqlite3").write_text("hello")
    with pytest.raises(EnvironmentProblem, match="cannot"):
        Library(tmp_path)


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    a, b = Library(tmp_path), Library(tmp_path)
    with a.writer():
        with pytest.raises(LibraryLocked, match="another vsearch process"):
            with b.writer():
                pass
    with b.writer():
        pass
    a.close()
    b.close()


def test_hnsw_search_agrees_with_brute_force_and_survives_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    # clustered vectors, like frames of videos: recall on uniform noise means little
    centers = rng.normal(size=(200, 64))
    x = centers[rng.integers(0, 200, 20000)] + 0.5 * rng.normal(size=(20000, 64))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ann = AnnIndex(tmp_path, "m", 64)
    ann.add(np.arange(1, 20001), x)
    queries = x[rng.integers(0, 20000, 50)] + 0.3 * rng.normal(size=(50, 64)).astype(np.float32)
    hits = 0
    for q in queries:
        q = q / np.linalg.norm(q)
        truth = set((np.argsort(-(x @ q))[:10] + 1).tolist())
        got, _ = ann.search(q, 10)
        hits += len(truth & set(got.tolist()))
    assert hits / 500 >= 0.99, hits / 500  # HNSW with anchors, re-ranked exactly
    ann.save(1)
    again = AnnIndex(tmp_path, "m", 64)
    assert again.load() is not None and again.count == 20000
    assert again.search(x[5], 1)[0][0] == 6


def test_k_larger_than_count_is_clamped(tmp_path: Path) -> None:
    ann = AnnIndex(tmp_path, "m", 8)
    ann.add(np.array([1, 2]), np.eye(8, dtype=np.float32)[:2])
    ids, sims = ann.search(np.eye(8, dtype=np.float32)[0], 50)
    assert list(ids) == [1, 2] and sims[0] == pytest.approx(1.0)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_cache_is_rebuilt_from_the_library(tmp_path: Path, damage: str) -> None:
    from vsearch.store.library import Library

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    lib = Library(tmp_path / "lib")
    model = lib.ensure_model("m", "m", 16)
    with lib.writer():
        with lib._sql.transaction() as c:
            vid = c.execute(
                "INSERT INTO videos(path, size, mtime, status, added) VALUES ('/v.mp4', 1, 0, 'indexed', 0)"
            ).lastrowid
        fids = lib.add_frames(vid, model.id, np.arange(300, dtype=np.float64), x)
    ann = AnnIndex(tmp_path / "ann", "m", 16)
    ann.sync(lib, model.id)
    ann.save(lib.generation(model.id))
    data = ann.path.read_bytes()
    ann.path.write_bytes(data[: len(data) - 100] if damage == "truncate" else b"corrupt" + data[7:])
    again = AnnIndex(tmp_path / "ann", "m", 16)
    assert again.load() is None
    assert again.sync(lib, model.id) == (300, 0)
    assert again.search(x[17], 1)[0][0] == fids[17]
    lib.close()


def test_frame_lookups_follow_frames_written_after_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches map frame ids to (video, time) from memory: frames written later, by this or
    another process, and the frames of a re-indexed video must still map right."""
    from vsearch.store import library
    from vsearch.types import VideoFile, VideoInfo

    monkeypatch.setattr(library, "FRAME_MAP_CHUNK", 2)  # the map is read in several chunks

    lib = Library(tmp_path)
    model = lib.ensure_model("rand-v1", "rand", 4)
    rng = np.random.default_rng(1)

    def video(i: int, n: int, into: Library) -> tuple[int, list[int]]:
        vid = into.add_video(VideoFile(f"/v/{i}.mp4", 100 + i, 1.0), None)
        into.set_probe(vid, VideoInfo(duration=float(n), fps=25.0, width=8, height=8))
        v = rng.normal(size=(n, 4))
        ids = into.add_frames(vid, model.id, np.arange(n) + 0.5, v / np.linalg.norm(v, axis=1, keepdims=True))
        return vid, ids

    a, a_ids = video(1, 5, lib)
    assert lib.frames(a_ids) == {f: (a, t + 0.5) for t, f in enumerate(a_ids)}  # the map is built here
    b, b_ids = video(2, 3, lib)
    other = Library(tmp_path)  # another process writing to the same library
    c, c_ids = video(3, 2, other)
    other.close()
    got = lib.frames([*b_ids, *c_ids, a_ids[0], 10**9])
    assert got == {**{f: (b, t + 0.5) for t, f in enumerate(b_ids)}, **{f: (c, t + 0.5) for t, f in enumerate(c_ids)},
                   a_ids[0]: (a, 0.5)}
    vids, times, found = lib.frame_arrays(np.array([c_ids[1], 10**9, b_ids[0]]))
    assert found.tolist() == [True, False, True]
    assert vids[found].tolist() == [c, b] and times[found].tolist() == [1.5, 0.5]
    lib.reset_video(a, VideoFile("/v/1.mp4", 999, 2.0))  # changed: its frames are replaced by new ids
    v = rng.normal(size=(2, 4))
    new = lib.add_frames(a, model.id, np.array([7.0, 8.0]), v / np.linalg.norm(v, axis=1, keepdims=True))
    assert min(new) > max(c_ids)
    assert lib.frames(new) == {new[0]: (a, 7.0), new[1]: (a, 8.0)}
    lib.close()
