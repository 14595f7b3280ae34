"""The visual expert: text -> vector -> ANN top-K frames -> per-video similarity curves -> ranked moments.

:mod:`vsearch.query.engine` combines it with the speech expert and applies the per-video cap and k.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from vsearch import log, threads
from vsearch.embed.base import Embedder, embed_queries
from vsearch.query.bank import QueryBank
from vsearch.query.moments import DEFAULT, MomentParams, drop_near_duplicates, find_spans
from vsearch.store.ann import AnnIndex
from vsearch.store.library import Library, ModelRow, VideoRow
from vsearch.types import Moment

FETCH_MIN = 200  # frames asked of the ANN first (the same for every k) ...
FETCH_MAX = 20_000  # ... growing 4x while more candidate videos are needed, at most this many
FLOOR_VIDEOS = 10  # the relevance floor is the median frame score of this many best videos (any k)
BOUND_EPS = 1e-4  # ANN and curve similarities of one frame may differ by float rounding
LONG_VIDEO_FRAMES = 600  # videos with more samples get a curve only around their best hit ...
WINDOW_SECONDS = 180.0  # ... this far on each side (moments are far shorter; reads stay small)
TYPICAL_SAMPLE = 256  # frames that set a library's typical bank offset (querybank normalisation)
#: A large library's activation set is reused while it grows by at most this share of its vectors
#: (and loses none): recomputing it searches the whole bank (2,644 queries, 3.4 s at 1M frames),
#: which every search during indexing would otherwise pay, as each written batch is a new generation
ACTIVATION_REUSE_GROWTH = 0.05
ACTIVATION_REUSE_MIN = 50_000  # ... in libraries of at least this many vectors (smaller ones recompute: cheap)
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
        candidates: read at least enough videos for this many moments (None: k); see
            Searcher.search_vector for when reading stops.
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
        bank: QueryBank | None = None,
    ) -> None:
        self.library = library
        #: the model's query bank: with one, frame scores are querybank-normalised
        #: (vsearch.query.bank) before moments are built; None scores raw cosines
        self.bank = bank
        self.model = model
        self.ann = ann
        self.embedder = embedder
        if getattr(embedder, "text_in_torch", False):
            threads.one_blas_thread()  # BLAS would fight the text tower's spinning threads for the cores
        self.params = params
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vcache: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = OrderedDict()
        self._cache_frames = 0
        self._cache_gen = -1
        # (generation, hubs, typical offset, vector count and deleted entries when computed)
        self._act: tuple[int, set[tuple[int, int]], float, int, int] | None = None
        self._hubs_by_video: tuple[set[tuple[int, int]], dict[int, np.ndarray]] | None = None
        self._lock = threading.RLock()

    def query_vector(self, text: str) -> np.ndarray:
        """The normalised text vector of *text* in the embedder's query templates (cached per query string)."""
        with self._lock:
            v = self._qcache.get(text)
            if v is not None:
                self._qcache.move_to_end(text)
                return v
        vec: np.ndarray = embed_queries(self.embedder, [text])[0].astype(np.float32)
        with self._lock:
            self._qcache[text] = vec
            while len(self._qcache) > 256:
                self._qcache.popitem(last=False)
        return vec

    def refresh(self) -> None:
        """Pick up vectors written since the last search (cheap when nothing changed)."""
        self.ann.sync(self.library, self.model.id)

    def _video_vectors(self, video_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """(times, vectors, adjacent-frame similarities, bank offsets) of one video, cached.

        The cache lasts until the library changes; the offsets (:meth:`offsets`) are None
        without a bank.

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
        entry = (times, vecs.astype(np.float16), adj, self.offsets(vecs, video_id, times))
        with self._lock:
            self._vcache[video_id] = entry
            self._cache_frames += len(times)
            while self._cache_frames > CACHE_FRAMES and len(self._vcache) > 1:
                _, (t_old, _, _, _) = self._vcache.popitem(last=False)
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
        return times, self._scores(vecs @ qvec, self.offsets(vecs, row.id, times)), adj, (lo if lo > 0 else 0.0), end

    def offsets(self, vecs: np.ndarray, video_id: int, times: np.ndarray) -> np.ndarray | None:
        """Each frame's querybank offset in cosine units (None without a bank).

        The dynamic inverted softmax (QB-Norm's DIS): a frame that is the nearest frame of some
        bank query (the activation set, a hub candidate) is offset by its own N(g) / beta when
        that exceeds the library's typical offset; every other frame by the typical offset, so
        only hubs move and all scores stay on the bank's log-odds scale.
        """
        if self.bank is None or len(vecs) == 0:
            return None
        hubs, typical = self._activation()
        out = np.full(len(vecs), typical)
        keys = self._hub_keys(hubs).get(video_id)
        if keys is None:
            return out
        # _time_key, vectorised (np.rint rounds half to even, as round() does)
        hit = np.isin(np.rint(np.asarray(times, dtype=np.float64) * 1000).astype(np.int64), keys)
        if hit.any():
            own = self.bank.normalisers(np.asarray(vecs, dtype=np.float32)[hit]) / self.bank.beta
            out[hit] = np.maximum(own, typical)
        return out

    def _hub_keys(self, hubs: set[tuple[int, int]]) -> dict[int, np.ndarray]:
        """The activation set by video: video id -> its hub frames' time keys (cached per set)."""
        with self._lock:
            if self._hubs_by_video is not None and self._hubs_by_video[0] is hubs:
                return self._hubs_by_video[1]
        by: dict[int, list[int]] = {}
        for vid, tk in hubs:
            by.setdefault(vid, []).append(tk)
        out = {vid: np.array(sorted(tks), dtype=np.int64) for vid, tks in by.items()}
        with self._lock:
            self._hubs_by_video = (hubs, out)
        return out

    def _activation(self) -> tuple[set[tuple[int, int]], float]:
        """(the activation set as (video id, time key) pairs, the typical offset), per generation.

        Frames are named by video and time, not frame id: a shared library has no frame ids.

        The activation set: each bank query's nearest frame. The typical offset: the median
        N(g) / beta over the bank queries' ten nearest frames (a fixed, query-independent
        sample of what generic queries retrieve).
        """
        gen = self.ann.generation
        count, deleted = int(self.ann.count), int(getattr(self.ann, "deleted", 0))
        with self._lock:
            if self._act is not None:
                gen0, hubs0, typical0, count0, deleted0 = self._act
                if gen0 == gen or grew_little(count0, deleted0, count, deleted):
                    return hubs0, typical0
        assert self.bank is not None
        saved = self._saved_activation(gen, count, deleted)
        if saved is not None:
            with self._lock:
                self._act = (gen, saved[0], saved[1], count, deleted)
            return saved
        top1: set[int] = set()
        near: set[int] = set()
        k = min(10, self.ann.count)
        if k > 0:
            all_ids, all_sims = self.ann.search_many(self.bank.vectors, k)  # one batched pass
            for ids, sims in zip(all_ids, all_sims, strict=True):
                if len(ids):
                    # every frame tied with the nearest (identical copies), so the set does not
                    # depend on how an index breaks ties (a local and a shared library agree)
                    top1.update(int(i) for i, v in zip(ids, sims, strict=False) if v >= sims[0] - BOUND_EPS)
                    near.update(int(i) for i in ids)
        where = self.library.frames(sorted(near | top1))
        keys = {fid: (vid, _time_key(t)) for fid, (vid, t) in where.items()}
        ordered = sorted(keys[f] for f in near if f in keys)
        sample = set(ordered[:: max(1, len(ordered) // TYPICAL_SAMPLE)])  # evenly spread, bounded
        by_video: dict[int, set[int]] = {}
        for vid, tk in sample:
            by_video.setdefault(vid, set()).add(tk)
        norms = []
        for vid, tks in sorted(by_video.items()):  # the same reads a local or a shared library answers
            _ids, times_v, vecs = self.library.video_vectors(vid, self.model.id, self.model.dim)
            keep = np.array([_time_key(t) in tks for t in times_v], dtype=bool)
            if keep.any():
                norms.append(self.bank.normalisers(vecs[keep]))
        typical = float(np.median(np.concatenate(norms))) / self.bank.beta if norms else 0.0
        hubs = {keys[f] for f in top1 if f in keys}
        with self._lock:
            self._act = (gen, hubs, typical, count, deleted)
        self._save_activation(gen, count, deleted, hubs, typical)
        return hubs, typical

    def _save_activation(self, gen: int, count: int, deleted: int, hubs: set[tuple[int, int]], typical: float) -> None:
        """Keep a computed activation set beside the index for the next process (not in a read-only library)."""
        assert self.bank is not None
        if getattr(self.library, "readonly", True):
            return
        self.ann.save_activation(
            {
                "version": 1, "bank": self.bank.fingerprint, "beta": self.bank.beta,
                "generation": gen, "count": count, "deleted": deleted, "typical": typical,
                "hubs": sorted([v, t] for v, t in hubs),
            }
        )

    def _saved_activation(self, gen: int, count: int, deleted: int) -> tuple[set[tuple[int, int]], float] | None:
        """The activation set a previous process saved beside the index, if it still describes it.

        It does when it was computed for this bank at this generation, or when the index only
        grew a little since (:func:`grew_little`, the rule the set in memory is reused by).
        At 1M frames computing it takes ~10 s, which a first search after every start paid.
        """
        if self.bank is None:
            return None
        r = self.ann.load_activation()
        try:
            if r is None or r.get("version") != 1 or r.get("bank") != self.bank.fingerprint:
                return None
            if float(r["beta"]) != self.bank.beta:  # type: ignore[arg-type]  # checked by float()
                return None
            gen0, count0, deleted0 = int(r["generation"]), int(r["count"]), int(r["deleted"])  # type: ignore[call-overload]
            same = gen0 == gen and gen >= 0 and count0 == count
            if not (same or grew_little(count0, deleted0, count, deleted)):
                return None
            hubs = {(int(v), int(t)) for v, t in r["hubs"]}  # type: ignore[attr-defined]
            return hubs, float(r["typical"])  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return None

    @staticmethod
    def _scores(sims: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
        """Frame scores: the cosine, minus the frame's bank offset when there is a bank.

        In cosine units, so the moment builder's knobs mean the same with and without a bank;
        ``bank.beta * score`` is the inverted softmax's log-odds (vsearch.query.bank).
        """
        out = np.asarray(sims, dtype=np.float64)
        return out - offsets if offsets is not None else out

    def curve(self, video_id: int, qvec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, frame scores, adjacent-frame similarities) of a query across one video."""
        times, vecs, adj, offs = self._video_vectors(video_id)
        if len(times) == 0:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        return times, self._scores(vecs.astype(np.float32) @ qvec, offs), adj

    def bound(self, best_sim: float) -> float:
        """The highest frame score a video whose best cosine is *best_sim* can have."""
        return self.bank.z_bound(best_sim) / self.bank.beta if self.bank is not None else best_sim

    def search(self, text: str, opts: SearchOptions = SearchOptions()) -> list[Moment]:
        """The visual moments for *text*, best first; the query engine caps them per video and at k."""
        text = " ".join(text.split())
        if not text:
            return []
        self.refresh()
        q = self.query_vector(text)
        return self.search_vector(q, opts)

    def _candidates(self, q: np.ndarray, opts: SearchOptions) -> Iterator[tuple[VideoRow, float, float]]:
        """Videos holding the best frames, as (row, best frame similarity, its time), best first.

        A lazy stream: the ANN is asked for FETCH_MIN frames, then four times more each time the
        videos found so far are used up. A video's best frame is among the fetched frames as soon
        as any of its frames is, so each video's similarity is exact and the stream is in order
        whatever was fetched (and so whatever k is). The order of equal similarities is the
        path's (then the video id's).
        """
        total = self.ann.count
        fetch = min(total, FETCH_MIN)
        seen: set[int] = set()
        pool = self.ann.anchor_pool(q) if total > fetch else None  # the anchors' pass: once per query
        while fetch > 0:
            ids, sims = self.ann.search(q, fetch, pool=pool)
            vids, ts, found = self.library.frame_arrays(ids)
            vids, ts, sims = vids[found], ts[found], sims[found]
            # best first, so a video's first frame is its best
            uniq, first = np.unique(vids, return_index=True)
            new = ~np.isin(uniq, np.fromiter(seen, np.int64, len(seen))) if seen else np.ones(len(uniq), bool)
            uniq, first = uniq[new], first[new]
            rows = self.library.videos(uniq.tolist())
            fresh = sorted(
                zip(uniq.tolist(), sims[first].tolist(), ts[first].tolist(), strict=True),
                key=lambda x: (-x[1], rows[x[0]].path if x[0] in rows else "", x[0]),
            )
            for vid, s, t in fresh:
                seen.add(vid)
                row = rows.get(vid)
                if row is not None and passes_filters(row, opts):
                    yield row, s, t
            if fetch >= total or fetch >= FETCH_MAX:
                return
            fetch = min(total, FETCH_MAX, fetch * 4)

    def _video_moments(
        self, row: VideoRow, q: np.ndarray, hit_t: float, opts: SearchOptions
    ) -> tuple[list[Moment], np.ndarray]:
        """One video's moments and its frame similarities.

        The moments are best first, with near-duplicates dropped and min_score and per_video applied.
        """
        times, sims, adj, origin, end = self.window_curve(row, q, hit_t)
        if len(times) == 0:
            return [], np.zeros(0)
        dur = float(row.duration or (times[-1] + 1.0))
        spans = find_spans(times, sims, end, adjacent_sim=adj, params=self.params, origin=origin)
        ms = [
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
            for a, b, score, best in spans
        ]
        ms.sort(key=_rank)
        ms = drop_near_duplicates(ms, lambda m: (m.start, m.end), lambda m: m.video_id)
        if opts.min_score is not None:
            ms = [m for m in ms if m.score >= opts.min_score]
        if opts.per_video is not None:
            ms = ms[: max(0, opts.per_video)]
        return ms, sims

    def search_vector(self, q: np.ndarray, opts: SearchOptions = SearchOptions()) -> list[Moment]:
        """The moments of the candidate videos for a query vector, best first.

        They come after the relevance floor, each video's capped at ``opts.per_video``; they are
        not cut at k (:mod:`vsearch.query.engine` cuts, ``engine.top``), but the first k are the
        first k for any larger k.

        Candidate videos are read best frame first. A video's moments score at most its best
        frame (a span scores its best sample, or less), so once k moments score above the next
        video's best frame no later video can enter the top k and the reading stops. The
        relevance floor is taken from the first FLOOR_VIDEOS videos, read for every k, so it
        does not depend on k either.
        """
        want = max(1, opts.k, opts.candidates or 0)
        moments: list[Moment] = []
        floor_scores: list[np.ndarray] = []
        typical: float | None = None
        n = 0
        for row, best_sim, hit_t in self._candidates(q, opts):
            best = self.bound(best_sim)
            if n >= FLOOR_VIDEOS:
                if opts.min_score is not None and best < opts.min_score:
                    break  # no moment of this video or any later one reaches min_score
                kept = _above_floor(moments, typical)
                if typical is not None and kept and best <= typical and kept[0].score > typical:
                    break  # every later moment falls under the floor
                if len(kept) >= want and kept[want - 1].score > best + BOUND_EPS:
                    break
            ms, sims = self._video_moments(row, q, hit_t, opts)
            moments.extend(ms)
            n += 1
            if n <= FLOOR_VIDEOS and len(sims):
                floor_scores.append(sims)
            if n == FLOOR_VIDEOS:
                typical = _typical(floor_scores)
        if not moments:
            return []
        if typical is None:
            typical = _typical(floor_scores)
        result = _above_floor(moments, typical)
        log.query.debug("%d moments from %d candidate videos", len(result), n)
        return result


def grew_little(count0: int, deleted0: int, count: int, deleted: int) -> bool:
    """Whether an activation set computed at (*count0* vectors, *deleted0* deleted) still serves now.

    It does from ACTIVATION_REUSE_MIN vectors when there were only additions, and few (at most
    ACTIVATION_REUSE_GROWTH): the bank's nearest frames are still those, or new frames, which
    get the typical offset until the next full pass.
    """
    return count0 >= ACTIVATION_REUSE_MIN and deleted == deleted0 and count0 <= count <= count0 * (1 + ACTIVATION_REUSE_GROWTH)


def _time_key(t: float) -> int:
    """A sample's time as an integer key (milliseconds): the same for SQLite and a shared table."""
    return int(round(float(t) * 1000))


def _rank(m: Moment) -> tuple[float, str, float]:
    """Best score first; ties in a fixed order (path, then start), so every k agrees.

    The path, not the video id: the same files in another library (a shared one, or this one
    re-created) get other ids, and must rank the same.
    """
    return (-m.score, m.path, m.start)


def _typical(frame_scores: list[np.ndarray]) -> float | None:
    """The typical frame score among the floor's videos (None with fewer than 8 frames)."""
    scores = np.concatenate(frame_scores) if frame_scores else np.zeros(0)
    return float(np.median(scores)) if len(scores) >= 8 else None


def _above_floor(moments: list[Moment], typical: float | None) -> list[Moment]:
    """Moments best first, without those no better than a typical frame.

    The first always stays, and all stay when even the best is no better.
    """
    ranked = sorted(moments, key=_rank)
    if typical is None or len(ranked) <= 1 or ranked[0].score <= typical:
        return ranked
    return [m for i, m in enumerate(ranked) if i == 0 or m.score > typical]


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
