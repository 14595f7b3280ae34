"""Read the text shown in a video: detect on sampled frames, recognise changed boxes, merge into spans.

Cost control (docs/OCR.md has the measurements):

* anchors are decoded every ``STRIDE`` x ``interval`` seconds at most ``short_side`` pixels high
  (no upscaling) and read; the ``interval`` grid between two anchors is decoded and read only where
  their text differs, so spans keep the fine grid's boundaries at about 1/STRIDE of its cost;
* a cheap gate (``OcrEngine.text_regions``: the detector at 384 px) clears frames without text
  before the full-size detector runs. It looks only at the part of the frame that changed since
  the last read frame (the changed tiles' bounding box, two tiles wider) when that part is small,
  and when all it finds is the last frame's text, whose boxes did not change, that text is carried
  over without the full-size detector (a logo or a lower third over moving footage);
* a frame none of whose tiles changed since the last *read* frame is not read at all: its text
  is carried over (static shots, slates, slides). Tiles are 5x5 pixels of a 160x90 grey
  thumbnail (1/32 of the width), so small corner text appearing on a still picture counts as a change;
* the detector runs on the other frames; the recogniser runs only on boxes that are new, moved or
  whose pixels changed since the previous frame (a lower third over moving footage is recognised
  once, not every sample);
* boxes of one text block (the lines of a lower third or a two-line subtitle) are joined into one
  text, top to bottom, and consecutive samples with the same text (fuzzy) become one span.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from vsearch.ocr.respace import respace
from vsearch.ocr.text import fold, key, words
from vsearch.types import CancelToken, VideoInfo

INTERVAL = 0.5  # seconds between read frames
SHORT_SIDE = 540  # frames are decoded at most this high
STATIC_DIFF = 0.03  # largest tile mean abs difference (0-1) of 160x90 grey thumbnails for an unchanged frame
CROP_DIFF = 0.04  # a box whose 48x12 grey crop differs less than this keeps its recognised text
#: ... and none of whose character-sized windows (FINE_H high, half as wide) changed by this
#: much: one digit of a long boxed line ("HOME 1 - 0 AWAY" -> "HOME 2 - 0 AWAY") moves the whole
#: crop's mean by 0.004 only (benchmarks/ocr_line_change.py; docs/OCR.md, "Digits")
LOCAL_DIFF = CROP_DIFF
FINE_H = 16  # height of a line's fine signature; its width keeps the line's aspect (<= FINE_W)
FINE_W = 320
MIN_CONFIDENCE = 0.6  # recogniser confidence below which a line is dropped (textures read as text)
MIN_CHARS = 2  # letters/digits a line needs to be kept
SAME_TEXT = 0.75  # similarity of keys above which two samples show the same text
MAX_MISSES = 1  # samples a span may miss (detector blink) and still continue
STRIDE = 3  # read every STRIDE-th frame (1.5 s); the ones between only where the text changed
GATE_MARGIN = 2  # tiles around the changed ones that the gate sees too (context for the detector)
GATE_PART = 0.75  # a changed part larger than this fraction of the frame: the gate sees the whole frame


class TextReader(Protocol):
    """What reading needs of an OCR engine (:class:`vsearch.ocr.engine.OcrEngine`, or a test's stand-in)."""

    model_id: str

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        """Text boxes ([4, 2] pixel corners each) in an RGB frame."""
        ...

    def recognise(self, rgb: np.ndarray, boxes: list[np.ndarray]) -> list[tuple[str, float]]:
        """(text, confidence) of each box."""
        ...

    # Optional, a cheap gate: ``text_regions(rgb, region=None) -> list[rect]``, where the frame
    # (or its *region*, frame pixels) may hold text, [] for none. A frame it clears is not detected.


#: One block of text in a frame: (text, rect (x0, y0, x1, y1), mean confidence).
Block = tuple[str, tuple[float, float, float, float], float]


class OcrCancelled(Exception):
    """Reading was cancelled between frames."""


@dataclass(frozen=True, slots=True)
class TextSpan:
    """Text shown from *start* to *end*.

    Attributes:
        start, end: seconds; ``end`` is where the first sample without the text would be
            (a sample stands for the footage up to the next one), at most the video's length.
        text: the recognised text (the most confident reading of the span's samples).
        box: (x0, y0, x1, y1) of the text in the frame, fractions of width and height.
        confidence: the recogniser's mean confidence over the span's samples.
    """

    start: float
    end: float
    text: str
    box: tuple[float, float, float, float]
    confidence: float

    def box_json(self) -> str:
        """The box as JSON for the store."""
        return json.dumps([round(v, 4) for v in self.box])


@dataclass(slots=True)
class ReadStats:
    """What reading one video cost (for measurements and the log)."""

    frames: int = 0
    skipped: int = 0  # frames not read because nothing changed
    refined: int = 0  # frames between anchors read because the text changed around them
    gated: int = 0  # frames the cheap gate (OcrEngine.text_regions) found without text: not detected
    carried: int = 0  # frames where the gate found only the last frame's unchanged text: carried over, not detected
    gate_area: float = 0.0  # the gate's runs in whole frames (a run on a quarter of the frame adds 0.25)
    detected: int = 0  # frames the full-size detector ran on
    boxes: int = 0
    recognised: int = 0  # boxes the recogniser ran on
    decode_s: float = 0.0
    gate_s: float = 0.0
    detect_s: float = 0.0
    recognise_s: float = 0.0


@dataclass(slots=True)
class _Line:
    box: np.ndarray  # [4, 2] pixels
    rect: tuple[float, float, float, float]
    sig: np.ndarray
    text: str
    conf: float
    fine: np.ndarray  # _fine_sig at rect: a changed character shows in local_change
    blind: bool = False  # the gate did not light it (small, thin or faint text): see _read_one


@dataclass(slots=True)
class _Track:
    start: float
    last: float
    readings: dict[str, float]  # text -> summed confidence
    confs: list[float]
    rect: tuple[float, float, float, float]
    key: str
    misses: int = 0
    ended: bool = field(default=False)
    latest: str = ""  # the last sample's reading, letters and digits (a moving or growing text: continues())
    moving: bool = False  # it continued a growing, shrinking or moving text: named by its longest reading
    span_rect: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # every rect it had (a moving text's box)


def similarity(a: str, b: str) -> float:
    """1 - normalised edit distance of two keys (1.0: equal)."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return 1.0 - prev[-1] / max(len(a), len(b))


def continues(before: str, after: str, *, prepended: bool = False) -> bool:
    """Whether the text *after* is the text *before* moved on: revealed further, cut, scrolled.

    Both are a reading's letters and digits, lower case, not folded (``"".join(words(text))``).
    A ticker crossing the frame, a title typed out letter by letter or a block that loses a line
    is read as a new string at every sample ("st", "stocks rise", ..., "cksriseasmarketsrally"),
    which SAME_TEXT cannot follow. It continues when *after* extends *before* at its end, keeps
    its beginning or its end, or (a window sliding along a long ticker) begins with an end of
    *before* at least half as long as the shorter; the look-alikes keys fold are folded here too,
    and the letter cut by the frame's edge may be misread. Text put in front continues only with
    *prepended* (the caller's judgement that it is the same line revealed leftwards, a caption
    sliding in from the left, not a new line above a known one: a caption joined to a logo); and
    never when a number grew or shrank at the cut ("home 1" -> "home 12" is a score that changed).
    """
    if before == after or min(len(before), len(after)) < 2:
        return False
    b, a = fold(before), fold(after)

    def number_cut(x: str, i: int, y: str, j: int) -> bool:  # x[i] and y[j] would join one number
        return 0 <= i < len(x) and 0 <= j < len(y) and x[i].isdigit() and y[j].isdigit()

    if a.startswith(b):  # revealed further / entering
        return not number_cut(before, len(before) - 1, after, len(before))
    if b.startswith(a):  # cut at the end
        return not number_cut(after, len(after) - 1, before, len(after))
    if b.endswith(a):  # cut at the start / leaving
        return not number_cut(after, 0, before, len(before) - len(after) - 1)
    if prepended and a.endswith(b):  # revealed leftwards / entering from the left
        return not number_cut(after, len(after) - len(before) - 1, before, 0)
    # the letter cut by the frame's edge is often misread ("stocksriseasi" for "...as m")
    if len(b) > 3 and before[-1].isalpha() and a.startswith(b[:-1]):
        return True
    if len(a) > 3 and after[0].isalpha() and b.endswith(a[1:]):
        return True
    need = max(4, (min(len(b), len(a)) + 1) // 2)
    for n in range(min(len(b), len(a)) - 1, need - 1, -1):
        if b.endswith(a[:n]):
            return not number_cut(after, 0, before, len(before) - n - 1)
    return False


def _same_line(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two rects share at least half the height of the lower one (the same band of the frame)."""
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap >= 0.5 * min(a[3] - a[1], b[3] - b[1]) > 0


def _digits(k: str) -> str:
    """The digits of a key, in order: two readings that differ in them show different text.

    A clock, a timecode, a scoreboard or a counter changes only its digits, which the fuzzy
    SAME_TEXT match would fold into one span with one reading ("00:00:07" for ten seconds of a
    running clock); letters may still slip (keys fold the look-alikes o/0 and i/l/1 already).
    """
    return "".join(c for c in k if c.isdigit())


def _thumb(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _tiles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference of each 5x5-pixel tile of two 160x90 thumbnails ([18, 32])."""
    return np.asarray(np.abs(a - b).reshape(18, 5, 32, 5).mean(axis=(1, 3)))


def _changed_part(tiles: np.ndarray, width: int, height: int) -> tuple[float, float, float, float] | None:
    """The frame part (pixels) the gate must see: the changed tiles' box, GATE_MARGIN tiles wider.

    None when that is most of the frame (the whole frame is as cheap to look at).
    """
    rows, cols = np.nonzero(tiles >= STATIC_DIFF)
    r0, r1 = max(0, int(rows.min()) - GATE_MARGIN), min(tiles.shape[0], int(rows.max()) + 1 + GATE_MARGIN)
    c0, c1 = max(0, int(cols.min()) - GATE_MARGIN), min(tiles.shape[1], int(cols.max()) + 1 + GATE_MARGIN)
    if (r1 - r0) * (c1 - c0) > GATE_PART * tiles.size:
        return None
    tw, th = width / tiles.shape[1], height / tiles.shape[0]
    return (c0 * tw, r0 * th, c1 * tw, r1 * th)


def _grow(r: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    m = 0.5 * (r[3] - r[1]) + 2.0
    return (r[0] - m, r[1] - m, r[2] + m, r[3] + m)


def _only_known_text(lit: list[tuple[float, float, float, float]], rgb: np.ndarray, state: _State) -> bool:
    """Whether the gate's lit areas are the last read frame's text, unchanged.

    Every line of that frame must look as it did (:func:`_looks_unchanged`), and every lit
    area must lie within the (grown) lines it touches: a new or longer line, or a changed one,
    sends the frame to the full detector.
    """
    for ln in state.lines:
        if not _looks_unchanged(rgb, ln):
            return False
    grown = [_grow(ln.rect) for ln in state.lines]
    for r in lit:
        near = [g for g in grown if _overlaps(g, r)]
        if not near:
            return False
        if r[0] < min(g[0] for g in near) or r[1] < min(g[1] for g in near) \
                or r[2] > max(g[2] for g in near) or r[3] > max(g[3] for g in near):
            return False
    return True


def _overlaps(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _looks_unchanged(rgb: np.ndarray, ln: _Line) -> bool:
    """Whether *ln*'s text still looks as it did, in *rgb* at the same place.

    Its grey crop's mean difference is under CROP_DIFF and no character-sized window of it
    changed by LOCAL_DIFF: a changed digit in a long boxed line is a small part of the crop.
    """
    if float(np.abs(_crop_sig(rgb, ln.rect) - ln.sig).mean()) >= CROP_DIFF:
        return False
    return local_change(_fine_sig(rgb, ln.rect), ln.fine) < LOCAL_DIFF


def _rect(box: np.ndarray) -> tuple[float, float, float, float]:
    return (float(box[:, 0].min()), float(box[:, 1].min()), float(box[:, 0].max()), float(box[:, 1].max()))


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _crop(rgb: np.ndarray, rect: tuple[float, float, float, float]) -> np.ndarray:
    """The pixels of *rect* (at least one), clipped to the frame."""
    x0, y0, x1, y1 = (int(round(v)) for v in rect)
    return rgb[max(0, y0) : max(y0 + 1, y1), max(0, x0) : max(x0 + 1, x1)]


def _fine_sig(rgb: np.ndarray, rect: tuple[float, float, float, float]) -> np.ndarray:
    """A line's grey crop at FINE_H pixels high and its own aspect: a character is a few columns wide."""
    crop = _crop(rgb, rect)
    h, w = crop.shape[:2]
    return _thumb(crop, int(min(FINE_W, max(FINE_H, round(FINE_H * w / max(1, h))))), FINE_H)


def local_change(a: np.ndarray, b: np.ndarray) -> float:
    """The largest mean absolute difference of two fine signatures over a character-wide window (half their height)."""
    if a.shape != b.shape:
        b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    cols = np.abs(a - b).mean(axis=0)
    win = min(len(cols), max(1, a.shape[0] // 2))  # a character is about half as wide as the line is high
    sums = np.convolve(cols, np.ones(win, dtype=np.float32), mode="valid") / win
    return float(sums.max()) if len(sums) else 0.0


def _crop_sig(rgb: np.ndarray, rect: tuple[float, float, float, float]) -> np.ndarray:
    return _thumb(_crop(rgb, rect), 48, 12)


def blocks(lines: list[_Line]) -> list[Block]:
    """Join lines of one block (stacked, overlapping horizontally, similar height) top to bottom.

    Returns (text, rect, mean confidence) per block.
    """
    groups: list[list[_Line]] = []
    for ln in sorted(lines, key=lambda x: (x.rect[1], x.rect[0])):
        h = ln.rect[3] - ln.rect[1]
        for g in groups:
            last = g[-1]
            lh = last.rect[3] - last.rect[1]
            gap = ln.rect[1] - last.rect[3]
            overlap = min(ln.rect[2], last.rect[2]) - max(ln.rect[0], last.rect[0])
            if -0.5 * lh < gap < 0.8 * max(h, lh) and overlap > 0 and 0.5 < h / max(lh, 1e-6) < 2.0:
                g.append(ln)
                break
        else:
            groups.append([ln])
    out = []
    for g in groups:
        rect = (min(x.rect[0] for x in g), min(x.rect[1] for x in g), max(x.rect[2] for x in g), max(x.rect[3] for x in g))
        out.append((" ".join(x.text for x in g), rect, float(np.mean([x.conf for x in g]))))
    return out


class SpanMerger:
    """Consecutive samples' blocks -> spans (the same text, fuzzily, in about the same place)."""

    def __init__(self, interval: float, duration: float) -> None:
        self.interval = interval
        self.duration = duration
        self.open: list[_Track] = []
        self.done: list[_Track] = []

    def add(self, t: float, items: list[Block]) -> None:
        """Add one sample's blocks (text, rect, confidence) at time *t*."""
        used: set[int] = set()
        for text, rect, conf in items:
            k = key(text)
            raw = "".join(words(text))
            best, best_s = None, SAME_TEXT
            for i, tr in enumerate(self.open):
                if i in used:
                    continue
                s = similarity(k, tr.key)
                if s >= best_s and (_iou(rect, tr.rect) > 0.2 or s >= 0.95) and _digits(k) == _digits(tr.key):
                    best, best_s = i, s
            moved = False
            if best is None:
                for i, tr in enumerate(self.open):
                    if i in used or not _same_line(rect, tr.rect):
                        continue
                    # text in front of a known one is the same line only at the same height (top
                    # and bottom within a fifth of it): a line joined above moves the top
                    h = tr.rect[3] - tr.rect[1]
                    level = abs(rect[1] - tr.rect[1]) <= 0.2 * h and abs(rect[3] - tr.rect[3]) <= 0.2 * h
                    if raw == tr.latest or continues(tr.latest, raw, prepended=level):
                        best, moved = i, True
                        break
            if best is None:
                self.open.append(_Track(t, t, {text: conf}, [conf], rect, k, latest=raw, span_rect=rect))
                used.add(len(self.open) - 1)
                continue
            tr = self.open[best]
            used.add(best)
            u = tr.span_rect
            tr.span_rect = (min(u[0], rect[0]), min(u[1], rect[1]), max(u[2], rect[2]), max(u[3], rect[3]))
            tr.last, tr.misses, tr.rect, tr.latest = t, 0, rect, raw
            tr.moving = tr.moving or moved
            tr.readings[text] = tr.readings.get(text, 0.0) + conf
            tr.confs.append(conf)
            tr.key = key(max(tr.readings, key=tr.readings.__getitem__))
        keep = []
        for i, tr in enumerate(self.open):
            if i in used:
                keep.append(tr)
            elif tr.misses < MAX_MISSES:
                tr.misses += 1
                keep.append(tr)
            else:
                self.done.append(tr)
        self.open = keep

    def spans(self, width: int, height: int) -> list[TextSpan]:
        """Every span so far, boxes as fractions of *width* x *height*."""
        out = []
        for tr in sorted(self.done + self.open, key=lambda x: (x.start, x.rect[1])):
            end = tr.last + self.interval
            if self.duration > 0:
                end = min(end, self.duration)
            # a moving text's box is where it went (a ticker's band), anything else's its last place
            x0, y0, x1, y1 = tr.span_rect if tr.moving else tr.rect
            out.append(
                TextSpan(
                    start=round(tr.start, 3),
                    end=round(max(end, tr.start + 0.04), 3),
                    text=respace(_name(tr)),
                    box=(max(0.0, x0 / width), max(0.0, y0 / height), min(1.0, x1 / width), min(1.0, y1 / height)),
                    confidence=float(np.mean(tr.confs)),
                )
            )
        return out


def _name(tr: _Track) -> str:
    """A span's text: its most confident reading, or for a moving text the longest (the most of it seen at once)."""
    if tr.moving:
        return max(tr.readings, key=lambda r: (len(key(r)), tr.readings[r]))
    return max(tr.readings, key=tr.readings.__getitem__)


@dataclass(slots=True)
class _State:
    """What reading the last anchor frame left: its thumbnail, lines (for reuse) and blocks."""

    thumb: np.ndarray | None = None
    lines: list[_Line] = field(default_factory=list)
    items: list[Block] = field(default_factory=list)


def _read_one(rgb: np.ndarray, engine: TextReader, state: _State, stats: ReadStats) -> _State:
    """Read one frame against the last anchor's state; returns the frame's own state."""
    import time

    th = _thumb(rgb, 160, 90)
    tiles = None if state.thumb is None else _tiles(th, state.thumb)
    if tiles is not None and float(tiles.max()) < STATIC_DIFF:
        # a still frame; its text too? a digit of small corner text changes no tile enough
        if all(_looks_unchanged(rgb, ln) for ln in state.lines):
            stats.skipped += 1
            return state
        tiles = None  # a line changed where no tile did: the gate looks at the whole frame
    regions = getattr(engine, "text_regions", None)
    gated: list[tuple[float, float, float, float]] | None = None  # what the gate lit, where it looked
    part = None
    if regions is not None:
        h, w = rgb.shape[:2]
        part = None if tiles is None else _changed_part(tiles, w, h)
        t0 = time.perf_counter()
        gated = lit = regions(rgb, part)
        stats.gate_s += time.perf_counter() - t0
        stats.gate_area += 1.0 if part is None else (part[2] - part[0]) * (part[3] - part[1]) / (w * h)
        # no text anywhere (the gate saw the whole frame, or there was no text before); unless the
        # last frame showed text the gate does not see (small, thin or faint: a 30 px label on
        # 1080p footage never lit it, and was read only while larger text shared the frame): then
        # the detector decides whether it is gone
        if not lit and (part is None or not state.lines) and not any(ln.blind for ln in state.lines):
            stats.gated += 1
            return _State(th, [], [])
        if state.lines and _only_known_text(lit, rgb, state):
            stats.carried += 1
            return _State(th, state.lines, state.items)
    t0 = time.perf_counter()
    boxes = engine.detect(rgb)
    stats.detect_s += time.perf_counter() - t0
    stats.detected += 1
    stats.boxes += len(boxes)
    lines: list[_Line] = []
    todo: list[int] = []
    for b in boxes:
        r = _rect(b)
        sig = _crop_sig(rgb, r)
        fine = _fine_sig(rgb, r)
        reuse = next(
            (
                p for p in state.lines
                if _iou(r, p.rect) > 0.7 and float(np.abs(sig - p.sig).mean()) < CROP_DIFF
                and local_change(_fine_sig(rgb, p.rect), p.fine) < LOCAL_DIFF
            ),
            None,
        )
        # blind: the gate did not light it here, or did not light it before at this place (the
        # gate's map flickers around its threshold for such text: once blind, blind)
        blind = gated is not None and (
            any(p.blind and _iou(r, p.rect) > 0.5 for p in state.lines)
            or ((part is None or _overlaps(r, part)) and not any(_overlaps(r, x) for x in gated))
        )
        if reuse is not None:
            lines.append(_Line(b, r, sig, reuse.text, reuse.conf, fine, blind))
        else:
            todo.append(len(lines))
            lines.append(_Line(b, r, sig, "", 0.0, fine, blind))
    if todo:
        t0 = time.perf_counter()
        res = engine.recognise(rgb, [lines[i].box for i in todo])
        stats.recognise_s += time.perf_counter() - t0
        stats.recognised += len(todo)
        for i, (text, conf) in zip(todo, res, strict=True):
            lines[i].text, lines[i].conf = " ".join(text.split()), conf
    kept = [ln for ln in lines if ln.conf >= MIN_CONFIDENCE and len(key(ln.text)) >= MIN_CHARS]
    return _State(th, lines, blocks(kept))


def _keys(items: list[Block]) -> list[str]:
    return sorted(key(text) for text, _rect, _conf in items)


Frame = tuple[float, np.ndarray]
#: ``between(a, b)``: the frames on the fine grid strictly between times *a* and *b* (b may be inf).
Between = Callable[[float, float], Iterable[Frame]]


def _given(frames: list[Frame]) -> Callable[[], list[Frame]]:
    return lambda: frames


def _anchors(
    frames: Iterable[Frame], stride: int, between: Between | None, stats: ReadStats
) -> Iterator[tuple[float, np.ndarray, Callable[[], list[Frame]]]]:
    """(time, frame, the frames since the previous anchor, on demand) for each anchor.

    Without *between*, *frames* is the whole fine grid: every *stride*-th frame and the last one
    are anchors and the frames between them are kept in memory. With it, *frames* are the
    anchors only and the frames between two of them are decoded when asked for (a text changed
    there), so footage whose text does not change is decoded at the anchors' spacing only.
    """
    if between is None:
        kept: list[Frame] = []
        pending: Frame | None = None
        for i, (t, rgb) in enumerate(frames):
            stats.frames += 1
            if pending is not None:
                kept.append(pending)
                pending = None
            if i % stride == 0:
                got = kept
                kept = []
                yield float(t), rgb, _given(got)
            else:
                pending = (float(t), rgb)
        if pending is not None:  # the file ended between anchors: its last frame is an anchor
            yield pending[0], pending[1], _given(kept)
        return

    def fetch(a: float, b: float) -> list[Frame]:
        got = [(float(t), rgb) for t, rgb in between(a, b)]
        stats.frames += len(got)
        return got

    prev: float | None = None
    for t, rgb in frames:
        stats.frames += 1
        yield float(t), rgb, (functools.partial(fetch, prev, float(t)) if prev is not None else _given([]))
        prev = float(t)
    if prev is not None:  # the frames after the last anchor: the last of them is an anchor too
        tail = fetch(prev, math.inf)
        if tail:
            yield tail[-1][0], tail[-1][1], _given(tail[:-1])


def read_frames(
    frames: Iterable[Frame],  # (time, RGB uint8 [H, W, 3])
    engine: TextReader,
    *,
    interval: float = INTERVAL,
    duration: float = 0.0,
    stats: ReadStats | None = None,
    cancel: CancelToken | None = None,
    stride: int = STRIDE,
    between: Between | None = None,
) -> list[TextSpan]:
    """Spans of text in timed frames (times increasing, *interval* apart).

    Every *stride*-th frame (an anchor) is read; the frames between two anchors are read only
    when the text changed from one anchor to the next, so spans still start and end on the
    *interval* grid while footage whose text does not change costs one read per anchor. With
    *between* (see ``_anchors``), *frames* holds only the anchors (*stride* x *interval* apart)
    and the frames between two anchors are asked for only where the text changed.
    """
    import time

    stats = stats if stats is not None else ReadStats()
    merger = SpanMerger(interval, duration)
    state = _State()
    size = (1, 1)
    prev_t: float | None = None
    t_dec = time.perf_counter()
    for t, rgb, since in _anchors(frames, stride, between, stats):
        stats.decode_s += time.perf_counter() - t_dec
        if cancel is not None and cancel.checkpoint():
            raise OcrCancelled()
        size = (rgb.shape[1], rgb.shape[0])
        anchor = _read_one(rgb, engine, state, stats)
        if prev_t is not None and _keys(anchor.items) != _keys(state.items):
            t_dec = time.perf_counter()
            frames_between = since()
            stats.decode_s += time.perf_counter() - t_dec
            for bt, brgb in frames_between:  # the text changed: find where, on the fine grid
                if cancel is not None and cancel.checkpoint():
                    raise OcrCancelled()
                stats.refined += 1
                merger.add(bt, _read_one(brgb, engine, state, stats).items)
        elif prev_t is not None:  # unchanged: the samples between carry the anchors' text
            n = int(round((t - prev_t) / interval))
            for k in range(1, n):
                merger.add(prev_t + k * interval, state.items)
        merger.add(t, anchor.items)
        state = anchor
        prev_t = t
        t_dec = time.perf_counter()
    return merger.spans(*size)


def read_video(
    path: str,
    info: VideoInfo,
    engine: TextReader,
    *,
    interval: float = INTERVAL,
    short_side: int = SHORT_SIDE,
    stats: ReadStats | None = None,
    cancel: CancelToken | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[TextSpan]:
    """Spans of text in a video file.

    Raises:
        MediaError: the file cannot be decoded (one line).
        OcrCancelled: *cancel* was set.
    """
    from vsearch.frames import SampleOptions, iter_frames

    side = max(8, min(short_side, min(info.width, info.height) or short_side))
    # one decoder thread: frame threading costs CPU and the detector keeps the cores busy
    opts = SampleOptions(mode="exact", interval=interval * STRIDE, short_side=side, batch=8, threads=1)
    fine = SampleOptions(mode="exact", interval=interval, short_side=side, batch=8, threads=1)

    def anchors() -> Iterator[Frame]:
        for batch in iter_frames(path, info, opts):
            for t, img in zip(batch.times, batch.images, strict=True):
                yield float(t), img
            if progress is not None and len(batch):
                progress(float(batch.times[-1]))

    def between(a: float, b: float) -> Iterator[Frame]:
        tol = 0.25 * interval
        for batch in iter_frames(path, info, fine, start_after=a):
            for t, img in zip(batch.times, batch.images, strict=True):
                if t >= b - tol:
                    return
                if t > a + tol:
                    yield float(t), img

    return read_frames(
        anchors(), engine, interval=interval, duration=info.duration, stats=stats, cancel=cancel, between=between
    )
