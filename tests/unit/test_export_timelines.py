"""Timeline exports (EDL, FCPXML, xmeml, Resolve markers) read back with OpenTimelineIO's adapters."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from vsearch.export import export
from vsearch.export.edl import reel_names
from vsearch.export.timecode import exact_rate, frames_to_seconds, seconds_to_frames, timecode_to_frames
from vsearch.types import Moment

otio = pytest.importorskip("opentimelineio")
_ADAPTERS = set(otio.adapters.available_adapter_names())
# The adapters are separate PyPI packages since OTIO 0.17: otio-cmx3600-adapter, otio-fcp-adapter,
# otio-fcpx-xml-adapter (all in the dev extra).
pytestmark = pytest.mark.skipif(
    not {"cmx_3600", "fcp_xml", "fcpx_xml"} <= _ADAPTERS, reason="OpenTimelineIO adapters not installed"
)

RATES = [23.976, 24, 25, 29.97, 30, 50, 59.94, 60]
# Paths need not exist for timeline formats; these ones test escaping and percent-encoding.
PATH_A = "/media/Holiday & Co/café clip ü.mp4"
PATH_B = "/media/Holiday & Co/second <take> #2 日本.mov"


def url_to_path(url: str) -> str:
    parsed = urlparse(url)
    assert parsed.scheme == "file"
    assert parsed.netloc in ("", "localhost")
    assert " " not in url and all(ord(c) < 128 for c in url), "URLs must be percent-encoded ASCII"
    return unquote(parsed.path)


def moments_at(fps: float) -> list[Moment]:
    return [
        Moment(PATH_A, 43.44, 48.2, 0.31, 45.0, fps=fps, duration=77.48),
        Moment(PATH_B, 61.48, 69.48, 0.29, 63.0, fps=fps, duration=120.0),
        Moment(PATH_A, 1.0, 2.5, 0.2, 1.2, fps=fps, duration=77.48),
        Moment(PATH_A, 700.0, 704.04, 0.1, 701.0, fps=fps, duration=900.0),  # past the 10-minute DF point
    ]


def expected_range(m: Moment, fps: float) -> tuple[float, float]:
    start = seconds_to_frames(m.start, fps)
    end = seconds_to_frames(m.end, fps)
    return float(frames_to_seconds(start, fps)), float(frames_to_seconds(end, fps))


def video_clips(timeline) -> list:
    track = timeline.video_tracks()[0]
    return [c for c in track if isinstance(c, otio.schema.Clip)]


@pytest.mark.parametrize("fps", RATES)
def test_edl_reads_back_with_source_ranges_and_paths(tmp_path: Path, fps: float) -> None:
    ms = moments_at(fps)
    (out,) = export(ms, "edl", tmp_path / "cut list", query="a dog")
    assert out.name == "cut list.edl"
    text = out.read_text(encoding="utf-8")
    drop = fps in (29.97, 59.94)
    assert ("FCM: DROP FRAME" in text) == drop
    timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=float(exact_rate(fps)))
    clips = video_clips(timeline)
    assert len(clips) == len(ms)
    for clip, m in zip(clips, ms, strict=True):
        start, end = expected_range(m, fps)
        sr = clip.source_range
        assert sr.start_time.to_seconds() == pytest.approx(start, abs=1e-6)
        assert sr.duration.to_seconds() == pytest.approx(end - start, abs=1e-6)
        assert clip.name == Path(m.path).name
        assert clip.media_reference.target_url == m.path
    # source timecodes use ';' exactly when the file's rate is drop-frame
    src_tcs = re.findall(r"^\d{3}\s+\S+\s+\S+\s+C\s+(\S+) (\S+)", text, flags=re.M)
    assert all((";" in a) == drop for a, _ in src_tcs)


def test_edl_sources_keep_their_own_rate_on_a_timeline_of_another(tmp_path: Path) -> None:
    ms = [
        Moment(PATH_A, 10.0, 12.0, 0.3, 11.0, fps=29.97),
        Moment(PATH_B, 10.0, 12.0, 0.2, 11.0, fps=25),
    ]
    (out,) = export(ms, "edl", tmp_path / "mixed.edl", fps=24)
    events = re.findall(r"^(\d{3})\s+(\S+)\s+\S+\s+C\s+(\S+) (\S+) (\S+) (\S+)", out.read_text(), flags=re.M)
    # 10 s is frame 300 at 29.97 (drop-frame label 00:00:10;00) and frame 250 at 25
    assert [e[2] for e in events] == ["00:00:10;00", "00:00:10:00"]
    assert timecode_to_frames(events[0][2], 29.97) == seconds_to_frames(10.0, 29.97)
    assert timecode_to_frames(events[1][2], 25) == 250
    # record side: 24 fps, back to back from 01:00:00:00, each 2 s long
    assert [e[4] for e in events] == ["01:00:00:00", "01:00:02:00"]
    assert events[1][5] == "01:00:04:00"


def test_reel_names_fit_cmx_limits_and_stay_unique() -> None:
    paths = [
        "/a/café clip ü.mp4",
        "/b/café clip ü.mp4",
        "/c/Über long file name.mov",
        "/d/日本.mp4",
        "/e/x.mp4",
    ]
    reels = reel_names(paths)
    assert len(set(reels.values())) == len(paths)
    for r in reels.values():
        assert re.fullmatch(r"[A-Z0-9_]{1,8}", r)
    assert reels["/a/café clip ü.mp4"] == "CAFE_CLI"


@pytest.mark.parametrize("fps", RATES)
def test_xmeml_reads_back_with_ranges_rates_and_file_urls(tmp_path: Path, fps: float) -> None:
    ms = moments_at(fps)
    (out,) = export(ms, "xmeml", tmp_path / "premiere", query="a <dog> & cat")
    assert out.suffix == ".xml"
    timeline = otio.adapters.read_from_file(str(out), "fcp_xml")
    clips = video_clips(timeline)
    assert len(clips) == len(ms)
    for clip, m in zip(clips, ms, strict=True):
        start, end = expected_range(m, fps)
        assert clip.source_range.start_time.to_seconds() == pytest.approx(start, abs=1e-6)
        assert clip.source_range.duration.to_seconds() == pytest.approx(end - start, abs=1e-6)
        assert clip.source_range.start_time.rate == pytest.approx(float(exact_rate(fps)))
        assert url_to_path(clip.media_reference.target_url) == m.path
    assert timeline.name == "vsearch: a <dog> & cat"
    root = ET.parse(out).getroot()
    assert root.find("./sequence/rate/ntsc").text == (
        "TRUE" if exact_rate(fps).denominator == 1001 else "FALSE"
    )
    assert root.find("./sequence/timecode/displayformat").text == ("DF" if fps in (29.97, 59.94) else "NDF")
    # a file used twice is described once and referenced after
    assert len([f for f in root.iter("file") if f.find("pathurl") is not None]) == 2


def _fcpxml_for_otio(data: str) -> str:
    """The FCPXML adapter predates FCPXML 1.9's <media-rep>: copy its src onto <asset> for reading."""
    root = ET.fromstring(data)
    for asset in root.iter("asset"):
        asset.set("src", asset.find("media-rep").get("src"))
    return ET.tostring(root, encoding="unicode")


def _seconds(t: str) -> Fraction:
    assert t.endswith("s")
    return Fraction(t[:-1])


@pytest.mark.parametrize("fps", RATES)
def test_fcpxml_reads_back_and_every_time_sits_on_a_frame(tmp_path: Path, fps: float) -> None:
    ms = moments_at(fps)
    (out,) = export(ms, "fcpxml", tmp_path / "fcp", query="dog")
    data = out.read_text(encoding="utf-8")
    assert data.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>')
    root = ET.fromstring(data)
    assert tuple(int(x) for x in root.get("version").split(".")) >= (1, 9)
    frame = 1 / exact_rate(fps)
    for fmt in root.iter("format"):
        assert _seconds(fmt.get("frameDuration")) == frame
    for el in root.iter():
        for attr in ("offset", "start", "duration"):
            if el.get(attr) is not None and el.tag != "asset":
                assert (_seconds(el.get(attr)) / frame).denominator == 1, (el.tag, attr, el.get(attr))
    assert {url_to_path(r.get("src")) for r in root.iter("media-rep")} == {PATH_A, PATH_B}
    assert root.find(".//sequence").get("tcFormat") == ("DF" if fps in (29.97, 59.94) else "NDF")

    timeline = otio.adapters.read_from_string(_fcpxml_for_otio(data), "fcpx_xml")[0]
    clips = video_clips(timeline)
    assert len(clips) == len(ms)
    # the adapter counts frames at int(rate) (23 for 23.976), so allow one frame of its rounding
    tol = 1 / int(fps) + 1e-3
    for clip, m in zip(clips, ms, strict=True):
        start, end = expected_range(m, fps)
        assert clip.source_range.start_time.to_seconds() == pytest.approx(start, abs=tol)
        assert clip.source_range.duration.to_seconds() == pytest.approx(end - start, abs=tol)
        assert url_to_path(clip.media_reference.target_url) == m.path
        assert len(clip.markers) == 1


def test_fcpxml_clips_are_back_to_back_on_the_timeline(tmp_path: Path) -> None:
    ms = moments_at(25)
    (out,) = export(ms, "fcpxml", tmp_path / "t.fcpxml")
    root = ET.parse(out).getroot()
    clips = root.findall(".//spine/asset-clip")
    t = Fraction(0)
    for c in clips:
        assert _seconds(c.get("offset")) == t
        t += _seconds(c.get("duration"))
    assert _seconds(root.find(".//sequence").get("duration")) == t


@pytest.mark.parametrize("fps", [25, 29.97])
def test_resolve_markers_one_per_moment_per_file(tmp_path: Path, fps: float) -> None:
    ms = moments_at(fps)
    outs = export(ms, "resolve-markers", tmp_path / "markers.edl", query="dog | cat")
    assert len(outs) == 2  # two source files
    by_name = {p.name: p.read_text(encoding="utf-8") for p in outs}
    a = next(t for n, t in by_name.items() if "caf" in n)
    marker_lines = re.findall(r"^ \|C:(\w+) \|M:(.*) \|D:(\d+)$", a, flags=re.M)
    assert len(marker_lines) == 3
    assert all("|" not in name for _, name, _ in marker_lines)
    events = re.findall(r"^\d{3}\s+\S+\s+V\s+C\s+(\S+) (\S+) (\S+) (\S+)", a, flags=re.M)
    a_moments = sorted((m for m in ms if m.path == PATH_A), key=lambda m: m.start)
    for (src_in, src_out, rec_in, _), (_, _, dur), m in zip(events, marker_lines, a_moments, strict=True):
        assert timecode_to_frames(src_in, fps) == seconds_to_frames(m.start, fps)
        assert timecode_to_frames(src_out, fps) == seconds_to_frames(m.start, fps) + 1
        assert rec_in == src_in
        assert int(dur) == seconds_to_frames(m.end, fps) - seconds_to_frames(m.start, fps)
    # it is an EDL OpenTimelineIO can read too (one one-frame event per marker)
    tl = otio.adapters.read_from_string(a, "cmx_3600", rate=float(exact_rate(fps)))
    assert len(video_clips(tl)) == 3
