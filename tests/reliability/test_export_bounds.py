"""A contact sheet of many moments is streamed and bounded (issue 15, point 6): 20,000 moments
grew to 11 GB before; now thumbnails go one at a time into PNG pages of PAGE_MOMENTS and the
HTML file, memory stays at one page, and more than MAX_MOMENTS are refused with one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.reliability._lib import REPO, cli
from vsearch.export import export
from vsearch.export.sheet import MAX_MOMENTS, PAGE_MOMENTS
from vsearch.types import Moment

_RSS = """
import resource, sys
import numpy as np
from pathlib import Path
from vsearch.export import export
from vsearch.types import Moment
n = int(sys.argv[1])
frame = np.zeros((720, 1280, 3), dtype=np.uint8)
def thumb(path, t):
    frame[:] = int(t) % 255
    return frame
ms = [Moment(f"/v/{i % 7}.mp4", float(i), float(i) + 2.0, 0.5, float(i) + 1.0, video_id=i % 7 + 1) for i in range(n)]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
export(ms, "sheet", Path(sys.argv[2]), query="q", thumbnail=thumb)
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kb(n: int, out: Path) -> int:
    r = subprocess.run(
        [sys.executable, "-c", _RSS, str(n), str(out)], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr
    before, after = map(int, r.stdout.split())
    return after - before


def test_sheet_memory_does_not_grow_with_the_number_of_moments(tmp_path: Path) -> None:
    small = _peak_kb(PAGE_MOMENTS, tmp_path / "small")
    big = _peak_kb(6 * PAGE_MOMENTS, tmp_path / "big")
    # one page at a time: six pages cost what one does (the old sheet held every tile and one
    # image of all rows: ~6x here, 1.7 GB at 3,000 moments)
    assert big < small * 1.5 + 20_000, (small, big)
    pngs = sorted(p.name for p in tmp_path.glob("big*.png"))
    assert pngs == ["big-2.png", "big-3.png", "big-4.png", "big-5.png", "big-6.png", "big.png"]
    assert (tmp_path / "big.html").read_text(encoding="utf-8").count("<figure>") == 6 * PAGE_MOMENTS


def test_pages_hold_every_moment_in_rank_order(tmp_path: Path) -> None:
    n = PAGE_MOMENTS + 3
    ms = [Moment("/v/a.mp4", float(i), float(i) + 1.0, 0.5, float(i), video_id=1) for i in range(n)]
    written = export(ms, "sheet", tmp_path / "s", thumbnail=lambda p, t: bytes(_jpeg()))
    assert [p.name for p in written] == ["s.html", "s.png", "s-2.png"]
    assert Image.open(written[2]).height < Image.open(written[1]).height  # 1 row of 3 on page 2
    html = written[0].read_text(encoding="utf-8")
    assert html.index("<b>#1</b>") < html.index(f"<b>#{PAGE_MOMENTS + 1}</b>") < html.index(f"<b>#{n}</b>")


def _jpeg() -> bytes:
    import io

    buf = io.BytesIO()
    Image.new("RGB", (64, 36), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


def test_more_than_the_limit_is_refused_with_one_line(tmp_path: Path) -> None:
    res = tmp_path / "many.json"
    res.write_text(
        json.dumps(
            {
                "query": "q",
                "results": [{"path": "/v/a.mp4", "start": i, "end": i + 1} for i in range(MAX_MOMENTS + 1)],
            }
        )
    )
    r = cli(tmp_path / "lib", "export", "--from", str(res), "-f", "sheet", "-o", str(tmp_path / "s"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"at most {MAX_MOMENTS} moments" in r.stderr
    assert not list(tmp_path.glob("s*"))
