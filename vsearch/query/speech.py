"""The speech expert at query time: transcript sentences that match a query by meaning or by words."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vsearch.speech.fusion import SpeechHit
from vsearch.speech.text import SentenceEncoder, coverage_of, fts_query, slip_query
from vsearch.store.speech import SpeechStore

SEMANTIC_TOP = 50  # sentences kept by MiniLM cosine (FTS matches are kept on top of these)


class SpeechSearcher:
    """Speech hits for a query from one library's transcripts.

    Attributes:
        store: the library's speech tables.
        encoder_factory: returns the sentence encoder (MiniLM); called only when there are
            transcripts to compare with, so a library without speech never loads it.
    """

    def __init__(self, store: SpeechStore, encoder_factory: Callable[[], SentenceEncoder]) -> None:
        self.store = store
        self.encoder_factory = encoder_factory

    def available(self) -> bool:
        """Whether the library holds any transcript sentence."""
        return self.store.has_spans()

    def hits(self, text: str, *, video_filter: Callable[[int], bool] | None = None) -> list[SpeechHit]:
        """Sentences matching *text* by meaning (the best SEMANTIC_TOP by cosine) or by words (FTS5)."""
        spans, vecs = self.store.spans_with_vectors()
        if not spans:
            return []
        q = self.encoder_factory().encode([text])[0]
        sims = vecs @ q
        expr = fts_query(text)
        fts = self.store.match_text(expr) if expr else {}
        coverage = coverage_of(text)
        slipped: dict[int, float] = {}  # span id -> coverage of a quote matched with one word misheard
        loose, slip_coverage = slip_query(text)
        if loose:
            for sid, bm in self.store.match_text(loose).items():
                if sid not in fts:
                    fts[sid] = bm
                    slipped[sid] = slip_coverage
        pick = {int(i) for i in np.argsort(-sims)[:SEMANTIC_TOP]}
        pick.update(i for i, s in enumerate(spans) if s.id in fts)
        out = []
        for i in sorted(pick):
            s = spans[i]
            if video_filter is not None and not video_filter(s.video_id):
                continue
            out.append(
                SpeechHit(
                    video_id=s.video_id,
                    path=s.path,
                    start=s.start,
                    end=s.end,
                    text=s.text,
                    semantic=float(sims[i]),
                    fts=s.id in fts,
                    bm25=fts.get(s.id),
                    coverage=slipped.get(s.id, coverage(s.text)) if s.id in fts else 0.0,
                    duration=s.duration,
                    fps=s.fps,
                )
            )
        return out
