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


def test_frames_without_text_cost_the_detector_only_and_still_frames_not_even_that(engine) -> None:  # noqa: ANN001
    stats = ReadStats()
    assert read_frames(_frames([], 4.0), engine, interval=0.5, duration=4.0, stats=stats) == []
    # 8 frames on the 0.5 s grid: the detector reads the anchors (every third one, and the last)
    # and nothing between them, since no text appeared or went
    assert stats.frames == 8 and stats.detected == 4 and stats.refined == 0 and stats.recognised == 0
    still = ReadStats()
    spans = read_frames(_frames([Overlay("CLOSED", 0.0, 4.0, "box")], 4.0, moving=False), engine, stats=still)
    assert [s.text for s in spans] == ["CLOSED"] and (spans[0].start, spans[0].end) == (0.0, 4.0)
    assert still.detected == 1 and still.skipped == 3 and still.recognised == 1


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
