"""Speech search through the service: transcripts while indexing, paraphrase and exact-phrase queries."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers.speech import make_silent_video, make_speech_video, require_espeak
from vsearch.service import Service

SENTENCES = [
    "Welcome to the quarterly planning meeting.",
    "Our travel budget will be cut by half next year.",
    "The new office opens in the spring.",
]


def corrupt_audio_only(src: Path, dst: Path) -> Path:
    """Remux *src* keeping the video packets intact and replacing every audio packet with noise."""
    rng = np.random.default_rng(3)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin, ain = inp.streams.video[0], inp.streams.audio[0]
        vout = out.add_stream_from_template(vin)
        aout = out.add_stream_from_template(ain)
        for pkt in inp.demux(vin, ain):
            if pkt.dts is None:
                continue
            if pkt.stream is ain:
                noise = av.Packet(rng.integers(0, 256, max(8, pkt.size), dtype=np.uint8).tobytes())
                noise.pts, noise.dts, noise.time_base = pkt.pts, pkt.dts, pkt.time_base
                noise.stream = aout
                out.mux(noise)
            else:
                pkt.stream = vout
                out.mux(pkt)
    return dst


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[float, float]]]:
    require_espeak()
    d = tmp_path_factory.mktemp("talks")
    path, spans = make_speech_video(d / "meeting.mp4", SENTENCES, gap=1.5)
    make_silent_video(d / "silent.mp4", duration=3.0)
    tmp = tmp_path_factory.mktemp("src")
    src, _ = make_speech_video(tmp / "src.mp4", ["This audio track will be damaged on purpose."], gap=0.5)
    corrupt_audio_only(src, d / "bad audio.mp4")
    return d, spans


def test_paraphrase_finds_the_sentence(tmp_path: Path, talk: tuple[Path, list[tuple[float, float]]]) -> None:
    folder, spans = talk
    with Service(tmp_path / "lib", model="test-color") as svc:
        stats = svc.index([folder])
        # the silent and the corrupt-audio videos index without error (frames are fine)
        assert stats.failed == 0 and stats.indexed == 3
        lines = svc.transcript(svc.library.video_by_path(str(folder / "meeting.mp4")).id)
        assert len(lines) >= 2
        res = svc.search("they will spend less money on trips", k=5)
        top = res[0]
        assert top.path.endswith("meeting.mp4") and "speech" in top.source and top.text
        assert abs(top.start - spans[1][0]) <= 1.0
        # exact phrase in quotes: matched through FTS, only the right sentence
        exact = svc.search('"new office opens"', k=3, only="speech")
        assert exact and exact[0].path.endswith("meeting.mp4")
        assert abs(exact[0].start - spans[2][0]) <= 1.0
        # restricting to the visual expert gives no speech results
        assert all(m.source == "visual" for m in svc.search("travel budget", only="visual"))
