"""One query, every expert: visual moments, speech and on-screen text hits, their fusion, the per-video cap and k.

This is the only place where a query's experts meet. The visual expert
(:class:`vsearch.query.search.Searcher`) ranks moments from frame similarity; the speech
expert (:class:`vsearch.query.speech.SpeechSearcher`) finds transcript sentences;
:func:`vsearch.speech.fusion.fuse` merges the two; the on-screen text expert
(:class:`vsearch.query.screen_text.ScreenTextSearcher`) joins the result with
:func:`vsearch.ocr.search.fuse_text`. The per-video cap and the cut at k are
applied here, to the visual list before fusion (a pool of max(k, FUSION_POOL): fusion
calibrates visual scores on the pool's best FUSION_POOL, the same for every k) and to the
fused list after. ``Service.search`` calls :meth:`QueryEngine.search`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

import numpy as np

from vsearch.ocr.search import fuse_text
from vsearch.ocr.text import query_patterns
from vsearch.query import calibrate, gating
from vsearch.query.bank import QueryBank
from vsearch.query.calibrate import visual_confidence
from vsearch.query.screen_text import ScreenTextSearcher
from vsearch.query.search import SearchOptions, passes_filters
from vsearch.query.speech import SpeechSearcher
from vsearch.speech.fusion import ONLY_CHOICES, fuse
from vsearch.store.library import Library
from vsearch.types import Moment

#: Visual moments handed to fusion whatever k is, so the top result does not depend on k.
FUSION_POOL = 50


class VisualExpert(Protocol):
    """What the engine asks of the visual expert: a local ``Searcher``, or one combined with shared libraries."""

    def search(self, text: str, opts: SearchOptions) -> list[Moment]:
        """Ranked moments for *text* under *opts*."""
        ...

    @property
    def bank(self) -> QueryBank | None:
        """The query bank its scores are normalised with (None: raw cosines)."""
        ...


def cap_per_video(moments: list[Moment], per_video: int | None) -> list[Moment]:
    """Keep at most *per_video* moments of each video, in order (None: no cap)."""
    if per_video is None:
        return moments
    seen: dict[int, int] = {}
    kept = []
    for m in moments:
        if seen.get(m.video_id, 0) < per_video:
            kept.append(m)
            seen[m.video_id] = seen.get(m.video_id, 0) + 1
    return kept


def top(moments: list[Moment], opts: SearchOptions) -> list[Moment]:
    """What a search shows of a ranked list: the per-video cap, then the first k."""
    return cap_per_video(moments, opts.per_video)[: opts.k]


def _above(moments: list[Moment], floor: float | None) -> list[Moment]:
    """The moments scoring at least *floor* (all of them for None)."""
    return moments if floor is None else [m for m in moments if m.score >= floor]


class QueryEngine:
    """Answers a query from every expert a library has.

    Attributes:
        library: the library (video rows for the speech hits' filters).
        visual: the visual expert, None when the library has no vectors yet.
        speech: the speech expert, None when speech search is off.
        text: the on-screen text expert, None when it is off.
    """

    def __init__(
        self,
        library: Library,
        visual: VisualExpert | None,
        speech: SpeechSearcher | None,
        text: ScreenTextSearcher | None = None,
    ) -> None:
        self.library = library
        self.visual = visual
        self.speech = speech
        self.text = text

    def search(self, text: str, opts: SearchOptions | None = None, only: str | None = None) -> list[Moment]:
        """Moments for *text*, best first: at most ``opts.k``, ``opts.per_video`` per video.

        Args:
            text: the query (whitespace is normalised).
            opts: filters, k and the per-video cap.
            only: ``"visual"``, ``"speech"`` or ``"text"`` restricts the experts; None fuses all.

        Raises:
            ValueError: *only* is not None, "visual", "speech" or "text".
        """
        if only not in (None, *ONLY_CHOICES, "text"):
            raise ValueError(f"only must be one of {(*ONLY_CHOICES, 'text')} or None, not {only!r}")
        text = " ".join(text.split())
        if not text:
            return []
        opts = opts or SearchOptions()
        with_speech = only not in ("visual", "text") and self.speech is not None and self.speech.available()
        with_text = only in (None, "text") and self.text is not None and self.text.available()
        fusing = with_speech or with_text
        bank = self.visual.bank if self.visual is not None else None
        # With a query bank, scores are calibrated confidences (vsearch.query.calibrate) and the
        # relevance floor min_score applies to them, after fusion; without one, to raw cosines.
        floor = opts.min_score if bank is not None else None
        # fusion calibrates visual scores on the visual list, so that list must not depend on k:
        # a fixed pool (k when larger), calibrated on and paired from its best FUSION_POOL only
        pool = replace(opts, k=max(opts.k, FUSION_POOL)) if fusing else opts
        if bank is not None:
            pool = replace(pool, min_score=None)
        visual = (
            top(self.visual.search(text, pool), pool)
            if self.visual is not None and only not in ("speech", "text")
            else []
        )
        if bank is not None:
            visual = [replace(m, score=visual_confidence(m.score)) for m in visual]
        if not fusing:
            fused = visual if only in (None, "visual") else []
            return top(_above(fused, floor), opts)
        keep = self._video_filter(opts)
        calibrated = bank is not None
        quoted = bool(query_patterns(text)[0])
        weights = self._weights(text, quoted)
        if with_speech:
            hits = self.speech.hits(text, video_filter=keep)  # type: ignore[union-attr]  # with_speech/with_text: not None
            fused = fuse(
                visual,
                hits,
                only="speech" if only == "speech" else None,
                calibrate_on=FUSION_POOL,
                visual_calibrated=calibrated,
                weights=weights,
            )
        else:  # visual scores -> confidences
            fused = fuse(visual, [], only=None, calibrate_on=FUSION_POOL, visual_calibrated=calibrated, weights=weights)
        if with_text:
            t_hits = self.text.hits(text, video_filter=keep)  # type: ignore[union-attr]  # with_speech/with_text: not None
            strong = calibrate.PARAMS.strong if calibrated else None
            fused = fuse_text(fused, t_hits, only_text=only == "text", quoted_query=quoted, strong=strong)
        return top(_above(fused, floor), opts)

    def _weights(self, text: str, quoted: bool) -> dict[str, float] | None:
        """The query's expert weights (vsearch.query.gating), from the experts' sentence encoder."""
        expert = self.speech if self.speech is not None else self.text
        if expert is None or (not np.isfinite(gating.TEMPERATURE) and (not quoted or gating.QUOTED_VISUAL >= 1.0)):
            return None  # gating off: no sentence encoder needed
        encoder = expert.encoder_factory()
        qvec = encoder.encode([text])[0]
        return gating.weights(qvec, gating.prototypes(encoder), quoted=quoted)

    def _video_filter(self, opts: SearchOptions) -> Callable[[int], bool]:
        """The search's folder and duration filters for speech hits (one row read per video)."""
        keep: dict[int, bool] = {}

        def passes(video_id: int) -> bool:
            if video_id not in keep:
                row = self.library.video(video_id)
                keep[video_id] = row is not None and passes_filters(row, opts)
            return keep[video_id]

        return passes
