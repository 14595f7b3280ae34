"""The on-screen text expert at query time: spans that match a query by meaning or by their words.

Words are matched on the spans' keys (``vsearch.ocr.text``: spacing ignored, look-alikes folded,
one slip in a long word); candidates come from the trigram FTS5 index and are checked with
:meth:`vsearch.ocr.text.Pattern.find`. Quoted phrases must all be on screen; unquoted content
words count as the fraction found. Meaning is the MiniLM cosine, as for speech.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from vsearch.ocr.search import TextHit, number_share, numbers_in
from vsearch.ocr.text import Pattern, query_patterns, trigram_expr, unquoted
from vsearch.store.screen_text import ScreenTextStore

if TYPE_CHECKING:
    from vsearch.speech.text import SentenceEncoder

SEMANTIC_TOP = 50  # spans kept by MiniLM cosine (word matches are kept on top of these)

# Words that name the kind of on-screen text rather than say what it reads ("the subtitle about
# leaving early", "the sale banner"): left out of the word fraction, and the query is also compared
# by meaning without them (the better cosine counts).
META_WORDS = frozenset(
    """subtitle subtitles caption captions banner badge label title card lower third slate text
    screen written writing says saying reads shows showing overlay chyron tag""".split()
)


def _without_meta(query: str) -> str:
    kept = [w for w in query.replace('"', " ").split() if w.lower().strip(".,!?:;'") not in META_WORDS]
    return " ".join(kept)


def _candidates(store: ScreenTextStore, patterns: list[Pattern]) -> set[int]:
    ids: set[int] = set(store.match_keys(trigram_expr([q for q in patterns if len(q.key) >= 3])))
    for q in patterns:
        if len(q.key) < 3:
            ids.update(store.keys_containing(q.key))
    return ids


def text_hits(
    store: ScreenTextStore,
    query: str,
    encoder: SentenceEncoder,
    *,
    video_filter: Callable[[int], bool] | None = None,
) -> list[TextHit]:
    """Spans that match *query* by meaning (the best SEMANTIC_TOP) or by words (quoted or not)."""
    phrases, words = query_patterns(query)
    words = [w for w in words if w.text not in META_WORDS] or words
    ids, vecs = store.vectors(encoder.dim)
    sims: dict[int, float] = {}
    if len(ids):
        plain = " ".join(query.replace('"', " ").split())
        bare = _without_meta(plain)
        qs = encoder.encode([plain, bare] if bare and bare != plain else [plain])
        s = (vecs @ qs.T).max(axis=1)
        for i in np.argsort(-s)[:SEMANTIC_TOP]:
            sims[int(ids[i])] = float(s[i])
        all_sims = dict(zip(ids.tolist(), s.tolist(), strict=True))
    else:
        all_sims = {}
    pick = set(sims)
    if phrases:
        pick |= _candidates(store, phrases)
    if words:
        pick |= _candidates(store, words)
    rows = store.spans(sorted(pick))
    asked = numbers_in(unquoted(query))  # unquoted numbers: quotes have their own rule
    hits = []
    for sid, r in rows.items():
        if video_filter is not None and not video_filter(r.video_id):
            continue
        quoted = bool(phrases) and all(p.find(r.key) is not None for p in phrases)
        frac = sum(1 for w in words if w.find(r.key) is not None) / len(words) if words else 0.0
        if phrases and not quoted:  # quotes mean these words must be on screen
            continue
        hits.append(
            TextHit(
                video_id=r.video_id, path=r.path, start=r.start, end=r.end, text=r.text, box=r.box,
                semantic=all_sims.get(sid), quoted=quoted, words=frac, numbers=number_share(asked, r.text),
                duration=r.duration, fps=r.fps,
            )
        )
    return hits




class ScreenTextSearcher:
    """Text hits for a query from one library's on-screen text.

    Attributes:
        store: the library's screen-text tables.
        encoder_factory: returns the sentence encoder (MiniLM); called only when there are spans.
    """

    def __init__(self, store: ScreenTextStore, encoder_factory: Callable[[], SentenceEncoder]) -> None:
        self.store = store
        self.encoder_factory = encoder_factory

    def available(self) -> bool:
        """Whether the library holds any on-screen text span."""
        return self.store.has_spans()

    def hits(self, text: str, *, video_filter: Callable[[int], bool] | None = None) -> list[TextHit]:
        """Spans matching *text* (see :func:`text_hits`)."""
        return text_hits(self.store, text, self.encoder_factory(), video_filter=video_filter)
