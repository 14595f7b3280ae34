"""Per-query expert weights: does the query ask what is seen, what is said, or what is written?

Mixture-of-Embedding-Experts (Miech et al. 2018) and Collaborative Experts weigh each expert per
query from the query itself. Without training data we derive the weights from the text encoder:
the query's MiniLM vector is compared with one prototype per expert, the mean vector of a few
sentences that ask for that kind of content ("someone says that ...", "footage of ...", "a sign
that reads ..."), and

    w_e = exp((cos(q, P_e) - max_f cos(q, P_f)) / temperature),

so the expert the query leans on keeps full weight (1) and the others are discounted by how much
less the query resembles their prototype. A quoted phrase asks for those exact words: the
speech and on-screen text experts then get full weight whatever the prototypes say, and the
visual one at most QUOTED_VISUAL. Fusion
multiplies each expert's calibrated confidence by its weight before the noisy-OR
(:func:`vsearch.speech.fusion.fuse`). The prototype sentences are generic (no dev-set words);
the temperature is the only knob (docs/MODELS.md, "Expert gating").
"""

from __future__ import annotations

import threading
from typing import Protocol

import numpy as np


class TextEncoder(Protocol):
    """What gating needs of the sentence encoder (vsearch.speech.text.SentenceEncoder)."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Sentences -> unit vectors [N, dim]."""
        ...

#: Sentences whose meaning is "the answer is in this expert", per expert.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "speech": (
        "someone says that",
        "a person talks about",
        "the narrator mentions",
        "he explains why",
        "she asks a question about",
        "they discuss",
        "an interview where someone talks about",
        "a voice saying",
        "somebody announces that",
        "the speaker describes",
        "the moment someone mentions",
        "a line of dialogue about",
    ),
    "visual": (
        "a photo of",
        "footage of",
        "a view of",
        "a close-up of",
        "a scene showing",
        "a wide shot of",
        "a video of",
        "an image of something",
        "what it looks like when",
        "a shot of a place",
    ),
    "text": (
        "a sign that reads",
        "the caption says",
        "a title card with the words",
        "text on the screen",
        "the slate for scene",
        "a label with the words",
        "subtitles that read",
        "a lower third with a name",
    ),
}
#: Softness of the weights (cosine units). Off (infinite: every weight 1) by default: over the
#: dev set and the extra material, gating added nothing to the querybank calibration and alone
#: cost one query (docs/MODELS.md, "Expert gating"); 0.05 is the value measured.
TEMPERATURE = float("inf")
#: A quoted phrase asks for words: visual evidence counts at most this much then (1: no cap;
#: off by default with the gating, 0.5 measured).
QUOTED_VISUAL = 1.0

_lock = threading.Lock()
_protos: dict[int, dict[str, np.ndarray]] = {}


def prototypes(encoder: TextEncoder) -> dict[str, np.ndarray]:
    """Each expert's prototype (the normalised mean of its sentences), embedded once per encoder."""
    key = id(encoder)
    with _lock:
        hit = _protos.get(key)
        if hit is not None:
            return hit
    out = {}
    for name, sents in PROTOTYPES.items():
        v = np.asarray(encoder.encode(list(sents)), dtype=np.float64).mean(axis=0)
        out[name] = v / max(float(np.linalg.norm(v)), 1e-12)
    with _lock:
        _protos[key] = out
    return out


def weights(
    qvec: np.ndarray,
    protos: dict[str, np.ndarray],
    *,
    quoted: bool,
    temperature: float | None = None,
    quoted_visual: float | None = None,
) -> dict[str, float]:
    """The experts' weights in (0, 1] for a query's MiniLM vector (see the module docstring).

    *temperature* and *quoted_visual* default to the module's TEMPERATURE and QUOTED_VISUAL.
    """
    t = TEMPERATURE if temperature is None else temperature
    cap = QUOTED_VISUAL if quoted_visual is None else quoted_visual
    if np.isfinite(t):
        sims = {name: float(np.dot(qvec, p)) for name, p in protos.items()}
        top = max(sims.values())
        w = {name: float(np.exp((s - top) / max(t, 1e-6))) for name, s in sims.items()}
    else:  # gating off: every expert full weight
        w = {name: 1.0 for name in protos}
    if quoted:
        w["speech"] = w["text"] = 1.0
        w["visual"] = min(w["visual"], cap)
    return w
