"""iter_frames()/grab_frame(): which times are sampled, and that the pictures are the right ones."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.videos import make_hostile, make_video
from vsearch.errors import DecodeError
from vsearch.frames import DecodeReport, SampleOptions, grab_frame, iter_frames, output_size
from vsearch.probe import probe
from vsearch.types import VideoInfo


def sample(
    path: Path, report: DecodeReport | None = None, start_after: float | None = None, **opts: object
) -> tuple[np.ndarray, np.ndarray]:
    batches = list(
        iter_frames(path, probe(path), SampleOptions(**opts), start_after=start_after, report=report)
    )  # type: ignore[arg-type]
    for b in batches:
        assert len(b) == len(b.images) and b.images.dtype == np.uint8
    if not batches:
        return np.zeros(0), np.zeros((0, 1, 1, 3), np.uint8)
    return np.concatenate([b.times for b in batches]), np.concatenate([b.images for b in batches])


def colour_of(img: np.ndarray) -> str:
    r, g, b = img.reshape(-1, 3).mean(axis=0)
    if r > 150 and g < 90 and b < 90:
        return "red"
    if b > 150 and r < 90 and g < 90:
        return "blue"
    if g > 150 and r < 90 and b < 90:
        return "green"
    return f"other({r:.0f},{g:.0f},{b:.0f})"


@pytest.fixture(scope="module")
def red_blue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(
        tmp_path_factory.mktemp("v") / "rb.mp4", segments=[("red", 2.0), ("blue", 1.5)], fps=10, gop=10
    )


def test_keyframe_mode_covers_the_video_with_the_right_colours(red_blue: Path) -> None:
    times, images = sample(red_blue)
    assert times.tolist() == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert [colour_of(i) for i in images] == ["red", "red", "blue", "blue"]
    assert images.shape[1:] == (224, 373, 3)  # short side 224, aspect kept


def test_exact_mode_one_frame_per_interval(red_blue: Path) -> None:
    times, images = sample(red_blue, mode="exact", interval=0.5)
    assert times.tolist() == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], abs=0.11)
    assert [colour_of(i) for i in images] == ["red"] * 4 + ["blue"] * 3


def test_reordered_b_frames(tmp_path: Path) -> None:
    path = make_video(
        tmp_path / "b.mp4", segments=[("red", 2.0), ("blue", 2.0)], fps=25, gop=25, preset="veryfast"
    )
    times, images = sample(path, mode="exact", interval=0.5)
    targets = np.arange(0, 4.0, 0.5)
    assert len(times) == len(targets)
    assert np.all(times >= targets - 0.021) and np.all(
        times <= targets + 0.13
    )  # a skipped B-frame costs <= 3 frames
    assert [colour_of(i) for i in images] == ["red"] * 4 + ["blue"] * 4
    report = DecodeReport()
    times, _ = sample(path, report=report)
    assert times.tolist() == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert report.decoded == 4  # keyframes only


def test_sparse_keyframes_are_filled_so_gaps_stay_under_max_gap(tmp_path: Path) -> None:
    path = make_video(
        tmp_path / "longgop.mp4", segments=[("red", 3.0), ("green", 3.0), ("blue", 3.0)], fps=10
    )  # one keyframe
    times, images = sample(path, max_gap=2.0)
    assert times[0] == 0.0
    assert np.diff(times).max() <= 2.0 + 0.11
    assert 9.0 - times[-1] <= 2.0 + 0.11
    for t, img in zip(times, images, strict=True):
        expected = "red" if t < 3 else "green" if t < 6 else "blue"
        assert colour_of(img) == expected, t


def test_dense_keyframes_are_thinned(tmp_path: Path) -> None:
    path = make_video(tmp_path / "intra.avi", codec="mjpeg", segments=[("red", 2.0), ("blue", 2.0)], fps=10)
    report = DecodeReport()
    times, images = sample(path, report=report, interval=1.0)
    assert times.tolist() == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert report.decoded == 4  # the frames in between were never decoded
    assert [colour_of(i) for i in images] == ["red", "red", "blue", "blue"]


def test_short_side_and_batches(red_blue: Path) -> None:
    batches = list(
        iter_frames(
            red_blue, probe(red_blue), SampleOptions(mode="exact", interval=0.5, short_side=64, batch=3)
        )
    )
    assert [len(b) for b in batches] == [3, 3, 1]
    assert all(b.images.shape[1:] == (64, 107, 3) for b in batches)
    times = np.concatenate([b.times for b in batches])
    assert (np.diff(times) > 0).all()


def test_rotated_video_comes_out_upright(tmp_path: Path) -> None:
    path = make_video(tmp_path / "r.mp4", size=(160, 96), rotate=90, gop=10)
    times, images = sample(path, short_side=96)
    assert images.shape[1:] == (160, 96, 3)  # portrait, as a phone shows it
    # The marker square sits at the stored top-left corner on frame 0; turned 90 degrees
    # clockwise for display, it is at the top-right.
    first = images[0].astype(int)
    top_right = first[:8, -8:].mean(axis=(0, 1))
    top_left = first[:8, :8].mean(axis=(0, 1))
    assert top_right[2] > 150 > top_left[2]  # the inverse of red is cyan-ish: lots of blue
    grabbed = grab_frame(path, 0.0, short_side=96)
    assert grabbed.shape == (160, 96, 3)


def test_resume_after_a_time(red_blue: Path) -> None:
    times, images = sample(red_blue, mode="exact", interval=0.5, start_after=1.5)
    assert times.tolist() == pytest.approx([2.0, 2.5, 3.0], abs=0.11)
    assert {colour_of(i) for i in images} == {"blue"}
    times, _ = sample(red_blue, start_after=1.0)
    assert times.tolist() == pytest.approx([2.0, 3.0])
    times, _ = sample(red_blue, start_after=10.0)  # nothing left: fine, no error
    assert len(times) == 0


def test_skip_similar_keeps_changes_and_anchors(tmp_path: Path) -> None:
    path = make_video(tmp_path / "static.mp4", segments=[("red", 12.0), ("blue", 3.0)], fps=5, gop=5)
    times, images = sample(path, mode="exact", interval=1.0, skip_similar=0.05)
    colours = [colour_of(i) for i in images]
    assert times[0] == 0.0 and "blue" in colours
    assert len(times) <= 4
    assert np.diff(times).max() <= 10.0 + 1.01
    all_times, _ = sample(path, mode="exact", interval=1.0)
    assert len(all_times) == 15


def test_grab_frame_picks_the_right_moment(red_blue: Path) -> None:
    assert colour_of(grab_frame(red_blue, 0.5)) == "red"
    assert colour_of(grab_frame(red_blue, 2.5)) == "blue"
    assert colour_of(grab_frame(red_blue, 99.0)) == "blue"  # past the end: the last frame
    assert grab_frame(red_blue, 1.0, short_side=48).shape == (48, 80, 3)


def test_nothing_decodable_raises_one_line_decode_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    info = VideoInfo(duration=3.0, fps=10.0, width=160, height=96)
    with pytest.raises(DecodeError) as err:
        list(iter_frames(junk, info))
    assert "\n" not in str(err.value)


def test_damaged_tail_yields_what_decodes_and_stops(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    full = make_video(tmp_path / "full.mkv", segments=[("red", 4.0), ("blue", 4.0)], fps=10, gop=10)
    data = full.read_bytes()
    bad = tmp_path / "bad.mkv"
    noise = np.random.default_rng(3).integers(0, 256, len(data) // 2, dtype=np.uint8).tobytes()
    bad.write_bytes(data[: len(data) // 2] + noise)
    info = probe(full)  # pretend the header was right about the full length
    report = DecodeReport()
    with caplog.at_level(logging.WARNING, logger="vsearch.decode"):
        batches = list(iter_frames(bad, info, report=report))
    times = np.concatenate([b.times for b in batches])
    assert 0.0 in times and times.max() < 8.0
    assert report.frames == len(times)


def test_file_cut_short_is_reported_incomplete(tmp_path: Path) -> None:
    path = make_hostile("cut_tail", tmp_path / "partial.mp4")
    full_length = VideoInfo(duration=6.0, fps=10.0, width=160, height=96)  # what an old probe said
    report = DecodeReport()
    batches = list(iter_frames(path, full_length, report=report))
    times = np.concatenate([b.times for b in batches])
    assert times[0] == 0.0 and times[-1] < 4.0
    assert not report.complete and report.error and "cut short" in report.error
    report = DecodeReport()
    list(iter_frames(path, probe(path), report=report))  # the probe knows: nothing missing
    assert report.complete and report.error is None


def test_timeout_stops_decoding(red_blue: Path) -> None:
    with pytest.raises(DecodeError, match="timed out"):
        list(iter_frames(red_blue, probe(red_blue), SampleOptions(timeout=1e-9)))


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError):
        SampleOptions(mode="every")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SampleOptions(interval=0)


def test_output_size_keeps_aspect_and_handles_anamorphic() -> None:
    assert output_size(1920, 1080, 224) == (398, 224)
    assert output_size(1080, 1920, 224) == (224, 398)
    assert output_size(720, 576, 224, sar=16 / 15) == (299, 224)
