"""The OCR indexing stage: read every indexed video not yet read, store its spans (resumable)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vsearch import log
from vsearch.errors import MediaError
from vsearch.ocr.read import OcrCancelled, ReadStats, TextReader, read_video
from vsearch.ocr.text import key
from vsearch.store.screen_text import ScreenTextStore
from vsearch.types import CancelToken, IndexStats, Progress

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

    todo = store.pending(engine.model_id)
    if not todo:
        return 0
    total = sum(p.duration for p in todo) or 1.0
    done_s = 0.0
    t0 = time.perf_counter()
    n = 0
    encoder: SentenceEncoder | None = None
    log.index.info("ocr: %d videos to read", len(todo))
    for i, p in enumerate(todo):
        vid, path = p.video_id, p.path
        if cancel is not None and cancel.checkpoint():
            stats.cancelled = True
            break
        rs = ReadStats()
        spans, error = [], None
        t_video = time.perf_counter()

        def report(t: float, _i: int = i, _path: str = path, _done: float = done_s) -> None:
            if progress is not None:
                progress(Progress.timed("ocr", _i, len(todo), _done + t, total, _path, time.perf_counter() - t0))

        try:
            spans = read_video(path, probe(path), engine, stats=rs, cancel=cancel, progress=report)
        except OcrCancelled:
            stats.cancelled = True
            break
        except MediaError as e:
            error = " ".join(str(e).split())
        except Exception as e:  # noqa: BLE001 - one unreadable file never stops the stage
            error = f"{type(e).__name__}: {e}"
        vecs, enc_id = None, None
        if spans:
            if encoder is None:
                encoder = encoder_factory()
            vecs = encoder.encode([s.text for s in spans])
            enc_id = encoder.model_id
        seconds = time.perf_counter() - t_video
        store.save(vid, engine.model_id, spans, [key(s.text) for s in spans], vecs, enc_id,
                   frames=rs.frames, seconds=seconds, error=error)
        if error:
            log.index.warning("ocr: %s: %s", path, error)
            stats.errors.append((path, f"on-screen text: {error}"))
        else:
            n += 1
            log.index.info(
                "ocr: %s: %d spans, %d frames (%d unchanged, %d boxes, %d recognised) in %.1f s",
                path, len(spans), rs.frames, rs.skipped, rs.boxes, rs.recognised, seconds,
            )
        done_s += p.duration
        report(0.0, i + 1, path, done_s)
    stats.stage_seconds["ocr"] = time.perf_counter() - t0
    return n
