"""The top result does not depend on -k (issue 15, point 1): the list for k is the first k of
the list for any larger k. Libraries are drawn by hypothesis (videos, frames, near-identical
re-encoded copies, ties), written straight into SQLite, and searched with every k."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vsearch.query.engine import top
from vsearch.query.search import FETCH_MIN, FLOOR_VIDEOS, Searcher, SearchOptions
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Library
from vsearch.types import VideoFile, VideoInfo

DIM = 6
K_MAX = 40


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _build(folder: Path, seed: int, n_videos: int, max_frames: int, copies: int, theme: float):  # noqa: ANN202
    rng = np.random.default_rng(seed)
    lib = Library(folder)
    model = lib.ensure_model("rand-v1", "rand", DIM)
    lib.activate_model(model.id)
    centre = _unit(rng.normal(size=DIM))
    originals = []
    for _ in range(n_videos):
        n = int(rng.integers(1, max_frames + 1))
        # frames drift around a per-video direction; 'theme' pulls some videos towards one topic
        base = _unit(rng.normal(size=DIM) + theme * centre * rng.random())
        walk = np.cumsum(rng.normal(scale=0.3, size=(n, DIM)), axis=0)
        originals.append((n, _unit(base + walk)))
    videos = list(originals)
    for j in range(copies):  # re-encoded copies: the same frames, nearly the same vectors
        n, vecs = originals[j % len(originals)]
        noise = rng.normal(scale=1e-3 if j % 2 else 0.0, size=vecs.shape)
        videos.append((n, _unit(vecs + noise)))
    for i, (n, vecs) in enumerate(videos):
        times = np.cumsum(rng.uniform(0.5, 3.0, size=n)) - 0.5
        vid = lib.add_video(VideoFile(f"/videos/v{i:03d}.mp4", 1000 + i, 1.0), None)
        lib.set_probe(vid, VideoInfo(duration=float(times[-1] + 1.0), fps=25.0, width=64, height=64))
        lib.add_frames(vid, model.id, times, vecs)
        lib.finish_video(vid, model.id)
    model = lib.model(model.model_id)
    ann = AnnIndex(folder / "ann", model.model_id, DIM)
    ann.sync(lib, model.id)
    return lib, Searcher(lib, model, ann, embedder=None), centre, rng  # type: ignore[arg-type]


def _search(searcher: Searcher, q: np.ndarray, opts: SearchOptions) -> list:
    """What a search shows: the visual list, capped per video and cut at k by the query engine."""
    return top(searcher.search_vector(q, opts), opts)


def _key(ms: list) -> list[tuple]:
    return [(m.video_id, round(m.start, 4), round(m.end, 4), round(m.score, 6)) for m in ms]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    n_videos=st.integers(1, 3 * FLOOR_VIDEOS),
    max_frames=st.integers(1, 60),
    copies=st.integers(0, 12),
    theme=st.sampled_from([0.0, 1.0, 4.0]),
    per_video=st.sampled_from([None, 1, 2]),
    min_score=st.sampled_from([None, 0.0, 0.5]),
)
def test_the_list_for_k_is_the_start_of_the_list_for_any_larger_k(
    seed: int, n_videos: int, max_frames: int, copies: int, theme: float, per_video: int | None, min_score: float | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lib, searcher, centre, rng = _build(Path(tmp), seed, n_videos, max_frames, copies, theme)
        try:
            for q in (centre, _unit(rng.normal(size=DIM))):
                full = _search(searcher, q, SearchOptions(k=K_MAX, per_video=per_video, min_score=min_score))
                assert all(-1.0 - 1e-3 <= m.score <= 1.0 + 1e-3 for m in full)
                for k in range(1, K_MAX):
                    got = _search(searcher, q, SearchOptions(k=k, per_video=per_video, min_score=min_score))
                    assert _key(got) == _key(full[:k]), f"k={k}"
        finally:
            lib.close()


def test_many_frames_more_than_one_fetch() -> None:
    """Enough frames that a large k needs a second ANN fetch: still a prefix."""
    with tempfile.TemporaryDirectory() as tmp:
        lib, searcher, centre, _ = _build(Path(tmp), 7, 60, 3 * FETCH_MIN // 10, 20, 1.0)
        try:
            full = _search(searcher, centre, SearchOptions(k=200))
            assert len(full) > 20
            for k in (1, 2, 3, 5, 10, 25, 60, 150):
                assert _key(_search(searcher, centre, SearchOptions(k=k))) == _key(full[:k])
        finally:
            lib.close()


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_visual=st.integers(1, 120),
    n_speech=st.integers(0, 30),
)
def test_fused_top_result_does_not_depend_on_k(seed: int, n_visual: int, n_speech: int) -> None:
    """The query engine hands fusion the same visual pool for every k <= FUSION_POOL (and a pool
    whose calibration is the same beyond): the fused first result is the same for every k."""
    from vsearch.query.engine import FUSION_POOL
    from vsearch.speech.fusion import SpeechHit, fuse
    from vsearch.types import Moment

    rng = np.random.default_rng(seed)
    visual = sorted(
        (
            Moment(f"/v{v}.mp4", float(a), float(a) + 2.0, float(sc), float(a), video_id=int(v))
            for v, a, sc in zip(rng.integers(1, 8, n_visual), rng.uniform(0, 100, n_visual), rng.normal(0.3, 0.05, n_visual), strict=True)
        ),
        key=lambda m: -m.score,
    )
    hits = [
        SpeechHit(int(v), f"/v{v}.mp4", float(a), float(a) + 3.0, "words", semantic=float(c), fts=bool(f))
        for v, a, c, f in zip(rng.integers(1, 8, n_speech), rng.uniform(0, 100, n_speech), rng.uniform(0.2, 0.7, n_speech), rng.random(n_speech) < 0.3, strict=True)
    ]
    tops = set()
    for k in (1, 2, 3, 5, 10, 20, 50, 80, 150):
        pool = visual[: max(k, FUSION_POOL)]
        fused = fuse(pool, hits, calibrate_on=FUSION_POOL)[:k]
        if fused:
            m = fused[0]
            tops.add((m.video_id, m.start, m.end, round(m.score, 9), m.source))
    assert len(tops) <= 1, tops
