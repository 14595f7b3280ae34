"""The speech expert's indexing stage: transcribe indexed videos after frame indexing.

Transcripts live in SQLite through :class:`vsearch.store.speech.SpeechStore` (``library.speech``):
sentences with an FTS5 mirror and a float16 MiniLM vector each. A failed transcription is
recorded with its error; the video itself stays indexed. Answering a query from the
sentences is the query module's job (``vsearch/query/speech.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from vsearch import log
from vsearch.errors import MediaError
from vsearch.store.library import Library
from vsearch.store.speech import NewSpan, PendingVideo, TranscriptStatus
from vsearch.types import CancelToken, IndexStats, Progress

if TYPE_CHECKING:  # both load models: imported by the caller only when speech is on
    from vsearch.speech.text import SentenceEncoder
    from vsearch.speech.transcribe import Transcriber


def pending_videos(library: Library, model_id: str) -> list[PendingVideo]:
    """Indexed videos with audio that have no transcript for this model, by path."""
    return library.speech.pending(model_id)


def transcribe_pending(
    library: Library,
    transcriber: Transcriber,
    encoder_factory: Callable[[], SentenceEncoder],
    stats: IndexStats,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Transcribe every pending video; returns how many got a transcript."""
    todo = pending_videos(library, transcriber.model_id)
    if not todo:
        return 0
    total = sum(p.duration for p in todo) or 1.0
    done_s = 0.0
    t0 = time.perf_counter()
    n = 0
    encoder: SentenceEncoder | None = None
    for i, item in enumerate(todo):
        vid, path, dur = item.video_id, item.path, item.duration
        if cancel is not None and cancel.checkpoint():
            stats.cancelled = True
            break
        status, error, segments = TranscriptStatus.DONE, None, []
        try:
            segments = transcriber.transcribe(path, cancel=cancel)
        except MediaError as e:
            status, error = TranscriptStatus.FAILED, " ".join(str(e).split())
            log.speech.warning("%s: %s", path, error)
        except Exception as e:  # noqa: BLE001 - a failed transcription is recorded, never fatal
            status, error = TranscriptStatus.FAILED, f"{type(e).__name__}: {e}"
            log.speech.warning("%s: %s", path, error)
        if cancel is not None and cancel.cancelled:
            stats.cancelled = True
            break
        vecs = None
        if segments:
            if encoder is None:
                encoder = encoder_factory()
            vecs = encoder.encode([s.text for s in segments])
        silent = status == TranscriptStatus.DONE and not segments
        library.speech.save_transcript(
            vid,
            transcriber.model_id,
            TranscriptStatus.SILENT if silent else status,
            error=error,
            spans=[NewSpan(s.start, s.end, s.text, s.words_json()) for s in segments],
            vectors=vecs,
            encoder_id=encoder.model_id if encoder is not None and segments else None,
        )
        if status == TranscriptStatus.DONE:
            n += 1
        else:
            stats.errors.append((path, f"speech: {error}"))
        done_s += dur
        if progress is not None:
            progress(Progress.timed("speech", i + 1, len(todo), done_s, total, path, time.perf_counter() - t0))
    stats.stage_seconds["speech"] = time.perf_counter() - t0
    return n


def transcript(library: Library, video_id: int) -> list[tuple[float, float, str]]:
    """(start, end, text) of a video's transcript, for subtitles in the player."""
    return library.speech.transcript(video_id)
