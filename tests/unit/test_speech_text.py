"""FTS5 query building never breaks SQLite and finds phrases; the sentence encoder gives unit vectors."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vsearch.speech.text import SentenceEncoder, fts_coverage, fts_query, quoted_phrases, slip_query

LINES = [
    "My grandmother baked a chocolate cake for the party.",
    "Please turn off the lights before leaving the office.",
    "The cake was chocolate, not vanilla.",
    "Café au lait costs two euros.",
    "I left the spare key under the blue flower part by the door.",  # Whisper's "pot" -> "part"
]


@pytest.fixture(scope="module")
def db() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE seg USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    conn.executemany("INSERT INTO seg(rowid, text) VALUES (?, ?)", list(enumerate(LINES)))
    return conn


def match(db: sqlite3.Connection, user_text: str) -> list[int]:
    expr = fts_query(user_text)
    if not expr:
        return []
    return [r[0] for r in db.execute("SELECT rowid FROM seg WHERE seg MATCH ? ORDER BY bm25(seg)", (expr,))]


def test_quoted_phrase_is_exact(db: sqlite3.Connection) -> None:
    assert match(db, '"chocolate cake"') == [0]
    assert match(db, '"cake chocolate"') == []
    assert match(db, '"the lights"  "leaving"') == [1]


def test_unquoted_words_are_ored_and_prefixed(db: sqlite3.Connection) -> None:
    assert set(match(db, "chocolate cake")) == {0, 2}
    assert match(db, "bake") == [0]  # prefix: baked
    assert match(db, "light switch") == [1]


def test_accents_and_case_do_not_matter(db: sqlite3.Connection) -> None:
    assert match(db, "CAFE") == [3]


@pytest.mark.parametrize(
    "text",
    [
        "NEAR(cake party)",
        "cake AND",
        "OR",
        '"',
        '""',
        "text:cake",
        "^cake",
        "cake*",
        "(cake",
        "it's",
        "a - b",
        '"unclosed phrase',
        'col:"x"',
        "*",
        "",
        "   ",
        "!!!",
        "NOT cake",
        "{text}: cake",
    ],
)
def test_fts_syntax_typed_by_the_user_is_just_text(db: sqlite3.Connection, text: str) -> None:
    match(db, text)  # must not raise sqlite3.OperationalError


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_input_is_a_valid_match_expression(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE seg USING fts5(text)")
    conn.execute("INSERT INTO seg(text) VALUES ('some words here')")
    match(conn, text)
    slips(conn, text)  # the quote-with-a-slip expression too (slip_query)
    slips(conn, '"' + text + ' one two three four"')


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=60))
def test_coverage_of_any_query_and_sentence_is_a_share(query: str, said: str) -> None:
    f = fts_coverage(query, said)
    assert 0.0 <= f <= 1.0
    if fts_query(query) and not quoted_phrases(query):
        assert fts_coverage(query, query) == 1.0  # a sentence that says the query holds all of it


def test_coverage_is_the_share_of_the_query_words_a_sentence_holds() -> None:
    said = "A carbon hot coffee on a wooden table is the best way to start the day"
    assert fts_coverage("coffee", said) == 1.0
    assert fts_coverage('"hot coffee"', said) == 1.0  # a quoted match already needs the phrase
    # ten content words, and only "car" (as the prefix of "carbon") is in the sentence
    long = "a young man in a suit and red bow tie talking in the back seat of a car"
    assert fts_coverage(long, said) == pytest.approx(1 / 10)
    assert fts_coverage("bake in a cafe", "Caf\u00e9s where she baked bread") == 1.0  # prefixes, accents
    assert fts_coverage("submarine", said) == 0.0


def test_stop_words_alone_still_search_and_nothing_gives_empty() -> None:
    assert fts_query("the cake") == '"cake"*'
    assert fts_query("the") == '"the"*'
    assert fts_query("?!") == ""
    assert quoted_phrases('say "Hello,   World" now') == ["Hello World"]


def test_encoder_gives_unit_384d_vectors_and_ranks_paraphrase_first() -> None:
    enc = SentenceEncoder()
    assert enc.encode([]).shape == (0, 384)
    v = enc.encode(LINES[:2] + ["grandma made a dessert for the celebration"])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[2] @ v[0] > v[2] @ v[1] + 0.2


def slips(db: sqlite3.Connection, user_text: str) -> list[int]:
    expr, _ = slip_query(user_text)
    return [r[0] for r in db.execute("SELECT rowid FROM seg WHERE seg MATCH ?", (expr,))] if expr else []


def test_a_long_quote_still_finds_a_sentence_with_one_word_misheard(db: sqlite3.Connection) -> None:
    assert match(db, '"under the blue flower pot"') == []  # exact: the recogniser heard "part"
    assert slips(db, '"under the blue flower pot"') == [4]
    assert slip_query('"under the blue flower pot"')[1] == pytest.approx(0.8)  # weighed below exact
    assert slips(db, '"the spare key under"') == [4]  # exact is a slip match too
    assert slips(db, '"under a green flower pot"') == []  # two words wrong
    assert slips(db, '"blue flower pot"') == []  # short phrases stay exact
    assert slips(db, '"key under the" "flower pot"') == []  # every phrase must match: the short one is exact
    assert slip_query("no quotes at all") == ("", 1.0)
