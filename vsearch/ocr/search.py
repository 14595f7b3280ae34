"""Scoring and fusion of the on-screen text expert (hits come from ``vsearch/query/screen_text.py``).

Scores (docs/OCR.md explains the choices):

* meaning: MiniLM cosine between the query and the span's text, ``pt = sigmoid((cos - center) / width)``,
  times the share of the query's unquoted numbers the span shows (MiniLM finds "00:00:00:00" as
  like "the clock shows 00:00:05" as "00:00:05:00" is; a number is a fact, not a meaning);
* words: the fraction f of the query's unquoted content words found in the span (slip-tolerant,
  ``vsearch.ocr.text``) lifts it by noisy-OR, ``pt = 1 - (1 - pt) * (1 - word_confidence * f)``;
* quotes: only spans holding every quoted phrase are hits (quotes mean "these words must be on
  screen"); they get ``quote_confidence`` by noisy-OR and rank above every moment without them.

The text confidence joins the other experts' (already calibrated) moment scores by noisy-OR, like
speech with visual: a span overlapping a moment of the same video is one moment. Spans below
``min_confidence`` (and not quoted) take no part. The visual confidence is calibrated per query
(z-score), so its best moment is near 0.9 whatever the query; when some on-screen text answers
the query with confidence g, the other experts' moment scores are scaled by ``1 - gate * g``
before the text joins them (the query is about words on screen: Collaborative Experts' per-query
expert weighting, reduced to one gate). This keeps their order among themselves and changes
nothing when no text matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from vsearch.speech.fusion import overlap, sigmoid
from vsearch.types import Moment


@dataclass(frozen=True, slots=True)
class TextParams:
    """The knobs of the text expert's confidence and fusion."""

    center: float = 0.40
    width: float = 0.06
    word_confidence: float = 0.7
    quote_confidence: float = 0.95
    min_confidence: float = 0.3
    overlap_slack: float = 0.25
    gate: float = 0.5


DEFAULT = TextParams()


@dataclass(frozen=True, slots=True)
class TextHit:
    """One on-screen text span returned for a query.

    Attributes:
        video_id, path, start, end: where the text is shown.
        text: the recognised text.
        box: (x0, y0, x1, y1) fractions of the frame, or None.
        semantic: MiniLM cosine query <-> text (None: not computed).
        quoted: the span holds every quoted phrase of the query (False when the query has none).
        words: fraction of the query's unquoted content words found in the span.
        numbers: fraction of the query's unquoted numbers (digit groups) that are digit groups of
            the span's text; 1.0 when the query has none (:func:`number_share`).
        duration, fps: the video's.
    """

    video_id: int
    path: str
    start: float
    end: float
    text: str
    box: tuple[float, float, float, float] | None = None
    semantic: float | None = None
    quoted: bool = False
    words: float = 0.0
    numbers: float = 1.0
    duration: float = 0.0
    fps: float = 0.0


def numbers_in(text: str) -> list[str]:
    """The digit groups of *text*, in order ("00:00:05" -> 00, 00, 05; "SCENE 12 TAKE 3" -> 12, 3)."""
    return re.findall(r"\d+", text)


def number_share(query_numbers: list[str], text: str) -> float:
    """The share of *query_numbers* (distinct) that are digit groups of *text*; 1.0 for none.

    Groups are compared whole: "3" is not in "SCENE 13", "2013" not in a misread "12013".
    """
    want = set(query_numbers)
    if not want:
        return 1.0
    return len(want & set(numbers_in(text))) / len(want)


def confidence(h: TextHit, p: TextParams = DEFAULT) -> float:
    """Calibrated confidence in [0, 1] that the span answers the query."""
    pt = sigmoid((h.semantic - p.center) / p.width) * h.numbers if h.semantic is not None else 0.0
    if h.words > 0:
        pt = 1.0 - (1.0 - pt) * (1.0 - p.word_confidence * h.words)
    if h.quoted:
        pt = 1.0 - (1.0 - pt) * (1.0 - p.quote_confidence)
    return pt


def _text_moment(h: TextHit, score: float, source: str = "text") -> Moment:
    return Moment(
        path=h.path, start=h.start, end=h.end, score=score,
        best_time=min(h.end, h.start + min(0.5, (h.end - h.start) / 2)),
        video_id=h.video_id, duration=h.duration, fps=h.fps, source=source,
        screen_text=h.text, screen_box=h.box, screen_span=(h.start, h.end),
    )


def fuse_text(
    moments: list[Moment],
    hits: list[TextHit],
    *,
    only_text: bool = False,
    quoted_query: bool = False,
    strong: float | None = None,
    params: TextParams = DEFAULT,
) -> list[Moment]:
    """Join text hits with the other experts' moments (scores already confidences in [0, 1]).

    A joined moment takes the span of the more confident expert, except that a moment which is
    a strong match on its own (confidence >= *strong*) keeps its span when it holds the text's:
    text read in a frame or two of a street scene ("TAXI") is evidence for the scene, not the
    scene's extent, and OCR splits one title into several spans where it misreads it. An
    unquoted query only: quotes ask for the words themselves.

    Args:
        moments: the visual/speech moments of the query, scores calibrated (``fuse()``'s output).
        hits: text hits of the query.
        only_text: rank the text hits alone, by confidence.
        quoted_query: the query has quoted phrases: moments whose text holds them come first.
        strong: the calibrated confidence of a strong match (vsearch.query.calibrate), or None
            when the other experts' scores are not calibrated (the rule above is then off).
        params: the knobs.

    Returns:
        Moments, best first. A moment supported by text has ``screen_text`` (and ``screen_box``)
        set and "text" in ``source`` ("visual+text", "speech+text", "visual+speech+text", "text").
    """
    pt = [confidence(h, params) for h in hits]
    keep = [j for j in range(len(hits)) if pt[j] >= params.min_confidence or hits[j].quoted]
    hits, pt = [hits[j] for j in keep], [pt[j] for j in keep]
    if only_text:
        order = sorted((j for j in range(len(hits)) if pt[j] > 0.0), key=lambda j: (not hits[j].quoted, -pt[j], hits[j].start))
        return [_text_moment(hits[j], pt[j]) for j in order]
    # the gate scales the other experts' support everywhere, also where a weak text joins it
    scale = 1.0 - params.gate * max(pt, default=0.0)
    own = [m.score for m in moments]  # before the gate: how sure the other experts are on their own
    moments = [replace(m, score=m.score * scale) for m in moments]
    pairs = []
    for i, m in enumerate(moments):
        for j, h in enumerate(hits):
            if pt[j] <= 0.0 or not ((m.video_id and m.video_id == h.video_id) or (not m.video_id and m.path == h.path)):
                continue
            ov = overlap(m, h, params.overlap_slack)
            if ov > 0:
                pairs.append((1.0 - (1.0 - m.score) * (1.0 - pt[j]), ov, i, j))
    pairs.sort(key=lambda p: (-p[0], -p[1]))
    used_m: set[int] = set()
    used_h: set[int] = set()
    scored: list[tuple[bool, float, Moment]] = []
    for fused, _ov, i, j in pairs:
        if i in used_m or j in used_h:
            continue
        used_m.add(i)
        used_h.add(j)
        m, h = moments[i], hits[j]
        src = m.source + "+text"
        holds = m.start <= h.start and h.end <= m.end
        keep_span = strong is not None and not quoted_query and own[i] >= strong and holds
        if pt[j] >= m.score and not keep_span:
            mo = replace(_text_moment(h, fused, src), text=m.text, duration=m.duration or h.duration, fps=m.fps or h.fps)
        else:
            mo = replace(m, score=fused, source=src, screen_text=h.text, screen_box=h.box, screen_span=(h.start, h.end))
        scored.append((h.quoted, fused, mo))
    for i, m in enumerate(moments):
        if i not in used_m:
            scored.append((False, m.score, m))
    for j, h in enumerate(hits):
        if j not in used_h:
            scored.append((h.quoted, pt[j], _text_moment(h, pt[j])))
    if quoted_query:
        scored.sort(key=lambda t: (not t[0], -t[1]))
    else:
        scored.sort(key=lambda t: -t[1])
    return [t[2] for t in scored]


def why_text(m: Moment) -> str:
    """The result card's words for a moment the text expert supports: on screen: 'EXIT'."""
    return f"on screen: \u2018{m.screen_text}\u2019" if m.screen_text else ""
