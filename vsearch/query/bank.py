"""The query bank: generic queries that say how strongly a frame (or a sentence) matches *anything*.

Querybank normalisation (Bogolin et al., CVPR 2022, "Cross Modal Retrieval with Querybank
Normalisation") corrects cross-modal retrieval for *hubs*: gallery items (here frames, spoken
sentences, on-screen text) that sit close to every text vector and so win unrelated queries.
Each gallery item ``g`` gets a query-independent normaliser from a bank ``B`` of generic
queries, the log-sum-exp of its bank similarities,

    N(g) = log( sum_b exp(beta * cos(b, g)) / |B| ),

and a query ``q`` scores it by the **inverted softmax** in log-odds form,

    z(q, g) = beta * cos(q, g) - N(g),

which is ``log(|B| * p)`` for ``p`` the probability the inverted softmax gives ``q`` among the
bank's queries for that item. ``z`` is 0 when the query matches the item as well as a typical
bank query does (the softmax mean), and positive when it matches better. Besides demoting
hubs it puts every query and every expert on one scale: a frame the query matches no better
than generic sentences gets ``z <= 0`` whatever the model's cosine range, which is what the
fusion's calibration and the "no strong match" state read (:mod:`vsearch.query.calibrate`).

The bank is generated from templates over everyday scenes, objects and actions (a few
thousand sentences, deterministic), embedded once per model with that model's text tower
and cached (shipped precomputed for the starter model). ``beta`` is the inverted softmax's
temperature; see docs/MODELS.md for how it was chosen (cross-validated, not per model).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from vsearch import log
from vsearch.embed.base import embed_templated

#: Bump on any change to the word lists or templates below (the cache key includes it).
BANK_VERSION = 1
#: Sentences in the bank (scene sentences; the object phrases come on top).
SCENES = 2400
#: The inverted softmax's temperature, on cosine similarities (docs/MODELS.md, "Query bank").
BETA = 5.0

_SUBJECTS = (
    "a man", "a woman", "a child", "an old man", "an old woman", "a group of people", "two friends",
    "a crowd", "a couple", "a baby", "a teenager", "a worker", "a police officer", "a doctor",
    "a chef", "a soldier", "a musician", "a dancer", "an athlete", "a farmer", "a student",
    "a teacher", "a dog", "a cat", "a horse", "a cow", "a bird", "a duck", "a fish", "a bear",
    "a monkey", "an elephant", "a deer", "a sheep", "a rabbit", "an insect", "a car", "a truck",
    "a bus", "a train", "a bicycle", "a motorcycle", "a boat", "a ship", "an airplane",
    "a helicopter", "a robot", "a drone", "a tractor", "a cartoon character",
)
_ACTIONS = (
    "walking", "running", "standing still", "sitting", "lying down", "jumping", "talking",
    "laughing", "eating", "drinking", "cooking", "dancing", "singing", "playing", "working",
    "reading", "writing", "driving", "riding", "swimming", "climbing", "falling", "waving",
    "looking at the camera", "turning around", "moving slowly", "moving fast", "waiting",
    "arriving", "leaving", "crossing the frame", "resting", "fighting", "carrying something",
    "pointing", "smiling", "sleeping", "flying", "floating", "spinning",
)
_PLACES = (
    "in a kitchen", "in a living room", "in an office", "in a classroom", "in a hospital",
    "in a laboratory", "in a factory", "in a shop", "in a restaurant", "in a bar", "in a garden",
    "in a park", "in a forest", "in a field", "on a farm", "on a beach", "at sea", "by a lake",
    "by a river", "in the mountains", "in the desert", "in the snow", "in the rain",
    "on a city street", "on a highway", "on a bridge", "at a train station", "at an airport",
    "in a parking lot", "in a stadium", "on a stage", "in a studio", "at night", "at sunset",
    "in the sky", "underwater", "in space", "in a cave", "in a church", "at a market",
)
_OBJECTS = (
    "a table", "a chair", "a sofa", "a bed", "a lamp", "a window", "a door", "a wall", "a floor",
    "a ceiling", "a staircase", "a clock", "a phone", "a laptop", "a computer screen",
    "a television", "a camera", "a book", "a newspaper", "a letter", "a bottle", "a cup",
    "a plate", "a bowl", "a knife", "a spoon", "a pot", "a pan", "food", "bread", "fruit",
    "vegetables", "a cake", "a flower", "a tree", "grass", "leaves", "a rock", "sand", "water",
    "waves", "clouds", "the sun", "the moon", "stars", "fire", "smoke", "snow", "ice", "a road",
    "a building", "a house", "a skyscraper", "a tower", "a fence", "a sign", "a flag", "a map",
    "a painting", "a photograph", "a poster", "a screen with text", "a logo", "a machine",
    "a tool", "a wheel", "an engine", "a box", "a bag", "a hat", "a shirt", "a dress", "shoes",
    "glasses", "a ball", "a toy", "a guitar", "a piano", "a microphone", "a candle", "a mirror",
    "a plant", "a basket", "a chart", "a diagram", "a pattern", "a texture", "a colourful light",
    "darkness", "a blurry image", "a black screen", "a white background", "an empty room",
)
_SHOTS = (
    "{s} {a} {p}",
    "a video of {s} {a} {p}",
    "close-up of {s} {a}",
    "wide shot of {s} {a} {p}",
    "{s} {a}",
)
_OBJECT_SHOTS = (
    "a photo of {o}",
    "close-up of {o}",
    "{o} {p}",
    "a shot of {o}",
)


def sentences() -> list[str]:
    """The bank's sentences: deterministic, the same on every machine (BANK_VERSION)."""
    rng = np.random.default_rng(2022)  # fixed: a bank is part of a model's search behaviour
    out: list[str] = []
    for _ in range(SCENES):
        tpl = _SHOTS[int(rng.integers(len(_SHOTS)))]
        out.append(
            tpl.format(
                s=_SUBJECTS[int(rng.integers(len(_SUBJECTS)))],
                a=_ACTIONS[int(rng.integers(len(_ACTIONS)))],
                p=_PLACES[int(rng.integers(len(_PLACES)))],
            )
        )
    for o in _OBJECTS:
        for tpl in _OBJECT_SHOTS:
            out.append(tpl.format(o=o, p=_PLACES[int(rng.integers(len(_PLACES)))]))
    return list(dict.fromkeys(out))  # duplicates dropped, order kept


def bank_key(model_id: str, templates: Sequence[str] = ("{}",)) -> str:
    """The cache key of one model's embedded bank (model identity, bank version, query templates, its sentences)."""
    head = f"{model_id}\n{BANK_VERSION}\n"
    if tuple(templates) != ("{}",):
        head += "".join(f"template={t}\n" for t in templates)
    h = hashlib.sha256(head.encode())
    for s in sentences():
        h.update(s.encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def embed(embed_text: Callable[[Sequence[str]], np.ndarray], templates: Sequence[str] = ("{}",)) -> np.ndarray:
    """The bank's sentences embedded as a model's queries are (in its *templates*): float32 [n, dim]."""
    texts = sentences()
    return np.concatenate([embed_templated(embed_text, texts[i : i + 256], templates) for i in range(0, len(texts), 256)])


class QueryBank:
    """One model's embedded bank and the per-item normalisers computed from it.

    Attributes:
        vectors: the bank, float32 [n, dim], rows unit length.
        beta: the inverted softmax's temperature.
    """

    def __init__(self, vectors: np.ndarray, beta: float = BETA) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.beta = float(beta)
        self._log_n = float(np.log(len(self.vectors))) if len(self.vectors) else 0.0
        self._mean_norm = float(np.linalg.norm(self.vectors.mean(axis=0))) if len(self.vectors) else 0.0

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash of the bank's vectors as float16 (the same whether embedded now or read from a cache)."""
        return hashlib.blake2b(self.vectors.astype("<f2").tobytes(), digest_size=8).hexdigest()

    def normalisers(self, items: np.ndarray) -> np.ndarray:
        """N(g) of each row of *items* (float [m, dim], unit rows): float64 [m].

        Computed in blocks, so memory stays at a few MB whatever m is.
        """
        items = np.asarray(items, dtype=np.float32)
        out = np.empty(len(items), dtype=np.float64)
        if len(self.vectors) == 0:
            out[:] = 0.0
            return out
        for lo in range(0, len(items), 512):
            sims = items[lo : lo + 512] @ self.vectors.T  # [b, n]
            x = self.beta * sims.astype(np.float64)
            m = x.max(axis=1, keepdims=True)
            out[lo : lo + 512] = (m[:, 0] + np.log(np.exp(x - m).sum(axis=1))) - self._log_n
        return out

    def z_bound(self, sim: float) -> float:
        """An upper bound of z for an item whose cosine with the query is at most *sim*.

        By Jensen, N(g) >= beta * mean_b cos(b, g) = beta * (mean of B) . g >= -beta * |mean of B|.
        """
        return self.beta * (float(sim) + self._mean_norm)

    def z(self, sims: np.ndarray, normalisers: np.ndarray) -> np.ndarray:
        """Inverted-softmax log-odds ``beta * cos - N`` of similarities against their items' normalisers."""
        return self.beta * np.asarray(sims, dtype=np.float64) - np.asarray(normalisers, dtype=np.float64)


_SHIPPED = Path(__file__).resolve().parent.parent / "resources" / "querybank"
_lock = threading.Lock()
_loaded: dict[str, QueryBank] = {}


def shipped_path(model_id: str, templates: Sequence[str] = ("{}",)) -> Path:
    """Where a precomputed bank for *model_id* ships inside the package (the starter's)."""
    return _SHIPPED / f"bank-{bank_key(model_id, templates)}.npy"


def for_model(
    model_id: str,
    embed_text: Callable[[Sequence[str]], np.ndarray],
    cache: Path | None,
    templates: Sequence[str] = ("{}",),
) -> QueryBank:
    """The bank of *model_id*: shipped, cached under *cache*, or embedded now (then cached).

    Each sentence is embedded as the model's search queries are, in its query *templates*
    (vsearch.embed.base.embed_templated), so the normaliser compares a query with bank queries
    of the same form. Embedding takes seconds for the starter's MiniLM and about half a minute
    for a CLIP text tower on a 2-core CPU, once per model; a cache that cannot be written is
    not an error.
    """
    key = bank_key(model_id, templates)
    with _lock:
        hit = _loaded.get(key)
        if hit is not None:
            return hit
        candidates = [shipped_path(model_id, templates)]
        if cache is not None:
            candidates.append(cache / "querybank" / f"bank-{key}.npy")
        vecs: np.ndarray | None = None
        for p in candidates:
            if p.is_file():
                try:
                    arr = np.load(p, allow_pickle=False)
                    if arr.ndim == 2 and len(arr) == len(sentences()) and np.isfinite(arr).all():
                        vecs = arr.astype(np.float32)
                        break
                except (OSError, ValueError) as e:
                    log.query.warning("ignoring unreadable query bank %s: %s", p, e)
        if vecs is None:
            vecs = embed(embed_text, templates)
            if cache is not None:
                try:
                    (cache / "querybank").mkdir(parents=True, exist_ok=True)
                    tmp = cache / "querybank" / f".bank-{key}.tmp.npy"
                    np.save(tmp, vecs.astype(np.float16))
                    tmp.replace(cache / "querybank" / f"bank-{key}.npy")
                except OSError as e:
                    log.query.warning("could not cache the query bank: %s", e)
        bank = QueryBank(vecs)
        _loaded[key] = bank
        return bank
