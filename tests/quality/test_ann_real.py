"""The HNSW index against brute force on real vectors: the starter model on the bundled real photos.

Each photo becomes a short "video": crops sliding across it (neighbouring frames nearly the
same, as in footage), so the graph holds the near-duplicate cliques real libraries have. The
queries are real text (the photos' captions and a few more), far from every frame as text is.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.quality.test_starter import MIN_PHOTOS, load_photos
from vsearch.store.ann import AnnIndex

st = pytest.importorskip("vsearch.embed.starter")

EXTRA_QUERIES = [
    "a cat",
    "outer space",
    "a vehicle",
    "something to drink",
    "a person",
    "a building near water",
    "a texture close up",
    "a flower in bloom",
]


def _frames(img: np.ndarray, n: int = 6) -> list[np.ndarray]:
    """n crops sliding left to right and zooming in a little: a camera pan over the photo."""
    h, w = img.shape[:2]
    out = []
    for i in range(n):
        f = i / (n - 1)
        ch, cw = int(h * (0.9 - 0.25 * f)), int(w * (0.9 - 0.25 * f))
        y, x = int((h - ch) * 0.5), int((w - cw) * f)
        out.append(np.ascontiguousarray(img[y : y + ch, x : x + cw]))
    return out


def test_hnsw_agrees_with_brute_force_on_real_starter_vectors(tmp_path) -> None:
    names, images, captions = load_photos()
    if len(names) < MIN_PHOTOS:
        pytest.skip("bundled photos unavailable (the 'dev' extra)")
    emb = st.StarterEmbedder(device="cpu", cache_dir=tmp_path / "cache")
    per = 6
    frames = [f for img in images for f in _frames(img, per)]
    x = emb.embed_images(frames).astype(np.float16).astype(np.float32)  # as SQLite stores them
    q = emb.embed_text(captions + EXTRA_QUERIES)
    ann = AnnIndex(tmp_path / "ann", emb.model_id, x.shape[1])
    ids = np.arange(1, len(x) + 1)
    for a in range(0, len(x), per):  # video by video, as the indexer adds them
        ann.add(ids[a : a + per], x[a : a + per])
    frame_hits, video_hits = [], []
    for qi in q:
        sims = x @ qi
        truth = np.argsort(-sims)[:10] + 1
        got, gs = ann.search(qi, 10)
        frame_hits.append(len(set(truth.tolist()) & set(got.tolist())) / 10)
        assert gs == pytest.approx(sims[got - 1], abs=1e-5)
        many, _ = ann.search(qi, 40)
        want = {(int(i) - 1) // per for i in truth}
        video_hits.append(len(want & {(int(i) - 1) // per for i in many}) / len(want))
    assert np.mean(frame_hits) >= 0.95 and np.mean(video_hits) >= 0.99, (
        np.mean(frame_hits),
        np.mean(video_hits),
    )
