"""Score fusion of the visual and speech experts: agreement wins, --only restricts, visual order survives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsearch.speech.fusion import DEFAULT_PARAMS, SpeechHit, fuse, speech_confidence, visual_confidences, why
from vsearch.types import Moment


def vm(video: int, start: float, end: float, score: float) -> Moment:
    return Moment(path=f"/v/{video}.mp4", start=start, end=end, score=score, best_time=start, video_id=video)


def sh(
    video: int, start: float, end: float, text: str, semantic: float | None = None, fts: bool = False
) -> SpeechHit:
    return SpeechHit(
        video_id=video, path=f"/v/{video}.mp4", start=start, end=end, text=text, semantic=semantic, fts=fts
    )


BACKGROUND = [vm(9, 10.0 * i, 10.0 * i + 2, 0.20 + 0.001 * i) for i in range(10)]


def test_moment_supported_by_both_ranks_above_either_alone() -> None:
    visual = [vm(1, 10, 14, 0.30), vm(2, 0, 4, 0.30)] + BACKGROUND
    speech = [sh(1, 11.2, 13.0, "the cake is ready", 0.6), sh(3, 5.0, 7.0, "cake for everyone", 0.6)]
    out = fuse(visual, speech)
    assert out[0].source == "visual+speech" and out[0].video_id == 1
    assert out[0].text == "the cake is ready"
    sources = {(m.video_id, m.source) for m in out[:3]}
    assert sources == {(1, "visual+speech"), (2, "visual"), (3, "speech")}


def test_fused_moment_from_confident_speech_starts_at_the_sentence() -> None:
    visual = [vm(1, 9.0, 15.0, 0.25)] + BACKGROUND
    out = fuse(visual, [sh(1, 11.2, 13.0, "grandmother baked a cake", 0.8)])
    assert (out[0].start, out[0].end, out[0].best_time) == (11.2, 13.0, 11.2)


def test_without_speech_the_visual_order_is_unchanged() -> None:
    visual = [vm(i, 0, 1, s) for i, s in enumerate([0.31, 0.22, 0.27, 0.29, 0.18])]
    out = fuse(visual, [])
    assert [m.video_id for m in out] == [0, 3, 2, 1, 4]
    assert all(m.source == "visual" and m.text is None for m in out)


@given(st.lists(st.floats(min_value=-1, max_value=1), min_size=1, max_size=30))
def test_visual_confidence_is_monotone(scores: list[float]) -> None:
    visual = [vm(i, 0, 1, s) for i, s in enumerate(scores)]
    conf = visual_confidences(visual)
    pairs = sorted(zip(scores, conf, strict=True))
    assert all(c1 <= c2 + 1e-12 for (_, c1), (_, c2) in zip(pairs, pairs[1:], strict=False))
    assert all(0.0 <= c <= 1.0 for c in conf)


def test_unrelated_speech_does_not_interleave_with_visual_results() -> None:
    visual = [vm(1, 0, 3, 0.32)] + BACKGROUND
    out = fuse(visual, [sh(4, 0, 2, "quarterly budget review", 0.12)])
    assert all(m.source == "visual" for m in out)


def test_exact_phrase_match_lifts_a_segment() -> None:
    plain = speech_confidence(sh(1, 0, 1, "x", 0.3))
    exact = speech_confidence(sh(1, 0, 1, "x", 0.3, fts=True))
    assert exact > plain and exact >= 0.6
    assert speech_confidence(sh(1, 0, 1, "x", None, fts=True)) == pytest.approx(0.6)


def test_only_restricts_to_one_expert() -> None:
    visual = [vm(1, 0, 3, 0.30), vm(2, 0, 3, 0.25)]
    speech = [sh(1, 1, 2, "hello there", 0.7), sh(3, 1, 2, "unrelated", 0.05)]
    only_v = fuse(visual, speech, only="visual")
    assert only_v == visual  # unchanged moments, scores and order
    only_s = fuse(visual, speech, only="speech")
    assert [m.source for m in only_s] == ["speech", "speech"]
    assert [m.text for m in only_s] == ["hello there", "unrelated"]
    with pytest.raises(ValueError):
        fuse(visual, speech, only="audio")


def test_each_speech_hit_supports_one_moment_and_limit_applies() -> None:
    visual = [vm(1, 0, 3, 0.30), vm(1, 2.5, 6, 0.29)] + BACKGROUND
    speech = [sh(1, 2.0, 3.5, "one line", 0.7)]
    out = fuse(visual, speech, limit=3)
    assert len(out) == 3
    assert sum(m.source == "visual+speech" for m in fuse(visual, speech)) == 1


def test_why_shows_the_spoken_line_or_visual() -> None:
    out = fuse(
        [vm(1, 0, 3, 0.3)] + BACKGROUND, [sh(1, 1, 2, "hello there", 0.8), sh(2, 0, 1, "bye now", 0.8)]
    )
    reasons = {m.video_id: why(m) for m in out}
    assert reasons[1] == "\u201chello there\u201d + visual"
    assert reasons[2] == "\u201cbye now\u201d"
    assert reasons[9] == "visual"


def test_one_shared_word_of_a_long_description_is_not_a_word_match() -> None:
    """An FTS OR-match says only that one query word occurs; its weight is the share of the query's words."""
    coffee = "A carbon hot coffee on a wooden table is the best way to start the day"
    one_word = SpeechHit(
        video_id=1, path="/v/1.mp4", start=9.0, end=13.6, text=coffee, semantic=-0.04, fts=True, coverage=0.1
    )
    assert speech_confidence(one_word) < DEFAULT_PARAMS.min_speech_confidence  # not a speech-only result
    visual = [vm(2, 15.0, 25.0, 0.30), vm(1, 8.0, 16.0, 0.29)] + BACKGROUND
    assert fuse(visual, [one_word])[0].video_id == 2  # the visual answer is not outranked by it
    whole = SpeechHit(video_id=1, path="/v/1.mp4", start=9.0, end=13.6, text=coffee, semantic=0.51, fts=True)
    assert speech_confidence(whole) >= DEFAULT_PARAMS.fts_confidence  # a query all of whose words were said
