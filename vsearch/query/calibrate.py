"""Expert scores on one scale: querybank log-odds -> confidences, and the "no strong match" state.

With a query bank (:mod:`vsearch.query.bank`) a visual frame's score is its cosine minus the
bank offset (the dynamic inverted softmax, in cosine units): how much better the query matches
the frame than generic queries typically match this library's frames. That margin means the
same for every query, so one logistic map turns it into a confidence in [0, 1],

    confidence = sigmoid((margin - center) / width),

with ``center`` the margin at which a match is a coin flip and ``width`` its softness (chosen by
cross-validation: docs/MODELS.md, "Calibration"). Before, the visual confidence was a z-score
among the query's own moments, so its best moment looked ~0.9 confident whatever the query. Fusion (:mod:`vsearch.speech.fusion`) mixes
these confidences by noisy-OR, so an expert's vote counts by how sure it is, not by where its
cosine range happens to lie. A query whose best confidence stays under ``strong`` has **no
strong match**: the app and ``--json`` say so, and the relevance floor (``min_score``, a
confidence) means one thing for every query.
"""

from __future__ import annotations

from dataclasses import dataclass

from vsearch.speech.fusion import sigmoid
from vsearch.types import Moment


@dataclass(frozen=True, slots=True)
class CalibrationParams:
    """The calibration's knobs (see the module docstring).

    Attributes:
        visual_center: bank margin (cosine units) of a 50 % confident visual moment.
        visual_width: softness of the visual logistic (cosine units).
        strong: confidence from which a result is a strong match.
    """

    visual_center: float = 0.06
    visual_width: float = 0.04
    strong: float = 0.5


DEFAULT = CalibrationParams()
#: The parameters in use (the benchmarks swap them to cross-validate; code reads it at call time).
PARAMS = DEFAULT


def visual_confidence(margin: float) -> float:
    """Confidence of a visual moment from its bank margin (its score with a bank)."""
    return sigmoid((margin - PARAMS.visual_center) / PARAMS.visual_width)


def strong_match(moments: list[Moment]) -> bool:
    """Whether the best of *moments* (calibrated scores) is a strong match."""
    return bool(moments) and max(m.score for m in moments) >= PARAMS.strong
