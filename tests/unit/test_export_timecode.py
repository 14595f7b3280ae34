"""Timecode maths for exports: exact rates, drop-frame labels and round trips at every common rate."""

from __future__ import annotations

from fractions import Fraction

import pytest

from vsearch.errors import UserError
from vsearch.export.timecode import (
    default_drop_frame,
    exact_rate,
    frames_to_seconds,
    frames_to_timecode,
    seconds_to_frames,
    timebase,
    timecode_to_frames,
)

RATES = [23.976, 24, 25, 29.97, 30, 50, 59.94, 60]


@pytest.mark.parametrize(
    ("fps", "exact"),
    [
        (23.976, Fraction(24000, 1001)),
        (23.98, Fraction(24000, 1001)),
        (24, Fraction(24)),
        (25.0, Fraction(25)),
        (29.97, Fraction(30000, 1001)),
        (29.97002997, Fraction(30000, 1001)),
        (30, Fraction(30)),
        (50, Fraction(50)),
        (59.94, Fraction(60000, 1001)),
        (60, Fraction(60)),
        (12.5, Fraction(25, 2)),
    ],
)
def test_rates_snap_to_what_editors_store(fps: float, exact: Fraction) -> None:
    assert exact_rate(fps) == exact


@pytest.mark.parametrize("bad", [0, -25, float("nan"), float("inf")])
def test_nonsense_rates_are_refused(bad: float) -> None:
    with pytest.raises(UserError):
        exact_rate(bad)


@pytest.mark.parametrize("fps", RATES)
def test_one_hour_in_is_labelled_one_hour_where_the_rate_is_real_time(fps: float) -> None:
    # At integer rates and with drop-frame, the label of one real hour is 01:00:00:00.
    frames = seconds_to_frames(3600, fps)
    tc = frames_to_timecode(frames, fps)
    if default_drop_frame(fps) or exact_rate(fps).denominator == 1:
        assert tc.replace(";", ":") == "01:00:00:00"
    else:  # 23.976 has no drop-frame: its labels run 0.1% slow
        assert tc == "00:59:56:10"


@pytest.mark.parametrize(
    ("frames", "fps", "tc"),
    [
        (0, 29.97, "00:00:00;00"),
        (1799, 29.97, "00:00:59;29"),
        (1800, 29.97, "00:01:00;02"),  # ;00 and ;01 are skipped at each minute
        (3597, 29.97, "00:01:59;29"),
        (3598, 29.97, "00:02:00;02"),
        (3600, 29.97, "00:02:00;04"),
        (17982, 29.97, "00:10:00;00"),  # but not at every tenth minute
        (17982 * 6, 29.97, "01:00:00;00"),
        (3600, 59.94, "00:01:00;04"),  # 59.94 skips four numbers
        (35964, 59.94, "00:10:00;00"),
        (1800, 30, "00:01:00:00"),
        (86399 * 25 + 24, 25, "23:59:59:24"),
        (25 * 61 + 3, 25, "00:01:01:03"),
        (1439, 23.976, "00:00:59:23"),
        (120, 50, "00:00:02:20"),
    ],
)
def test_known_timecodes(frames: int, fps: float, tc: str) -> None:
    assert frames_to_timecode(frames, fps) == tc
    assert timecode_to_frames(tc, fps) == frames


@pytest.mark.parametrize("fps", RATES)
def test_frames_round_trip_and_labels_increase_across_minute_boundaries(fps: float) -> None:
    base = timebase(fps)
    minute = seconds_to_frames(60, fps)  # real minutes: covers every drop point up to 21 minutes
    frames = sorted({f for m in range(22) for f in range(max(0, m * minute - 8), m * minute + 8)})
    labels = [frames_to_timecode(f, fps) for f in frames]
    for f, tc in zip(frames, labels, strict=True):
        assert timecode_to_frames(tc, fps) == f
        assert 0 <= int(tc[-2:]) < base
    as_numbers = [int(tc.replace(":", "").replace(";", "")) for tc in labels]
    assert as_numbers == sorted(set(as_numbers))


def test_drop_frame_can_be_turned_off_for_ntsc() -> None:
    assert frames_to_timecode(1800, 29.97, drop_frame=False) == "00:01:00:00"
    # 25 fps has no drop-frame, asking for it changes nothing
    assert frames_to_timecode(1800, 25, drop_frame=True) == "00:01:12:00"


@pytest.mark.parametrize("fps", RATES)
def test_seconds_to_frames_picks_the_nearest_frame(fps: float) -> None:
    for f in (0, 1, 41, 1000, 100_000):
        t = frames_to_seconds(f, fps)
        assert seconds_to_frames(float(t), fps) == f
        assert seconds_to_frames(float(t) + 0.4 / fps, fps) == f
    assert seconds_to_frames(-1.0, fps) == 0


def test_bad_timecode_text_is_a_user_error() -> None:
    with pytest.raises(UserError):
        timecode_to_frames("12:00", 25)
    with pytest.raises(UserError):
        frames_to_timecode(-1, 25)
