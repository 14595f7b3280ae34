"""Near-duplicate grouping (issue 16.10): the rules on made-up vectors, then on real dev-set footage."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pytest

from vsearch.query.dedup import group_similar, mean_vector
from vsearch.service import Service
from vsearch.types import Moment

DEV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "devset" / "videos"


def unit(*v: float) -> np.ndarray:
    a = np.array(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def m(path: str, start: float, end: float, score: float, vid: int = 1, **kw: object) -> Moment:
    return Moment(path, start, end, score, start, video_id=vid, duration=60.0, fps=25.0, **kw)  # type: ignore[arg-type]


def test_loops_fold_into_the_best_and_keep_the_ranking() -> None:
    a, b, c, other = m("/v/loop.mp4", 0, 4, 0.9), m("/v/loop.mp4", 10, 14, 0.8), m("/v/x.mp4", 0, 4, 0.7, 2), \
        m("/v/loop.mp4", 20, 24, 0.6)  # fmt: skip
    vec = {(0, 4): unit(1, 0, 0), (10, 14): unit(1, 0.01, 0), (20, 24): unit(1, 0, 0.01)}
    gap = unit(0, 1, 0)  # the footage between the loops is something else

    def mean_of(x: Moment) -> np.ndarray | None:
        if x.path == "/v/x.mp4":
            return unit(0, 0, 1)
        return vec.get((x.start, x.end), gap)

    out = group_similar([a, b, c, other], mean_of, lambda _m: None)
    assert [(x.path, x.start) for x in out] == [("/v/loop.mp4", 0), ("/v/x.mp4", 0)]
    assert out[0].similar == (b, other) and out[1].similar == ()


def test_a_long_still_shot_is_not_a_loop_and_words_keep_moments_apart() -> None:
    a, b = m("/v/still.mp4", 0, 4, 0.9), m("/v/still.mp4", 8, 12, 0.8)
    same = unit(1, 0, 0)
    # the footage between is the same picture: one long shot, two moments of it
    assert len(group_similar([a, b], lambda _m: same, lambda _m: None)) == 2
    # adjacent spans are one shot too, whatever lies between
    c = m("/v/still.mp4", 4.5, 8, 0.7)
    assert len(group_similar([a, c], lambda x: same if x.length < 5 else unit(0, 1, 0), lambda _m: None)) == 2
    # two copies that matched different spoken lines stay two results
    s1 = m("/v/a.mp4", 0, 4, 0.9, 1, source="speech", text="hello there")
    s2 = m("/v/b.mp4", 0, 4, 0.8, 2, source="speech", text="goodbye")
    assert len(group_similar([s1, s2], lambda _m: same, lambda _m: (100, 60.0))) == 2
    # a much longer span is not the same moment
    long_ = m("/v/other.mp4", 0, 20, 0.5, 3)
    assert len(group_similar([a, long_], lambda _m: same, lambda _m: None)) == 2


def test_copies_fold_by_content_even_without_vectors() -> None:
    a, b = m("/v/a.mp4", 1.0, 3.0, 0.9, 1, source="speech", text="hi"), m("/w/a.mp4", 1.2, 3.1, 0.9, 2,
                                                                          source="speech", text="hi")  # fmt: skip
    out = group_similar([a, b], lambda _m: None, lambda x: (1234, 60.0))
    assert len(out) == 1 and out[0].similar == (b,)
    assert len(group_similar([a, b], lambda _m: None, lambda x: (1234 + x.video_id, 60.0))) == 2


def test_mean_vector() -> None:
    assert mean_vector(np.zeros((0, 3))) is None
    v = mean_vector(np.array([[1, 0], [0, 1]], dtype=np.float32))
    assert v is not None and abs(float(np.linalg.norm(v)) - 1) < 1e-6


def loop(src: Path, out: Path, start: float, seconds: float, times: int, colour: tuple[int, int, int]) -> Path:
    """*seconds* of real footage from *src* at *start*, then 2 s of *colour*, played *times* times over."""
    frames = []
    with av.open(str(src)) as c:
        st = c.streams.video[0]
        for f in c.decode(st):
            if f.time is None or f.time < start:
                continue
            if f.time >= start + seconds:
                break
            frames.append(f.to_ndarray(format="rgb24"))
    h, w = frames[0].shape[:2]
    h, w = h - h % 2, w - w % 2
    rate = round(len(frames) / seconds) or 25
    frames = [f[:h, :w] for f in frames] + [np.full((h, w, 3), colour, np.uint8)] * (2 * rate)
    with av.open(str(out), mode="w") as c:
        st = c.add_stream("libx264", rate=rate)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        i = 0
        for _ in range(times):
            for arr in frames:
                vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
                vf.pts = i
                i += 1
                c.mux(st.encode(vf))
        c.mux(st.encode(None))
    return out


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DEV / "d02.mp4").exists():
        pytest.skip("the dev set is not beside the checkout")
    d = tmp_path_factory.mktemp("dedup") / "videos"
    for sub in ("a", "b", "c"):  # identical copies of a real file in three folders
        (d / sub).mkdir(parents=True)
        shutil.copy(DEV / "d02.mp4", d / sub / "d02.mp4")
    loop(DEV / "d03.mp4", d / "loop3.mp4", 10.0, 4.0, 3, (40, 80, 230))  # footage, then blue, three times
    return d


def test_real_copies_and_a_looped_clip_give_one_result_each(tmp_path: Path, footage: Path) -> None:
    with Service(tmp_path / "lib", model="test-color") as svc:
        svc.update_settings(speech=False, ocr=False)  # frames are what this is about
        svc.index([footage])
        flat = svc.search("blue", k=60)
        grouped = svc.search("blue", k=60, group_similar=True)
        # the loop: three blue moments, six seconds apart, one card
        blues = [x for x in flat if x.path.endswith("loop3.mp4")]
        assert len(blues) == 3, [(x.start, x.end) for x in blues]
        loops = [g for g in grouped if g.path.endswith("loop3.mp4")]
        assert len(loops) == 1 and len(loops[0].similar) == 2
        assert sorted(round(x.start) for x in (loops[0], *loops[0].similar)) == [4, 10, 16]
        # the three copies of d02: each moment of one copy carries the same moment of the other two
        copies = [g for g in grouped if g.path.endswith("d02.mp4")]
        assert copies and len(copies) * 3 == len([x for x in flat if x.path.endswith("d02.mp4")])
        for g in copies:
            assert {Path(x.path).parent.name for x in (g, *g.similar)} == {"a", "b", "c"}
            assert all(abs(x.start - g.start) < 0.01 for x in g.similar)
        # nothing lost or made up: the same moments, fewer cards, the ranking kept
        assert sorted((x.path, x.start, x.end) for g in grouped for x in (g, *g.similar)) == sorted(
            (x.path, x.start, x.end) for x in flat
        )
        assert [g.score for g in grouped] == sorted((g.score for g in grouped), reverse=True)
        assert all(not x.similar for x in flat)  # without group_similar (the CLI) nothing changes
