"""The query engine: visual + speech + fusion + the per-video cap and k, in one place."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vsearch.query.engine import FUSION_POOL, QueryEngine, cap_per_video, top
from vsearch.query.search import SearchOptions
from vsearch.speech.fusion import SpeechHit, fuse
from vsearch.store.library import Library
from vsearch.types import Moment, VideoFile, VideoInfo


def vm(video: int, start: float, score: float) -> Moment:
    return Moment(
        path=f"/v/{video}.mp4", start=start, end=start + 2, score=score, best_time=start, video_id=video
    )


class FakeVisual:
    """Stands in for Searcher: every moment, best first, uncapped (as Searcher.search returns them)."""

    bank = None  # raw scores (no querybank normalisation), as these tests' numbers assume

    def __init__(self, moments: list[Moment]) -> None:
        self.moments = sorted(moments, key=lambda m: -m.score)
        self.calls: list[str] = []

    def search(self, text: str, opts: SearchOptions) -> list[Moment]:
        self.calls.append(text)
        return list(self.moments)


class FlatEncoder:
    """Every sentence gets the same vector, so gating gives every expert full weight."""

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.full((len(texts), 4), 0.5, dtype=np.float32)


class FakeSpeech:
    def __init__(self, hits: list[SpeechHit]) -> None:
        self._hits = hits
        self.filtered: list[int] = []
        self.encoder_factory = FlatEncoder

    def available(self) -> bool:
        return bool(self._hits)

    def hits(self, text: str, *, video_filter=None) -> list[SpeechHit]:  # noqa: ANN001
        out = []
        for h in self._hits:
            self.filtered.append(h.video_id)
            if video_filter is None or video_filter(h.video_id):
                out.append(h)
        return out


VISUAL = [vm(1, 0, 0.40), vm(1, 10, 0.39), vm(1, 20, 0.38), vm(2, 0, 0.30), vm(3, 0, 0.29)] + [
    vm(9, 10.0 * i, 0.20 + 0.001 * i) for i in range(10)
]


@pytest.fixture
def library(tmp_path: Path) -> Library:
    lib = Library(tmp_path / "lib")
    root = lib.add_root("/v")
    for i in (1, 2, 3, 4, 9):
        vid = lib.add_video(VideoFile(f"/v/{i}.mp4", 1, 1.0), root.id)
        assert vid == i or i == 9  # ids 1..4 in order
        lib.set_probe(vid, VideoInfo(100.0 if i != 4 else 5.0, 25.0, 64, 48))
    yield lib
    lib.close()


@given(st.lists(st.integers(0, 4), max_size=40), st.integers(1, 3) | st.none(), st.integers(1, 30))
def test_top_caps_each_video_then_cuts_at_k(videos: list[int], per_video: int | None, k: int) -> None:
    moments = [vm(v, float(i), 1.0 - i / 100) for i, v in enumerate(videos)]
    got = top(moments, SearchOptions(k=k, per_video=per_video))
    assert got == cap_per_video(moments, per_video)[:k]
    assert len(got) <= k
    if per_video is not None:
        assert all(sum(m.video_id == v for m in got) <= per_video for v in set(videos))
    assert got == [m for m in moments if m in got]  # order kept


def test_visual_only_results_are_capped_once(library: Library) -> None:
    eng = QueryEngine(library, FakeVisual(VISUAL), None)
    out = eng.search("  red   car ", SearchOptions(k=3, per_video=1))
    assert [(m.video_id, m.start) for m in out] == [(1, 0), (2, 0), (3, 0)]
    assert eng.visual.calls == ["red car"]
    assert eng.search("   ", SearchOptions()) == []


def test_fusion_sees_a_pool_that_does_not_depend_on_k_and_the_cap_applies_after_it(library: Library) -> None:
    hits = [
        SpeechHit(video_id=4, path="/v/4.mp4", start=1.0, end=2.0, text="red car", semantic=0.9),
        SpeechHit(video_id=4, path="/v/4.mp4", start=3.0, end=4.0, text="a red car", semantic=0.85),
    ]
    opts = SearchOptions(k=4, per_video=1)
    out = QueryEngine(library, FakeVisual(VISUAL), FakeSpeech(hits)).search("red car", opts)
    # the same as: cap and cut the visual list at the pool (max(k, FUSION_POOL), issue 15.1: the
    # top result must not depend on k), fuse calibrated on the pool, cap and cut again
    ranked = sorted(VISUAL, key=lambda m: -m.score)
    pool = replace(opts, k=max(opts.k, FUSION_POOL))
    assert out == top(fuse(top(ranked, pool), hits, calibrate_on=FUSION_POOL), opts)
    assert sum(m.video_id == 4 for m in out) == 1 and out[0].source == "speech"
    for k in range(1, 12):
        got = QueryEngine(library, FakeVisual(VISUAL), FakeSpeech(hits)).search("red car", replace(opts, k=k))
        assert got == out[:k] or (k > len(out) and got[: len(out)] == out)


def test_speech_hits_pass_the_folder_and_duration_filters(library: Library) -> None:
    hits = [
        SpeechHit(video_id=v, path=f"/v/{v}.mp4", start=1.0, end=2.0, text="hi", semantic=0.9) for v in (2, 4)
    ]
    speech = FakeSpeech(hits)
    out = QueryEngine(library, None, speech).search("hi", SearchOptions(min_duration=50.0), only="speech")
    assert [m.video_id for m in out] == [2]  # video 4 lasts 5 s


def test_only_restricts_the_experts(library: Library) -> None:
    hits = [SpeechHit(video_id=2, path="/v/2.mp4", start=1.0, end=2.0, text="hi", semantic=0.9)]
    visual, speech = FakeVisual(VISUAL), FakeSpeech(hits)
    eng = QueryEngine(library, visual, speech)
    assert all(m.source == "visual" for m in eng.search("hi", SearchOptions(k=50), only="visual"))
    assert speech.filtered == []  # speech was not asked
    assert [m.source for m in eng.search("hi", only="speech")] == ["speech"]
    assert visual.calls == ["hi"]  # the visual expert was not asked for --only speech
    with pytest.raises(ValueError):
        eng.search("hi", only="audio")
