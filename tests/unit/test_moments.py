"""Moment building from similarity curves: spans follow the curve and stay inside the video."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vsearch.query.moments import MomentParams, find_spans, sample_bounds


def test_span_covers_the_high_run() -> None:
    t = np.arange(0, 20, 1.0)
    s = np.full(20, 0.1)
    s[8:13] = 0.5
    spans = find_spans(t, s, 20.0)
    a, b, score, best = spans[0]
    assert 7.0 <= a <= 8.0 and 12.5 <= b <= 13.5  # samples 8-12 stand for 8-13 s
    assert 8 <= best <= 12 and score > 0.4


def test_two_separate_matches_give_two_moments() -> None:
    t = np.arange(0, 30, 1.0)
    s = np.full(30, 0.1)
    s[3:6] = 0.6
    s[20:24] = 0.55
    spans = find_spans(t, s, 30.0)
    assert len(spans) >= 2
    (a1, b1, *_), (a2, b2, *_) = spans[:2]
    assert a1 < 6 < a2 or a2 < 6 < a1
    assert b1 <= a2 or b2 <= a1  # no overlap


def _two_shots(event: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """40 s sampled every second: a dark first shot (0-20 s), then one continuous fixed-camera
    shot (20-40 s) in which, when *event*, something happens from 28 to 32 s."""
    t = np.arange(0, 40, 1.0)
    s = np.where(t < 20, -0.2, 0.10) + 0.005 * np.sin(t)  # a little noise, as real curves have
    if event:
        s[(t >= 28) & (t < 32)] = 0.25
    adj = np.full(39, 0.95)
    adj[19] = 0.3  # the cut between samples 19 and 20
    return t, s, adj


WITHIN = MomentParams(shot_cut=0.7, local_drop=0.5, min_contrast=0.03)


def test_within_shot_rule_gives_an_event_inside_one_shot_its_own_span() -> None:
    t, s, adj = _two_shots(event=True)
    # by default the span grows over the whole shot (everything in it beats the video's median) ...
    a, b, *_ = find_spans(t, s, 40.0, adjacent_sim=adj)[0]
    assert (a, b) == (20.0, 40.0)
    # ... with the within-shot rule (issue 17.3; off by default, docs/MODELS.md) it follows the event
    a, b, _, best = find_spans(t, s, 40.0, adjacent_sim=adj, params=WITHIN)[0]
    assert (a, b) == (28.0, 32.0) and 28 <= best < 32


def test_within_shot_rule_keeps_the_whole_shot_where_the_curve_is_flat() -> None:
    t, s, adj = _two_shots(event=False)
    a, b, *_ = find_spans(t, s, 40.0, adjacent_sim=adj, params=WITHIN)[0]
    assert (a, b) == (20.0, 40.0)


def test_cut_stops_growth() -> None:
    t = np.arange(0, 10, 1.0)
    s = np.array([0.1, 0.1, 0.5, 0.5, 0.5, 0.42, 0.42, 0.1, 0.1, 0.1])
    adj = np.ones(9)
    adj[4] = 0.2  # a cut between samples 4 and 5
    from vsearch.query.moments import MomentParams

    p = MomentParams(cut_sim=0.5, rel_drop=0.5, cut_slack=0.1)
    a, b, _, _ = find_spans(t, s, 10.0, adjacent_sim=adj, params=p)[0]
    assert b <= 5.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=60),
    st.floats(0.1, 5.0),
)
def test_spans_are_inside_the_video_and_disjoint(scores: list[float], step: float) -> None:
    n = len(scores)
    t = np.arange(n) * step
    duration = n * step
    spans = find_spans(t, np.array(scores), duration)
    assert spans
    for a, b, score, best in spans:
        assert 0.0 <= a < b <= duration + 1e-9
        assert a - 1e-9 <= best <= b + 1e-9
        assert np.isfinite(score)
    ordered = sorted((a, b) for a, b, *_ in spans)
    for (_a1, b1), (a2, _b2) in zip(ordered, ordered[1:], strict=False):
        assert b1 <= a2 + 1e-9
    assert [s[2] for s in spans] == sorted((s[2] for s in spans), reverse=True)


def test_sample_bounds_tile_the_video() -> None:
    starts, ends = sample_bounds(np.array([0.0, 2.0, 3.0]), 5.0)
    assert list(starts) == [0.0, 2.0, 3.0] and list(ends) == [2.0, 3.0, 5.0]
