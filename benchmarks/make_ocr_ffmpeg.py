"""A third on-screen text set, rendered by FFmpeg instead of Pillow: burned-in SRT subtitles, drawtext.

Usage::

    python benchmarks/make_ocr_ffmpeg.py --out /tmp/ocr_ffmpeg            # make the clips + ground truth
    vsearch --library /tmp/ocr_ffmpeg/library index /tmp/ocr_ffmpeg/videos
    vsearch --library /tmp/ocr_ffmpeg/library eval --videos /tmp/ocr_ffmpeg/videos /tmp/ocr_ffmpeg/ground_truth.json

The other two sets (``make_ocr_clips.py``) draw their text with Pillow, in styles chosen before
the reader was built. Whoever makes footage with burned-in text more likely uses FFmpeg: an
``.srt`` burned in with libass (``subtitles=``: white with a black outline, or a styled ASS
line), or ``drawtext`` (half-transparent boxes, shadows, a fade, a ticker crossing the frame, a
blinking label, a one-second flash). So this set uses them, at 640x360, 1280x720 and 1920x1080,
over stretches of the dev set's real footage (``../shared/data/devset/videos``). Made on
2026-12-04 after the reader's constants were chosen; nothing was tuned on it.

Needs ffmpeg with libass and libfreetype (Debian's has both) and the DejaVu fonts. Four 24 s
clips, 15 texts, two or three queries each (the words in quotes, a paraphrase, a name for it).
The ground truth (the dev set's format) has each text's on-screen span as its moment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT.parent / "shared" / "data" / "devset" / "videos"
SECONDS = 24.0
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_B = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
FONT_SERIF = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"


def esc(text: str) -> str:
    """Text for drawtext's ``text=`` inside a filter graph."""
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\u2019").replace("%", "\\%")


def srt(lines: list[tuple[float, float, str]]) -> str:
    def ts(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "".join(f"{i}\n{ts(a)} --> {ts(b)}\n{text}\n\n" for i, (a, b, text) in enumerate(lines, 1))


# (clip, source, start in source, (width, height), subtitles [(start, end, text)], ASS style override,
#  drawtext filters [(text, start, end, options)], queries per text [(text, quote, paraphrase, name)])
def clips() -> list[dict]:
    return [
        {
            "clip": "f01.mp4", "src": "d02.mp4", "at": 0.0, "size": (1280, 720),
            "subs": [(1.0, 3.2, "Did you bring the map?"), (3.6, 6.0, "It's in the glove box."),
                     (14.0, 16.5, "We should turn back now.")],
            "style": None,
            "draw": [("ELENA RUIZ, PARK RANGER", 8.0, 12.5,
                      f"fontfile={FONT_B}:fontsize=34:fontcolor=white:box=1:boxcolor=black@0.55:boxborderw=12:x=60:y=h-150")],
            "queries": {
                "Did you bring the map?": ('"bring the map"', "someone asks whether the map was packed", "the subtitle about the map"),
                "It's in the glove box.": ('"glove box"', "it is stored in the car's compartment", None),
                "We should turn back now.": ('"turn back"', "they ought to go back", "the subtitle about turning back"),
                "ELENA RUIZ, PARK RANGER": ('"Elena Ruiz"', "the name of the woman who looks after the park", "the name caption of the park ranger"),
            },
        },
        {
            "clip": "f02.mp4", "src": "d03.mp4", "at": 20.0, "size": (640, 360),
            "subs": [], "style": None,
            "draw": [
                ("THE LOST VALLEY", 0.5, 4.5,
                 f"fontfile={FONT_SERIF}:fontsize=44:fontcolor=white:shadowx=2:shadowy=2:x=(w-tw)/2:y=(h-th)/2:"
                 "alpha='if(lt(t,1.0),(t-0.5)/0.5,if(gt(t,4.0),(4.5-t)/0.5,1))'"),
                ("STOCKS RISE AS MARKETS RALLY", 8.0, 20.0,
                 f"fontfile={FONT_B}:fontsize=24:fontcolor=yellow:box=1:boxcolor=black@0.8:boxborderw=6:"
                 "x=w-(t-8)*60:y=h-40"),
                ("GOAL!", 21.0, 22.2, f"fontfile={FONT_B}:fontsize=72:fontcolor=white:borderw=4:bordercolor=black:x=(w-tw)/2:y=(h-th)/2"),
            ],
            "queries": {
                "THE LOST VALLEY": ('"the lost valley"', "the film's title about a hidden valley", "the opening title"),
                "STOCKS RISE AS MARKETS RALLY": ('"markets rally"', "share prices are going up", "the news ticker about stocks"),
                "GOAL!": ('"goal"', "someone scored", None),
            },
        },
        {
            "clip": "f03.mp4", "src": "d04.mp4", "at": 5.0, "size": (1920, 1080),
            "subs": [(17.0, 20.0, "Keep the engine running.")], "style": None,
            "draw": [
                ("DAY 3", 2.0, 10.0, f"fontfile={FONT_B}:fontsize=54:fontcolor=white:shadowx=3:shadowy=3:x=w-tw-60:y=50"),
                ("ROLL 4 TAKE 7", 12.0, 15.0, f"fontfile={FONT_B}:fontsize=110:fontcolor=black:box=1:boxcolor=white:boxborderw=40:x=(w-tw)/2:y=(h-th)/2"),
            ],
            "queries": {
                "DAY 3": ('"day 3"', "the third day", "the day counter"),
                "ROLL 4 TAKE 7": ('"take 7"', "the clapper for the seventh take of roll four", "the slate for roll 4"),
                "Keep the engine running.": ('"engine running"', "do not switch the motor off", None),
            },
        },
        {
            "clip": "f04.mp4", "src": "d01.mp4", "at": 40.0, "size": (640, 360),
            "subs": [(2.0, 5.0, "I have never seen anything like it."), (5.2, 6.8, "Neither have I.")],
            "style": "FontName=DejaVu Serif,Italic=1,PrimaryColour=&H0000FFFF,Fontsize=20",
            "draw": [
                ("ORGANIC COFFEE", 10.0, 16.0, f"fontfile={FONT_B}:fontsize=30:fontcolor=white:box=1:boxcolor=0x5a3a1e:boxborderw=10:x=40:y=40"),
                ("PRESS START", 18.0, 23.0, f"fontfile={FONT_B}:fontsize=36:fontcolor=white:borderw=2:bordercolor=black:x=(w-tw)/2:y=h-80:"
                 "alpha='if(lt(mod(t-18,1),0.6),1,0)'"),
            ],
            "queries": {
                "I have never seen anything like it.": ('"never seen anything like it"', "someone is amazed by something new to them", "the subtitle about never seeing anything like it"),
                "Neither have I.": ('"neither have I"', "the other person has not seen it either", None),
                "ORGANIC COFFEE": ('"organic coffee"', "a label for coffee grown without chemicals", "the coffee label"),
                "PRESS START": ('"press start"', "push the button to begin the game", "the blinking start prompt"),
            },
        },
    ]


def render(out: Path, c: dict, work: Path) -> None:
    w, h = c["size"]
    filters = [f"scale={w}:{h}:flags=bicubic,setsar=1"]
    if c["subs"]:
        sub = work / (c["clip"] + ".srt")
        sub.write_text(srt(c["subs"]), encoding="utf-8")
        style = f":force_style='{c['style']}'" if c["style"] else ""
        filters.append(f"subtitles=filename={sub}{style}")
    for text, a, b, opts in c["draw"]:
        filters.append(f"drawtext=text='{esc(text)}':{opts}:enable='between(t,{a},{b - 0.001})'")
    src = DEVSET / c["src"]
    part = out.with_name("part-" + out.name)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-stream_loop", "-1", "-ss", str(c["at"]), "-i", str(src),
         "-t", str(SECONDS), "-an", "-vf", ",".join(filters), "-r", "25", "-c:v", "libx264", "-preset", "veryfast",
         "-crf", "23", "-pix_fmt", "yuv420p", "-g", "50", str(part)],
        check=True,
    )
    os.replace(part, out)


def make(out: Path) -> Path:
    (out / "videos").mkdir(parents=True, exist_ok=True)
    videos, queries = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for c in clips():
            path = out / "videos" / c["clip"]
            if not path.exists():
                render(path, c, Path(tmp))
            items = [(a, b, t, "subtitle") for a, b, t in c["subs"]] + [(a, b, t, "drawtext") for t, a, b, _ in c["draw"]]
            segs = []
            for n, (a, b, text, kind) in enumerate(sorted(items)):
                seg = f"{c['clip'][:-4]}-{n}"
                segs.append({"segment": seg, "start": a, "end": b, "kind": kind, "caption": text})
                quote, para, name = c["queries"][text]
                for typ, q in (("quote", quote), ("paraphrase", para), ("name", name)):
                    if q is None:
                        continue
                    queries.append({
                        "id": f"{seg}-{typ}", "query": q, "type": typ, "source_kind": [kind],
                        "moments": [{"video": c["clip"], "start": a, "end": b, "segment": seg}],
                    })
            videos.append({"video": c["clip"], "duration": SECONDS, "segments": segs, "source": f"{c['src']}@{c['at']}",
                           "size": list(c["size"])})
    gt = out / "ground_truth.json"
    gt.write_text(json.dumps({"version": 1, "fps": 25, "videos": videos, "queries": queries}, indent=1))
    print(f"{len(videos)} clips, {sum(len(v['segments']) for v in videos)} texts, {len(queries)} queries -> {gt}")
    return gt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "ocr-ffmpeg")
    make(ap.parse_args().out)


if __name__ == "__main__":
    main()
