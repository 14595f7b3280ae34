"""User settings: a frozen dataclass saved as TOML in the config folder, atomically."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from vsearch import log
from vsearch.atomic import atomic_write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True, slots=True)
class Settings:
    """What the user can change; remembered between runs.

    Attributes:
        model: embedding model name ("" = the library's active model, or the default).
        device: "auto", "cpu", "cuda", "mps".
        precision: "auto" (fp16 on GPUs, bf16 on CPUs with hardware bfloat16, else fp32),
            "fp32", "bf16" or "fp16".
        sampling: "keyframe" (fast, default) or "exact" (one frame every ``interval`` s).
        interval: seconds between samples in exact mode; the longest gap in keyframe mode.
        batch: frames per embedding batch.
        speech: transcribe audio tracks while indexing.
        ocr: read on-screen text while indexing (after frames and speech).
        hw_decode: FFmpeg hardware decoder to use ("cuda" for NVIDIA's NVDEC, "vaapi",
            "videotoolbox"; "" = software). Falls back to software where it is unavailable.
        skip_similar: drop a sample that barely differs from the last kept one (mean absolute
            difference of 16x16 grey thumbnails, 0-1 scale); None keeps every sample.
        min_score: default relevance floor for searches (None: automatic).
        querybank: normalise visual scores against the model's query bank (hubness
            correction and calibrated scores; vsearch.query.bank). Off: raw cosines.
        library: library folder chosen in the app ("" = default location).
    """

    model: str = ""
    device: str = "auto"
    precision: str = "auto"
    sampling: str = "keyframe"
    interval: float = 1.0
    batch: int = 32
    speech: bool = True
    ocr: bool = True
    hw_decode: str = ""
    skip_similar: float | None = 0.02
    min_score: float | None = None
    querybank: bool = True
    library: str = ""
    watch_folders: bool = True  # the app rescans when files change in a local library folder

    def replace(self, **changes: object) -> Settings:
        """A copy with *changes* applied (field name -> new value)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]  # field names checked by dataclasses.replace


def load(path: Path) -> Settings:
    """Read settings; a missing or broken file gives the defaults (logged, never fatal)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        log.store.warning("ignoring unreadable settings %s: %s", path, e)
        return Settings()
    known = {f.name: f for f in fields(Settings)}
    kwargs = {}
    for k, v in data.items():
        if k in known and v is not None:
            kwargs[k] = v
    try:
        return Settings(**kwargs)
    except TypeError:
        return Settings()


def save(path: Path, settings: Settings) -> None:
    """Write *settings* to *path* as TOML, atomically (only values that differ from None)."""
    lines = []
    for f in fields(Settings):
        v = getattr(settings, f.name)
        if v is None:
            continue
        if isinstance(v, bool):
            lines.append(f"{f.name} = {'true' if v else 'false'}")
        elif isinstance(v, (int, float)):
            lines.append(f"{f.name} = {v!r}")
        else:
            s = str(v).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{f.name} = "{s}"')
    with atomic_write(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
