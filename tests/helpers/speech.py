"""Test videos with real speech: espeak-ng sentences separated by silence, muxed with plain frames."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np

RATE = 22050  # espeak-ng's native rate; the AAC encoder takes it as is

#: Level (int16) above which a sample counts as speech when trimming espeak's own padding.
_SILENCE_LEVEL = 300


def espeak_available() -> bool:
    """Whether the espeak-ng binary is on PATH."""
    return shutil.which("espeak-ng") is not None


def require_espeak() -> None:
    """Skip the calling test when espeak-ng is missing (CI installs it with apt)."""
    import pytest

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")


def speak(text: str, *, voice: str = "en-us", speed: int = 160) -> np.ndarray:
    """Synthesize one sentence with espeak-ng.

    Args:
        text: what to say.
        voice: espeak-ng voice name.
        speed: words per minute.

    Returns:
        int16 mono samples at ``RATE`` Hz with espeak's leading and trailing silence trimmed.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = Path(tmp) / "s.wav"
        # An argument list, never a shell: the sentence may hold any character.
        subprocess.run(
            [exe, "-v", voice, "-s", str(speed), "-w", str(wav_path), "--", text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        with wave.open(str(wav_path), "rb") as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2
            rate = w.getframerate()
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    if rate != RATE:
        idx = np.linspace(0, len(samples) - 1, int(len(samples) * RATE / rate)).astype(np.int64)
        samples = samples[idx]
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_LEVEL)
    if len(loud) == 0:
        return samples
    return samples[loud[0] : loud[-1] + 1].copy()


def _frames(n: int, size: tuple[int, int]) -> np.ndarray:
    """A slowly changing colour card so the video stream is valid and cheap to encode."""
    w, h = size
    out = np.empty((n, h, w, 3), dtype=np.uint8)
    for i in range(n):
        out[i] = ((i * 3) % 256, 80, (255 - i * 3) % 256)
    return out


def mux(
    path: Path,
    audio: np.ndarray | None,
    *,
    duration: float,
    fps: int = 5,
    size: tuple[int, int] = (96, 64),
) -> Path:
    """Write an MP4 with an MPEG-4 video stream and (when ``audio`` is given) an AAC mono track.

    Args:
        path: output file.
        audio: int16 mono samples at ``RATE`` Hz, or None for a file without audio.
        duration: video length in seconds.
        fps: frame rate of the generated frames.
        size: (width, height) of the frames.
    """
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=fps)
        vs.width, vs.height = size
        vs.pix_fmt = "yuv420p"
        as_ = None
        if audio is not None:
            as_ = out.add_stream("aac", rate=RATE, layout="mono")
        n_frames = max(1, int(round(duration * fps)))
        for img in _frames(n_frames, size):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
        if as_ is not None and audio is not None:
            chunk = 1024
            pts = 0
            for i in range(0, len(audio), chunk):
                part = np.ascontiguousarray(audio[i : i + chunk].reshape(1, -1))
                aframe = av.AudioFrame.from_ndarray(part, format="s16", layout="mono")
                aframe.sample_rate = RATE
                aframe.pts = pts
                aframe.time_base = Fraction(1, RATE)
                pts += part.shape[1]
                for pkt in as_.encode(aframe):
                    out.mux(pkt)
            for pkt in as_.encode(None):
                out.mux(pkt)
    return path


def make_speech_video(
    path: str | Path,
    sentences: list[str],
    gap: float = 1.5,
    *,
    lead: float = 1.0,
    tail: float = 1.0,
    fps: int = 5,
    size: tuple[int, int] = (96, 64),
) -> tuple[Path, list[tuple[float, float]]]:
    """Write a video whose audio speaks ``sentences`` one after another with silence between.

    Args:
        path: output ``.mp4``.
        sentences: what is said, in order.
        gap: seconds of silence between sentences.
        lead: seconds of silence before the first sentence (so "starts at the sentence,
            not at the silence before it" can be checked).
        tail: seconds of silence after the last sentence.
        fps: frame rate of the generated frames.
        size: (width, height) of the frames.

    Returns:
        The path, and each sentence's true (start, end) in seconds, measured on the
        trimmed speech samples.
    """
    parts: list[np.ndarray] = [np.zeros(int(lead * RATE), dtype=np.int16)]
    spans: list[tuple[float, float]] = []
    cursor = len(parts[0])
    for i, text in enumerate(sentences):
        if i:
            silence = np.zeros(int(gap * RATE), dtype=np.int16)
            parts.append(silence)
            cursor += len(silence)
        said = speak(text)
        spans.append((cursor / RATE, (cursor + len(said)) / RATE))
        parts.append(said)
        cursor += len(said)
    parts.append(np.zeros(int(tail * RATE), dtype=np.int16))
    audio = np.concatenate(parts)
    out = mux(Path(path), audio, duration=len(audio) / RATE, fps=fps, size=size)
    return out, spans


def make_silent_video(path: str | Path, duration: float = 2.0, **kwargs: object) -> Path:
    """Write a video with no audio stream at all."""
    return mux(Path(path), None, duration=duration, **kwargs)  # type: ignore[arg-type]


def make_corrupt_audio_video(path: str | Path, sentences: list[str] | None = None) -> Path:
    """Write a speech video, then overwrite most of its media data with random bytes.

    PyAV's MP4 muxer writes ``ftyp``, then ``mdat`` (the packets), then ``moov`` (the index)
    at the end. Bytes 64 to 70 % of the file lie inside ``mdat``, so the file still opens and
    lists an audio stream, but its AAC packets are noise.
    """
    path = Path(path)
    make_speech_video(path, sentences or ["This audio track will be damaged on purpose."], gap=0.5)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(7)
    start = 64
    end = max(start + 1, int(len(data) * 0.7))
    data[start:end] = rng.integers(0, 256, end - start, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    return path
