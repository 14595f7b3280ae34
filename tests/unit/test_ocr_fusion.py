"""Fusion of on-screen text hits with the other experts' moments."""

from __future__ import annotations

from dataclasses import replace

from vsearch.ocr.search import TextHit, confidence, fuse_text, why_text
from vsearch.types import Moment


def _m(vid: int, start: float, end: float, score: float, source: str = "visual") -> Moment:
    return Moment(path=f"/v{vid}.mp4", start=start, end=end, score=score, best_time=start, video_id=vid, source=source)


def _h(vid: int, start: float, end: float, text: str, sem: float, **kw: object) -> TextHit:
    return TextHit(video_id=vid, path=f"/v{vid}.mp4", start=start, end=end, text=text, semantic=sem, box=(0, 0, 1, 1), **kw)


def test_confidence_is_monotone_and_words_and_quotes_lift_it() -> None:
    base = confidence(_h(1, 0, 1, "x", 0.4))
    assert confidence(_h(1, 0, 1, "x", 0.2)) < base < confidence(_h(1, 0, 1, "x", 0.6))
    assert confidence(_h(1, 0, 1, "x", 0.4, words=0.5)) > base
    assert confidence(_h(1, 0, 1, "x", 0.4, quoted=True)) > 0.95


def test_text_and_an_overlapping_moment_become_one_moment_with_the_texts_span() -> None:
    vis = [_m(1, 0.0, 10.0, 0.6), _m(2, 0.0, 5.0, 0.7)]
    out = fuse_text(vis, [_h(1, 4.0, 6.0, "SALE 50% OFF", 0.74)])
    assert out[0].video_id == 1 and (out[0].start, out[0].end) == (4.0, 6.0)
    assert out[0].source == "visual+text" and out[0].screen_text == "SALE 50% OFF"
    assert out[0].score > max(0.6, confidence(_h(1, 4.0, 6.0, "", 0.74)))
    assert why_text(out[0]) == "on screen: \u2018SALE 50% OFF\u2019"
    assert len(out) == 2  # the other video's moment stays


def test_without_text_hits_the_order_is_unchanged_and_unrelated_text_stays_out() -> None:
    vis = [_m(1, 0, 1, 0.9), _m(2, 0, 1, 0.5), _m(3, 0, 1, 0.7)]
    assert fuse_text(vis, []) == sorted(vis, key=lambda m: -m.score)
    out = fuse_text(vis, [_h(4, 0, 1, "EXIT", 0.05)])
    assert [m.video_id for m in out] == [1, 3, 2]


def test_a_quoted_match_ranks_above_any_moment_without_the_words() -> None:
    vis = [_m(1, 0, 1, 0.99)]
    out = fuse_text(vis, [_h(2, 3, 4, "SCENE 12", 0.1, quoted=True)], quoted_query=True)
    assert [m.video_id for m in out] == [2, 1]


def test_only_text_ranks_text_hits_alone() -> None:
    out = fuse_text([_m(1, 0, 1, 0.99)], [_h(2, 3, 4, "A", 0.5), _h(3, 0, 1, "B", 0.7)], only_text=True)
    assert [(m.video_id, m.source) for m in out] == [(3, "text"), (2, "text")]


def test_why_names_the_on_screen_text_with_the_other_experts() -> None:
    from vsearch.speech.fusion import why

    m = replace(_m(1, 0, 1, 0.9, "visual+text"), screen_text="EXIT")
    assert why(m) == "on screen: \u2018EXIT\u2019 + visual"
    both = Moment("/v.mp4", 0, 1, 0.9, 0, source="speech+text", text="Go now.", screen_text="EXIT")
    assert why(both) == "\u201cGo now.\u201d + on screen: \u2018EXIT\u2019"
    assert why(_m(1, 0, 1, 0.9)) == "visual"


def test_confident_text_outranks_the_best_visual_moment_and_weak_text_attaches_to_nothing() -> None:
    vis = [_m(1, 0, 5, 0.92), _m(2, 0, 5, 0.5)]
    out = fuse_text(vis, [_h(3, 2, 4, "SALE 50% OFF", 0.6), _h(2, 1, 2, "MAM", 0.1)])
    assert [m.video_id for m in out] == [3, 1, 2]  # visual order kept below the text
    assert out[0].source == "text" and out[2].screen_text is None and out[2].source == "visual"


def test_a_strong_scene_keeps_its_span_when_a_word_read_inside_it_supports_it() -> None:
    """'city street with a taxi': the street shot is a strong visual match (8-18 s) and 'TAXI' is
    read in half a second of it. The result is the street shot, and its card says what was on
    screen. The same text against a weak visual moment, or asked for in quotes, gives the text's
    span. Without calibrated scores the rule is off."""
    street = [_m(1, 8.0, 18.0, 0.71)]
    taxi = [_h(1, 12.5, 13.0, "TAXI", 0.62)]
    out = fuse_text(street, taxi, strong=0.5)
    assert (out[0].start, out[0].end) == (8.0, 18.0)
    assert out[0].source == "visual+text" and out[0].screen_text == "TAXI" and out[0].score > 0.71
    assert out[0].screen_span == (12.5, 13.0)  # when the player frames the box
    weak = fuse_text([_m(1, 8.0, 18.0, 0.3)], taxi, strong=0.5)
    assert (weak[0].start, weak[0].end) == (12.5, 13.0)
    quoted = fuse_text(street, [replace(taxi[0], quoted=True)], quoted_query=True, strong=0.5)
    assert (quoted[0].start, quoted[0].end) == (12.5, 13.0)
    # a text span reaching outside the scene is not held by it: the text's span, as before
    outside = fuse_text(street, [_h(1, 16.0, 20.0, "TAXI", 0.62)], strong=0.5)
    assert (outside[0].start, outside[0].end) == (16.0, 20.0)
    assert (fuse_text(street, taxi)[0].start, fuse_text(street, taxi)[0].end) == (12.5, 13.0)


def test_a_number_the_query_asks_for_outweighs_the_meaning_of_other_readings() -> None:
    """'the test card's clock shows 00:00:05' against three readings of the extra set's test-card
    clock, with the real sentence encoder: every timecode means about the same to it, and the one
    that is not the asked-for time scores highest by meaning. The numbers decide."""
    import numpy as np

    from vsearch.ocr.search import number_share, numbers_in
    from vsearch.ocr.text import key, query_patterns
    from vsearch.speech.text import SentenceEncoder

    q = "the test card's clock shows 00:00:05"
    texts = ["00:00:00:00", "00:00:05;00", "00:00:10:00"]
    enc = SentenceEncoder(device="cpu")
    v = enc.encode([q, *texts])
    sem = [float(np.dot(v[0], x)) for x in v[1:]]
    assert max(range(3), key=lambda i: sem[i]) != 1  # the failure: by meaning, not the 05 reading
    _, words = query_patterns(q)

    def hit(i: int, numbers: bool) -> TextHit:
        frac = sum(w.find(key(texts[i])) is not None for w in words) / len(words)
        share = number_share(numbers_in(q), texts[i]) if numbers else 1.0
        return _h(1, float(i), i + 0.5, texts[i], sem[i], words=frac, numbers=share)

    assert max(range(3), key=lambda i: confidence(hit(i, False))) != 1  # words alone do not save it
    assert max(range(3), key=lambda i: confidence(hit(i, True))) == 1
    assert number_share(["3"], "SCENE 13 TAKE 4") == 0.0 and number_share(["12", "3"], "SCENE 12 TAKE 3") == 1.0
    assert number_share([], "anything") == 1.0 and number_share(["2013"], "Hoolidays 12013") == 0.0
