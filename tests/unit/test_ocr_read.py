"""Real OCR (PP-OCRv4 via rapidocr) on frames the test draws: words, span times, and the cheap paths."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.helpers.screen_text import Overlay, _moving_background, draw
from vsearch.ocr.read import ReadStats, SpanMerger, read_frames, similarity
from vsearch.ocr.text import key

pytest.importorskip("rapidocr_onnxruntime")

OVERLAYS = [
    Overlay("SCENE 12\nTAKE 3", 1.0, 3.0, "slate"),
    Overlay("Dr. Maria Lopez\nMarine Biologist", 3.5, 6.0, "lower_third"),
    Overlay("EXIT", 2.0, 7.0, "corner"),
    Overlay("SALE 50% OFF", 6.5, 8.0, "box"),
]


@pytest.fixture(scope="module")
def engine():  # noqa: ANN201
    from vsearch.ocr.engine import OcrEngine

    return OcrEngine()


def _frames(overlays: list[Overlay], seconds: float, step: float = 0.5, size=(480, 270), moving: bool = True):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(0)
    for i in range(int(round(seconds / step))):
        t = i * step
        img = Image.fromarray(_moving_background(size[0], size[1], 10 * i if moving else 0, rng if moving else np.random.default_rng(0)))
        for ov in overlays:
            if ov.start <= t < ov.end:
                draw(img, ov)
        yield t, np.asarray(img)


def _find(spans, words: str):  # noqa: ANN001, ANN202
    k = key(words)
    got = [s for s in spans if k in key(s.text)]
    assert got, f"{words!r} not read; spans: {[(s.start, s.end, s.text) for s in spans]}"
    return got[0]


def test_reads_the_words_of_every_style_with_their_times(engine) -> None:  # noqa: ANN001
    stats = ReadStats()
    spans = read_frames(_frames(OVERLAYS, 9.0), engine, interval=0.5, duration=9.0, stats=stats)
    for ov in OVERLAYS:
        s = _find(spans, ov.text.replace("\n", " "))
        # a sample stands for the half second after it: spans are exact on a 0.5 s grid here
        assert s.start == pytest.approx(ov.start, abs=0.01), (ov.text, s)
        assert s.end == pytest.approx(ov.end, abs=0.01), (ov.text, s)
        assert s.confidence > 0.8
        x0, y0, x1, y1 = s.box
        assert 0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0
    # the two lines of the lower third and of the slate are one text each, top line first
    assert key(_find(spans, "Maria Lopez").text) == key("Dr. Maria Lopez Marine Biologist")
    assert _find(spans, "EXIT").box[0] > 0.8  # top right corner
    # no text where there is none
    assert not [s for s in spans if s.end <= 1.0]
    # the recogniser ran on new or changed boxes only, not on every box of every frame, and the
    # frames between anchors were read around the changes (this clip changes every second or so)
    assert stats.recognised < stats.boxes
    assert stats.refined > 0


def test_frames_without_text_cost_the_gate_only_and_still_frames_not_even_that(engine) -> None:  # noqa: ANN001
    stats = ReadStats()
    assert read_frames(_frames([], 4.0), engine, interval=0.5, duration=4.0, stats=stats) == []
    # 8 frames on the 0.5 s grid: the cheap gate (the detector at 384 px) reads the anchors (every
    # third one, and the last), finds no text, so the full-size detector never runs; nothing
    # between the anchors is read, since no text appeared or went
    assert stats.frames == 8 and stats.gated == 4 and stats.detected == 0
    assert stats.refined == 0 and stats.recognised == 0
    still = ReadStats()
    spans = read_frames(_frames([Overlay("CLOSED", 0.0, 4.0, "box")], 4.0, moving=False), engine, stats=still)
    assert [s.text for s in spans] == ["CLOSED"] and (spans[0].start, spans[0].end) == (0.0, 4.0)
    assert still.detected == 1 and still.skipped == 3 and still.recognised == 1


def test_frames_between_anchors_are_fetched_only_where_the_text_changed(engine) -> None:  # noqa: ANN001
    """The stage's mode: anchors decoded 1.5 s apart, the fine grid between them on demand."""
    shown = [Overlay("BREAKING NEWS", 2.0, 5.0, "box"), Overlay("EXIT", 6.0, 12.0, "corner")]
    grid = list(_frames(shown, 12.0))
    asked: list[tuple[float, float]] = []

    def between(a: float, b: float):  # noqa: ANN202
        asked.append((a, b))
        return [f for f in grid if a < f[0] < b]

    stats = ReadStats()
    lazy = read_frames(grid[::3], engine, interval=0.5, duration=12.0, stats=stats, between=between)
    whole = read_frames(iter(grid), engine, interval=0.5, duration=12.0)
    got = [(s.start, s.end, key(s.text)) for s in lazy]
    assert got == [(s.start, s.end, key(s.text)) for s in whole]
    assert got == [(2.0, 5.0, key("BREAKING NEWS")), (6.0, 12.0, key("EXIT"))]
    # asked only between the anchors around each change, and once for the tail after the last
    assert asked == [(1.5, 3.0), (4.5, 6.0), (10.5, float("inf"))]
    # 24 frames on the grid; fetched: 8 anchors, the 2 + 2 around the changes, the tail's 2
    assert stats.frames == 8 + 2 + 2 + 2 and stats.refined == 4


def test_read_video_decodes_the_fine_grid_only_around_changes(engine, tmp_path) -> None:  # noqa: ANN001
    from tests.helpers.screen_text import burn
    from vsearch.ocr.read import read_video
    from vsearch.probe import probe

    path = burn(tmp_path / "t.mp4", [Overlay("CLOSED", 2.0, 5.0, "box")], 9.0, size=(480, 270))
    stats = ReadStats()
    spans = read_video(str(path), probe(str(path)), engine, stats=stats)
    s = _find(spans, "CLOSED")
    assert (s.start, s.end) == (pytest.approx(2.0, abs=0.05), pytest.approx(5.0, abs=0.05))
    assert len(spans) == 1
    # 18 frames on the 0.5 s grid; decoded: the 6 anchors, the 2 frames before each change
    # (text appears between 1.5 and 3.0, goes between 4.5 and 6.0) and the tail after 7.5
    assert stats.frames < 18 and stats.refined == 4 and stats.detected <= 4


def test_small_text_appearing_on_a_still_picture_is_read(engine) -> None:  # noqa: ANN001
    spans = read_frames(_frames([Overlay("EXIT", 1.5, 4.0, "corner")], 4.0, moving=False), engine, duration=4.0)
    s = _find(spans, "EXIT")
    assert (s.start, s.end) == (1.5, 4.0)


def test_merger_keeps_one_span_through_a_misread_and_a_missed_sample() -> None:
    m = SpanMerger(0.5, 10.0)
    box = (10.0, 10.0, 100.0, 30.0)
    for t, items in [
        (0.0, [("BREAKING NEWS", box, 0.9)]),
        (0.5, [("BREAKlNG NEWS", box, 0.7)]),  # one letter misread
        (1.0, []),  # the detector blinked
        (1.5, [("BREAKING NEWS", box, 0.95)]),
        (2.0, []),
        (2.5, []),
        (3.0, [("WEATHER", box, 0.9)]),
    ]:
        m.add(t, items)
    spans = m.spans(200, 100)
    assert [(s.start, s.end, s.text) for s in spans] == [(0.0, 2.0, "BREAKING NEWS"), (3.0, 3.5, "WEATHER")]
    assert similarity("abc", "abc") == 1.0 and similarity("abcd", "abxd") == 0.75


def test_run_together_words_get_their_spaces_back() -> None:
    from vsearch.ocr.respace import respace

    assert respace("Weneed toleavebeforesunrise.") == "We need to leave before sunrise."
    assert respace("SALE50%OFF") == "SALE 50% OFF" and respace("BREAKINGNEWS") == "BREAKING NEWS"
    # names and long words are not cut into fragments
    assert respace("EXTINGUISHER") == "EXTINGUISHER" and respace("Dr. Maria Lopez") == "Dr. Maria Lopez"


def test_unchanged_text_over_moving_footage_is_carried_without_the_detector(engine) -> None:  # noqa: ANN001
    """A lower third or a logo over moving footage: the gate sees only that box, so it is not detected again."""
    stats = ReadStats()
    spans = read_frames(_frames([Overlay("CLOSED", 0.0, 9.0, "box")], 9.0), engine, interval=0.5, duration=9.0, stats=stats)
    s = _find(spans, "CLOSED")
    assert (s.start, s.end) == (0.0, 9.0) and len(spans) == 1
    # 18 frames on the grid, 7 anchors (every third and the last): the first is detected; at the
    # other six the footage moved, the gate lit only that box and its pixels did not change
    assert stats.detected == 1 and stats.carried == 6 and stats.recognised == 1


def test_text_replaced_in_the_same_place_is_read_again(engine) -> None:  # noqa: ANN001
    shown = [Overlay("SALE 50% OFF", 0.0, 4.5, "box"), Overlay("SOLD OUT", 4.5, 9.0, "box")]
    spans = read_frames(_frames(shown, 9.0), engine, interval=0.5, duration=9.0)
    a, b = _find(spans, "SALE 50% OFF"), _find(spans, "SOLD OUT")
    assert (a.start, a.end) == (0.0, 4.5) and (b.start, b.end) == (4.5, 9.0)


def test_the_gate_looks_only_at_what_changed_and_still_sees_small_text_there(engine) -> None:  # noqa: ANN001
    """On a still picture, corner text appearing is found by a gate run on the changed corner only."""
    stats = ReadStats()
    spans = read_frames(_frames([Overlay("EXIT", 1.5, 4.0, "corner")], 4.0, moving=False), engine, duration=4.0, stats=stats)
    s = _find(spans, "EXIT")
    assert (s.start, s.end) == (1.5, 4.0)
    # the first frame: the whole picture; the anchor at 1.5 s: a corner; then nothing changed
    assert 1.0 < stats.gate_area < 1.5


def test_a_reading_that_differs_in_its_digits_starts_a_new_span() -> None:
    """A clock, a scoreboard, a take number: the fuzzy same-text match must not fold 3 into 4.

    Letters may still slip (a misread letter stays in its span); a changed digit does not.
    """
    m = SpanMerger(0.5, 3.0)
    box = (10.0, 10.0, 100.0, 30.0)
    for t, text in [(0.0, "SCENE 12 TAKE 3"), (0.5, "SCENE 12 TAKF 3"), (1.0, "SCENE 12 TAKE 4"), (1.5, "SCENE 12 TAKE 4")]:
        m.add(t, [(text, box, 0.9)])
    spans = [(sp.start, sp.end, sp.text) for sp in m.spans(200, 100)]
    assert spans == [(0.0, 1.0, "SCENE 12 TAKE 3"), (1.0, 2.0, "SCENE 12 TAKE 4")]


@pytest.mark.parametrize(("style", "moving"), [("box", True), ("box", False), ("lower_third", True), ("corner", False)])
def test_a_score_that_changes_one_digit_is_read_again(engine, style: str, moving: bool) -> None:  # noqa: ANN001
    """A scoreboard: one digit of a long line changes. The line's crop hardly changes as a whole
    (0.004 mean for the box), so it must be seen at character scale, or the old score is carried
    to the end; on a still picture a small corner digit changes no tile of the frame enough."""
    shown = [Overlay("HOME 1 - 0 AWAY", 0.0, 4.5, style), Overlay("HOME 2 - 0 AWAY", 4.5, 9.0, style)]
    stats = ReadStats()
    spans = read_frames(_frames(shown, 9.0, moving=moving), engine, interval=0.5, duration=9.0, stats=stats)
    got = [(s.start, s.end, "".join(c for c in s.text if c.isdigit())) for s in spans]
    assert got == [(0.0, 4.5, "10"), (4.5, 9.0, "20")], [(s.start, s.end, s.text) for s in spans]
    assert stats.recognised <= 3  # the rest was carried or skipped, not read again


def test_a_growing_cut_or_scrolling_text_stays_one_span_named_by_its_longest_reading() -> None:
    """A ticker, a title typed out, a block losing a line: read as a new string at every sample."""
    m = SpanMerger(0.5, 10.0)
    readings = ["ST", "STOCK", "STOCKS RISE AS I", "STOCKS RISE AS MARK",  # entering: the edge letter misread
                "STOCKS RISE AS MARKETS RALLY", "STOCKS RISE AS MARKETS RALLY", "CKS RISE AS MARKETS RALLY",
                "AS MARKETS RALLY"]  # leaving
    for i, text in enumerate(readings):
        x = 400.0 - 60 * i
        m.add(0.5 * i, [(text, (x, 240.0, x + 12.0 * len(text), 262.0), 0.95)])
    spans = m.spans(480, 270)
    assert [(sp.start, sp.end, sp.text) for sp in spans] == [(0.0, 4.0, "STOCKS RISE AS MARKETS RALLY")]
    # its box is the band the ticker crossed, not where it was last seen
    x0, y0, x1, y1 = spans[0].box
    assert x0 == 0.0 and x1 > 0.9 and y0 == pytest.approx(240 / 270) and y1 == pytest.approx(262 / 270)


def test_text_put_in_front_or_a_changed_number_is_not_a_continuation() -> None:
    from vsearch.ocr.read import continues

    assert continues("pressstartvp9", "pressstart")  # a block that lost its second line
    assert continues("stocksriseas", "riseasmarkets")  # a window sliding along a long ticker
    assert not continues("vp9", "pressstartvp9")  # a caption joined above a logo: new text
    assert not continues("home1", "home12") and not continues("score10", "score1")  # a score changed
    assert not continues("000007", "000008")  # a clock
    # a caption sliding in from the left grows at its start: the same line only at the same height
    assert continues("apatel", "mayapatel", prepended=True) and not continues("apatel", "mayapatel")
    slide = SpanMerger(0.5, 3.0)
    for t, text, rect in [(0.0, "A PATEL", (0.0, 200.0, 60.0, 220.0)), (0.5, "MAYA PATEL", (30.0, 200.0, 120.0, 221.0)),
                          (1.0, "MAYA PATEL", (30.0, 200.0, 120.0, 221.0))]:
        slide.add(t, [(text, rect, 0.9)])
    assert [(sp.start, sp.end, sp.text) for sp in slide.spans(200, 300)] == [(0.0, 1.5, "MAYA PATEL")]
    # ... while a line joined above a logo moves the block's top: a new span
    logo = SpanMerger(0.5, 3.0)
    for t, text, rect in [(0.0, "VP9", (60.0, 250.0, 100.0, 290.0)), (0.5, "PRESS START VP9", (40.0, 225.0, 130.0, 290.0))]:
        logo.add(t, [(text, rect, 0.9)])
    assert [key(sp.text) for sp in logo.spans(200, 300)] == ["vp9", "pressstartvp9"]
    m = SpanMerger(0.5, 3.0)
    box = (10.0, 10.0, 100.0, 30.0)
    for t, text in [(0.0, "HOME 1"), (0.5, "HOME 1"), (1.0, "HOME 12"), (1.5, "HOME 12")]:
        m.add(t, [(text, box, 0.9)])
    assert [(sp.start, sp.text) for sp in m.spans(200, 100)] == [(0.0, "HOME 1"), (1.0, "HOME 12")]


def test_a_ticker_crossing_the_frame_is_one_span_from_entering_to_leaving(engine) -> None:  # noqa: ANN001
    """Real OCR on a line of text that moves 30 px a sample from the right edge across the frame."""
    from PIL import ImageDraw

    from tests.helpers.screen_text import _font

    text, font = "STOCKS RISE AS MARKETS RALLY", _font(20)
    rng = np.random.default_rng(0)

    def frames():  # noqa: ANN202
        for i in range(36):  # 18 s
            img = Image.fromarray(_moving_background(480, 270, 10 * i, rng))
            if 4 <= i < 32:  # from 2.0 s to 16.0 s
                d = ImageDraw.Draw(img)
                x = 480 - 30 * (i - 4)
                d.rectangle((0, 236, 479, 262), fill=(0, 0, 0))
                d.text((x, 238), text, font=font, fill=(255, 230, 0))
            yield 0.5 * i, np.asarray(img)

    spans = read_frames(frames(), engine, interval=0.5, duration=18.0)
    s = _find(spans, "markets rally")
    assert s.start <= 3.0 and s.end >= 15.0, [(x.start, x.end, x.text) for x in spans]
    assert key(s.text) == key(text)


def test_a_faint_label_the_gate_does_not_see_stays_read_after_larger_text_has_gone(engine) -> None:  # noqa: ANN001
    """A small thin label over bright footage at 960x540: the 384 px gate's map misses it on most
    frames, the detector reads it on all. It was read only while the headline shared the frame."""
    from PIL import ImageDraw

    from tests.helpers.screen_text import _font

    rng = np.random.default_rng(0)

    def frames():  # noqa: ANN202
        for i in range(16):  # 8 s
            bg = np.clip(_moving_background(960, 540, 10 * i, rng).astype(int) + 90, 0, 255).astype(np.uint8)
            img = Image.fromarray(bg)
            d = ImageDraw.Draw(img)
            d.text((860, 20), "CAM B", font=_font(20, bold=False), fill=(235, 235, 235))
            if i < 4:  # the headline for the first 2 s
                d.rectangle((100, 400, 860, 480), fill=(180, 20, 20))
                d.text((130, 410), "BREAKING NEWS", font=_font(56), fill=(255, 255, 255))
            yield 0.5 * i, np.asarray(img)

    spans = read_frames(frames(), engine, interval=0.5, duration=8.0)
    cam = [s for s in spans if key(s.text) == key("CAM B")]
    assert cam and cam[0].start == 0.0 and cam[-1].end >= 7.0, [(s.start, s.end, s.text) for s in spans]
    assert sum(s.end - s.start for s in cam) >= 7.0
