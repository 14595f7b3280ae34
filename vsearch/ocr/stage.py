"""The OCR indexing stage: read every indexed video not yet read, store its spans (resumable)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vsearch import log
from vsearch.expert_stage import LazyEncoder, StageCancelled, failure_text, run_stage
from vsearch.ocr.read import OcrCancelled, ReadStats, TextReader, read_video
from vsearch.ocr.text import key
from vsearch.store.screen_text import ScreenTextStore
from vsearch.types import CancelToken, IndexStats, PendingVideo, Progress

if TYPE_CHECKING:
    from vsearch.speech.text import SentenceEncoder


def read_pending(
    store: ScreenTextStore,
    engine: TextReader,
    encoder_factory: Callable[[], SentenceEncoder],
    stats: IndexStats,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Read the text of every pending video; returns how many were read.

    A video is written (spans and its ``ocr_runs`` row) in one transaction when it is finished, so
    a killed or cancelled run reads the interrupted video again next time and never leaves half
    of one. A file that cannot be decoded is recorded as failed (``vsearch status`` lists it) and
    keeps its frames: a failed OCR is an error on the file, not a failed file.
    """
    from vsearch.probe import probe

    encoder = LazyEncoder(encoder_factory)

    def work(p: PendingVideo, report: Callable[[float], None]) -> str | None:
        rs = ReadStats()
        spans, error = [], None
        t_video = time.perf_counter()
        try:
            spans = read_video(p.path, probe(p.path), engine, stats=rs, cancel=cancel, progress=report)
        except OcrCancelled:
            raise StageCancelled from None
        except Exception as e:  # noqa: BLE001 - one unreadable file never stops the stage
            error = failure_text(e)
        vecs, enc_id = encoder.encode([s.text for s in spans]) if spans else (None, None)
        seconds = time.perf_counter() - t_video
        store.save(p.video_id, engine.model_id, spans, [key(s.text) for s in spans], vecs, enc_id,
                   frames=rs.frames, seconds=seconds, error=error)
        if error:
            log.index.warning("ocr: %s: %s", p.path, error)
        else:
            log.index.info(
                "ocr: %s: %d spans, %d frames (%d unchanged, %d boxes, %d recognised) in %.1f s",
                p.path, len(spans), rs.frames, rs.skipped, rs.boxes, rs.recognised, seconds,
            )
        return error

    todo = store.pending(engine.model_id)
    if todo:
        log.index.info("ocr: %d videos to read", len(todo))
    return run_stage("ocr", todo, work, stats, progress, cancel, label="on-screen text")
