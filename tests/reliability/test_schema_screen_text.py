"""Schema 3 (on-screen text): a v2 library migrates to it keeping its data, and the v3 fixture's OCR marks hold."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np

from tests.reliability._lib import MODEL
from vsearch.ocr.engine import MODEL_ID
from vsearch.ocr.read import TextSpan
from vsearch.ocr.text import Pattern, key, trigram_expr
from vsearch.service import Service
from vsearch.store.db import DB_NAME

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"


def _copy(name: str, tmp_path: Path) -> Path:
    lib = tmp_path / name
    lib.mkdir()
    shutil.copy(FIXTURES / name / DB_NAME, lib / DB_NAME)
    return lib


def test_v2_library_gains_the_screen_text_tables_and_keeps_its_videos(tmp_path: Path) -> None:
    lib = _copy("v2", tmp_path)
    with Service(lib, model=MODEL) as svc:
        assert svc.status().indexed == 2
        store = svc.library.screen_text
        # migrated videos were never read: the OCR stage has them all to do
        assert len(store.pending(MODEL_ID)) == 2
        vid = svc.library.video_by_path("/vsearch-fixture/videos/green.mp4").id
        span = TextSpan(0.5, 1.5, "SCEME12 TAKE 3", (0.1, 0.2, 0.5, 0.3), 0.9)
        vec = np.ones((1, 384), dtype=np.float32) / np.sqrt(384)
        with svc.library.writer():
            store.save(vid, MODEL_ID, [span], [key(span.text)], vec, "minilm:test", frames=4, seconds=0.1)
        assert vid not in [p.video_id for p in store.pending(MODEL_ID)]
        pat = Pattern("scene 12 take 3")
        ids = store.match_keys(trigram_expr([pat]))
        rows = store.spans(ids)
        assert [pat.find(r.key) for r in rows.values()] == [1]
        assert store.video_spans(vid)[0].box == (0.1, 0.2, 0.5, 0.3)
        # a changed file loses its screen text with its frames
        from vsearch.types import VideoFile

        svc.library.reset_video(vid, VideoFile("/vsearch-fixture/videos/green.mp4", 1, 1.0))
        assert store.video_spans(vid) == [] and store.match_keys(trigram_expr([pat])) == []
    conn = sqlite3.connect(lib / DB_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] >= 3
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_v3_fixture_remembers_which_videos_were_read(tmp_path: Path) -> None:
    lib = _copy("v3", tmp_path)
    with Service(lib, model=MODEL) as svc:
        store = svc.library.screen_text
        assert store.pending(MODEL_ID) == []
        p = store.progress(MODEL_ID)
        assert (p.done, p.no_text, p.failed, p.spans) == (0, 2, 0, 0)
