"""Score fusion: one ranked list of moments from the visual expert and the speech expert.

The formula (docs/SPEECH.md explains the choices):

* Each expert's raw score becomes a confidence in [0, 1].

  - visual: ``pv = sigmoid(visual_slope * (z - visual_z0))`` where ``z`` is the moment's
    z-score against all visual moments of this query (the visual cosine scale depends on
    the image model, so it is calibrated per query; the standard deviation has a floor of
    ``visual_sd_floor`` so a handful of near-equal moments is not blown up).
  - speech: ``ps = sigmoid((cos - speech_center) / speech_width)`` on the MiniLM cosine
    between the query and the spoken segment (a fixed model, so a fixed calibration);
    an FTS match adds ``fts_confidence`` times the share of the query's words the sentence
    holds (``SpeechHit.coverage``) by noisy-OR: ``ps = 1 - (1 - ps) * (1 - fts_confidence * coverage)``.

* A speech hit and a visual moment of the same video whose spans overlap (after widening the
  speech span by ``overlap_slack`` seconds each side) are one moment; pairs are matched
  greedily, best combined score first, each used once.

* The fused score is the noisy-OR of the supporting confidences,
  ``score = 1 - (1 - pv) * (1 - ps)`` (``ps = 0`` for visual-only, ``pv = 0`` for speech-only),
  so a moment both experts support ranks above one supported by either alone with the same
  confidence, and with no speech hits the visual order is unchanged.

* A speech-only moment needs ``ps >= min_speech_confidence`` (the best sentence of an unrelated
  talk should not interleave with good visual results). A fused moment takes the span of the
  more confident expert, so a moment found by speech starts at the sentence's first word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from vsearch.types import Moment

ONLY_CHOICES = ("speech", "visual")


@dataclass(frozen=True, slots=True)
class SpeechHit:
    """One transcript segment returned for a query.

    Attributes:
        video_id: the library's id of the video.
        path: absolute path of the video file.
        start, end: the segment's span (seconds, word-accurate).
        text: the spoken line.
        semantic: cosine between the query's and the segment's MiniLM vectors, or None when
            not computed (counts as no semantic support).
        fts: whether the segment matched the FTS5 expression of the query.
        bm25: FTS5 ``bm25()`` of the match (lower is better), informational.
        coverage: the share of the query's words the segment holds when it matched FTS
            (:func:`vsearch.speech.text.fts_coverage`; 1.0 for a quoted query), which weighs the
            word match in the confidence.
        duration, fps: the video's, copied into the Moment.
    """

    video_id: int
    path: str
    start: float
    end: float
    text: str
    semantic: float | None = None
    fts: bool = False
    bm25: float | None = None
    coverage: float = 1.0
    duration: float = 0.0
    fps: float = 0.0


@dataclass(frozen=True, slots=True)
class FusionParams:
    """The knobs of the fusion formula (see the module docstring)."""

    visual_slope: float = 2.0
    visual_z0: float = 1.0
    visual_sd_floor: float = 0.01
    speech_center: float = 0.45
    speech_width: float = 0.07
    fts_confidence: float = 0.6
    min_speech_confidence: float = 0.3
    overlap_slack: float = 0.5


DEFAULT_PARAMS = FusionParams()


class Span(Protocol):
    """Anything with a start and an end in seconds (a speech or an on-screen text hit)."""

    @property
    def start(self) -> float: ...  # noqa: D102

    @property
    def end(self) -> float: ...  # noqa: D102


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large negative *x* (every expert's calibration)."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def visual_confidences(
    moments: list[Moment], params: FusionParams = DEFAULT_PARAMS, calibrate_on: int | None = None
) -> list[float]:
    """Per-query calibrated confidence of each visual moment (same order).

    *calibrate_on* takes the mean and spread from the best that many moments only, so a
    moment's confidence does not change when more (weaker) moments are asked for.
    """
    if not moments:
        return []
    scores = [float(m.score) for m in moments]
    ref = sorted(scores, reverse=True)[:calibrate_on] if calibrate_on else scores
    mean = sum(ref) / len(ref)
    sd = math.sqrt(sum((s - mean) ** 2 for s in ref) / len(ref))
    sd = max(sd, params.visual_sd_floor)
    return [sigmoid(params.visual_slope * ((s - mean) / sd - params.visual_z0)) for s in scores]


def speech_confidence(hit: SpeechHit, params: FusionParams = DEFAULT_PARAMS) -> float:
    """Calibrated confidence that a spoken segment answers the query."""
    ps = 0.0
    if hit.semantic is not None:
        ps = sigmoid((float(hit.semantic) - params.speech_center) / params.speech_width)
    if hit.fts:
        ps = 1.0 - (1.0 - ps) * (1.0 - params.fts_confidence * hit.coverage)
    return ps


def _same_video(m: Moment, h: SpeechHit) -> bool:
    if m.video_id and h.video_id:
        return m.video_id == h.video_id
    return m.path == h.path


def overlap(m: Moment, h: Span, slack: float) -> float:
    """Seconds a moment and a hit's span share, the span widened by *slack* each side (< 0: apart)."""
    return min(m.end, h.end + slack) - max(m.start, h.start - slack)


def _speech_moment(h: SpeechHit, score: float, source: str = "speech") -> Moment:
    return Moment(
        path=h.path,
        start=h.start,
        end=h.end,
        score=score,
        best_time=h.start,
        video_id=h.video_id,
        duration=h.duration,
        fps=h.fps,
        source=source,
        text=h.text,
    )


def fuse(
    visual: list[Moment],
    speech: list[SpeechHit],
    *,
    only: str | None = None,
    params: FusionParams = DEFAULT_PARAMS,
    limit: int | None = None,
    calibrate_on: int | None = None,
    visual_calibrated: bool = False,
    weights: Mapping[str, float] | None = None,
) -> list[Moment]:
    """Rank moments supported by visual similarity, spoken words, or both.

    Args:
        visual: the visual expert's moments for the query (``source="visual"``), any order.
        speech: speech hits for the query (semantic and/or FTS), any order.
        only: ``"visual"`` returns the visual moments unchanged (same order and scores);
            ``"speech"`` returns speech moments ranked by speech confidence; None fuses.
        params: the formula's knobs.
        limit: keep at most this many results.
        calibrate_on: calibrate visual confidences on the best this many visual moments only
            (see visual_confidences), and pair only those with speech hits; weaker visual
            moments stay visual-only. Then asking for more visual moments adds results below
            the others and changes none of them.
        visual_calibrated: the visual scores already are confidences (querybank-calibrated,
            vsearch.query.calibrate); they are used as they are instead of per query.
        weights: per-query expert weights ("visual", "speech"; vsearch.query.gating) that
            multiply each expert's confidence before the noisy-OR; None: all 1.

    Returns:
        Moments, best first; ``source`` is ``"visual"``, ``"speech"`` or ``"visual+speech"``
        and ``text`` is the spoken line whenever speech supports the moment.

    Raises:
        ValueError: ``only`` is not None, "speech" or "visual".
    """
    if only not in (None, *ONLY_CHOICES):
        raise ValueError(f"only must be one of {ONLY_CHOICES} or None, not {only!r}")
    if only == "visual":
        out = sorted(visual, key=lambda m: -m.score)
        return out[:limit] if limit is not None else out

    w_v = float(weights.get("visual", 1.0)) if weights else 1.0
    w_s = float(weights.get("speech", 1.0)) if weights else 1.0
    ps = [w_s * speech_confidence(h, params) for h in speech]
    if only == "speech":
        ranked = sorted(
            (i for i in range(len(speech)) if ps[i] > 0.0),
            key=lambda i: (-ps[i], speech[i].start),
        )
        out = [_speech_moment(speech[i], ps[i]) for i in ranked]
        return out[:limit] if limit is not None else out

    pv = [float(m.score) for m in visual] if visual_calibrated else visual_confidences(visual, params, calibrate_on)
    pv = [w_v * p for p in pv]

    # Candidate pairs (visual i, speech j) that overlap in the same video, best first.
    pairable: Sequence[int] = range(len(visual))
    if calibrate_on:
        pairable = sorted(pairable, key=lambda i: -visual[i].score)[:calibrate_on]
    pairs: list[tuple[float, float, int, int]] = []
    for i in pairable:
        m = visual[i]
        for j, h in enumerate(speech):
            if ps[j] <= 0.0 or not _same_video(m, h):
                continue
            ov = overlap(m, h, params.overlap_slack)
            if ov > 0:
                fused = 1.0 - (1.0 - pv[i]) * (1.0 - ps[j])
                pairs.append((fused, ov, i, j))
    pairs.sort(key=lambda p: (-p[0], -p[1]))

    used_v: set[int] = set()
    used_s: set[int] = set()
    scored: list[tuple[float, float, Moment]] = []  # (fused, visual raw score for ties, moment)
    for fused, _ov, i, j in pairs:
        if i in used_v or j in used_s:
            continue
        used_v.add(i)
        used_s.add(j)
        m, h = visual[i], speech[j]
        if ps[j] >= pv[i]:
            moment = replace(
                _speech_moment(h, fused, "visual+speech"),
                duration=m.duration or h.duration,
                fps=m.fps or h.fps,
            )
        else:
            moment = replace(m, score=fused, source="visual+speech", text=h.text)
        scored.append((fused, m.score, moment))
    for i, m in enumerate(visual):
        if i not in used_v:
            scored.append((pv[i], m.score, replace(m, score=pv[i], source="visual")))
    for j, h in enumerate(speech):
        if j not in used_s and ps[j] >= params.min_speech_confidence:
            scored.append((ps[j], -math.inf, _speech_moment(h, ps[j])))

    scored.sort(key=lambda t: (-t[0], -t[1]))
    out = [t[2] for t in scored]
    return out[:limit] if limit is not None else out


def why(moment: Moment) -> str:
    """What the UI and CLI show as the reason a moment matched (:attr:`Moment.reason`)."""
    return moment.reason
