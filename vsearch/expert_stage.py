"""The loop an expert's indexing stage runs over its pending videos (speech, on-screen text).

Both experts work after the frame stage, on indexed videos their model has not processed yet
(:class:`vsearch.types.PendingVideo`): one video at a time, each saved by the expert in one
transaction when finished, so a killed or cancelled run does the interrupted video again next
time. What they share lives here: the cancel checks, progress in seconds of video with a rate
and ETA, a failure recorded as an error on the file (never fatal to the stage), the stage's
wall time, and the sentence encoder loaded only when a first video has text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from vsearch.errors import MediaError
from vsearch.types import CancelToken, IndexStats, PendingVideo, Progress

if TYPE_CHECKING:
    import numpy as np

    from vsearch.speech.text import SentenceEncoder


class StageCancelled(Exception):
    """Raised by an expert's work on one video when the user cancelled in the middle of it."""


def failure_text(e: BaseException) -> str:
    """One line for why a video failed: a media error's message, else the exception's type and message."""
    return " ".join(str(e).split()) if isinstance(e, MediaError) else f"{type(e).__name__}: {e}"


class LazyEncoder:
    """The sentence encoder, built by *factory* on the first :meth:`encode`.

    A stage of silent or text-free videos never loads it.
    """

    def __init__(self, factory: Callable[[], SentenceEncoder]) -> None:
        self._factory = factory
        self._encoder: SentenceEncoder | None = None

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, str]:
        """(vectors, encoder model id) of *texts*."""
        if self._encoder is None:
            self._encoder = self._factory()
        return self._encoder.encode(list(texts)), self._encoder.model_id


#: One video's work: (the video, report(seconds done within it)) -> its error, or None when it went well.
Work = Callable[[PendingVideo, Callable[[float], None]], "str | None"]


def run_stage(
    stage: str,
    todo: Sequence[PendingVideo],
    work: Work,
    stats: IndexStats,
    progress: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    *,
    label: str | None = None,
) -> int:
    """Run *work* on every video of *todo*; returns how many went well.

    A video whose work returns an error is listed in ``stats.errors`` as "*label*: error" and
    the stage goes on; :class:`StageCancelled` (or the token set before a video) stops it with
    ``stats.cancelled``. Progress is ``Progress.timed(stage, ...)`` over the videos' durations.
    """
    if not todo:
        return 0
    total = sum(p.duration for p in todo) or 1.0
    done_s = 0.0
    t0 = time.perf_counter()
    n = 0
    try:
        for i, item in enumerate(todo):
            if cancel is not None and cancel.checkpoint():
                stats.cancelled = True
                break

            def report(t: float, _i: int = i, _path: str = item.path, _done: float = done_s) -> None:
                if progress is not None:
                    progress(Progress.timed(stage, _i, len(todo), _done + t, total, _path, time.perf_counter() - t0))

            try:
                error = work(item, report)
            except StageCancelled:
                stats.cancelled = True
                break
            if error is None:
                n += 1
            else:
                stats.errors.append((item.path, f"{label or stage}: {error}"))
            done_s += item.duration
            report(0.0, i + 1, item.path, done_s)
    finally:
        stats.stage_seconds[stage] = time.perf_counter() - t0
    return n
