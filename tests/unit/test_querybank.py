"""Querybank normalisation and calibrated scores (issue 17): a planted hub frame, close to every
text vector, wins unrelated queries with raw cosines and none once frames are normalised
against the bank; scores then mean the same across queries ("no strong match")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vsearch.query import bank as qbank
from vsearch.query import calibrate
from vsearch.query.engine import QueryEngine, top
from vsearch.query.search import Searcher, SearchOptions
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Library
from vsearch.types import VideoFile, VideoInfo

DIM = 64


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _library(folder: Path, seed: int = 0):  # noqa: ANN202
    """Videos of image-like frames (one direction, the modality gap), one answer frame per query,
    and one video holding a hub: a frame on the text side, near every query and bank sentence."""
    rng = np.random.default_rng(seed)
    text_dir, image_dir = _unit(rng.normal(size=DIM)), _unit(rng.normal(size=DIM))
    queries = _unit(text_dir + 0.35 * rng.normal(size=(12, DIM)))
    bank = _unit(text_dir + 0.35 * rng.normal(size=(400, DIM)))
    lib = Library(folder)
    model = lib.ensure_model("rand-v1", "rand", DIM)
    lib.activate_model(model.id)
    videos = []
    for j, q in enumerate(queries):
        frames = _unit(image_dir + 0.8 * rng.normal(size=(6, DIM)))
        frames[3] = _unit(0.5 * q + image_dir + 0.15 * rng.normal(size=DIM))  # the answer to query j
        videos.append((f"/videos/v{j:02d}.mp4", frames))
    hub = _unit(image_dir + 0.8 * rng.normal(size=(6, DIM)))
    hub[2] = text_dir
    videos.append(("/videos/hub.mp4", hub))
    for i, (path, vecs) in enumerate(videos):
        vid = lib.add_video(VideoFile(path, 1000 + i, 1.0), None)
        lib.set_probe(vid, VideoInfo(duration=12.0, fps=25.0, width=64, height=64))
        lib.add_frames(vid, model.id, np.arange(len(vecs), dtype=np.float64) * 2.0, vecs)
        lib.finish_video(vid, model.id)
    model = lib.model(model.model_id)
    ann = AnnIndex(folder / "ann", model.model_id, DIM)
    ann.sync(lib, model.id)
    return lib, model, ann, queries, bank


def _winners(searcher: Searcher, queries: np.ndarray) -> list[str]:
    opts = SearchOptions(k=1)
    return [top(searcher.search_vector(q, opts), opts)[0].path for q in queries]


def test_a_planted_hub_no_longer_wins_unrelated_queries(tmp_path: Path) -> None:
    lib, model, ann, queries, bank = _library(tmp_path)
    raw = Searcher(lib, model, ann, embedder=None)  # type: ignore[arg-type]
    raw_wins = _winners(raw, queries)
    assert raw_wins.count("/videos/hub.mp4") >= 6  # the hub wins unrelated queries with raw cosines
    normalised = Searcher(lib, model, ann, embedder=None, bank=qbank.QueryBank(bank))  # type: ignore[arg-type]
    wins = _winners(normalised, queries)
    assert wins.count("/videos/hub.mp4") == 0
    right = sum(w == f"/videos/v{j:02d}.mp4" for j, w in enumerate(wins))
    assert right >= 8 and right > sum(w == f"/videos/v{j:02d}.mp4" for j, w in enumerate(raw_wins))


def test_normalisation_keeps_the_first_result_independent_of_k(tmp_path: Path) -> None:
    lib, model, ann, queries, bank = _library(tmp_path, seed=3)
    s = Searcher(lib, model, ann, embedder=None, bank=qbank.QueryBank(bank))  # type: ignore[arg-type]
    for q in queries:
        full = top(s.search_vector(q, SearchOptions(k=40)), SearchOptions(k=40))
        for k in (1, 2, 5, 13):
            assert top(s.search_vector(q, SearchOptions(k=k)), SearchOptions(k=k)) == full[:k]


def test_calibrated_scores_are_confidences_and_the_floor_is_one(tmp_path: Path) -> None:
    lib, model, ann, queries, bank = _library(tmp_path, seed=5)
    s = Searcher(lib, model, ann, embedder=None, bank=qbank.QueryBank(bank))  # type: ignore[arg-type]

    engine = QueryEngine(lib, s, None)
    s.query_vector = lambda text: queries[int(text)]  # type: ignore[method-assign]  # vectors, not text
    s.refresh = lambda: None  # type: ignore[method-assign]
    found = engine.search("0", SearchOptions(k=5))
    assert found and all(0.0 <= m.score <= 1.0 for m in found)
    assert calibrate.strong_match(found)  # (nonsense and absent content: tests/quality/test_devset.py)
    # the relevance floor is a confidence: the same meaning for every query
    floored = engine.search("0", SearchOptions(k=5, min_score=0.99))
    assert all(m.score >= 0.99 for m in floored)


def test_the_starter_bank_ships_with_the_package_embedded_as_its_queries_are() -> None:
    """The shipped bank must be the bank the starter would embed: its sentences in the query
    templates the starter's searches use, or the normaliser compares unlike with unlike."""
    from vsearch.embed.base import embed_queries, query_templates
    from vsearch.embed.starter import StarterEmbedder

    emb = StarterEmbedder()
    path = qbank.shipped_path(emb.model_id, query_templates(emb))
    assert path.is_file(), "regenerate with python tools/querybank.py"
    vecs = np.load(path).astype(np.float32)
    assert vecs.shape == (len(qbank.sentences()), 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-2)
    picks = [0, 1, 1000, len(vecs) - 1]
    now = embed_queries(emb, [qbank.sentences()[i] for i in picks])
    assert (np.einsum("ij,ij->i", now, vecs[picks]) > 0.999).all(), "stale: python tools/querybank.py"
    # and the loader finds it without embedding anything
    loaded = qbank.for_model(emb.model_id, lambda texts: pytest.fail("embedded"), None, query_templates(emb))
    assert loaded.vectors.shape == vecs.shape


def test_a_query_is_embedded_in_its_models_templates(tmp_path: Path) -> None:
    """The visual expert averages the query's vectors in the model's templates (the query as typed
    without any); the bank is embedded the same way, under a cache key of its own."""
    seen: list[str] = []

    def fake_vectors(texts):  # noqa: ANN001, ANN202
        seen.extend(texts)
        return _unit(np.array([[1.0, 0, 0, 0] if t.startswith("a photo") else [0, 1.0, 0, 0] for t in texts]))

    class Plain:
        model_id, dim = "plain-test", 4
        embed_text = staticmethod(fake_vectors)

    class Templated(Plain):
        query_templates = ("{}", "a photo of {}")

    lib, model, ann, _queries, _bank = _library(tmp_path)
    v_plain = Searcher(lib, model, ann, embedder=Plain()).query_vector("a dog")  # type: ignore[arg-type]
    v_pair = Searcher(lib, model, ann, embedder=Templated()).query_vector("a dog")  # type: ignore[arg-type]
    assert seen == ["a dog", "a dog", "a photo of a dog"]
    assert np.allclose(v_plain, [0, 1, 0, 0]) and np.allclose(v_pair, np.array([1, 1, 0, 0]) / np.sqrt(2))
    assert qbank.bank_key("m") != qbank.bank_key("m", Templated.query_templates)
    seen.clear()
    b = qbank.for_model("m-tpl", fake_vectors, tmp_path, Templated.query_templates)
    texts = qbank.sentences()
    assert sorted(seen) == sorted(texts + ["a photo of " + t for t in texts])
    assert np.allclose(b.vectors[0], np.array([1, 1, 0, 0]) / np.sqrt(2), atol=1e-3)


def _add_video(lib: Library, model, ann: AnnIndex, path: str, n: int, seed: int, away: np.ndarray) -> None:  # noqa: ANN001
    """A video of *n* frames near *away* (far from every query: it wins none)."""
    rng = np.random.default_rng(seed)
    vid = lib.add_video(VideoFile(path, 5000 + seed, 1.0), None)
    lib.set_probe(vid, VideoInfo(duration=2.0 * n, fps=25.0, width=64, height=64))
    lib.add_frames(vid, model.id, np.arange(n, dtype=np.float64) * 2.0, _unit(away + 0.1 * rng.normal(size=(n, DIM))))
    lib.finish_video(vid, model.id)
    ann.sync(lib, model.id)


def test_a_large_librarys_hub_set_is_reused_while_it_only_grows_a_little(tmp_path: Path, monkeypatch) -> None:
    """Each written batch is a new generation; a search during indexing must not search the whole
    bank again (3.4 s at 1M frames) for a few new frames, but must after deletions or much growth."""
    from vsearch.query import search as search_mod

    lib, model, ann, queries, bank = _library(tmp_path)
    s = Searcher(lib, model, ann, embedder=None, bank=qbank.QueryBank(bank))  # type: ignore[arg-type]
    before = _winners(s, queries)
    away = -queries.mean(axis=0)
    n0 = ann.count
    assert s._act is not None and s._act[3] == n0
    # the default threshold: a library this small recomputes at every new generation
    _add_video(lib, model, ann, "/videos/new1.mp4", 4, seed=1, away=away)
    _winners(s, queries)
    assert s._act[0] == ann.generation and s._act[3] == ann.count

    monkeypatch.setattr(search_mod, "ACTIVATION_REUSE_MIN", 10)  # as if it were a large library
    monkeypatch.setattr(search_mod, "ACTIVATION_REUSE_GROWTH", 0.2)
    n1 = ann.count
    _add_video(lib, model, ann, "/videos/new2.mp4", 4, seed=2, away=away)  # +5 %: reused
    assert _winners(s, queries) == before
    assert s._act[3] == n1 and s._act[0] != ann.generation
    _add_video(lib, model, ann, "/videos/new3.mp4", 30, seed=3, away=away)  # +35 % since the pass: recomputed
    _winners(s, queries)
    assert s._act[3] == ann.count and s._act[0] == ann.generation
    victim = next(v for v in lib.videos().values() if v.path == "/videos/new3.mp4")
    lib.delete_videos([victim.id])
    ann.sync(lib, model.id)
    assert _winners(s, queries) == before  # after deletions: recomputed, not reused
    assert s._act[3] == ann.count and s._act[0] == ann.generation


def test_the_hub_set_is_kept_beside_the_index_and_a_restart_does_not_search_the_bank_again(
    tmp_path: Path, monkeypatch
) -> None:
    """Computing the activation set took ~10 s at 1M frames at the first search of every start;
    it is saved with the index and reused while it describes the library and the bank."""
    lib, model, ann, queries, bank = _library(tmp_path)
    first = Searcher(lib, model, ann, embedder=None, bank=qbank.QueryBank(bank))  # type: ignore[arg-type]
    before = _winners(first, queries)
    assert ann.activation_path.is_file()
    passes = []
    real = AnnIndex.search_many

    def counted(self: AnnIndex, vectors: np.ndarray, k: int):  # noqa: ANN202
        passes.append(len(vectors))
        return real(self, vectors, k)

    monkeypatch.setattr(AnnIndex, "search_many", counted)

    def restart(b: np.ndarray) -> Searcher:  # a new process: the library and its index opened again
        lib2 = Library(tmp_path)
        model2 = lib2.model(model.model_id)
        ann2 = AnnIndex(tmp_path / "ann", model.model_id, DIM)
        ann2.sync(lib2, model2.id)
        return Searcher(lib2, model2, ann2, embedder=None, bank=qbank.QueryBank(b))  # type: ignore[arg-type]

    again = restart(bank)
    assert _winners(again, queries) == before
    assert passes == []  # read from the saved set, not searched
    assert again._act[1] == first._act[1] and again._act[2] == first._act[2]
    victim = next(v for v in lib.videos().values() if v.path == "/videos/v00.mp4")
    lib.delete_videos([victim.id])  # the library changed: searched again
    _winners(restart(bank), queries)
    assert passes == [len(bank)]
    _winners(restart(bank), queries)  # ... and that set saved in turn
    assert passes == [len(bank)]
    _winners(restart(bank[::-1].copy()), queries)  # another bank (another model version's): searched again
    assert passes == [len(bank), len(bank)]


def test_the_starter_embeds_a_searched_query_once_for_every_expert(monkeypatch) -> None:
    """The visual expert embeds the query in its templates in one batch (a templated model embeds
    several forms at once); speech, on-screen text and gating then embed it as typed, which must
    come from memory, unchanged, for every sentence of so small a batch."""
    from vsearch.embed.base import embed_templated
    from vsearch.embed.starter import StarterEmbedder

    emb = StarterEmbedder()
    batches: list[list[str]] = []
    real = emb._embed_uncached
    monkeypatch.setattr(emb, "_embed_uncached", lambda texts: (batches.append(list(texts)), real(texts))[1])
    q = "a dog jumps into the lake"
    v = embed_templated(emb.embed_text, [q], ("{}", "a photo of {}"))[0]
    again = emb.embed_text([q])[0]
    photo = emb.embed_text(["a photo of " + q])[0]
    assert batches == [[q, "a photo of " + q]]
    fresh = StarterEmbedder().embed_text([q])[0]
    assert np.allclose(again, fresh, atol=1e-6)
    both = StarterEmbedder().embed_text(["a photo of " + q])[0] + fresh
    assert np.allclose(v, both / np.linalg.norm(both), atol=1e-5) and np.allclose(photo, both - fresh, atol=1e-5)
