"""The speech expert inside a library: a transcription stage after frame indexing, and speech hits for a query.

Transcripts live in SQLite (``speech_segments`` with an FTS5 mirror and a float16 MiniLM
vector per sentence). A failed transcription is recorded in ``transcripts`` with its error;
the video itself stays indexed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np

from vsearch import log
from vsearch.errors import MediaError
from vsearch.speech.fusion import SpeechHit
from vsearch.store.library import Library, pack, unpack
from vsearch.types import CancelToken, IndexStats, Progress

SEMANTIC_TOP = 50


def pending_videos(library: Library, model_id: str) -> list[tuple[int, str, float]]:
    """(video id, path, duration) of indexed videos with audio that have no transcript for this model."""
    return [
        (r[0], r[1], r[2] or 0.0)
        for r in library.query(
            "SELECT v.id, v.path, v.duration FROM videos v WHERE v.status = 'indexed' AND v.has_audio = 1 "
            "AND NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.video_id = v.id AND t.model_id = ?) ORDER BY v.path",
            (model_id,),
        )
    ]


def transcribe_pending(
    library: Library,
    transcriber,  # noqa: ANN001 - vsearch.speech.transcribe.Transcriber, loaded lazily by the caller
    encoder_factory: Callable[[], object],
    stats: IndexStats,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Transcribe every pending video; returns how many got a transcript."""
    todo = pending_videos(library, transcriber.model_id)
    if not todo:
        return 0
    total = sum(d for _, _, d in todo) or 1.0
    done_s = 0.0
    t0 = time.perf_counter()
    n = 0
    encoder = None
    for i, (vid, path, dur) in enumerate(todo):
        if cancel is not None and cancel.checkpoint():
            stats.cancelled = True
            break
        status, error, segments = "done", None, []
        try:
            segments = transcriber.transcribe(path, cancel=cancel)
        except MediaError as e:
            status, error = "failed", " ".join(str(e).split())
            log.speech.warning("%s: %s", path, error)
        except Exception as e:  # noqa: BLE001 - a failed transcription is recorded, never fatal
            status, error = "failed", f"{type(e).__name__}: {e}"
            log.speech.warning("%s: %s", path, error)
        if cancel is not None and cancel.cancelled:
            stats.cancelled = True
            break
        vecs = None
        if segments:
            if encoder is None:
                encoder = encoder_factory()
            vecs = encoder.encode([s.text for s in segments])  # type: ignore[attr-defined]
        with library.transaction() as c:
            c.execute("DELETE FROM speech_segments WHERE video_id = ? AND model_id = ?", (vid, transcriber.model_id))
            if segments:
                blobs = pack(vecs)
                c.executemany(
                    "INSERT INTO speech_segments(video_id, model_id, start, end, text, words, encoder, vec) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (vid, transcriber.model_id, s.start, s.end, s.text, json.dumps(s.words_json()),
                         encoder.model_id, b)  # type: ignore[union-attr]
                        for s, b in zip(segments, blobs, strict=True)
                    ],
                )
            c.execute(
                "INSERT OR REPLACE INTO transcripts(video_id, model_id, status, error, done) VALUES (?, ?, ?, ?, ?)",
                (vid, transcriber.model_id, status if segments or status == "failed" else "silent", error, time.time()),
            )
        if status == "done":
            n += 1
        else:
            stats.errors.append((path, f"speech: {error}"))
        done_s += dur
        if progress is not None:
            el = time.perf_counter() - t0
            rate = done_s / el if el > 0 else 0.0
            progress(Progress("speech", i + 1, len(todo), done_s, total, path, rate, (total - done_s) / rate if rate else None))
    stats.stage_seconds["speech"] = time.perf_counter() - t0
    return n


def has_segments(library: Library) -> bool:
    return bool(library.query("SELECT 1 FROM speech_segments LIMIT 1"))


def speech_hits(
    library: Library,
    text: str,
    encoder,  # noqa: ANN001 - SentenceEncoder
    *,
    video_filter: Callable[[int], bool] | None = None,
) -> list[SpeechHit]:
    """Transcript sentences that match a query by meaning (MiniLM cosine) or by words (FTS5)."""
    from vsearch.speech.text import fts_query

    rows = library.query(
        "SELECT s.id, s.video_id, s.start, s.end, s.text, s.vec, v.path, v.duration, v.fps "
        "FROM speech_segments s JOIN videos v ON v.id = s.video_id WHERE s.vec IS NOT NULL"
    )
    if not rows:
        return []
    q = encoder.encode([text])[0]
    vecs = unpack([r[5] for r in rows], len(q))
    sims = vecs @ q
    fts: dict[int, float] = {}
    expr = fts_query(text)
    if expr:
        for rid, bm in library.query(
            "SELECT rowid, bm25(speech_fts) FROM speech_fts WHERE speech_fts MATCH ? ORDER BY bm25(speech_fts) LIMIT 200",
            (expr,),
        ):
            fts[rid] = bm
    order = np.argsort(-sims)[:SEMANTIC_TOP]
    pick = {int(i) for i in order}
    pick.update(i for i, r in enumerate(rows) if r[0] in fts)
    hits = []
    for i in sorted(pick):
        r = rows[i]
        if video_filter is not None and not video_filter(r[1]):
            continue
        hits.append(
            SpeechHit(
                video_id=r[1], path=r[6], start=r[2], end=r[3], text=r[4], semantic=float(sims[i]),
                fts=r[0] in fts, bm25=fts.get(r[0]), duration=float(r[7] or 0.0), fps=float(r[8] or 0.0),
            )
        )
    return hits


def transcript(library: Library, video_id: int) -> list[tuple[float, float, str]]:
    """(start, end, text) of a video's transcript, for subtitles in the player."""
    return [
        (r[0], r[1], r[2])
        for r in library.query("SELECT start, end, text FROM speech_segments WHERE video_id = ? ORDER BY start", (video_id,))
    ]
