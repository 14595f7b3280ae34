"""Plain values that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Model arithmetic a user can ask for besides "auto" (``--precision``, the settings dialog).
PRECISIONS = ("fp32", "bf16", "fp16")


@dataclass(frozen=True, slots=True)
class VideoFile:
    """A file found by the scanner: stat only, nothing decoded."""

    path: str
    size: int
    mtime: float


@dataclass(frozen=True, slots=True)
class PendingVideo:
    """An indexed video an expert's model (speech, on-screen text) has not processed yet."""

    video_id: int
    path: str
    duration: float


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What probing a video tells. ``width``/``height`` are as displayed (after rotation)."""

    duration: float
    fps: float
    width: int
    height: int
    rotation: int = 0
    codec: str = ""
    has_audio: bool = False
    keyframe_interval: float | None = None


@dataclass(slots=True)
class FrameBatch:
    """Decoded frames of one video, already resized where they were decoded.

    Attributes:
        times: seconds from the start of the file, shape [N], float64, increasing.
        images: RGB uint8, shape [N, H, W, 3].
    """

    times: np.ndarray
    images: np.ndarray

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True, slots=True)
class Hit:
    """One sampled frame returned by the ANN for a query."""

    frame_id: int
    video_id: int
    time: float
    score: float


@dataclass(frozen=True, slots=True)
class Moment:
    """A ranked start–end span inside one video: what a search returns.

    Attributes:
        path: absolute path of the video file.
        start, end: the span in seconds from the start of the file.
        score: the span's relevance (cosine-similarity scale, higher is better).
        best_time: the time of the frame that supports the span most (thumbnail, seek target).
        video_id: the library's id of the video.
        duration: the whole video's duration in seconds.
        fps: the video's frame rate (for timecodes in exports).
        source: which experts found it, joined by "+": "visual", "speech", "text" (on-screen
            text), e.g. "visual+speech" or "visual+text".
        text: the spoken line that matched, when speech did.
        screen_text: the on-screen text that matched, when the text expert did.
        screen_box: where that text is, (x0, y0, x1, y1) as fractions of the frame.
        screen_span: when that text was on screen, (start, end) in seconds: the moment's own
            span or a part of it (a scene found by its look keeps its span around a word read
            in a second of it), so the player frames the box only while the text is there.
        missing: the file was not found at the last scan (deleted, moved outside the library, or
            on a drive that is away): still listed, so it can be located, but it cannot play.
        similar: near-duplicates folded into this moment (the other loops of a looped clip,
            the same moment in copies of the file), best first; empty unless the search was
            asked to group them (:mod:`vsearch.query.dedup`).
    """

    path: str
    start: float
    end: float
    score: float
    best_time: float
    video_id: int = 0
    duration: float = 0.0
    fps: float = 0.0
    source: str = "visual"
    text: str | None = None
    screen_text: str | None = None
    screen_box: tuple[float, float, float, float] | None = None
    screen_span: tuple[float, float] | None = None
    missing: bool = False
    similar: tuple[Moment, ...] = ()

    @property
    def length(self) -> float:
        """Seconds from start to end."""
        return self.end - self.start

    @property
    def reason(self) -> str:
        """Why it matched, as the app and CLI show it.

        The spoken line in quotes, the on-screen text (``on screen: \u2018EXIT\u2019``), joined by
        " + " with "visual" when that expert agreed; just 'visual' otherwise.
        """
        experts = self.source.split("+")
        parts = []
        if self.text and "speech" in experts:
            parts.append(f"\u201c{self.text}\u201d")
        if self.screen_text and "text" in experts:
            parts.append(f"on screen: \u2018{' '.join(self.screen_text.split())}\u2019")
        if not parts:
            return "visual"
        return " + ".join(parts + (["visual"] if "visual" in experts else []))

    def to_dict(self) -> dict[str, object]:
        """The moment as JSON-ready values (what ``--json`` and the JSON export write)."""
        return {
            "path": self.path,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "score": round(float(self.score), 5),
            "best_time": round(self.best_time, 3),
            "duration": round(self.duration, 3),
            "fps": self.fps,
            "source": self.source,
            "text": self.text,
            "screen_text": self.screen_text,
            "screen_box": [round(v, 4) for v in self.screen_box] if self.screen_box else None,
            **({"screen_span": [round(v, 3) for v in self.screen_span]} if self.screen_span else {}),
            **({"missing": True} if self.missing else {}),  # only when it is, so older readers see no change
        }


@dataclass(slots=True)
class IndexStats:
    """What one indexing run did, and how long each stage took (seconds)."""

    scanned: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    moved: int = 0
    indexed: int = 0
    failed: int = 0
    frames: int = 0
    video_seconds: float = 0.0
    cancelled: bool = False
    stage_seconds: dict[str, float] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report from the indexer, sent once per batch (never per frame)."""

    stage: str
    done_files: int
    total_files: int
    done_seconds: float
    total_seconds: float
    current: str = ""
    rate: float = 0.0  # video-seconds per wall-second
    eta: float | None = None  # seconds left

    @classmethod
    def timed(
        cls,
        stage: str,
        done_files: int,
        total_files: int,
        done_seconds: float,
        total_seconds: float,
        current: str,
        elapsed: float,
    ) -> Progress:
        """A report whose rate and ETA follow from *elapsed* wall seconds (no ETA before a rate)."""
        rate = done_seconds / elapsed if elapsed > 0 else 0.0
        eta = (total_seconds - done_seconds) / rate if rate > 0 else None
        return cls(stage, done_files, total_files, done_seconds, total_seconds, current, rate, eta)


class CancelToken:
    """Cooperative cancel and pause for long runs; checked between batches.

    ``cancel()`` makes the run stop at the next batch boundary, leaving a consistent library;
    ``pause()``/``resume()`` hold it there without losing state.
    """

    def __init__(self) -> None:
        import threading

        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        """Stop the run at the next checkpoint (a paused run is woken to see it)."""
        self._cancel.set()
        self._running.set()

    @property
    def cancelled(self) -> bool:
        """True once ``cancel()`` was called."""
        return self._cancel.is_set()

    def pause(self) -> None:
        """Hold the run at its next checkpoint until ``resume()`` or ``cancel()``."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused run go on."""
        self._running.set()

    @property
    def paused(self) -> bool:
        """True while paused."""
        return not self._running.is_set()

    def checkpoint(self) -> bool:
        """Block while paused; return True if the run should stop."""
        self._running.wait()
        return self._cancel.is_set()
