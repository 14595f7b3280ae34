"""Exporter registry, overwrite safety, results-JSON round trip, CSV and M3U contents."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from vsearch.errors import UserError
from vsearch.export import (
    EXPORTERS,
    Exporter,
    ExportOptions,
    default_filename,
    export,
    get_exporter,
    load_results_json,
)
from vsearch.types import Moment

PATH = "/media/My Videos/café clip ü.mp4"


def sample() -> list[Moment]:
    return [
        Moment(PATH, 43.44, 48.2, 0.31, 45.0, video_id=3, duration=77.48, fps=25),
        Moment(
            "/media/=cmd|' /C calc'!A0.mp4",
            1.0,
            2.0,
            0.2,
            1.5,
            duration=10,
            fps=25,
            source="speech",
            text="+1 hello",
        ),
    ]


def test_registry_has_every_format_and_they_follow_the_protocol() -> None:
    assert set(EXPORTERS) == {
        "csv",
        "json",
        "edl",
        "fcpxml",
        "xmeml",
        "resolve-markers",
        "m3u",
        "clips",
        "sheet",
    }
    for name, e in EXPORTERS.items():
        assert isinstance(e, Exporter)
        assert e.name == name and e.description
    assert get_exporter(" FCPXML ") is EXPORTERS["fcpxml"]


def test_unknown_format_lists_the_known_ones() -> None:
    with pytest.raises(UserError, match="unknown export format 'avid'.*csv.*fcpxml.*sheet"):
        get_exporter("avid")


def test_unknown_option_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="colour"):
        export(sample(), "csv", tmp_path / "a.csv", colour="red")


def test_empty_list_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="empty"):
        export([], "edl", tmp_path / "a.edl")


@pytest.mark.parametrize("fmt", [f for f in EXPORTERS if f not in ("clips", "sheet")])
def test_existing_file_is_never_overwritten_without_asking(tmp_path: Path, fmt: str) -> None:
    exporter = get_exporter(fmt)
    out = tmp_path / f"result{exporter.extension}"
    moments = sample()[:1]
    out.write_text("precious", encoding="utf-8")
    with pytest.raises(UserError, match="exists; use --overwrite"):
        export(moments, fmt, out)
    assert out.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temp files left
    (written,) = export(moments, fmt, out, overwrite=True)
    assert written == out and out.read_text(encoding="utf-8") != "precious"


def test_json_export_round_trips_through_load_results_json(tmp_path: Path) -> None:
    ms = sample()
    (out,) = export(ms, "json", tmp_path / "r", query="a dog running")
    assert out.name == "r.json"
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["results"][0]["start_tc"] == "00:00:43:11"
    assert doc["results"][0]["length"] == pytest.approx(4.76)
    assert unquote(urlparse(doc["results"][0]["url"]).path) == PATH
    query, back = load_results_json(out)
    assert query == "a dog running"
    assert [(m.path, m.start, m.end, m.source, m.text) for m in back] == [
        (m.path, m.start, m.end, m.source, m.text) for m in ms
    ]


def test_load_results_json_reads_what_search_json_prints(tmp_path: Path) -> None:
    p = tmp_path / "search.json"
    doc = {"query": "q", "results": [m.to_dict() for m in sample()]}
    p.write_text(json.dumps(doc), encoding="utf-8")
    query, ms = load_results_json(p)
    assert query == "q" and len(ms) == 2 and ms[0].fps == 25 and ms[1].text == "+1 hello"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "not a results JSON"),
        ('{"query": "q"}', "not a results JSON"),
        ('{"query": "q", "results": [{"path": "a.mp4"}]}', "result 1 is not a moment"),
        ('{"query": "q", "results": [{"path": "a.mp4", "start": 5, "end": 2}]}', "bad span"),
    ],
)
def test_load_results_json_rejects_bad_files(tmp_path: Path, content: str, match: str) -> None:
    p = tmp_path / "bad.json"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=match):
        load_results_json(p)
    with pytest.raises(UserError, match="does not exist"):
        load_results_json(tmp_path / "missing.json")


def test_csv_has_timecodes_unicode_and_no_live_formulas(tmp_path: Path) -> None:
    (out,) = export(sample(), "csv", tmp_path / "hits.csv", query='=HYPERLINK("http://x")')
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel then reads UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["path"] == PATH
    assert rows[0]["start_tc"] == "00:00:43:11" and rows[0]["end_tc"] == "00:00:48:05"
    assert float(rows[0]["duration"]) == pytest.approx(4.76)
    for row in rows:
        for key, value in row.items():
            assert not value.startswith(("=", "+", "@")), (key, value)
    assert rows[1]["path"].startswith("/media/=cmd")  # only cells that start with a trigger are quoted
    assert rows[1]["text"] == "'+1 hello"
    assert rows[0]["query"].startswith("'=")


def test_m3u_plays_each_moment_in_vlc(tmp_path: Path) -> None:
    (out,) = export(sample(), "m3u", tmp_path / "play", query="dog\nnewline")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert out.suffix == ".m3u8" and lines[0] == "#EXTM3U"
    i = lines.index("#EXTVLCOPT:start-time=43.440")
    assert lines[i + 1] == "#EXTVLCOPT:stop-time=48.200"
    assert unquote(urlparse(lines[i + 2]).path) == PATH
    assert all(ord(c) < 128 for c in lines[i + 2])
    assert len([x for x in lines if x.startswith("#EXTINF:")]) == 2
    assert not any(x == "newline" for x in lines)  # user text cannot break a line


def test_default_filename_is_safe_and_readable() -> None:
    assert default_filename("A dog / running?", get_exporter("edl")) == "vsearch-a-dog-running.edl"
    assert default_filename("", get_exporter("fcpxml")) == "vsearch-moments.fcpxml"
    assert default_filename("café ü", get_exporter("csv")) == "vsearch-café-ü.csv"


def test_options_object_and_keywords_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        export(sample(), "csv", tmp_path / "a.csv", options=ExportOptions(), overwrite=True)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("fmt", ["csv", "edl", "fcpxml", "sheet"])
def test_exports_get_the_usual_permissions_not_temp_file_ones(tmp_path: Path, fmt: str) -> None:
    from vsearch.export import base

    assert base._FILE_MODE & 0o600 == 0o600
    for p in export(sample(), fmt, tmp_path / "x", thumbnail=lambda path, t: np.zeros((9, 16, 3), np.uint8)):
        assert stat.S_IMODE(p.stat().st_mode) == base._FILE_MODE, p  # 0o644 under the usual umask
