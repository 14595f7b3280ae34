"""The speech expert's tables: transcript runs, sentence spans with an FTS5 mirror and a vector each.

Shape of an expert's store (the coming screen-text / OCR expert gets the same one): a *run*
table records, per video and expert model, whether the video was processed (done, silent or
failed, with the error), so a failure is kept and not retried every run; a *span* table holds
the expert's text spans (start, end, text, a float16 sentence vector) with an FTS5 index over
the text kept in step by triggers. Reads return typed rows; the store never imports the
expert's code (``vsearch/speech/``) nor its query logic (``vsearch/query/``).

The Library owns one instance per expert and calls :meth:`SpeechStore.forget_video` inside
its own transaction when a file changed, so ``Library`` does not know these tables.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from vsearch.store.sql import Sql, pack, unpack
from vsearch.types import PendingVideo


class TranscriptStatus(StrEnum):
    """The outcome of one transcription run, as stored in ``transcripts.status``."""

    DONE = "done"
    SILENT = "silent"  # audio without speech: no segments, nothing to retry
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NewSpan:
    """One span to store: its times, text and the expert's per-word detail (JSON-ready)."""

    start: float
    end: float
    text: str
    words: list[list[float | str]] | None = None


@dataclass(frozen=True, slots=True)
class SpanRow:
    """A stored span with the facts about its video a query needs (path, duration, fps).

    An expert's span row (speech here; on-screen text extends it in ``store/screen_text.py``).
    """

    id: int
    video_id: int
    start: float
    end: float
    text: str
    path: str
    duration: float
    fps: float


class SpeechStore:
    """Typed access to ``transcripts``, ``speech_segments`` and ``speech_fts``."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    # -- writing (the speech stage) -------------------------------------------------------------
    def pending(self, model_id: str) -> list[PendingVideo]:
        """Indexed videos with audio that have no transcript for *model_id*, by path."""
        rows = self._sql.query(
            "SELECT v.id, v.path, v.duration FROM videos v WHERE v.status = 'indexed' AND v.has_audio = 1 "
            "AND NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.video_id = v.id AND t.model_id = ?) ORDER BY v.path",
            (model_id,),
        )
        return [PendingVideo(int(r[0]), r[1], float(r[2] or 0.0)) for r in rows]

    def save_transcript(
        self,
        video_id: int,
        model_id: str,
        status: TranscriptStatus,
        *,
        error: str | None = None,
        spans: Sequence[NewSpan] = (),
        vectors: np.ndarray | None = None,
        encoder_id: str | None = None,
    ) -> None:
        """Replace a video's spans for *model_id* and record the run, in one transaction."""
        with self._sql.transaction() as c:
            c.execute("DELETE FROM speech_segments WHERE video_id = ? AND model_id = ?", (video_id, model_id))
            if spans:
                if vectors is None or len(vectors) != len(spans):
                    raise ValueError("every span needs its sentence vector")
                c.executemany(
                    "INSERT INTO speech_segments(video_id, model_id, start, end, text, words, encoder, vec) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (video_id, model_id, s.start, s.end, s.text, json.dumps(s.words), encoder_id, b)
                        for s, b in zip(spans, pack(vectors), strict=True)
                    ],
                )
            c.execute(
                "INSERT OR REPLACE INTO transcripts(video_id, model_id, status, error, done) VALUES (?, ?, ?, ?, ?)",
                (video_id, model_id, str(status), error, time.time()),
            )

    def forget_video(self, video_id: int) -> None:
        """Drop a video's transcripts and spans (its file changed); joins the caller's transaction."""
        with self._sql.transaction() as c:
            c.execute("DELETE FROM transcripts WHERE video_id = ?", (video_id,))
            c.execute("DELETE FROM speech_segments WHERE video_id = ?", (video_id,))

    # -- reading (queries, the player) ----------------------------------------------------------
    def has_spans(self) -> bool:
        """True when any transcript span is stored."""
        return self._sql.one("SELECT 1 FROM speech_segments LIMIT 1") is not None

    def spans_with_vectors(self) -> tuple[list[SpanRow], np.ndarray]:
        """Every span that has a sentence vector, with the vectors as a float32 matrix (same order)."""
        rows = self._sql.query(
            "SELECT s.id, s.video_id, s.start, s.end, s.text, v.path, v.duration, v.fps, s.vec "
            "FROM speech_segments s JOIN videos v ON v.id = s.video_id WHERE s.vec IS NOT NULL"
        )
        spans = [
            SpanRow(r[0], r[1], r[2], r[3], r[4], r[5], float(r[6] or 0.0), float(r[7] or 0.0)) for r in rows
        ]
        dim = len(rows[0][8]) // 2 if rows else 0  # float16 blobs
        return spans, unpack([r[8] for r in rows], dim)

    def match_text(self, expr: str, limit: int = 200) -> dict[int, float]:
        """Span id -> FTS5 ``bm25()`` (lower is better) of the best *limit* spans matching *expr*."""
        rows = self._sql.query(
            "SELECT rowid, bm25(speech_fts) FROM speech_fts WHERE speech_fts MATCH ? ORDER BY bm25(speech_fts) LIMIT ?",
            (expr, limit),
        )
        return {int(rid): float(bm) for rid, bm in rows}

    def transcript(self, video_id: int) -> list[tuple[float, float, str]]:
        """(start, end, text) of a video's spans in time order."""
        return [
            (r[0], r[1], r[2])
            for r in self._sql.query(
                "SELECT start, end, text FROM speech_segments WHERE video_id = ? ORDER BY start", (video_id,)
            )
        ]
