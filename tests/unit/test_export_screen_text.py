"""Exports carry the on-screen text a moment matched: CSV/JSON columns, EDL comments, marker names."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from vsearch.export import export, load_results_json
from vsearch.types import Moment

M = Moment(
    "/media/news.mp4", 4.0, 6.5, 0.97, 4.5, video_id=1, duration=24.0, fps=25, source="visual+text",
    screen_text="SALE 50% OFF", screen_box=(0.3, 0.35, 0.7, 0.45), screen_span=(4.5, 5.5),
)


def test_csv_and_json_have_the_screen_text_and_json_round_trips_it(tmp_path: Path) -> None:
    (p,) = export([M], "csv", tmp_path / "r.csv", query="half price sale")
    row = next(csv.DictReader(p.read_text(encoding="utf-8-sig").splitlines()))
    assert row["screen_text"] == "SALE 50% OFF" and row["source"] == "visual+text"
    (j,) = export([M], "json", tmp_path / "r.json", query="half price sale")
    r = json.loads(j.read_text())["results"][0]
    assert r["screen_text"] == "SALE 50% OFF" and r["screen_box"] == [0.3, 0.35, 0.7, 0.45]
    _, (back,) = load_results_json(j)
    assert back.screen_text == M.screen_text and back.screen_box == M.screen_box
    assert r["screen_span"] == [4.5, 5.5] and back.screen_span == (4.5, 5.5)


def test_edl_comment_and_marker_names_say_what_was_on_screen(tmp_path: Path) -> None:
    (e,) = export([M], "edl", tmp_path / "r.edl", query="half price sale")
    assert "* COMMENT: " in e.read_text() and "on screen: SALE 50% OFF" in e.read_text()
    (f,) = export([M], "fcpxml", tmp_path / "r.fcpxml", query="half price sale")
    names = [m.get("value") for m in ET.parse(f).getroot().iter("marker")]
    assert names == ["#1 0.970 half price sale - on screen: SALE 50% OFF"]
    paths = export([M], "resolve-markers", tmp_path / "m", query="half price sale")
    assert "on screen: SALE 50% OFF" in paths[0].read_text()
