"""Final Cut Pro 7 XML (xmeml) export: a sequence of the moments, for Premiere Pro."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from vsearch.export.base import (
    ExportOptions,
    MediaFacts,
    SingleFileExporter,
    file_uri,
    media_facts,
    timeline_fps,
    title_for,
)
from vsearch.export.timecode import (
    default_drop_frame,
    frames_to_timecode,
    is_ntsc,
    seconds_to_frames,
    timebase,
)
from vsearch.types import Moment

XMEML_VERSION = "4"
#: The sequence starts at 01:00:00:00, as Premiere's own sequences do.
SEQUENCE_START_SECONDS = 3600


def pathurl(path: str) -> str:
    """``file://localhost/...``, the percent-encoded form Premiere writes and reads."""
    uri = file_uri(path)
    return "file://localhost" + uri[len("file://") :]


def _text(parent: ET.Element, tag: str, text: object) -> ET.Element:
    el = ET.SubElement(parent, tag)
    el.text = str(text)
    return el


def _rate(parent: ET.Element, fps: float) -> ET.Element:
    rate = ET.SubElement(parent, "rate")
    _text(rate, "timebase", timebase(fps))
    _text(rate, "ntsc", "TRUE" if is_ntsc(fps) else "FALSE")
    return rate


class XmemlExporter(SingleFileExporter):
    """FCP7 XML (``xmeml`` version 4): File > Import in Premiere Pro (also Resolve, Avid via tools).

    A sequence at the timeline rate with one video track (and two audio tracks when files
    have sound) holding the moments in rank order. Clip ``in``/``out`` count frames at the
    file's own rate; ``start``/``end`` count sequence frames. Files are ``file://localhost``
    URLs, percent-encoded, as Premiere writes them.
    """

    name = "xmeml"
    extension = ".xml"
    description = "Final Cut Pro 7 XML sequence (Premiere Pro)"

    def render(self, ms: Sequence[Moment], *, query: str, options: ExportOptions) -> bytes:
        """The xmeml document as UTF-8 bytes."""
        tl_fps = timeline_fps(ms, options)
        df = default_drop_frame(tl_fps) if options.drop_frame is None else options.drop_frame
        df = df and default_drop_frame(tl_fps)
        first = media_facts(ms[0])
        facts = [media_facts(m) for m in ms]
        any_audio = any(f.has_audio for f in facts)

        root = ET.Element("xmeml", version=XMEML_VERSION)
        seq = ET.SubElement(root, "sequence", id="sequence-1")
        _text(seq, "name", title_for(query, options))
        duration_el = _text(seq, "duration", 0)
        _rate(seq, tl_fps)
        tc = ET.SubElement(seq, "timecode")
        _rate(tc, tl_fps)
        start_frames = seconds_to_frames(SEQUENCE_START_SECONDS, tl_fps)
        _text(tc, "string", frames_to_timecode(start_frames, tl_fps, df))
        _text(tc, "frame", start_frames)
        _text(tc, "displayformat", "DF" if df else "NDF")
        media = ET.SubElement(seq, "media")
        video = ET.SubElement(media, "video")
        fmt = ET.SubElement(video, "format")
        sc = ET.SubElement(fmt, "samplecharacteristics")
        _rate(sc, tl_fps)
        _text(sc, "width", first.width)
        _text(sc, "height", first.height)
        vtrack = ET.SubElement(video, "track")
        atracks: list[ET.Element] = []
        if any_audio:
            audio = ET.SubElement(media, "audio")
            atracks = [ET.SubElement(audio, "track") for _ in range(2)]

        file_ids: dict[str, str] = {}
        position = 0
        for rank, (m, f) in enumerate(zip(ms, facts, strict=True), 1):
            src_in = seconds_to_frames(m.start, f.fps)
            src_out = max(src_in + 1, seconds_to_frames(m.end, f.fps))
            length = (
                max(1, seconds_to_frames((src_out - src_in) / f.fps, tl_fps))
                if abs(f.fps - tl_fps) > 1e-6
                else src_out - src_in
            )
            clip_ids = [f"clipitem-{rank}-v"] + (
                [f"clipitem-{rank}-a{i}" for i in (1, 2)] if f.has_audio else []
            )
            for kind, track, clip_id in self._placements(vtrack, atracks, clip_ids):
                item = ET.SubElement(track, "clipitem", id=clip_id)
                _text(item, "name", Path(m.path).name)
                _text(item, "enabled", "TRUE")
                _text(item, "duration", max(1, seconds_to_frames(f.duration, f.fps)))
                _rate(item, f.fps)
                _text(item, "start", position)
                _text(item, "end", position + length)
                _text(item, "in", src_in)
                _text(
                    item,
                    "out",
                    src_in + round(length * f.fps / tl_fps) if abs(f.fps - tl_fps) > 1e-6 else src_out,
                )
                self._file(item, m, f, file_ids)
                if kind == "audio":
                    st = ET.SubElement(item, "sourcetrack")
                    _text(st, "mediatype", "audio")
                    _text(st, "trackindex", clip_id[-1])
                if len(clip_ids) > 1:
                    for other in clip_ids:
                        link = ET.SubElement(item, "link")
                        _text(link, "linkclipref", other)
                        _text(link, "mediatype", "video" if other.endswith("-v") else "audio")
                        _text(link, "trackindex", 1 if other.endswith("-v") else other[-1])
                        _text(link, "clipindex", rank)
                if kind == "video":
                    marker = ET.SubElement(item, "marker")
                    _text(marker, "name", f"#{rank} {m.score:.3f}")
                    _text(marker, "comment", query)
                    best = min(max(seconds_to_frames(m.best_time, f.fps), src_in), src_out - 1)
                    _text(marker, "in", best)
                    _text(marker, "out", -1)
            position += length
        duration_el.text = str(position)
        ET.indent(root)
        body = ET.tostring(root, encoding="unicode")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n' + body + "\n").encode("utf-8")

    @staticmethod
    def _placements(
        vtrack: ET.Element, atracks: list[ET.Element], clip_ids: list[str]
    ) -> list[tuple[str, ET.Element, str]]:
        out = [("video", vtrack, clip_ids[0])]
        out += [("audio", atracks[i], cid) for i, cid in enumerate(clip_ids[1:])]
        return out

    @staticmethod
    def _file(item: ET.Element, m: Moment, f: MediaFacts, file_ids: dict[str, str]) -> None:
        """The full ``<file>`` the first time a file appears, a reference after that."""
        if m.path in file_ids:
            ET.SubElement(item, "file", id=file_ids[m.path])
            return
        fid = file_ids[m.path] = f"file-{len(file_ids) + 1}"
        file_el = ET.SubElement(item, "file", id=fid)
        _text(file_el, "name", Path(m.path).name)
        _text(file_el, "pathurl", pathurl(m.path))
        _rate(file_el, f.fps)
        _text(file_el, "duration", max(1, seconds_to_frames(f.duration, f.fps)))
        fmedia = ET.SubElement(file_el, "media")
        fv = ET.SubElement(fmedia, "video")
        sc = ET.SubElement(fv, "samplecharacteristics")
        _rate(sc, f.fps)
        _text(sc, "width", f.width)
        _text(sc, "height", f.height)
        if f.has_audio:
            fa = ET.SubElement(fmedia, "audio")
            asc = ET.SubElement(fa, "samplecharacteristics")
            _text(asc, "depth", 16)
            _text(asc, "samplerate", f.audio_rate)
            _text(fa, "channelcount", f.audio_channels)
