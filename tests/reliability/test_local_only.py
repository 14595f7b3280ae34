"""Exports and decodes open local files only: a URL or FFmpeg protocol in a path is refused
before anything is fetched (issue 15, point 5). A local HTTP server records every request it
sees; each case must leave it untouched."""

from __future__ import annotations

import ast
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.helpers.videos import make_video
from tests.reliability._lib import REPO, cli
from vsearch.errors import MediaError, UserError
from vsearch.export import export
from vsearch.export.base import media_facts
from vsearch.export.clips import copy_clip
from vsearch.export.sheet import grab_frame as sheet_frame
from vsearch.frames import grab_frame, iter_frames
from vsearch.probe import LOCAL_ONLY, NotLocalFile, local_path, probe
from vsearch.types import Moment


class _Server:
    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                seen.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    try:
        yield s
    finally:
        s.close()


def _hostile(server: _Server) -> list[str]:
    return [
        server.url("evil.mp4"),
        f"tcp://127.0.0.1:{server.port}",
        f"concat:{server.url('a.mp4')}|{server.url('b.mp4')}",
        f"subfile,,start,0,end,100,,:{server.url('c.mp4')}",
        f"HTTPS://127.0.0.1:{server.port}/x.mp4",
        "file:/etc/passwd",
        "pipe:0",
    ]


def test_sheet_export_of_a_url_sends_no_request(server: _Server, tmp_path: Path) -> None:
    """The issue's case: a results file naming an http URL, exported as a contact sheet."""
    res = tmp_path / "evil.json"
    res.write_text(
        json.dumps({"query": "x", "results": [{"path": server.url("evil.mp4"), "start": 1.0, "end": 3.0}]})
    )
    r = cli(tmp_path / "lib", "export", "--from", str(res), "-f", "sheet", "-o", str(tmp_path / "sheet"))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "not a local file" in lines[0], r.stderr
    assert server.requests == []
    assert not (tmp_path / "sheet.html").exists()


@pytest.mark.parametrize("fmt", ["sheet", "clips", "edl", "csv", "fcpxml", "m3u"])
def test_every_export_format_refuses_urls(server: _Server, tmp_path: Path, fmt: str) -> None:
    for path in _hostile(server):
        m = Moment(path=path, start=0.0, end=2.0, score=0.5, best_time=1.0, video_id=0)
        with pytest.raises(UserError, match="not a local file"):
            export([m], fmt, tmp_path / f"out-{fmt}")
    assert server.requests == []


def test_decoders_refuse_urls(server: _Server, tmp_path: Path) -> None:
    for path in _hostile(server):
        with pytest.raises(NotLocalFile):
            local_path(path)
        with pytest.raises(MediaError, match="not a local file"):
            probe(path)
        with pytest.raises(MediaError, match="not a local file"):
            grab_frame(path, 1.0)
        with pytest.raises(MediaError, match="not a local file"):
            sheet_frame(path, 1.0)
        with pytest.raises(MediaError):
            copy_clip(path, tmp_path / "clip.mp4", 0.0, 1.0, "mp4")
        m = Moment(path=path, start=0.0, end=2.0, score=0.5, best_time=1.0, video_id=0)
        assert media_facts(m).width == 1920  # unreachable: the defaults, nothing fetched
    info = probe(make_video(tmp_path / "ok.mp4", segments=[("red", 1.0)]))
    with pytest.raises(MediaError, match="not a local file"):
        list(iter_frames(server.url("evil.mp4"), info))
    assert server.requests == []


def test_demuxer_whitelists_the_file_protocol(server: _Server, tmp_path: Path) -> None:
    """The second fence: even a path that slipped past the check cannot leave the file protocol."""
    with pytest.raises(av.error.FFmpegError):
        av.open(server.url("evil.mp4"), container_options=LOCAL_ONLY, timeout=5)
    assert server.requests == []
    ok = make_video(tmp_path / "ok.mp4", segments=[("red", 1.0)])
    with av.open(str(ok), container_options=LOCAL_ONLY) as c:
        assert c.streams.video


def test_local_paths_with_colons_still_open(tmp_path: Path) -> None:
    """A relative name like 'a:b.mp4' is a local file once made absolute (one letter is a drive)."""
    v = make_video(tmp_path / "x:1.mp4", segments=[("red", 1.0)])
    assert probe(v).duration > 0
    assert local_path("x:1.mp4").endswith("/x:1.mp4")


def test_every_read_of_media_goes_through_open_input() -> None:
    """No module opens media for reading with a bare av.open (the one helper checks and whitelists)."""
    bad = []
    for path in sorted((REPO / "vsearch").rglob("*.py")):
        if path.name == "probe.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "av.open":
                modes = [a for a in node.args[1:2]] + [k.value for k in node.keywords if k.arg == "mode"]
                if not any(isinstance(m, ast.Constant) and m.value == "w" for m in modes):
                    bad.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert bad == []
