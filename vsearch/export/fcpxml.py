"""FCPXML 1.9 export: a project with the moments in a row, for Final Cut Pro and DaVinci Resolve."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from vsearch.export.base import (
    ExportOptions,
    SingleFileExporter,
    file_uri,
    media_facts,
    timeline_fps,
    title_for,
)
from vsearch.export.timecode import default_drop_frame, exact_rate, seconds_to_frames
from vsearch.types import Moment

FCPXML_VERSION = "1.9"


def rational(t: Fraction) -> str:
    """FCPXML time: ``"0s"``, ``"3s"`` or ``"1001/30000s"``."""
    t = Fraction(t)
    if t.denominator == 1:
        return f"{t.numerator}s"
    return f"{t.numerator}/{t.denominator}s"


def frame_time(frames: int, fps: float) -> str:
    """The FCPXML time of *frames* frames at *fps* (always on a frame boundary)."""
    return rational(Fraction(frames) / exact_rate(fps))


class FcpxmlExporter(SingleFileExporter):
    """FCPXML (version 1.9): File > Import > XML in Final Cut Pro; File > Import > Timeline in Resolve.

    One event holds one project whose primary storyline plays the moments in rank order;
    every file is an ``asset`` (with its own ``format``: rate and size) whose ``media-rep``
    points at the file's percent-encoded ``file://`` URL. Each clip carries a marker at the
    moment's best frame named after its rank, score and the query.
    """

    name = "fcpxml"
    extension = ".fcpxml"
    description = "FCPXML 1.9 timeline (Final Cut Pro, DaVinci Resolve)"

    def render(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> bytes:
        """The FCPXML document as UTF-8 bytes."""
        tl_fps = timeline_fps(ms, options)
        title = title_for(query, options)
        first = media_facts(ms[0])
        root = ET.Element("fcpxml", version=FCPXML_VERSION)
        resources = ET.SubElement(root, "resources")
        ids = iter(f"r{i}" for i in range(1, 1_000_000))
        formats: dict[tuple[Fraction, int, int], str] = {}

        def format_id(fps: float, width: int, height: int) -> str:
            key = (exact_rate(fps), width, height)
            if key not in formats:
                formats[key] = fid = next(ids)
                ET.SubElement(
                    resources,
                    "format",
                    id=fid,
                    frameDuration=rational(1 / key[0]),
                    width=str(width),
                    height=str(height),
                )
            return formats[key]

        seq_format = format_id(tl_fps, first.width, first.height)
        assets: dict[str, str] = {}
        for m in ms:
            if m.path in assets:
                continue
            facts = media_facts(m)
            fid = format_id(facts.fps, facts.width, facts.height)
            aid = assets[m.path] = next(ids)
            attrs = {
                "id": aid,
                "name": Path(m.path).stem,
                "start": "0s",
                "duration": frame_time(max(1, seconds_to_frames(facts.duration, facts.fps)), facts.fps),
                "hasVideo": "1",
                "format": fid,
                "videoSources": "1",
            }
            if facts.has_audio:
                attrs.update(
                    hasAudio="1",
                    audioSources="1",
                    audioChannels=str(facts.audio_channels),
                    audioRate=str(facts.audio_rate),
                )
            asset = ET.SubElement(resources, "asset", attrs)
            ET.SubElement(asset, "media-rep", kind="original-media", src=file_uri(m.path))

        library = ET.SubElement(root, "library")
        event = ET.SubElement(library, "event", name="vsearch")
        project = ET.SubElement(event, "project", name=title)
        tc_format = (
            "DF"
            if (options.drop_frame if options.drop_frame is not None else default_drop_frame(tl_fps))
            and default_drop_frame(tl_fps)
            else "NDF"
        )
        sequence = ET.SubElement(
            project,
            "sequence",
            format=seq_format,
            tcStart="0s",
            tcFormat=tc_format,
            audioLayout="stereo",
            audioRate="48k",
        )
        spine = ET.SubElement(sequence, "spine")
        offset = 0
        for rank, m in enumerate(ms, 1):
            facts = media_facts(m)
            src_in = seconds_to_frames(m.start, facts.fps)
            src_out = max(src_in + 1, seconds_to_frames(m.end, facts.fps))
            length = max(1, seconds_to_frames(Fraction(src_out - src_in) / exact_rate(facts.fps), tl_fps))
            clip = ET.SubElement(
                spine,
                "asset-clip",
                ref=assets[m.path],
                name=Path(m.path).name,
                offset=frame_time(offset, tl_fps),
                start=frame_time(src_in, facts.fps),
                duration=frame_time(length, tl_fps),
                tcFormat=tc_format,
            )
            best = min(max(seconds_to_frames(m.best_time, facts.fps), src_in), src_out - 1)
            label = f"#{rank} {m.score:.3f} {query}".strip()
            if m.screen_text:
                label += f" - on screen: {' '.join(m.screen_text.split())}"
            ET.SubElement(
                clip,
                "marker",
                start=frame_time(best, facts.fps),
                duration=frame_time(1, facts.fps),
                value=label,
            )
            offset += length
        sequence.set("duration", frame_time(offset, tl_fps))
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n\n' + body + "\n").encode("utf-8")
