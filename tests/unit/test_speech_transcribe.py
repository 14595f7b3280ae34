"""Speech expert end to end on generated speech: transcription, sentence timing, search by meaning and phrase."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.speech import (
    make_corrupt_audio_video,
    make_silent_video,
    make_speech_video,
    require_espeak,
)
from vsearch.errors import MediaError, ModelMissing
from vsearch.speech.text import SentenceEncoder, fts_query
from vsearch.speech.transcribe import (
    Segment,
    Transcriber,
    TranscriptionError,
    Word,
    has_audio,
    resolve_model,
    split_sentences,
)

SENTENCES = [
    "The weather today is sunny and warm.",
    "My grandmother baked a chocolate cake for the party.",
    "Please turn off the lights before leaving the office.",
]


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber(device="cpu")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory, transcriber: Transcriber):
    require_espeak()
    path, spans = make_speech_video(tmp_path_factory.mktemp("speech") / "talk.mp4", SENTENCES, gap=1.5)
    return path, spans, transcriber.transcribe(path)


def _segment_at(segments: list[Segment], t: float) -> Segment:
    return min(segments, key=lambda s: abs(s.start - t))


def test_each_sentence_becomes_one_segment_starting_at_its_first_word(spoken) -> None:
    _path, spans, segments = spoken
    assert len(segments) == len(SENTENCES), [s.text for s in segments]
    for seg, (start, end) in zip(segments, spans, strict=True):
        # The player starts at the sentence, not in the 1.5 s of silence before it.
        assert abs(seg.start - start) < 0.5, (seg, start)
        assert abs(seg.end - end) < 0.7, (seg, end)
        assert seg.words and seg.words[0].start >= seg.start - 1.0
        assert seg.start <= seg.end


def test_paraphrase_of_second_sentence_finds_it_within_a_second(spoken) -> None:
    _path, spans, segments = spoken
    enc = SentenceEncoder()
    vecs = enc.encode([s.text for s in segments])
    query = enc.encode(["grandma made a dessert for the celebration"])[0]
    best = segments[int(np.argmax(vecs @ query))]
    assert abs(best.start - spans[1][0]) <= 1.0, (best, spans[1])


def _fts_table(segments: list[Segment]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE seg USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    db.executemany(
        "INSERT INTO seg(rowid, text) VALUES (?, ?)", [(i, s.text) for i, s in enumerate(segments)]
    )
    return db


def test_quoted_phrase_matches_only_the_segment_that_says_it(spoken) -> None:
    _path, spans, segments = spoken
    db = _fts_table(segments)
    rows = db.execute("SELECT rowid FROM seg WHERE seg MATCH ?", (fts_query('"chocolate cake"'),)).fetchall()
    assert [segments[r[0]].start for r in rows] == [_segment_at(segments, spans[1][0]).start]
    # the words in another order are not the phrase
    assert (
        db.execute("SELECT rowid FROM seg WHERE seg MATCH ?", (fts_query('"cake chocolate"'),)).fetchall()
        == []
    )
    rows = db.execute(
        "SELECT rowid FROM seg WHERE seg MATCH ?", (fts_query('"turn off the lights"'),)
    ).fetchall()
    assert [r[0] for r in rows] == [2]


def test_words_json_round_trips_word_times(spoken) -> None:
    _path, _spans, segments = spoken
    rows = segments[1].words_json()
    assert [r[2] for r in rows] == [w.text for w in segments[1].words]
    assert all(a <= b for a, b, _t in rows)


def test_video_without_audio_skips_cleanly(tmp_path: Path, transcriber: Transcriber) -> None:
    path = make_silent_video(tmp_path / "silent.mp4", duration=1.0)
    assert has_audio(path) is False
    assert transcriber.transcribe(path) == []


def test_corrupt_audio_track_is_a_one_line_media_error_or_nothing(
    tmp_path: Path, transcriber: Transcriber
) -> None:
    require_espeak()
    path = make_corrupt_audio_video(tmp_path / "bad.mp4")
    try:
        segments = transcriber.transcribe(path)
    except TranscriptionError as exc:
        assert isinstance(exc, MediaError)
        assert "\n" not in str(exc) and "bad.mp4" in str(exc)
    else:
        assert segments == [] or all(isinstance(s, Segment) for s in segments)


def test_truncated_and_non_video_files_raise_transcription_error(
    tmp_path: Path, transcriber: Transcriber
) -> None:
    require_espeak()
    good, _ = make_speech_video(tmp_path / "good.mp4", ["Short clip."], gap=0.5)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:2000])
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all\n" * 50)
    for path in (cut, junk):
        with pytest.raises(TranscriptionError) as info:
            transcriber.transcribe(path)
        assert "\n" not in str(info.value)


def test_model_id_names_model_and_precision() -> None:
    t = Transcriber("tiny.en", compute_type="int8")
    assert t.model_id == "whisper:tiny.en:int8:v1"
    assert t.english_only


def test_a_larger_model_that_was_never_downloaded_says_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(ModelMissing, match="small.en"):
        resolve_model("small.en", tmp_path)
    assert (resolve_model("tiny.en") / "model.bin").is_file()


# ---- sentence splitting on word timestamps (no model needed)


def _words(spec: list[tuple[float, float, str]]) -> list[Word]:
    return [Word(a, b, t) for a, b, t in spec]


def test_split_at_sentence_end_and_long_pause() -> None:
    words = _words(
        [
            (0.0, 0.3, "Hello"),
            (0.3, 0.6, "there."),
            (0.7, 1.0, "How"),
            (1.0, 1.2, "are"),
            (1.2, 1.5, "you"),
            (3.0, 3.3, "fine"),
            (3.3, 3.6, "thanks"),
        ]
    )
    segs = split_sentences(words)
    assert [s.text for s in segs] == ["Hello there.", "How are you", "fine thanks"]
    assert [(s.start, s.end) for s in segs] == [(0.0, 0.6), (0.7, 1.5), (3.0, 3.6)]


def test_first_word_snaps_to_speech_onset_not_into_silence() -> None:
    # Whisper put "Please" 0.4 s after the speech began: start at the onset.
    late = split_sentences(_words([(9.3, 9.34, "Please"), (9.34, 9.6, "go.")]), [(8.9, 9.7)])
    assert late[0].start == pytest.approx(8.9)
    # Whisper put "my" in the silence 0.3 s before the speech: start at the onset, not before.
    early = split_sentences(_words([(4.3, 4.9, "my"), (4.9, 5.3, "cake.")]), [(1.0, 3.1), (4.6, 5.4)])
    assert early[0].start == pytest.approx(4.6)
    # A word well inside speech keeps its own time.
    mid = split_sentences(_words([(2.0, 2.2, "and"), (2.2, 2.5, "so.")]), [(1.0, 3.1)])
    assert mid[0].start == pytest.approx(2.0)


def test_words_in_different_speech_regions_are_different_segments() -> None:
    words = _words([(1.0, 1.5, "warm"), (1.9, 2.2, "my"), (2.2, 2.6, "grandmother")])
    segs = split_sentences(words, [(0.9, 1.6), (1.85, 2.7)])
    assert [s.text for s in segs] == ["warm", "my grandmother"]


def test_run_on_speech_is_cut_at_its_widest_gap() -> None:
    words = [Word(i * 0.5, i * 0.5 + 0.4, f"w{i}") for i in range(40)]  # 20 s, no punctuation
    words[20] = Word(10.3, 10.4, "w20")  # widest gap before it
    segs = split_sentences(words, max_len=15.0)
    assert len(segs) == 2 and segs[1].words[0].text == "w20"
    assert all(s.end - s.start <= 15.0 for s in segs)


def test_no_words_no_segments() -> None:
    assert split_sentences([]) == []


def test_auto_device_falls_back_to_cpu_without_a_usable_gpu() -> None:
    from vsearch.speech.transcribe import pick_device

    assert pick_device("cpu") == "cpu"
    assert pick_device("cuda") == "cuda"  # an explicit choice is the user's
    assert pick_device("auto") in ("cpu", "cuda")
