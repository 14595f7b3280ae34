"""The shared time formats: outputs pinned where the CLI, the app and the exports show them verbatim."""

from __future__ import annotations

import pytest

from vsearch import timefmt

VALUES = [0, 0.04, 9.96, 59.97, 75.25, 599.5, 3599.99, 3600, 3725.5, 36000.1]


def test_clock_is_what_the_app_shows() -> None:
    assert [timefmt.clock(v) for v in VALUES] == [
        "0:00.0", "0:00.0", "0:10.0", "1:00.0", "1:15.2", "9:59.5", "1:00:00", "1:00:00", "1:02:05", "10:00:00",
    ]  # fmt: skip
    assert timefmt.clock(-3) == "0:00.0"
    assert (timefmt.clock(0), timefmt.clock(75.25), timefmt.clock(3725)) == ("0:00.0", "1:15.2", "1:02:05")
    assert timefmt.span(4, 10) == "0:04.0 \u2013 0:10.0"


def test_clock_fine_is_what_cli_results_and_contact_sheets_print() -> None:
    # byte-identical to cli._ts and export.sheet._clock before they were merged here
    assert [timefmt.clock_fine(v) for v in VALUES] == [
        "0:00.00", "0:00.04", "0:09.96", "0:59.97", "1:15.25", "9:59.50", "59:59.99", "1:00:00.00",
        "1:02:05.50", "10:00:00.10",
    ]  # fmt: skip


def test_clock_whole_is_the_cli_eta() -> None:
    assert [timefmt.clock_whole(v) for v in VALUES] == [
        "0:00", "0:00", "0:10", "1:00", "1:15", "10:00", "1:00:00", "1:00:00", "1:02:06", "10:00:00",
    ]  # fmt: skip
    assert timefmt.clock_whole(None) == "--:--"


@pytest.mark.parametrize("bad", [None, float("nan"), -1])
def test_duration_words_unknown(bad) -> None:
    assert timefmt.duration_words(bad) == "\u2013"


def test_duration_words() -> None:
    assert [timefmt.duration_words(v) for v in VALUES] == [
        "0 s", "0 s", "10 s", "1 min 00 s", "1 min 15 s", "10 min 00 s", "1 h 00 min", "1 h 00 min", "1 h 02 min",
        "10 h 00 min",
    ]  # fmt: skip
    assert (timefmt.duration_words(12.4), timefmt.duration_words(3725)) == ("12 s", "1 h 02 min")


def test_timecode_at_the_video_rate() -> None:
    assert timefmt.timecode(10.7, 25) == "00:00:10:18"  # frame 267.5 -> 268
    assert timefmt.timecode(10.7, 10) == "00:00:10:07"
    assert timefmt.timecode(3600, 29.97) == "01:00:00;00"  # drop-frame, as editors label it
    assert timefmt.timecode(1.0, 0) == "00:00:01:00"  # unknown rate: 25 fps
    assert timefmt.timecode(-1, 25) == "00:00:00:00"


def test_seconds_exact() -> None:
    assert timefmt.seconds_exact(10.7123) == "10.712" and timefmt.seconds_exact(0) == "0.000"
