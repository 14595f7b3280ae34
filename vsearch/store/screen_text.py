"""The on-screen text expert's tables: OCR runs per video, spans with trigram FTS5 keys and vectors.

The same shape as ``vsearch/store/speech.py``: a *run* table (``ocr_runs``: per video and OCR
model, read or failed and why, so a failure is kept and not retried every run), a *span* table
(``screen_text``: start, end, text, matching key, box, confidence, float16 sentence vector) and an
FTS5 index (``screen_text_fts``, trigram tokenizer over the keys) kept in step by triggers (schema:
migration 0003). Reads return typed rows; the OCR itself lives in ``vsearch/ocr/`` and the query
logic in ``vsearch/query/screen_text.py``. The Library owns one instance (``library.screen_text``)
and calls :meth:`ScreenTextStore.forget_video` when a file changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from vsearch.store.speech import SpanRow
from vsearch.store.sql import Sql, pack, unpack
from vsearch.types import PendingVideo


@dataclass(frozen=True, slots=True)
class TextSpanRow(SpanRow):
    """A stored on-screen text span: a speech span's facts plus its key, box and confidence."""

    key: str = ""
    box: tuple[float, float, float, float] | None = None
    confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class OcrProgress:
    """How far the OCR stage is for one model: videos read, without text, failed, still to read."""

    done: int
    no_text: int
    failed: int
    pending: int
    spans: int


class SpanToStore(Protocol):
    """What the store keeps of a span read by OCR (:class:`vsearch.ocr.read.TextSpan`)."""

    @property
    def start(self) -> float:
        """Seconds."""
        ...

    @property
    def end(self) -> float:
        """Seconds."""
        ...

    @property
    def text(self) -> str:
        """The recognised text."""
        ...

    @property
    def confidence(self) -> float:
        """The recogniser's mean confidence."""
        ...

    def box_json(self) -> str:
        """The box (x0, y0, x1, y1; fractions of the frame) as JSON."""
        ...


def _span(r: Sequence[Any]) -> TextSpanRow:
    """A row of (s.id, s.video_id, s.start, s.end, s.text, s.key, s.box, s.confidence, v.path, v.duration, v.fps)."""
    box = tuple(json.loads(r[6])) if r[6] else None
    return TextSpanRow(
        int(r[0]), int(r[1]), float(r[2]), float(r[3]), r[4], r[8], float(r[9] or 0.0), float(r[10] or 0.0),
        key=r[5], box=box, confidence=float(r[7] or 0.0),
    )


class ScreenTextStore:
    """Typed access to ``ocr_runs``, ``screen_text`` and ``screen_text_fts``."""

    def __init__(self, sql: Sql) -> None:
        self._sql = sql

    # -- the indexing stage -----------------------------------------------------------------
    def pending(self, model_id: str) -> list[PendingVideo]:
        """Indexed videos not yet read (done or failed) by this OCR model, by path."""
        return [
            PendingVideo(int(r[0]), r[1], float(r[2] or 0.0))
            for r in self._sql.query(
                "SELECT v.id, v.path, v.duration FROM videos v WHERE v.status = 'indexed' AND NOT EXISTS "
                "(SELECT 1 FROM ocr_runs o WHERE o.video_id = v.id AND o.model_id = ?) ORDER BY v.path",
                (model_id,),
            )
        ]

    def forget_video(self, video_id: int) -> None:
        """Drop a video's OCR runs and spans (its file changed); joins the caller's transaction."""
        with self._sql.transaction() as c:
            c.execute("DELETE FROM ocr_runs WHERE video_id = ?", (video_id,))
            c.execute("DELETE FROM screen_text WHERE video_id = ?", (video_id,))

    def save(
        self,
        video_id: int,
        model_id: str,
        spans: Sequence[SpanToStore],
        keys: Sequence[str],
        vectors: np.ndarray | None,
        encoder_id: str | None,
        *,
        frames: int = 0,
        seconds: float | None = None,
        error: str | None = None,
    ) -> None:
        """Replace a video's spans and mark it read, in one transaction (a kill leaves it unread)."""
        status = "failed" if error else ("done" if spans else "no-text")
        blobs = pack(vectors) if spans and vectors is not None else [None] * len(spans)
        with self._sql.transaction() as c:
            c.execute("DELETE FROM screen_text WHERE video_id = ? AND model_id = ?", (video_id, model_id))
            c.executemany(
                "INSERT INTO screen_text(video_id, model_id, start, end, text, key, box, confidence, encoder, vec) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (video_id, model_id, s.start, s.end, s.text, k, s.box_json(), s.confidence,
                     encoder_id if b is not None else None, b)
                    for s, k, b in zip(spans, keys, blobs, strict=True)
                ],
            )
            c.execute(
                "INSERT OR REPLACE INTO ocr_runs(video_id, model_id, status, error, frames, seconds, done) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (video_id, model_id, status, error, frames, seconds, time.time()),
            )

    def progress(self, model_id: str) -> OcrProgress:
        """Counts of read, text-free, failed and pending videos, and spans, for *model_id*."""
        rows = dict(
            self._sql.query("SELECT status, COUNT(*) FROM ocr_runs WHERE model_id = ? GROUP BY status", (model_id,))
        )
        spans = self._sql.query("SELECT COUNT(*) FROM screen_text WHERE model_id = ?", (model_id,))[0][0]
        return OcrProgress(
            done=rows.get("done", 0), no_text=rows.get("no-text", 0), failed=rows.get("failed", 0),
            pending=len(self.pending(model_id)), spans=int(spans),
        )

    def failures(self) -> list[tuple[str, str]]:
        """(path, error) of videos whose text could not be read."""
        return [
            (r[0], r[1] or "")
            for r in self._sql.query(
                "SELECT v.path, o.error FROM ocr_runs o JOIN videos v ON v.id = o.video_id "
                "WHERE o.status = 'failed' ORDER BY v.path"
            )
        ]

    # -- search ------------------------------------------------------------------------------
    def has_spans(self) -> bool:
        """Whether any on-screen text span is stored."""
        return bool(self._sql.query("SELECT 1 FROM screen_text LIMIT 1"))

    def vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(span ids, float32 [N, dim] vectors) of every span that has one."""
        rows = self._sql.query("SELECT id, vec FROM screen_text WHERE vec IS NOT NULL ORDER BY id")
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32)
        return np.array([r[0] for r in rows], dtype=np.int64), unpack([r[1] for r in rows], dim)

    def match_keys(self, expr: str, limit: int = 2000) -> list[int]:
        """Ids of spans whose key matches a trigram FTS5 expression (best bm25 first)."""
        if not expr:
            return []
        return [
            int(r[0])
            for r in self._sql.query(
                "SELECT rowid FROM screen_text_fts WHERE screen_text_fts MATCH ? ORDER BY bm25(screen_text_fts) LIMIT ?",
                (expr, limit),
            )
        ]

    def keys_containing(self, needle: str, limit: int = 2000) -> list[int]:
        """Ids of spans whose key contains *needle* (for patterns too short for trigrams)."""
        if not needle:
            return []
        esc = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [
            int(r[0])
            for r in self._sql.query(
                "SELECT id FROM screen_text WHERE key LIKE ? ESCAPE '\\' LIMIT ?", (f"%{esc}%", limit)
            )
        ]

    def spans(self, ids: Sequence[int]) -> dict[int, TextSpanRow]:
        """The spans with these ids (with their videos' facts), by id."""
        out: dict[int, TextSpanRow] = {}
        ids = list(ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in self._sql.query(
                "SELECT s.id, s.video_id, s.start, s.end, s.text, s.key, s.box, s.confidence, v.path, v.duration, "
                f"v.fps FROM screen_text s JOIN videos v ON v.id = s.video_id WHERE s.id IN ({marks})",
                chunk,
            ):
                out[int(r[0])] = _span(r)
        return out

    def video_spans(self, video_id: int) -> list[TextSpanRow]:
        """A video's spans by start time (the player's text boxes)."""
        return [
            _span(r)
            for r in self._sql.query(
                "SELECT s.id, s.video_id, s.start, s.end, s.text, s.key, s.box, s.confidence, v.path, v.duration, "
                "v.fps FROM screen_text s JOIN videos v ON v.id = s.video_id "
                "WHERE s.video_id = ? ORDER BY s.start",
                (video_id,),
            )
        ]
