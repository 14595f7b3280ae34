"""The HNSW index (vsearch/store/ann.py): recall against brute force, changes, compaction, reopening, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from vsearch.store import ann as annmod
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Library

DIM = 48


def _videos(nvid: int, per: int, seed: int = 0) -> np.ndarray:
    """Frames of videos like real ones: a video is a slow walk near 1-3 of 30 topics, in an image cone."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(30, DIM))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    cone = np.random.default_rng(77).normal(size=DIM)
    cone /= np.linalg.norm(cone)
    out = []
    for _ in range(nvid):
        t = topics[rng.choice(30, size=rng.integers(1, 4), replace=False)]
        scene = np.sort(rng.integers(0, len(t), per))
        walk = np.cumsum(rng.normal(size=(per, DIM)) * 0.4 / np.sqrt(per * DIM), axis=0)
        v = (
            t[scene]
            + walk
            + rng.normal(size=(per, DIM)) * 0.15 / np.sqrt(DIM)
            + rng.normal(size=DIM) * 0.4 / np.sqrt(DIM)
        )
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        v += cone
        out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    return np.concatenate(out).astype(np.float16).astype(np.float32)


def _text_queries(n: int, seed: int = 1) -> np.ndarray:
    """Far from every frame, as CLIP text is from CLIP images: topic + a text direction + noise."""
    rng = np.random.default_rng(seed)
    topics = np.random.default_rng(0).normal(size=(30, DIM))
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    txt = np.random.default_rng(78).normal(size=DIM)
    txt /= np.linalg.norm(txt)
    q = topics[rng.integers(0, 30, n)] + 1.5 * txt + rng.normal(size=(n, DIM)) * 1.2 / np.sqrt(DIM)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def _built(tmp_path: Path, x: np.ndarray, batch: int = 32) -> AnnIndex:
    """Added batch after batch in video order, as the indexer adds them."""
    ann = AnnIndex(tmp_path, "m", DIM)
    ids = np.arange(1, len(x) + 1)
    for a in range(0, len(x), batch):
        ann.add(ids[a : a + batch], x[a : a + batch])
    return ann


def _recall(ann: AnnIndex, x: np.ndarray, q: np.ndarray, per: int, k: int = 10) -> tuple[float, float]:
    """(frame recall@k, share of the true top-k frames' videos among a 200-frame search)."""
    fr, vr = [], []
    for qi in q:
        truth = np.argsort(-(x @ qi))[:k] + 1
        got, _ = ann.search(qi, k)
        fr.append(len(set(truth.tolist()) & set(got.tolist())) / k)
        many, _ = ann.search(qi, 200)
        want = {(int(i) - 1) // per for i in truth}
        vr.append(len(want & {(int(i) - 1) // per for i in many}) / len(want))
    return float(np.mean(fr)), float(np.mean(vr))


@pytest.fixture(scope="module")
def clustered(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnnIndex, np.ndarray]:
    x = _videos(60, 250)
    return _built(tmp_path_factory.mktemp("ann"), x), x


def test_text_like_queries_reach_the_right_frames_and_videos(clustered) -> None:
    ann, x = clustered
    frame, video = _recall(ann, x, _text_queries(60), per=250)
    assert frame >= 0.95 and video >= 0.99, (frame, video)


def test_plain_hnsw_search_gets_trapped_on_the_same_data(clustered, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the anchors exist: without them greedy search stays in one video's clique."""
    ann, x = clustered
    monkeypatch.setattr(annmod, "ANCHORS", 0)
    frame, _ = _recall(ann, x, _text_queries(60), per=250)
    assert frame < 0.9, frame


def test_scores_are_the_cosines_best_first(clustered) -> None:
    ann, x = clustered
    q = _text_queries(1, seed=5)[0]
    ids, sims = ann.search(q, 50)
    assert len(ids) == 50 and (np.diff(sims) <= 1e-6).all()
    assert sims == pytest.approx(x[ids - 1] @ q, abs=1e-5)


def test_k_is_clamped_and_zero_is_empty(tmp_path: Path) -> None:
    ann = AnnIndex(tmp_path, "m", 8)
    ann.add(np.array([1, 2]), np.eye(8, dtype=np.float32)[:2])
    ids, sims = ann.search(np.eye(8, dtype=np.float32)[0], 50)
    assert list(ids) == [1, 2] and sims[0] == pytest.approx(1.0)
    assert len(ann.search(np.eye(8, dtype=np.float32)[0], 0)[0]) == 0
    assert len(AnnIndex(tmp_path / "e", "m", 8).search(np.eye(8, dtype=np.float32)[0], 5)[0]) == 0


def test_non_finite_vectors_are_refused(tmp_path: Path) -> None:
    ann = AnnIndex(tmp_path, "m", 4)
    with pytest.raises(ValueError, match="non-finite"):
        ann.add(np.array([1]), np.array([[np.nan, 0, 0, 0]], dtype=np.float32))
    assert ann.count == 0


def test_add_delete_readd_save_reopen_round_trip(tmp_path: Path) -> None:
    x = _videos(8, 200, seed=3)
    ann = _built(tmp_path, x)
    ann.delete(np.arange(100, 300))
    assert ann.count == len(x) - 200 and ann.deleted == 200
    got, _ = ann.search(x[150], 20)
    assert not set(got.tolist()) & set(range(100, 300))
    # a changed frame comes back under its id with a new vector (hnswlib un-deletes and updates it)
    ann.add(np.array([150]), x[900:901])
    assert ann.search(x[900], 2)[0].tolist()[:2] in ([150, 901], [901, 150])
    ann.add(np.array([150]), x[900:901])  # already present: not added twice
    assert ann.count == len(x) - 199
    ann.save(5)
    again = AnnIndex(tmp_path, "m", DIM)
    man = again.load()
    assert man is not None and man.generation == 5 and man.count == ann.count
    assert np.array_equal(again._ids, ann._ids) and again.deleted == ann.deleted
    for i in (0, 150, 500, 1500):
        assert np.array_equal(again.search(x[i], 10)[0], ann.search(x[i], 10)[0])
    # growing a loaded index (resize_index) keeps its answers
    more = _videos(2, 200, seed=9)
    again.add(np.arange(len(x) + 1, len(x) + 401), more)
    assert again.search(more[7], 1)[0][0] == len(x) + 8


def test_compaction_drops_deleted_entries_and_keeps_answers(tmp_path: Path) -> None:
    x = _videos(10, 200, seed=4)
    lib = Library(tmp_path / "lib")
    model = lib.ensure_model("m", "m", DIM)
    with lib.writer():
        with lib._sql.transaction() as c:
            vids = [
                c.execute(
                    "INSERT INTO videos(path, size, mtime, status, added) VALUES (?, 1, 0, 'indexed', 0)",
                    (f"/{i}.mp4",),
                ).lastrowid
                for i in range(10)
            ]
        fids = []
        for i, v in enumerate(vids):
            fids += lib.add_frames(v, model.id, np.arange(200, dtype=np.float64), x[i * 200 : (i + 1) * 200])
        ann = AnnIndex(tmp_path / "ann", "m", DIM)
        ann.sync(lib, model.id)
        lib.delete_videos(vids[:5])
    assert ann.sync(lib, model.id) == (0, 1000)
    assert ann.needs_compaction() and ann.deleted == 1000
    assert ann.compact(lib, model.id)
    assert ann.deleted == 0 and ann.count == 1000 and not ann.needs_compaction()
    live = np.array(fids[1000:])
    for i in (1100, 1500, 1999, 1234):
        sims = x[1000:] @ x[i]
        truth = live[np.argsort(-sims)[:10]]
        got, gs = ann.search(x[i], 10)
        assert set(got.tolist()) == set(truth.tolist()) and gs == pytest.approx(
            np.sort(sims)[::-1][:10], abs=1e-5
        )
    lib.close()


def test_changes_during_compaction_are_replayed_onto_the_new_graph(tmp_path: Path, monkeypatch) -> None:
    x = _videos(6, 200, seed=6)
    lib = Library(tmp_path / "lib")
    model = lib.ensure_model("m", "m", DIM)
    with lib.writer():
        with lib._sql.transaction() as c:
            vid = c.execute(
                "INSERT INTO videos(path, size, mtime, status, added) VALUES ('/a.mp4', 1, 0, 'indexed', 0)"
            ).lastrowid
        fids = np.array(lib.add_frames(vid, model.id, np.arange(1000, dtype=np.float64), x[:1000]))
    ann = AnnIndex(tmp_path / "ann", "m", DIM)
    ann.sync(lib, model.id)
    real_build = AnnIndex._build

    def build_then_change(self, library, model_pk, truth):  # noqa: ANN001, ANN202
        s = real_build(self, library, model_pk, truth)
        self.add(np.array([10_001]), x[1000:1001])  # written while the rebuild ran
        self.delete(fids[:3])
        return s

    monkeypatch.setattr(AnnIndex, "_build", build_then_change)
    assert ann.compact(lib, model.id)
    assert ann.search(x[1000], 1)[0][0] == 10_001
    assert not set(fids[:3].tolist()) & set(ann._ids.tolist()) and ann.count == 998
    lib.close()


def test_searches_run_while_vectors_are_added(tmp_path: Path) -> None:
    """hnswlib's add_items must not meet knn_query: the reader-writer lock keeps them apart."""
    x = _videos(20, 200, seed=8)
    ann = _built(tmp_path, x[:400])
    stop = threading.Event()
    errors: list[BaseException] = []
    answered = [0]

    def searcher() -> None:
        rng = np.random.default_rng(threading.get_ident() % 1000)
        while not stop.is_set():
            try:
                i = int(rng.integers(0, 400))
                ids, sims = ann.search(x[i], 10)
                assert ids[0] == i + 1 and sims[0] == pytest.approx(1.0, abs=1e-3)
                answered[0] += 1
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for a in range(400, len(x), 16):  # small batches: many resize_index / add_items calls
            ann.add(np.arange(a + 1, a + 17), x[a : a + 16])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert answered[0] > 0 and ann.count == len(x)
    assert ann.search(x[-1], 1)[0][0] == len(x)


def test_advance_tracks_only_single_steps(tmp_path: Path) -> None:
    ann = AnnIndex(tmp_path, "m", 4)
    ann.generation = 7
    ann.advance(7, 8)
    assert ann.generation == 8
    ann.advance(8, 10)  # someone else wrote in between: unknown, never a generation that lies
    assert ann.generation == -1
    ann.advance(10, 11)
    assert ann.generation == -1


def test_a_search_for_every_vector_survives_deleted_entries(tmp_path: Path) -> None:
    """hnswlib raises when deleted entries leave fewer than k in its beam; the index widens the beam."""
    x = _videos(2, 150, seed=11)
    ann = _built(tmp_path, x)
    ann.delete(np.arange(1, 300, 3))
    live = ann._ids
    ids, sims = ann.search(x[1], len(live))
    assert set(ids.tolist()) == set(live.tolist())
    assert (np.diff(sims) <= 1e-6).all()


def test_batches_appended_in_place_keep_ids_anchors_and_earlier_views(tmp_path: Path) -> None:
    """The indexer's 32-vector batches grow the id and anchor arrays in place; nothing is lost."""
    x = _videos(4, 300, seed=12)
    ann = AnnIndex(tmp_path, "m", DIM)
    views = []
    for a in range(0, len(x), 32):
        ids = np.arange(a + 1, min(a + 33, len(x) + 1))
        ann.add(ids, x[a : a + len(ids)])
        views.append(ann._ids)
    assert np.array_equal(ann._ids, np.arange(1, len(x) + 1))
    for v in views:  # a reader's older snapshot still reads what it read then
        assert np.array_equal(v, np.arange(1, len(v) + 1))
    s = ann._s
    assert np.array_equal(s.anchor_ids, np.arange(1, len(x) + 1)[np.arange(1, len(x) + 1) % annmod.ANCHOR_STRIDE == 0])
    assert np.allclose(s.anchors, x[s.anchor_ids - 1], atol=1e-6)
    for i in (0, 333, 1199):
        assert ann.search(x[i], 1)[0][0] == i + 1


def test_a_reopened_graph_is_trusted_only_while_it_is_the_file_the_save_left(tmp_path: Path) -> None:
    x = _videos(3, 200, seed=13)
    ann = _built(tmp_path, x)
    ann.save(1)
    assert AnnIndex(tmp_path, "m", DIM).load() is not None  # untouched: header check only
    graph = ann.path
    assert graph is not None
    data = bytearray(graph.read_bytes())
    # a vector of the base layer set to NaN, same size: a write, so a new mtime and the full scan
    hdr = annmod._HEADER.size
    per_el, data_off = annmod._HEADER.unpack(data[:hdr])[3], annmod._HEADER.unpack(data[:hdr])[5]
    data[hdr + 5 * per_el + data_off : hdr + 5 * per_el + data_off + 4] = np.float32(np.nan).tobytes()
    graph.write_bytes(bytes(data))
    assert AnnIndex(tmp_path, "m", DIM).load() is None
