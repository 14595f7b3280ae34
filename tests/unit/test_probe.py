"""probe(): facts about real (generated) videos, and one-line ProbeErrors for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.videos import HOSTILE_KINDS, make_hostile, make_video, make_wav
from vsearch.errors import MediaError, ProbeError
from vsearch.probe import probe


def test_generated_mp4(tmp_path: Path) -> None:
    p = make_video(tmp_path / "v.mp4", segments=[("red", 2.0), ("blue", 1.5)], fps=10, size=(160, 96), gop=10)
    info = probe(p)
    assert info.duration == pytest.approx(3.5, abs=0.11)
    assert info.fps == pytest.approx(10)
    assert (info.width, info.height) == (160, 96)
    assert info.rotation == 0
    assert info.codec == "h264"
    assert not info.has_audio
    assert info.keyframe_interval == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("name", "codec"), [("v.mkv", "mpeg4"), ("v.webm", "libvpx-vp9"), ("v.ts", "libx264"), ("v.avi", "mjpeg")]
)
def test_other_containers(tmp_path: Path, name: str, codec: str) -> None:
    info = probe(make_video(tmp_path / name, codec=codec, fps=10))
    assert info.duration == pytest.approx(3.5, abs=0.15)
    assert info.fps == pytest.approx(10)
    assert (info.width, info.height) == (160, 96)


def test_rotated_phone_clip_reports_displayed_size(tmp_path: Path) -> None:
    info = probe(make_video(tmp_path / "r.mp4", size=(160, 96), rotate=90))
    assert info.rotation == 90
    assert (info.width, info.height) == (96, 160)


def test_audio_track_is_noticed(tmp_path: Path) -> None:
    wav = make_wav(tmp_path / "s.wav", seconds=3.5)
    info = probe(make_video(tmp_path / "a.mp4", audio=wav))
    assert info.has_audio
    assert info.duration == pytest.approx(3.5, abs=0.2)


def test_header_claiming_more_than_the_file_holds_is_corrected(tmp_path: Path) -> None:
    full = make_video(tmp_path / "full.mkv", segments=[("red", 10.0), ("blue", 10.0)], fps=10, gop=10)
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    info = probe(cut)
    assert 5.0 < info.duration < 15.0  # the header says 20 s


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("zero", "empty file"),
        ("random", "not a video file"),
        ("text", "not a video file"),
        ("truncated", "truncated or corrupt"),
        ("no_moov", "truncated or corrupt"),
        ("audio_only", "no video stream (audio only)"),
    ],
)
def test_hostile_files_raise_one_line_probe_errors(tmp_path: Path, kind: str, expected: str) -> None:
    path = make_hostile(kind, tmp_path / f"{kind}.mp4")
    with pytest.raises(ProbeError) as info:
        probe(path)
    message = str(info.value)
    assert message.startswith(expected)
    assert "\n" not in message and str(path) not in message
    assert isinstance(info.value, MediaError)


def test_every_hostile_kind_is_covered() -> None:
    assert set(HOSTILE_KINDS) == {"zero", "random", "text", "truncated", "no_moov", "audio_only", "cut_tail"}


def test_mp4_cut_short_reports_the_length_it_holds(tmp_path: Path) -> None:
    info = probe(make_hostile("cut_tail", tmp_path / "partial.mp4"))
    assert 2.0 < info.duration < 5.0  # the header says 6 s


def test_text_file_with_video_extension_and_missing_file(tmp_path: Path) -> None:
    p = make_hostile("text", tmp_path / "notes.mkv")
    with pytest.raises(ProbeError, match="not a video file"):
        probe(p)
    with pytest.raises(ProbeError, match="file not found"):
        probe(tmp_path / "gone.mp4")


def test_still_image_named_like_a_video(tmp_path: Path) -> None:
    import av
    import numpy as np

    png = tmp_path / "img.png"
    frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
    with av.open(str(png), "w", format="image2") as out:
        s = out.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = 32, 32, "rgb24"
        out.mux(s.encode(frame))
        out.mux(s.encode(None))
    fake = tmp_path / "img.mp4"
    fake.write_bytes(png.read_bytes())
    with pytest.raises(ProbeError, match="not a video file"):
        probe(fake)
