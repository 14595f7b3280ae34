"""Pure functions: a video's similarity curve -> start–end spans -> ranked moments.

A sample at time t_i stands for the footage from t_i to the next sample (the first from 0,
the last to the end of the video). A moment grows from a peak of the
smoothed curve while neighbouring samples stay close to the peak (relative to how much the
curve varies in this video) and stops early where the footage itself changes sharply
(a drop in frame-to-frame similarity, i.e. a shot cut). Its score is what its frames
support: the peak blended with the span's mean.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class MomentParams:
    """Knobs of the moment builder (tuned on the dev set; see docs/MODELS.md).

    Attributes:
        smooth: half-width in seconds of the moving average applied before peak finding
            (converted to samples with the video's median sample spacing, so it means the
            same for dense and sparse sampling).
        rel_drop: a span keeps growing while the smoothed score >= peak - rel_drop * (peak - floor),
            where floor is the video's median score.
        abs_drop: ... or while it is within abs_drop of the peak, whichever is larger.
        cut_sim: adjacent frames whose vectors' cosine similarity is below this are a cut;
            a span does not grow across a cut unless the far side scores as high as the peak
            side (>= peak - cut_slack * (peak - floor)).
        cut_slack: see cut_sim.
        peak_weight: span score = peak_weight * peak + (1 - peak_weight) * span mean.
        max_per_video: at most this many moments per video.
        min_len: spans shorter than this (seconds) are widened symmetrically.
        shot_cut: adjacent samples less similar than this (cosine of their vectors) lie in
            different shots, for the within-shot rule below (0: no shots).
        local_drop: within-shot spans: inside the peak's shot, a span keeps growing only while
            the score stays >= peak - local_drop * (peak - the shot's median), so an event
            inside one continuous shot gets its own span instead of the whole shot ...
        min_contrast: ... provided the peak stands at least this far above the rest of its
            shot (its median); where the curve is flat across the shot, the span stays
            cut-snapped (the whole shot), as before.
    """

    smooth: float = 3.0
    rel_drop: float = 0.8
    abs_drop: float = 0.01
    cut_sim: float = 0.0
    cut_slack: float = 0.1
    peak_weight: float = 1.0
    max_per_video: int = 5
    min_len: float = 1.0
    shot_cut: float = 0.0
    local_drop: float = 0.5
    min_contrast: float = 0.03


DEFAULT = MomentParams()


def sample_bounds(times: np.ndarray, duration: float, origin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (seconds) of the interval each sample stands for: from its own time to the next.

    A kept sample stands for the footage after it: a keyframe starts its group of pictures and
    usually a shot (encoders put keyframes on cuts), and a sample kept by near-duplicate
    skipping stands for the similar frames that follow it. (Midpoints between samples were
    measured too: no better on the dev set, and wrong when similar frames are skipped.)
    """
    t = np.asarray(times, dtype=np.float64)
    n = len(t)
    if n == 0:
        return t, t
    nxt = t[1:]
    starts = np.concatenate([[min(origin, float(t[0]))], nxt])
    end = max(duration, float(t[-1]))
    ends = np.concatenate([nxt, [end if end > t[-1] else t[-1] + 0.5]])
    return starts, ends


def smooth(scores: np.ndarray, half: int) -> np.ndarray:
    """*scores* averaged over a window of 2 * half + 1 samples (edges renormalised)."""
    if half <= 0 or len(scores) < 3:
        return np.asarray(scores, dtype=np.float64)
    k = np.ones(2 * half + 1)
    s = np.asarray(scores, dtype=np.float64)
    num: np.ndarray = np.convolve(np.pad(s, half, mode="edge"), k, mode="valid")
    smoothed: np.ndarray = num / k.sum()
    return smoothed


def find_spans(
    times: np.ndarray,
    scores: np.ndarray,
    duration: float,
    *,
    adjacent_sim: np.ndarray | None = None,
    params: MomentParams = DEFAULT,
    origin: float = 0.0,
) -> list[tuple[float, float, float, float]]:
    """Spans of one video as (start, end, score, best_time), best first, non-overlapping.

    Args:
        times: sample times (increasing).
        scores: query similarity of each sample.
        duration: the video's length in seconds.
        adjacent_sim: cosine similarity of each sample's vector with the next one's
            (length n-1), used to stop spans at shot cuts; None to ignore.
        params: the span-growing knobs (threshold, smoothing, gaps, lengths).
        origin: where the first sample's interval starts (0, or the start of a window of a
            long video; then ``duration`` is the window's end).
    """
    t = np.asarray(times, dtype=np.float64)
    raw = np.asarray(scores, dtype=np.float64)
    n = len(t)
    if n == 0:
        return []
    step = float(np.median(np.diff(t))) if n > 1 else 1.0
    half = int(round(params.smooth / step)) if step > 0 else 0
    s = smooth(raw, half)
    starts, ends = sample_bounds(t, duration, origin)
    floor = float(np.median(raw))
    cut = np.zeros(max(n - 1, 0), dtype=bool)
    if adjacent_sim is not None and n > 1 and params.cut_sim > 0:
        cut = np.asarray(adjacent_sim) < params.cut_sim
    shot_edge = np.zeros(max(n - 1, 0), dtype=bool)
    if adjacent_sim is not None and n > 1 and params.shot_cut > 0:
        shot_edge = np.asarray(adjacent_sim) < params.shot_cut
    taken = np.zeros(n, dtype=bool)
    out: list[tuple[float, float, float, float]] = []
    while len(out) < params.max_per_video and not taken.all():
        # the peak is found on the smoothed curve (robust to one noisy sample); the span grows
        # on the raw scores, so a sharp cut is not blurred into its neighbours
        masked = np.where(taken, -np.inf, s)
        p = int(np.argmax(masked))
        peak = max(float(raw[p]), float(s[p]))
        spread = max(peak - floor, 0.0)
        thr = peak - max(params.rel_drop * spread, params.abs_drop)
        cut_thr = peak - params.cut_slack * spread
        first, last = 0, n - 1  # how far the span may grow
        if shot_edge.any():
            s0, s1 = _shot(shot_edge, p)
            local = float(np.median(raw[s0 : s1 + 1]))
            if s1 - s0 >= 2 and peak - local >= params.min_contrast:
                # an event inside one continuous shot: follow the curve within the shot
                thr = max(thr, peak - params.local_drop * (peak - local))
                first, last = s0, s1
        lo = hi = p
        while lo > first and not taken[lo - 1] and raw[lo - 1] >= thr and (not cut[lo - 1] or raw[lo - 1] >= cut_thr):
            lo -= 1
        while hi < last and not taken[hi + 1] and raw[hi + 1] >= thr and (not cut[hi] or raw[hi + 1] >= cut_thr):
            hi += 1
        # a smoothed peak can sit on a weak frame beside a strong run: such a seed is not kept
        # at the span's edge
        while lo < hi and raw[lo] < thr:
            lo += 1
        while hi > lo and raw[hi] < thr:
            hi -= 1
        taken[lo : hi + 1] = True
        taken[p] = True
        a, b = float(starts[lo]), float(ends[hi])
        seg = raw[lo : hi + 1]
        best = lo + int(np.argmax(seg))
        score = params.peak_weight * float(raw[best]) + (1 - params.peak_weight) * float(seg.mean())
        out.append((a, b, score, float(t[best])))
        if peak <= floor:
            break
    out = _widen(out, params.min_len, max(duration, float(ends[-1])))
    out.sort(key=lambda x: -x[2])
    return out


def _shot(edges: np.ndarray, i: int) -> tuple[int, int]:
    """First and last sample of the shot holding sample *i* (edges[j]: a cut between j and j+1)."""
    lo = i
    while lo > 0 and not edges[lo - 1]:
        lo -= 1
    hi = i
    while hi < len(edges) and not edges[hi]:
        hi += 1
    return lo, hi


def _widen(spans: list[tuple[float, float, float, float]], min_len: float, end: float) -> list[tuple[float, float, float, float]]:
    """Widen spans shorter than min_len symmetrically, never into a neighbouring span."""
    spans = sorted(spans)
    out: list[tuple[float, float, float, float]] = []
    for i, (a, b, score, best) in enumerate(spans):
        if b - a < min_len:
            lo = out[-1][1] if out else 0.0
            hi = spans[i + 1][0] if i + 1 < len(spans) else end
            pad = (min_len - (b - a)) / 2
            a, b = max(lo, a - pad), min(hi, b + pad)
        out.append((a, b, score, best))
    return out


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal IoU of two spans."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def drop_near_duplicates(
    items: Sequence[T],
    key_span: Callable[[T], tuple[float, float]],
    key_group: Callable[[T], Hashable],
    max_iou: float = 0.5,
) -> list[T]:
    """Keep the first of any two items of one group whose spans overlap more than max_iou."""
    kept: list[T] = []
    for it in items:
        sp, g = key_span(it), key_group(it)
        if any(key_group(k) == g and overlap(sp, key_span(k)) > max_iou for k in kept):
            continue
        kept.append(it)
    return kept
