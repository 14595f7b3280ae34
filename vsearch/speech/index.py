"""The speech expert's indexing stage: transcribe indexed videos after frame indexing.

Transcripts live in SQLite through :class:`vsearch.store.speech.SpeechStore` (``library.speech``):
sentences with an FTS5 mirror and a float16 MiniLM vector each. A failed transcription is
recorded with its error; the video itself stays indexed. Answering a query from the
sentences is the query module's job (``vsearch/query/speech.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vsearch import log
from vsearch.expert_stage import LazyEncoder, StageCancelled, failure_text, run_stage
from vsearch.store.library import Library
from vsearch.store.speech import NewSpan, TranscriptStatus
from vsearch.types import CancelToken, IndexStats, PendingVideo, Progress

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
    encoder = LazyEncoder(encoder_factory)

    def work(item: PendingVideo, report: Callable[[float], None]) -> str | None:
        status, error, segments = TranscriptStatus.DONE, None, []
        try:
            segments = transcriber.transcribe(item.path, cancel=cancel)
        except Exception as e:  # noqa: BLE001 - a failed transcription is recorded, never fatal
            status, error = TranscriptStatus.FAILED, failure_text(e)
            log.speech.warning("%s: %s", item.path, error)
        if cancel is not None and cancel.cancelled:
            raise StageCancelled
        vecs, enc_id = encoder.encode([s.text for s in segments]) if segments else (None, None)
        silent = status == TranscriptStatus.DONE and not segments
        library.speech.save_transcript(
            item.video_id,
            transcriber.model_id,
            TranscriptStatus.SILENT if silent else status,
            error=error,
            spans=[NewSpan(s.start, s.end, s.text, s.words_json()) for s in segments],
            vectors=vecs,
            encoder_id=enc_id,
        )
        return error

    todo = pending_videos(library, transcriber.model_id)
    return run_stage("speech", todo, work, stats, progress, cancel)


def transcript(library: Library, video_id: int) -> list[tuple[float, float, str]]:
    """(start, end, text) of a video's transcript, for subtitles in the player."""
    return library.speech.transcript(video_id)
