"""Matching typed words against recognised screen text, tolerant to OCR slips.

OCR output differs from what a user types in three ways this module absorbs:

* spacing: PP-OCR often drops or adds spaces ("SCENE12TAKE 3"), so matching works on a
  *key* of letters and digits only (``key("Scene 12, take 3") == "scene12take3"``);
* look-alike characters: ``o``/``0`` and ``i``/``l``/``1`` are folded to one character in the key;
* a wrong, missing or extra letter: an alphabetic word of ``SLIP_LEN`` or more letters may differ
  by one edit (two from ``2 * SLIP_LEN``); numbers and short words must match exactly, so
  "scene 12" never matches "scene 13". A phrase's edits are capped at (n - 3) // 3 for a key of
  n characters, so at least one of its trigrams survives and the trigram index finds it.

The store indexes the keys with an FTS5 trigram table to find candidates; ``find()`` checks them.
"""

from __future__ import annotations

import re
import unicodedata

from vsearch.speech.text import _STOPWORDS, quoted_phrases

SLIP_LEN = 5
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FOLD = str.maketrans({"o": "0", "i": "1", "l": "1"})
_INF = 1 << 20


def words(text: str) -> list[str]:
    """Lower-case words (letters and digits) of a text, NFKC-normalised."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def fold(text: str) -> str:
    """*text* with the look-alikes folded as keys fold them (o/0, i/l/1), character for character."""
    return text.translate(_FOLD)


def key(text: str) -> str:
    """The matching key of a text: its letters and digits, lower case, look-alikes folded."""
    return "".join(words(text)).translate(_FOLD)


def slips_allowed(word: str) -> int:
    """Edits a typed word may differ by: 0 for numbers and short words, 1 from SLIP_LEN letters, 2 from twice that."""
    if not word.isalpha() or len(word) < SLIP_LEN:
        return 0
    return 2 if len(word) >= 2 * SLIP_LEN else 1


class Pattern:
    """A typed phrase prepared for ``find``: its key, which characters may slip, the edit budget.

    Attributes:
        text: the phrase as words joined by spaces.
        key: the matching key.
        budget: edits allowed in all.
    """

    __slots__ = ("text", "key", "budget", "_soft")

    def __init__(self, phrase: str) -> None:
        ws = words(phrase)
        self.text = " ".join(ws)
        self.key = "".join(ws).translate(_FOLD)
        # b edits can break 3b trigrams of the key's n - 2: keep at least one, so the trigram
        # index finds every candidate (a lone five-letter word must match exactly)
        self.budget = min(sum(slips_allowed(w) for w in ws), max(0, (len(self.key) - 3) // 3))
        self._soft = [slips_allowed(w) > 0 for w in ws for _ in w]

    def __bool__(self) -> bool:
        return bool(self.key)

    def find(self, text_key: str) -> int | None:
        """Fewest edits with which the phrase occurs anywhere in *text_key*, or None beyond the budget."""
        p, t = self.key, text_key
        if not p:
            return None
        if p in t:
            return 0
        if self.budget == 0:
            return None
        soft = self._soft
        n = len(t)
        # Sellers' approximate substring match: row j of the text starts free (cost 0);
        # editing a character of a number or a short word is not allowed (infinite cost).
        prev = [0] * (n + 1)
        for i, pc in enumerate(p):
            c = 1 if soft[i] else _INF
            cur = [prev[0] + c] + [0] * n
            for j in range(1, n + 1):
                best = prev[j - 1] + (0 if t[j - 1] == pc else c)
                if prev[j] + c < best:  # the phrase's character is missing from the text
                    best = prev[j] + c
                if cur[j - 1] + c < best:  # an extra character in the text
                    best = cur[j - 1] + c
                cur[j] = best
            prev = cur
            if min(prev) > self.budget:
                return None
        best = min(prev)
        return best if best <= self.budget else None


def unquoted(query: str) -> str:
    """*query* without its quoted phrases (an unclosed quote runs to the end)."""
    return re.sub(r'"[^"]*"?', " ", query)


def query_patterns(query: str) -> tuple[list[Pattern], list[Pattern]]:
    """(quoted phrases, unquoted content words) of a query, as patterns.

    Quoted phrases must all occur; the unquoted words (stop words dropped when others remain)
    count towards a partial word match.
    """
    phrases = [Pattern(p) for p in quoted_phrases(query)]
    ws = list(dict.fromkeys(words(unquoted(query))))
    content = [w for w in ws if w not in _STOPWORDS]
    return [p for p in phrases if p], [Pattern(w) for w in (content or ws)]


def trigram_expr(patterns: list[Pattern]) -> str:
    """An FTS5 trigram ``MATCH`` expression that finds every key a pattern could occur in.

    A pattern with budget b and a key of length n keeps at least n - 2 - 3b of its n - 2 trigrams
    under b edits; the OR of all trigrams is a superset of the matches (checked with ``find``).
    Patterns shorter than three characters have no trigram and are not covered (empty string
    when none is left).
    """
    grams: dict[str, None] = {}
    for pat in patterns:
        k = pat.key
        for i in range(len(k) - 2):
            grams.setdefault(k[i : i + 3], None)
    return " OR ".join('"' + g + '"' for g in grams)
