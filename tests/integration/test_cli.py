"""The command line as a user runs it: a subprocess, one-line errors, JSON output, eval."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.videos import make_video


def run(*args: str, home: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, VSEARCH_HOME=str(home), HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, "-m", "vsearch", *args], capture_output=True, text=True, env=env, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"exit {r.returncode}: {r.stderr}")
    return r


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    d = tmp_path / "my videos"
    d.mkdir()
    make_video(d / "one clip.mp4", segments=[("green", 4.0), ("red", 4.0)])
    make_video(d / "two.mp4", segments=[("blue", 4.0)])
    (d / "broken.mp4").write_bytes(b"\x00" * 100)
    return d


def test_index_search_status_forget(tmp_path: Path, videos: Path) -> None:
    home = tmp_path / "home"
    r = run("--model", "test-color", "index", str(videos), home=home)
    assert "indexed 2" in r.stdout and "failed 1" in r.stdout
    r = run("search", "red", "--json", home=home)
    data = json.loads(r.stdout)
    top = data["results"][0]
    assert top["path"].endswith("one clip.mp4") and 3.0 <= top["start"] < top["end"] <= 8.0
    r = run("status", home=home)
    assert "broken.mp4" in r.stdout and "2 indexed" in r.stdout
    r = run("forget", str(videos), home=home)
    assert "forgot 3" in r.stdout


def test_errors_are_one_line_with_exit_code(tmp_path: Path, videos: Path) -> None:
    home = tmp_path / "home"
    r = run("index", str(tmp_path / "missing"), home=home, check=False)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no such folder" in r.stderr
    r = run("search", "anything", home=home, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "nothing is indexed" in r.stderr
    r = run("--model", "no-such-model", "index", str(videos), home=home, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr


def test_eval_prints_metrics_and_writes_predictions(tmp_path: Path, videos: Path) -> None:
    gt = {
        "version": 1,
        "videos": [],
        "queries": [
            {"id": "q1", "query": "red", "type": "segment", "source_kind": ["video"],
             "moments": [{"video": "one clip.mp4", "start": 4.0, "end": 8.0}]},
            {"id": "q2", "query": "blue", "type": "segment", "source_kind": ["video"],
             "moments": [{"video": "two.mp4", "start": 0.0, "end": 4.0}]},
        ],
    }
    gt_path = tmp_path / "gt.json"
    gt_path.write_text(json.dumps(gt))
    preds = tmp_path / "preds.json"
    r = run("--model", "test-color", "eval", str(gt_path), "--videos", str(videos), "--predictions", str(preds),
            "--json", home=tmp_path / "home")
    report = json.loads(r.stdout[r.stdout.index("{"):])
    assert report["all"]["video_R@1"] == 1.0 and report["all"]["moment_R@1_tIoU0.5"] == 1.0
    p = json.loads(preds.read_text())
    assert p["q1"][0]["video"] == "one clip.mp4"
