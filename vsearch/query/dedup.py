"""Near-duplicate results folded into one: the loops of a looped clip, copies of a file, by vectors and content.

A search over footage that repeats returns the same picture several times: a clip looped three
times gives three almost identical moments, and identical copies of a file (a backup folder, an
export beside its source) give one moment per copy. :func:`group_similar` keeps the best-ranked of
each such group and hangs the others on it (``Moment.similar``), so the app shows one card with
"+2 similar". Two moments are the same footage when

* their videos have the same content (the same fingerprint, or size and duration: a copy) and
  their spans match, or
* the mean vectors of their frames agree to :data:`MIN_SIMILARITY` (cosine) and their lengths
  are within a factor of two of each other; within one video the footage between them must
  differ too (a loop comes back to a picture; a long still shot never left it), and spans
  closer than :data:`MIN_GAP` are never folded.

Moments that matched different words (spoken or on screen) are never folded together. Grouping
runs after the query engine, on its final list (``Service.search(group_similar=True)``), so
ranking and the CLI's output are unchanged when it is not asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from vsearch.types import Moment

#: Cosine between two moments' mean frame vectors above which they show the same footage.
#: Measured with the starter model on the dev set plus a copy of d01 and a 3x loop of d03
#: (benchmarks/dedup_threshold.py, all 29 dev-set queries, k=20): copies 1.000; loops median
#: 1.000, 90 % >= 0.985; distinct pairs median 0.797, p95 0.912, 0.2 % >= 0.985 (mostly adjacent
#: spans of one still shot, which the gap rule keeps apart). Folded: 90 copy and 27 loop members,
#: 2 of 4919 distinct pairs (d01 at 71-78 s, where one frame recurs between others).
MIN_SIMILARITY = 0.985
#: Two moments of copies of a file are the same when their starts and ends are this close (s).
SAME_SPAN = 0.75
#: Two moments of one video closer than this (s) are one shot, never loops of each other.
MIN_GAP = 1.0

#: ``moment -> unit mean vector of its frames, or None``: how a moment's frames are read.
MeanVector = Callable[[Moment], "np.ndarray | None"]
#: ``moment -> a key equal for files of the same content (a fingerprint, or size and duration), or None``.
ContentKey = Callable[[Moment], "object | None"]


def mean_vector(vectors: np.ndarray) -> np.ndarray | None:
    """The unit-length mean of a moment's frame vectors (None when there are none)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2 or not len(v):
        return None
    m = v.mean(axis=0)
    n = float(np.linalg.norm(m))
    return m / n if n > 0 and np.isfinite(n) else None


def _words(m: Moment) -> tuple[str, str]:
    return (" ".join((m.text or "").lower().split()), " ".join((m.screen_text or "").lower().split()))


def _same_content(a: Moment, b: Moment, key: ContentKey) -> bool:
    if a.path == b.path:
        return False
    ka, kb = key(a), key(b)
    return (ka is not None and ka == kb and abs(a.start - b.start) <= SAME_SPAN
            and abs(a.end - b.end) <= SAME_SPAN)  # fmt: skip


def _same_footage(
    a: Moment, b: Moment, va: np.ndarray | None, vb: np.ndarray | None, mean_of: MeanVector, min_similarity: float
) -> bool:
    if va is None or vb is None:
        return False
    short, long_ = sorted((max(a.length, 1e-3), max(b.length, 1e-3)))
    if long_ > 2 * short or float(va @ vb) < min_similarity:
        return False
    if a.path != b.path:
        return True
    first, second = sorted((a, b), key=lambda m: m.start)
    if second.start - first.end < MIN_GAP:
        return False
    between = mean_of(dataclasses.replace(first, start=first.end, end=second.start))
    return between is not None and float(between @ va) < min_similarity


def group_similar(
    moments: Sequence[Moment],
    mean_of: MeanVector,
    content_of: ContentKey,
    *,
    min_similarity: float = MIN_SIMILARITY,
) -> list[Moment]:
    """Fold near-duplicates into the best-ranked moment of each group, keeping the ranking.

    Args:
        moments: the ranked results, best first.
        mean_of: reads a moment's unit mean vector (None: no frames, e.g. a speech-only match).
        content_of: a moment's file's content key (fingerprint, or size and duration), None when unknown.
        min_similarity: the cosine above which two moments show the same footage.

    Returns:
        The kept moments in their order, each with the moments folded into it as ``similar``
        (in rank order); a moment with nothing similar is returned as it came.
    """
    vectors = [mean_of(m) for m in moments]
    heads: list[int] = []
    members: dict[int, list[Moment]] = {}
    for i, m in enumerate(moments):
        words = _words(m)
        home = next(
            (h for h in heads
             if _words(moments[h]) == words
             and (_same_content(moments[h], m, content_of)
                  or _same_footage(moments[h], m, vectors[h], vectors[i], mean_of, min_similarity))),
            None,
        )  # fmt: skip
        if home is None:
            heads.append(i)
        else:
            members.setdefault(home, []).append(m)
    return [
        dataclasses.replace(moments[h], similar=tuple(members[h])) if h in members else moments[h] for h in heads
    ]
