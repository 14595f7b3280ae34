"""Matching typed words against OCR text: spacing, look-alikes and one slip in a long word."""

from __future__ import annotations

import sqlite3

from hypothesis import given, settings
from hypothesis import strategies as st

from vsearch.ocr.text import Pattern, key, query_patterns, slips_allowed, trigram_expr


def test_key_drops_spacing_and_punctuation_and_folds_look_alikes() -> None:
    assert key("Scene 12, take 3") == key("SCENE12TAKE 3") == "scene12take3"
    assert key("OFFICE") == key("0FFICE") and key("EXIT") == key("EXlT")


def test_one_wrong_letter_still_matches_a_long_word_but_numbers_and_short_words_are_exact() -> None:
    assert Pattern("scene 12").find(key("SCEME 12 TAKE 3")) == 1  # wrong letter
    assert Pattern("scene 12").find(key("SCNE12")) == 1  # missing letter
    assert Pattern("extinguisher").find(key("FIRE EXTINGUSHER")) == 1
    assert Pattern("scene 12").find(key("SCENE 13")) is None  # a number never slips
    assert Pattern("exit").find(key("EXAT")) is None  # a short word never slips
    assert Pattern("marine biologist").find(key("Dr. Maria Lopez Marine Biologist")) == 0
    assert Pattern("scene 12").find(key("SCEMF 12")) is None  # two slips in a 5-letter word
    assert Pattern("scene").find(key("SCEME")) is None  # alone, too short to find by trigrams


def test_slip_budget_grows_with_word_length() -> None:
    assert [slips_allowed(w) for w in ("exit", "scene", "12345", "extinguisher")] == [0, 1, 0, 2]


def test_query_patterns_split_quoted_phrases_from_content_words() -> None:
    phrases, words = query_patterns('"scene 12" the slate for take')
    assert [p.text for p in phrases] == ["scene 12"]
    assert [w.text for w in words] == ["slate", "take"]
    phrases, words = query_patterns('"unclosed quote')
    assert [p.text for p in phrases] == ["unclosed quote"] and words == []


def _fts(keys: list[str]) -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    c.execute("CREATE VIRTUAL TABLE t USING fts5(k, tokenize='trigram')")
    c.executemany("INSERT INTO t(rowid, k) VALUES (?, ?)", list(enumerate(keys)))
    return c


@settings(max_examples=60, deadline=None)
@given(
    word=st.text(alphabet="abcdefghjkmnpqrstuvwxyz", min_size=6, max_size=14),
    pos=st.integers(min_value=0, max_value=13),
    ch=st.sampled_from("abcdefghjkmnpqrstuvwxyz"),
    pre=st.text(alphabet="abc xyz", max_size=6),
)
def test_trigram_candidates_cover_every_slip_tolerant_match(word: str, pos: int, ch: str, pre: str) -> None:
    pos %= len(word)
    shown = pre + word[:pos] + ch + word[pos + 1 :] + " end"  # one letter misread
    pat = Pattern(word)
    assert pat.find(key(shown)) is not None
    c = _fts([key(shown), "unrelated"])
    expr = trigram_expr([pat])
    assert 0 in [r[0] for r in c.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,))]
