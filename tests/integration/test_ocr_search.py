"""On-screen text through the service and the CLI: read while indexing, found quoted and paraphrased."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.screen_text import Overlay, burn
from vsearch.service import Service
from vsearch.types import CancelToken, Progress

pytest.importorskip("rapidocr_onnxruntime")

REPO = Path(__file__).resolve().parents[2]
DEV = REPO.parent / "shared" / "data" / "devset" / "videos" / "d01.mp4"
OVERLAYS = [
    Overlay("SCENE 12\nTAKE 3", 1.0, 3.0, "slate"),
    Overlay("Dr. Maria Lopez\nMarine Biologist", 4.0, 6.5, "lower_third"),
    Overlay("SALE 50% OFF", 7.0, 9.0, "box"),
]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ocr-clips")
    src = DEV if DEV.exists() else None  # real footage when the dev set is beside the checkout
    burn(d / "news.mp4", OVERLAYS, 10.0, source=src, source_start=12.0, size=(480, 270))
    burn(d / "plain.mp4", [], 4.0, source=src, source_start=30.0, size=(480, 270))
    return d


def _top(svc: Service, q: str, **kw: object):  # noqa: ANN202
    res = svc.search(q, k=5, **kw)
    assert res, q
    return res[0]


def test_quoted_and_paraphrased_queries_find_the_moment_first(tmp_path: Path, clips: Path) -> None:
    with Service(tmp_path / "lib", model="test-color") as svc:
        stats = svc.index([clips])
        assert stats.indexed == 2 and stats.failed == 0 and "ocr" in stats.stage_seconds
        o = svc.status().ocr
        assert (o.done, o.no_text, o.failed, o.pending) == (1, 1, 0, 0) and o.spans == 3
        for q, ov in [
            ('"scene 12"', OVERLAYS[0]),
            ('"sceme 12"', OVERLAYS[0]),  # one wrong letter typed
            ("the slate for take 3", OVERLAYS[0]),
            ("the marine biologist's name", OVERLAYS[1]),
            ("half price sale", OVERLAYS[2]),
        ]:
            m = _top(svc, q)
            assert m.path.endswith("news.mp4"), (q, m)
            assert abs(m.start - ov.start) <= 0.6 and abs(m.end - ov.end) <= 0.6, (q, m)
            assert "text" in m.source and m.screen_text and m.screen_box is not None
        # a number never slips: no span holds "scene 13"
        assert not [m for m in svc.search('"scene 13"', k=5, only="text") if m.screen_text]
        only = svc.search("exit", k=5, only="text")
        assert all(m.source == "text" for m in only)
        spans = svc.screen_text(svc.library.video_by_path(str(clips / "news.mp4")).id)
        assert [s[2] for s in spans][0].replace(" ", "") == "SCENE12TAKE3"


def test_cancelled_reading_resumes_and_a_failed_read_is_reported(
    tmp_path: Path, clips: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = tmp_path / "lib"
    cancel = CancelToken()

    def progress(p: Progress) -> None:
        if p.stage == "ocr" and p.done_seconds > 0:
            cancel.cancel()

    with Service(lib, model="test-color") as svc:
        stats = svc.index([clips], progress=progress, cancel=cancel)
        assert stats.cancelled
        o = svc.status().ocr
        assert o.spans == 0 and o.pending == 2  # nothing half-read was kept
    import vsearch.ocr.stage as stage

    real = stage.read_video

    def flaky(path, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        if path.endswith("plain.mp4"):
            from vsearch.errors import DecodeError

            raise DecodeError("corrupt frame data at 2.0 s")
        return real(path, *a, **kw)

    monkeypatch.setattr(stage, "read_video", flaky)
    with Service(lib, model="test-color") as svc:
        stats = svc.index()
        assert not stats.cancelled and stats.failed == 0
        assert any("on-screen text" in e for _, e in stats.errors)
        o = svc.status().ocr
        assert (o.done, o.failed, o.pending, o.spans) == (1, 1, 0, 3)
        assert [f.path.endswith("plain.mp4") for f in svc.text_failures()] == [True]
        assert svc.status().indexed == 2  # the file's frames stay searchable
    monkeypatch.undo()
    r = subprocess.run(
        [sys.executable, "-m", "vsearch", "--library", str(lib), "--model", "test-color", "status"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "on-screen text: 2/2 videos read (1 with text, 0 without, 1 failed, 0 to read), 3 text spans" in r.stdout
    assert "plain.mp4: corrupt frame data at 2.0 s" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "vsearch", "--library", str(lib), "--model", "test-color",
         "search", '"scene 12"', "-k", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "news.mp4" in r.stdout and "on screen: 'SCENE 12 TAKE 3'" in r.stdout
    with Service(lib, model="test-color") as svc:
        top = svc.search("half price sale", k=1, only="text")[0].to_dict()
    assert top["source"] == "text" and top["screen_text"].replace(" ", "").startswith("SALE50%")
    assert len(top["screen_box"]) == 4


def test_a_scoreboard_is_found_at_the_score_asked_for(tmp_path: Path) -> None:
    """Only one digit of the boxed line changes at each goal; each score is its own span, found
    quoted at its own time (the line looked unchanged as a whole and the first score was carried
    to the end before the reader looked at it character by character)."""
    src = DEV if DEV.exists() else None
    scores = [Overlay(f"HOME {a} - {b} AWAY", 3.0 * i, 3.0 * (i + 1), "box") for i, (a, b) in enumerate([(1, 0), (2, 0), (2, 1)])]
    burn(tmp_path / "clips" / "match.mp4", scores, 9.0, source=src, source_start=40.0, size=(480, 270))
    with Service(tmp_path / "lib", model="test-color") as svc:
        svc.index([tmp_path / "clips"])
        for ov in scores:
            q = '"' + ov.text.replace("HOME ", "").replace(" AWAY", "") + '"'  # "2 - 0"
            m = _top(svc, q, only="text")
            assert abs(m.start - ov.start) <= 0.6 and abs(m.end - ov.end) <= 0.6, (q, m, svc.search(q, k=5, only="text"))

