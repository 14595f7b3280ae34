"""Exports that read the videos: cut clips (copy / re-encode), contact sheet, probing unknown rates."""

from __future__ import annotations

import csv
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers.videos import make_video, make_wav
from vsearch.errors import UserError
from vsearch.export import export
from vsearch.types import CancelToken, Moment

FPS = 25
GOP = 25  # one keyframe a second


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media") / "my videos"
    return make_video(folder / "café clip ü.mp4", segments=[("red", 3.0), ("blue", 3.0)], fps=FPS, gop=GOP)


def frames_of(path: Path) -> tuple[list[float], list[np.ndarray]]:
    times, images = [], []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            times.append(float(f.pts * f.time_base))
            images.append(f.to_ndarray(format="rgb24"))
    return times, images


def is_red(img: np.ndarray) -> bool:
    r, g, b = np.median(img.reshape(-1, 3), axis=0)
    return r > 150 and b < 100


def is_blue(img: np.ndarray) -> bool:
    r, g, b = np.median(img.reshape(-1, 3), axis=0)
    return b > 150 and r < 100


def test_reencoded_clips_are_frame_accurate(tmp_path: Path, video: Path) -> None:
    ms = [Moment(str(video), 2.6, 3.4, 0.3, 3.0, fps=FPS), Moment(str(video), 0.52, 2.0, 0.2, 1.0)]
    outs = export(ms, "clips", tmp_path / "out clips", clip_mode="reencode")
    assert [p.name for p in outs] == ["01 café clip ü 2.60-3.40.mp4", "02 café clip ü 0.52-2.00.mp4"]
    for p, m in zip(outs, ms, strict=True):
        times, images = frames_of(p)
        assert abs(len(times) / FPS - (m.end - m.start)) <= 1 / FPS + 1e-9
        with av.open(str(p)) as c:
            assert abs(float(c.duration / 1e6) - (m.end - m.start)) <= 1 / FPS + 1e-3
    _, images = frames_of(outs[0])
    assert is_red(images[0]) and is_blue(images[-1])  # starts before the cut at 3.0 s, ends after it


def test_copied_clips_start_on_a_keyframe_within_one_gop(tmp_path: Path, video: Path) -> None:
    m = Moment(str(video), 3.3, 4.6, 0.3, 4.0)
    (out,) = export([m], "clips", tmp_path / "c", clip_mode="copy")
    assert out.suffix == ".mp4"
    times, images = frames_of(out)
    length = len(times) / FPS
    assert (m.end - m.start) - 1 / FPS <= length <= (m.end - m.start) + GOP / FPS + 1 / FPS
    assert times[0] == pytest.approx(0.0, abs=1 / FPS)  # timestamps start at zero
    assert is_blue(images[0])  # the keyframe at 3.0 s is the first blue frame
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == "h264"  # copied, not re-encoded


def test_clips_never_overwrite_without_asking(tmp_path: Path, video: Path) -> None:
    m = Moment(str(video), 1.0, 2.0, 0.3, 1.5)
    (out,) = export([m], "clips", tmp_path / "c")
    before = out.read_bytes()
    with pytest.raises(UserError, match="exists; use --overwrite"):
        export([m], "clips", tmp_path / "c", clip_mode="copy")
    assert out.read_bytes() == before
    (again,) = export([m], "clips", tmp_path / "c", overwrite=True)
    assert again == out


def test_clips_keep_the_sound(tmp_path: Path) -> None:
    wav = make_wav(tmp_path / "tone.wav", seconds=4.0)
    src = make_video(tmp_path / "with sound.mp4", segments=[("green", 4.0)], fps=FPS, gop=GOP, audio=wav)
    m = Moment(str(src), 1.2, 2.8, 0.3, 2.0)
    for mode in ("copy", "reencode"):
        (out,) = export([m], "clips", tmp_path / mode, clip_mode=mode)
        with av.open(str(out)) as c:
            assert len(c.streams.audio) == 1
            samples = sum(f.samples for f in c.decode(audio=0))
            rate = c.streams.audio[0].codec_context.sample_rate
        assert samples / rate == pytest.approx(m.end - m.start, abs=1.2 if mode == "copy" else 0.1)


def test_cancel_stops_between_clips_and_progress_is_reported(tmp_path: Path, video: Path) -> None:
    token = CancelToken()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        token.cancel()

    ms = [Moment(str(video), t, t + 0.5, 0.1, t) for t in (0.0, 1.0, 2.0)]
    outs = export(ms, "clips", tmp_path / "c", progress=progress, cancel=token)
    assert len(outs) == 1 and seen == [(1, 3)]


def test_clips_of_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not reachable"):
        export([Moment(str(tmp_path / "gone.mp4"), 0, 1, 0.1, 0.5)], "clips", tmp_path / "c")


def test_contact_sheet_shows_the_best_frame_of_each_moment(tmp_path: Path, video: Path) -> None:
    from PIL import Image

    ms = [
        Moment(str(video), 0.5, 2.5, 0.3, 1.0),
        Moment(str(video), 3.5, 5.5, 0.2, 4.0, source="speech", text="a <b>bold</b> line"),
        Moment(str(tmp_path / "gone.mp4"), 0, 1, 0.1, 0.5),  # unreadable: a grey tile, not a crash
    ]
    html_path, png_path = export(ms, "sheet", tmp_path / "sheet", query="red & blue")
    assert (html_path.name, png_path.name) == ("sheet.html", "sheet.png")
    page = html_path.read_text(encoding="utf-8")
    assert page.count("data:image/jpeg;base64,") == 3
    assert "red &amp; blue" in page and "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert "caf%C3%A9%20clip%20%C3%BC.mp4#t=0.50,2.50" in page
    sheet = np.asarray(Image.open(png_path).convert("RGB"))
    # first tile (top-left, below the title) is red, second blue
    assert is_red(sheet[60:200, 20:300]) and is_blue(sheet[60:200, 350:630])


def test_contact_sheet_uses_the_injected_thumbnailer(tmp_path: Path) -> None:
    import io

    from PIL import Image

    calls: list[tuple[str, float]] = []

    def thumb(path: str, t: float) -> np.ndarray | bytes:
        calls.append((path, t))
        if len(calls) == 1:
            return np.full((90, 160, 3), (0, 200, 0), dtype=np.uint8)
        buf = io.BytesIO()
        Image.new("RGB", (64, 36), (0, 0, 200)).save(buf, "PNG")
        return buf.getvalue()

    ms = [Moment("/x/a b.mp4", 1, 2, 0.3, 1.5, fps=25), Moment("/x/c.mp4", 3, 4, 0.2, 3.5, fps=25)]
    export(ms, "sheet", tmp_path / "s.html", thumbnail=thumb)
    assert calls == [("/x/a b.mp4", 1.5), ("/x/c.mp4", 3.5)]
    with pytest.raises(UserError, match="exists"):
        export(ms, "sheet", tmp_path / "s.html", thumbnail=thumb)


def test_unknown_rate_is_probed_from_the_file(tmp_path: Path) -> None:
    src = make_video(tmp_path / "thirty fps.mp4", segments=[("red", 2.0)], fps=30)
    (out,) = export([Moment(str(src), 1.0, 1.5, 0.3, 1.2, fps=0.0)], "csv", tmp_path / "a.csv")
    row = next(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert float(row["fps"]) == 30 and row["end_tc"] == "00:00:01:15"
    assert float(row["video_duration"]) == pytest.approx(2.0, abs=0.1)
    # unreachable and unknown: 25 fps
    (out2,) = export([Moment("/nowhere/x.mp4", 1.0, 1.5, 0.3, 1.2)], "edl", tmp_path / "b.edl")
    assert "00:00:01:00 00:00:01:13" in out2.read_text()
