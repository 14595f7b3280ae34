"""The shared dataset's vector index: built past a size, updated incrementally, new rows found before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("lancedb", reason="facility mode needs vsearch[cluster]")

from vsearch.cluster.attach import SharedAnn, SharedView, map_path, parse_map  # noqa: E402
from vsearch.store.shared import SharedDataset, SharedVideo  # noqa: E402

pytestmark = pytest.mark.cluster
DIM = 32


def _unit(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float16).astype(np.float32)


def test_index_is_built_then_updated_and_unindexed_rows_are_searched(tmp_path: Path) -> None:
    ds = SharedDataset(str(tmp_path / "shared"), readonly=False)
    model = ds.ensure_model("synthetic-v1", "synthetic", DIM)
    vecs = _unit(4000, 0)
    vids = np.repeat(np.arange(1, 41), 100)
    times = np.tile(np.arange(100, dtype=np.float64), 40)
    ds.add_frames(model, vids, times, vecs)
    ds.put_videos([SharedVideo(int(v), f"/mnt/a/{v}.mp4", 1, 1.0, 100.0, 25.0, 64, 64) for v in range(1, 42)])
    assert ds.update_index(model, min_rows=10_000) == "none"
    assert ds.update_index(model, min_rows=1000) == "built"
    assert ds.update_index(model, min_rows=1000) == "current"
    reader = SharedDataset(str(tmp_path / "shared"))
    view = SharedView(reader, reader.model("synthetic-v1"), parse_map(["/mnt/a=/Volumes/A"]))
    ann = SharedAnn(view)
    hits = 0
    for i in range(0, 4000, 97):
        ids, sims = ann.search(vecs[i], 10)
        got = view.frames(ids[:1])[int(ids[0])]
        hits += got == (int(vids[i]), float(times[i]))
        assert sims[0] == pytest.approx(1.0, abs=0.02)
    assert hits >= 0.95 * len(range(0, 4000, 97))  # the index answers like the exact scan
    new = _unit(1, 99)
    ds.add_frames(model, np.array([41]), np.array([5.0]), new)
    ann.sync()
    ids, _ = ann.search(new[0], 5)
    assert view.frames(ids[:1])[int(ids[0])] == (41, 5.0)  # a row not yet in the index is found
    assert view.videos([41])[41].path == "/Volumes/A/41.mp4"
    assert ds.update_index(model, min_rows=1000) == "updated"
    stats = ds.frames_table(model).index_stats("vector_idx")
    assert stats.num_unindexed_rows == 0 and stats.num_indexed_rows == 4001


def test_path_map_takes_the_longest_prefix_and_whole_components() -> None:
    m = parse_map(["/mnt=/x", "/mnt/archive=/Volumes/Archive"])
    assert map_path("/mnt/archive/a/b.mp4", m) == "/Volumes/Archive/a/b.mp4"
    assert map_path("/mnt/archived/b.mp4", m) == "/x/archived/b.mp4"
    assert map_path("/other/b.mp4", m) == "/other/b.mp4"


def test_many_queries_on_a_small_table_are_answered_exactly_in_one_pass(tmp_path: Path) -> None:
    """The query bank's first search: one exact pass, the same answers as one search per query."""
    from vsearch.cluster import attach

    ds = SharedDataset(str(tmp_path / "shared"), readonly=False)
    model = ds.ensure_model("synthetic-v1", "synthetic", DIM)
    vecs = _unit(600, 1)
    vids, times = np.repeat(np.arange(1, 7), 100), np.tile(np.arange(100, dtype=np.float64), 6)
    ds.add_frames(model, vids, times, vecs)
    reader = SharedDataset(str(tmp_path / "shared"))
    view = SharedView(reader, reader.model("synthetic-v1"), [])
    ann = SharedAnn(view)
    queries = _unit(300, 2)
    ids, sims = ann.search_many(queries, 10)
    assert ids.shape == sims.shape == (300, 10) and (np.diff(sims, axis=1) <= 1e-6).all()
    exact = queries @ vecs.T  # brute force over the stored (float16-rounded) vectors
    best = np.argmax(exact, axis=1)
    assert sims[:, 0] == pytest.approx(exact.max(axis=1), abs=1e-5)
    assert all(view.frames([int(ids[j, 0])])[int(ids[j, 0])] == (int(vids[best[j]]), float(times[best[j]]))
               for j in range(300))  # fmt: skip
    one_each = [ann.search(q, 10) for q in queries[:20]]  # the per-query path (no index: exact too)
    assert [list(i) for i, _ in one_each] == [list(r) for r in ids[:20]]
    assert attach.EXACT_MANY >= 600


def test_a_search_prints_nothing_to_the_terminal(tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    """Lance logged a deprecation warning to stderr on every search that named its columns
    without `_distance`: one line per search in a user's terminal."""
    ds = SharedDataset(str(tmp_path / "shared"), readonly=False)
    model = ds.ensure_model("synthetic-v1", "synthetic", DIM)
    ds.add_frames(model, np.repeat(np.arange(1, 4), 50), np.tile(np.arange(50, dtype=np.float64), 3), _unit(150, 3))
    reader = SharedDataset(str(tmp_path / "shared"))
    ann = SharedAnn(SharedView(reader, reader.model("synthetic-v1"), []))
    capfd.readouterr()
    ids, sims = ann.search(_unit(1, 4)[0], 5)
    assert len(ids) == 5
    out, err = capfd.readouterr()
    assert "warning" not in err.lower() and out == "", err
