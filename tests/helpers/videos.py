"""Tiny synthetic videos (and broken files) for tests, made with PyAV only."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np

from vsearch.embed.testing import COLORS

# one palette for the generated videos and the colour test embedder that searches them
COLOURS: dict[str, tuple[int, int, int]] = {**COLORS, "gray": COLORS["grey"]}

DEFAULT_SEGMENTS: tuple[tuple[str, float], ...] = (("red", 2.0), ("blue", 1.5))

HOSTILE_KINDS = ("zero", "random", "text", "truncated", "no_moov", "audio_only", "cut_tail")


def colour_rgb(name: str) -> tuple[int, int, int]:
    """Return the RGB triple used for colour *name* (KeyError for unknown names)."""
    return COLOURS[name]


def _frame_image(
    rgb: tuple[int, int, int], index: int, width: int, height: int, rng: np.random.Generator
) -> np.ndarray:
    img = np.empty((height, width, 3), dtype=np.int16)
    img[:] = rgb
    img += np.int16(rng.integers(-4, 5))  # a little flicker per frame
    # A small moving square (1/8 of the short side) so consecutive frames differ.
    side = max(2, min(width, height) // 8)
    x = (index * 3) % max(1, width - side)
    y = (index * 2) % max(1, height - side)
    img[y : y + side, x : x + side] = 255 - np.asarray(rgb, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def segment_at(segments: Sequence[tuple[str, float]], t: float) -> str:
    """Return the colour name shown at time *t* seconds."""
    acc = 0.0
    for name, length in segments:
        acc += length
        if t < acc:
            return name
    return segments[-1][0]


def make_video(
    path: str | os.PathLike[str],
    segments: Sequence[tuple[str, float]] = DEFAULT_SEGMENTS,
    fps: int = 10,
    size: tuple[int, int] = (160, 96),
    codec: str = "libx264",
    gop: int | None = None,
    audio: str | os.PathLike[str] | None = None,
    rotate: int | None = None,
    seed: int = 0,
    faststart: bool = False,
    preset: str = "ultrafast",
) -> Path:
    """Write a small video of solid-colour segments and return its path.

    Args:
        path: output file; the container follows the extension (.mp4, .mkv, .webm, ...).
        segments: (colour name, seconds) in order; see COLOURS.
        fps: frames per second (integer).
        size: (width, height) as stored (before any rotation); even numbers for H.264.
        codec: PyAV encoder name ("libx264", "mpeg4", "libvpx-vp9", "mjpeg", ...).
        gop: keyframe interval in frames (None: the encoder's default, x264 uses 250).
        audio: a sound file to mux as AAC (for speech tests); cut to the video's length.
        rotate: display rotation in degrees (90, 180, 270) written as a display matrix:
            players show the picture turned by this many degrees clockwise.
        seed: seed of the frame flicker.
        faststart: MP4/MOV only: put the index (moov) before the data, as web videos do,
            so a file cut short still opens.
        preset: x264 preset; "ultrafast" (default) has no B-frames, "veryfast" and slower
            reorder frames as most real files do.

    Returns:
        The output path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = size
    rng = np.random.default_rng(seed)
    total = sum(length for _, length in segments)
    n_frames = max(1, round(total * fps))
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        if gop is not None:
            stream.codec_context.gop_size = gop
            if codec == "libx264":
                stream.codec_context.options = {"x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        elif codec == "libx264":
            stream.codec_context.options = {"x264-params": "scenecut=0"}
        if codec == "libx264":
            opts = dict(stream.codec_context.options)
            opts["preset"] = preset
            stream.codec_context.options = opts
        if rotate:
            # FFmpeg's display matrix rotates counter-clockwise; the 'rotate' tag convention is clockwise.
            stream.set_display_rotation(-float(rotate))
        a_stream = None
        a_frames: list[av.AudioFrame] = []
        if audio is not None:
            a_stream, a_frames = _prepare_audio(out, Path(audio), total)
        for i in range(n_frames):
            t = i / fps
            img = _frame_image(colour_rgb(segment_at(segments, t)), i, width, height, rng)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if a_stream is not None:
            for af in a_frames:
                out.mux(a_stream.encode(af))
            out.mux(a_stream.encode(None))
    return path


def _prepare_audio(
    out: av.container.OutputContainer, audio: Path, max_seconds: float
) -> tuple[av.audio.stream.AudioStream, list[av.AudioFrame]]:
    rate = 16000
    a_stream = out.add_stream("aac", rate=rate)
    a_stream.layout = "mono"
    resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate, frame_size=1024)
    frames: list[av.AudioFrame] = []
    limit = int(max_seconds * rate)
    done = 0
    with av.open(str(audio)) as src:
        for frame in src.decode(audio=0):
            frame.pts = None
            for rf in resampler.resample(frame):
                if done >= limit:
                    break
                rf.pts = done
                done += rf.samples
                frames.append(rf)
        for rf in resampler.resample(None):
            if done >= limit:
                break
            rf.pts = done
            done += rf.samples
            frames.append(rf)
    return a_stream, frames


def make_wav(
    path: str | os.PathLike[str], seconds: float = 1.0, freq: float = 440.0, rate: int = 16000
) -> Path:
    """Write a mono 16-bit sine-tone WAV (a stand-in for speech where words do not matter)."""
    path = Path(path)
    n = int(seconds * rate)
    samples = (0.3 * 32767 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.int16)
    with av.open(str(path), mode="w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        for start in range(0, n, 1024):
            chunk = samples[start : start + 1024].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_hostile(kind: str, path: str | os.PathLike[str]) -> Path:
    """Write a file that looks like a video by name but is not a readable one.

    Args:
        kind: "zero" (empty file), "random" (random bytes), "text" (a text file),
            "truncated" (a real MP4 cut in half, moov at the end so it is lost),
            "no_moov" (only the first few KB of an MP4), "audio_only" (an M4A-like MP4 with only sound),
            "cut_tail" (a faststart MP4, red 2 s + green 2 s + blue 2 s, cut at 60%: it opens,
            and about the first 3.4 s decode - a half-finished download).
            All but "cut_tail" make probe() fail.
        path: where to write it; the extension is kept as given.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "zero":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(1).integers(0, 256, size=50_000, dtype=np.uint8).tobytes())
    elif kind == "text":
        path.write_text("This is not a video.\nJust some text pretending to be one.\n" * 50, encoding="utf-8")
    elif kind in ("truncated", "no_moov"):
        tmp = path.with_name(path.stem + ".full.mp4")
        make_video(tmp, segments=[("red", 2.0), ("green", 2.0)], gop=10)
        data = tmp.read_bytes()
        tmp.unlink()
        keep = len(data) // 2 if kind == "truncated" else min(4096, len(data) // 4)
        path.write_bytes(data[:keep])
    elif kind == "cut_tail":
        tmp = path.with_name(path.stem + ".full.mp4")
        make_video(tmp, segments=[("red", 2.0), ("green", 2.0), ("blue", 2.0)], gop=10, faststart=True)
        data = tmp.read_bytes()
        tmp.unlink()
        path.write_bytes(data[: int(len(data) * 0.6)])
    elif kind == "audio_only":
        wav = path.with_name(path.stem + ".tmp.wav")
        make_wav(wav, seconds=1.0)
        with av.open(str(path), mode="w", format="mp4") as out:
            a_stream, frames = _prepare_audio(out, wav, 1.0)
            for af in frames:
                out.mux(a_stream.encode(af))
            out.mux(a_stream.encode(None))
        wav.unlink()
    else:
        raise ValueError(f"unknown hostile kind {kind!r}; one of {HOSTILE_KINDS}")
    return path
