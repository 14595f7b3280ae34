"""Per-query expert weights from the text encoder, and calibrated fusion (issue 17.2): a query
about what is said leans on speech, one about appearance on the visual expert, and a verbatim
quoted phrase beats a visual near-miss."""

from __future__ import annotations

import pytest

from vsearch.query import gating
from vsearch.speech.fusion import SpeechHit, fuse
from vsearch.types import Moment


@pytest.fixture(scope="module")
def encoder():  # noqa: ANN201 - the real MiniLM sentence encoder (the starter's text tower)
    from vsearch.speech.text import SentenceEncoder

    return SentenceEncoder(device="cpu")


#: The gating as measured (off by default: docs/MODELS.md, "Expert gating").
MEASURED = {"temperature": 0.05, "quoted_visual": 0.5}


def _weights(encoder, text: str, quoted: bool = False) -> dict[str, float]:  # noqa: ANN001
    return gating.weights(encoder.encode([text])[0], gating.prototypes(encoder), quoted=quoted, **MEASURED)


def test_queries_about_speech_lean_on_speech_and_appearance_on_visual(encoder) -> None:  # noqa: ANN001
    said = _weights(encoder, "the moment someone says the launch was delayed")
    seen = _weights(encoder, "a rocket lifting off from the launch pad in a cloud of smoke")
    assert said["speech"] == 1.0 and said["visual"] < 0.7
    assert seen["visual"] == 1.0 and seen["speech"] < 0.7
    written = _weights(encoder, "a sign that reads exit above the door")
    assert written["text"] == 1.0


def test_a_quoted_phrase_gives_the_text_experts_full_weight(encoder) -> None:  # noqa: ANN001
    w = _weights(encoder, '"a rocket lifting off"', quoted=True)
    assert w["speech"] == w["text"] == 1.0 and w["visual"] <= MEASURED["quoted_visual"]


def test_a_verbatim_quoted_phrase_beats_a_visual_near_miss(encoder) -> None:  # noqa: ANN001
    query = '"we will be back after the break"'
    # a calibrated visual moment of something the words merely evoke, more confident on its own
    # than the spoken sentence (FTS match, modest MiniLM similarity): the held-out failure
    near_miss = Moment(path="/v/studio.mp4", start=10.0, end=14.0, score=0.87, best_time=11.0, video_id=1)
    said = SpeechHit(video_id=2, path="/v/show.mp4", start=30.0, end=32.5, text="we will be back after the break",
                     semantic=0.40, fts=True)
    plain = fuse([near_miss], [said], visual_calibrated=True)
    assert plain[0].path == "/v/studio.mp4"  # without gating the visual near-miss wins
    gated = fuse([near_miss], [said], visual_calibrated=True, weights=_weights(encoder, query, quoted=True))
    assert gated[0].path == "/v/show.mp4" and gated[0].source == "speech"


def test_gating_off_gives_every_expert_full_weight(encoder) -> None:  # noqa: ANN001
    w = gating.weights(encoder.encode(["someone says hello"])[0], gating.prototypes(encoder), quoted=False)
    assert set(w.values()) == {1.0}  # the default
