"""A search right after a written batch at 1M frames: the querybank activation set reused vs recomputed.

Each batch the indexer writes is a new generation of the index; before the reuse every search
during indexing searched the whole bank again. Needs the 1M library of bench_search.py:

    python benchmarks/bench_search.py --sizes 1000000   # builds benchmarks/out/search_1000000 once
    python benchmarks/bench_activation.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import MODEL_NAME, SyntheticTextEmbedder  # noqa: E402

from vsearch.query import search as search_mod  # noqa: E402
from vsearch.service import Service  # noqa: E402

LIBRARY = Path(__file__).resolve().parent / "out" / "search_1000000"


def main() -> None:
    svc = Service(LIBRARY, model=MODEL_NAME, device="cpu", readonly=True)
    svc._embedders[MODEL_NAME] = SyntheticTextEmbedder(1000, "tiny-random", None)
    svc.search("first query of the session", k=10)
    s = svc.searcher()
    assert s is not None
    ann = s.ann
    rng = np.random.default_rng(0)
    next_id = 10**8  # past the library's frame ids: graph-only vectors, no SQLite rows

    def written_batch() -> None:
        """What the indexer does per batch: 32 vectors into the graph, and a new generation."""
        nonlocal next_id
        v = rng.normal(size=(32, ann.dim)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        ann.add(np.arange(next_id, next_id + 32), v)
        next_id += 32
        ann.generation += 1

    shipped = search_mod.ACTIVATION_REUSE_MIN
    for label, reuse_min in (("reused (shipped)", shipped), ("recomputed (before)", 10**12)):
        search_mod.ACTIVATION_REUSE_MIN = reuse_min
        lat = []
        for i in range(5):
            written_batch()
            q = s.query_vector(f"a query {label} {i}")
            t = time.perf_counter()
            s.search_vector(q)
            lat.append(time.perf_counter() - t)
        runs = [round(1000 * x) for x in lat]
        print(f"activation set {label}: a search right after a written batch, median {1000 * np.median(lat):.0f} ms {runs}")
    search_mod.ACTIVATION_REUSE_MIN = shipped


if __name__ == "__main__":
    main()
