"""The visual expert: text -> vector -> ANN top-K frames -> per-video similarity curves -> ranked moments.

:mod:`vsearch.query.engine` combines it with the speech expert and applies the per-video cap and k.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from vsearch import log
from vsearch.embed.base import Embedder
from vsearch.query.moments import DEFAULT, MomentParams, drop_near_duplicates, find_spans
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Library, ModelRow, VideoRow
from vsearch.types import Moment

FETCH_MIN = 200  # frames asked of the ANN per query
FETCH_MAX = 20_000  # ... at most, when folder/duration filters drop candidates
LONG_VIDEO_FRAMES = 600  # videos with more samples get a curve only around their best hit ...
WINDOW_SECONDS = 180.0  # ... this far on each side (moments are far shorter; reads stay small)
CACHE_FRAMES = 100_000  # per-video vectors cached between queries (float16: ~100 MB at 512-d)


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """Filters a user can set on one search.

    Attributes:
        k: number of moments to return.
        folder: only videos inside this folder.
        min_score: drop moments below this score (None: relative floor only).
        per_video: at most this many moments per video (None: up to the builder's limit).
        min_duration, max_duration: only videos whose length lies in this range (seconds).
        candidates: how many videos get a full similarity curve (None: k). k is enough: a
            video's best moment scores its best frame, so the k videos with the best frames
            hold the k best moments, and later videos cannot enter the top k.
    """

    k: int = 20
    folder: str | None = None
    min_score: float | None = None
    per_video: int | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    candidates: int | None = None


class Searcher:
    """Answers queries for one model of one library. Safe to call from several threads."""

    def __init__(
        self,
        library: Library,
        model: ModelRow,
        ann: AnnIndex,
        embedder: Embedder,
        params: MomentParams = DEFAULT,
    ) -> None:
        self.library = library
        self.model = model
        self.ann = ann
        self.embedder = embedder
        self.params = params
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vcache: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._cache_frames = 0
        self._cache_gen = -1
        self._lock = threading.RLock()

    def query_vector(self, text: str) -> np.ndarray:
        with self._lock:
            v = self._qcache.get(text)
            if v is not None:
                self._qcache.move_to_end(text)
                return v
        v = self.embedder.embed_text([text])[0].astype(np.float32)
        with self._lock:
            self._qcache[text] = v
            while len(self._qcache) > 256:
                self._qcache.popitem(last=False)
        return v

    def refresh(self) -> None:
        """Pick up vectors written since the last search (cheap when nothing changed)."""
        self.ann.sync(self.library, self.model.id)

    def _video_vectors(self, video_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, vectors, adjacent-frame similarities) of one video, cached until the library changes.

        One SQLite range read per video (the frames of a video are adjacent in its index); the
        vectors are cached as float16, exactly as SQLite stores them.
        """
        gen = self.ann.generation
        with self._lock:
            if gen != self._cache_gen:
                self._vcache.clear()
                self._cache_frames = 0
                self._cache_gen = gen
            hit = self._vcache.get(video_id)
            if hit is not None:
                self._vcache.move_to_end(video_id)
                return hit
        _, times, vecs = self.library.video_vectors(video_id, self.model.id, self.model.dim)
        adj = np.einsum("ij,ij->i", vecs[1:], vecs[:-1]) if len(vecs) > 1 else np.zeros(0)
        # SQLite stores float16, so this halves the cache and loses nothing; curve() widens again
        entry = (times, vecs.astype(np.float16), adj)
        with self._lock:
            self._vcache[video_id] = entry
            self._cache_frames += len(times)
            while self._cache_frames > CACHE_FRAMES and len(self._vcache) > 1:
                _, (t_old, _, _) = self._vcache.popitem(last=False)
                self._cache_frames -= len(t_old)
        return entry

    def window_curve(
        self, row: VideoRow, qvec: np.ndarray, around: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """Like curve(), but for a long video only the stretch around its best hit is read.

        Returns (times, similarities, adjacent similarities, window start, window end).
        """
        dur = float(row.duration or 0.0)
        with self._lock:
            cached = row.id in self._vcache and self._cache_gen == self.ann.generation
        if cached or self.library.frame_count(row.id) <= LONG_VIDEO_FRAMES:
            times, sims, adj = self.curve(row.id, qvec)
            return times, sims, adj, 0.0, max(dur, float(times[-1]) if len(times) else 0.0)
        lo, hi = max(0.0, around - WINDOW_SECONDS), around + WINDOW_SECONDS
        _, times, vecs = self.library.video_vectors(row.id, self.model.id, self.model.dim, between=(lo, hi))
        adj = np.einsum("ij,ij->i", vecs[1:], vecs[:-1]) if len(vecs) > 1 else np.zeros(0)
        end = min(dur, hi) if dur else hi
        if len(times):
            end = max(end, float(times[-1]))
        return times, (vecs @ qvec).astype(np.float64), adj, (lo if lo > 0 else 0.0), end

    def curve(self, video_id: int, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, similarities, adjacent-frame similarities) of a query across one video."""
        times, vecs, adj = self._video_vectors(video_id)
        if len(times) == 0:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        return times, (vecs.astype(np.float32) @ qvec).astype(np.float64), adj

    def search(self, text: str, opts: SearchOptions = SearchOptions()) -> list[Moment]:
        """The visual moments for *text*, best first; the query engine caps them per video and at k."""
        text = " ".join(text.split())
        if not text:
            return []
        self.refresh()
        q = self.query_vector(text)
        return self.search_vector(q, opts)

    def _candidates(self, q: np.ndarray, opts: SearchOptions) -> list[tuple[VideoRow, float, float]]:
        """Videos holding the best frames, as (row, best frame similarity, its time), best first."""
        total = self.ann.count
        fetch = min(total, max(FETCH_MIN, opts.k * 10))
        while True:
            ids, sims = self.ann.search(q, fetch)
            frames = self.library.frames(ids)
            best: dict[int, float] = {}
            best_t: dict[int, float] = {}
            for fid, s in zip(ids, sims, strict=False):
                fr = frames.get(int(fid))
                if fr is None:
                    continue
                vid = fr[0]
                if s > best.get(vid, -np.inf):
                    best[vid] = float(s)
                    best_t[vid] = fr[1]
            rows = self.library.videos(best.keys())
            out = []
            for vid, s in sorted(best.items(), key=lambda x: -x[1]):
                row = rows.get(vid)
                if row is None or not passes_filters(row, opts):
                    continue
                out.append((row, s, best_t[vid]))
            # fetch more only when filters dropped videos; near-duplicate frames of a few videos are fine
            filtered = len(best) - len(out)
            want = opts.candidates or max(1, opts.k)
            if len(out) >= want or fetch >= total or not filtered or fetch >= FETCH_MAX:
                return out[:want]
            fetch = min(total, fetch * 4)

    def search_vector(self, q: np.ndarray, opts: SearchOptions = SearchOptions()) -> list[Moment]:
        """Every moment of the candidate videos for a query vector, best first, after the relevance floor.

        Not capped per video nor cut at k: :mod:`vsearch.query.engine` does both, once, for
        every expert (``engine.top``).
        """
        cands = self._candidates(q, opts)
        if not cands:
            return []
        moments: list[Moment] = []
        all_scores = []
        for row, _, hit_t in cands:
            times, sims, adj, origin, end = self.window_curve(row, q, hit_t)
            if len(times) == 0:
                continue
            all_scores.append(sims)
            dur = float(row.duration or (times[-1] + 1.0))
            spans = find_spans(times, sims, end, adjacent_sim=adj, params=self.params, origin=origin)
            for a, b, score, best in spans:
                moments.append(
                    Moment(
                        path=row.path,
                        start=a,
                        end=b,
                        score=score,
                        best_time=best,
                        video_id=row.id,
                        duration=dur,
                        fps=float(row.fps or 0.0),
                    )
                )
        moments.sort(key=lambda m: -m.score)
        moments = drop_near_duplicates(moments, lambda m: (m.start, m.end), lambda m: m.video_id)
        moments = apply_floor(
            moments, np.concatenate(all_scores) if all_scores else np.zeros(0), opts.min_score
        )
        log.query.debug("%d moments from %d candidate videos", len(moments), len(cands))
        return moments


def apply_floor(moments: list[Moment], frame_scores: np.ndarray, min_score: float | None) -> list[Moment]:
    """The relevance floor: an explicit minimum, and always 'better than a typical frame'."""
    if min_score is not None:
        moments = [m for m in moments if m.score >= min_score]
    if len(frame_scores) >= 8 and len(moments) > 1:
        typical = float(np.median(frame_scores))
        top = moments[0].score
        moments = [m for i, m in enumerate(moments) if i == 0 or m.score > typical or top <= typical]
    return moments


def passes_filters(row: VideoRow, opts: SearchOptions) -> bool:
    """Whether a video passes a search's folder and duration filters (visual and speech hits alike)."""
    if opts.folder:
        folder = os.path.abspath(opts.folder).rstrip(os.sep) + os.sep
        if not row.path.startswith(folder):
            return False
    d = row.duration or 0.0
    if opts.min_duration is not None and d < opts.min_duration:
        return False
    if opts.max_duration is not None and d > opts.max_duration:
        return False
    return True
