"""A spoken check set made harder than the extra set's: other voices and speeds, noise and a music bed.

Usage::

    python benchmarks/make_speech_check.py --out /tmp/speech_check
    vsearch --library /tmp/speech_check/library index /tmp/speech_check/videos
    vsearch --library /tmp/speech_check/library eval --videos /tmp/speech_check/videos /tmp/speech_check/ground_truth.json

The extra set's spoken part (``benchmarks/extra_set``) is one clean voice (espeak-ng en-us at 150
words a minute) over silence. Here three 30 s clips over the dev set's real footage
(``../shared/data/devset/videos``) carry other espeak-ng voices (en-gb, a female en-us variant,
a fast and a slow one), two sentences spoken back to back (0.4 s apart), and a bed under them:
pink noise about 15 dB under the voice, or a chord of sines (a stand-in for music). Queries
quote a phrase, paraphrase a sentence, or say what someone talks about; two mention something
the footage shows elsewhere (the visual near-miss of issue 17). Each sentence's moment is the
non-silent span of its own wav (samples above 1 % of full scale), placed at its time. Made on
2026-12-04 after the fusion's constants were chosen; nothing was tuned on it. Needs ffmpeg and
espeak-ng.
"""

from __future__ import annotations

import argparse
import array
import json
import os
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT.parent / "shared" / "data" / "devset" / "videos"
RATE = 22050
SECONDS = 30.0
THRESHOLD = 0.01

# clip, footage, start in it, bed ("pink" noise, "chord" of sines or None), sentences
# (id, at, voice, speed, text), queries (id, type, text, sentence ids)
CLIPS = [
    ("v01.mp4", "d01.mp4", 20.0, "pink", [
        ("a1", 1.0, "en-gb", 160, "The bridge on the north road will be closed for repairs until Friday."),
        ("a2", 9.0, "en-us+f3", 150, "I left the spare key under the blue flower pot by the door."),
        ("a3", 15.0, "en-us+f3", 150, "Could you feed the cat while I am away?"),
        ("a4", 17.6, "en-gb", 160, "Of course, and I will water the plants as well."),
    ]),
    ("v02.mp4", "d03.mp4", 10.0, "chord", [
        ("b1", 1.5, "en-us", 185, "The meeting has been moved to half past three in the large conference room."),
        ("b2", 10.0, "en-gb+m3", 140, "Astronauts train for years before they ever leave the ground."),
        ("b3", 19.0, "en-us", 185, "Please remember to bring your passport and two photographs."),
    ]),
    ("v03.mp4", "d04.mp4", 5.0, None, [
        ("c1", 1.0, "en-us+f3", 165, "My brother bought a red tractor for the farm last spring."),
        ("c2", 9.0, "en-gb", 150, "Nobody expected the old film to be found in a cellar in Paris."),
        ("c3", 13.3, "en-gb", 150, "It had been lost for almost a hundred years."),
        ("c4", 21.0, "en-us+f3", 165, "Turn left at the bakery and the museum is on your right."),
    ]),
]
QUERIES = [
    ("q01", "quote", '"closed for repairs"', ["a1"]),
    ("q02", "paraphrase", "someone says a road bridge will be shut until the end of the week", ["a1"]),
    ("q03", "quote", '"under the blue flower pot"', ["a2"]),
    ("q04", "paraphrase", "where the spare key was hidden", ["a2"]),
    ("q05", "paraphrase", "someone asks a neighbour to look after their pet", ["a3"]),
    ("q06", "quote", '"water the plants as well"', ["a4"]),
    ("q07", "quote", '"half past three"', ["b1"]),
    ("q08", "paraphrase", "the meeting was rescheduled to another time", ["b1"]),
    ("q09", "paraphrase", "someone talks about how long astronauts train", ["b2"]),  # footage: the moon
    ("q10", "quote", '"bring your passport"', ["b3"]),
    ("q11", "paraphrase", "a reminder about travel documents and photos", ["b3"]),
    ("q12", "paraphrase", "someone says their brother bought a tractor", ["c1"]),  # d01 shows a tractor
    ("q13", "quote", '"found in a cellar in Paris"', ["c2"]),
    ("q14", "paraphrase", "a lost film that was missing for a century", ["c3"]),
    ("q15", "paraphrase", "directions to the museum", ["c4"]),
    ("q16", "quote", '"turn left at the bakery"', ["c4"]),
]


def speak(text: str, voice: str, speed: int, out: Path) -> array.array:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True, capture_output=True)
    with wave.open(str(out), "rb") as w:
        if w.getframerate() != RATE or w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SystemExit(f"espeak-ng wrote {w.getframerate()} Hz / {w.getsampwidth()} bytes / {w.getnchannels()} ch")
        data = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        data.byteswap()
    return data


def span(data: array.array) -> tuple[int, int]:
    lim = int(THRESHOLD * 32767)
    loud = [i for i, v in enumerate(data) if abs(v) > lim]
    if not loud:
        raise SystemExit("silent sentence")
    return loud[0], loud[-1] + 1


def make(out: Path) -> Path:
    (out / "videos").mkdir(parents=True, exist_ok=True)
    spans: dict[str, dict] = {}
    videos = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for clip, src, at, bed, sentences in CLIPS:
            track = array.array("h", bytes(2 * int(SECONDS * RATE)))
            speech = []
            for sid, t, voice, speed, text in sentences:
                data = speak(text, voice, speed, work / f"{sid}.wav")
                a, b = span(data)
                off = int(round(t * RATE))
                if off + len(data) > len(track):
                    raise SystemExit(f"{sid} runs past the end of {clip}")
                for i, v in enumerate(data):
                    track[off + i] = max(-32768, min(32767, track[off + i] + v))
                spans[sid] = {"video": clip, "start": round((off + a) / RATE, 3), "end": round((off + b) / RATE, 3)}
                speech.append(dict(spans[sid], id=sid, text=text, voice=voice, speed=speed))
            voice_wav = work / f"{clip}.voice.wav"
            with wave.open(str(voice_wav), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(RATE)
                w.writeframes(track.tobytes() if sys.byteorder == "little" else array.array("h", reversed(track)).tobytes())
            cmd = ["ffmpeg", "-loglevel", "error", "-y", "-ss", str(at), "-i", str(DEVSET / src), "-i", str(voice_wav)]
            if bed == "pink":
                cmd += ["-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.04:duration={SECONDS}:sample_rate={RATE}"]
            elif bed == "chord":
                cmd += ["-f", "lavfi", "-i", f"sine=frequency=220:duration={SECONDS}:sample_rate={RATE}",
                        "-f", "lavfi", "-i", f"sine=frequency=277:duration={SECONDS}:sample_rate={RATE}",
                        "-f", "lavfi", "-i", f"sine=frequency=330:duration={SECONDS}:sample_rate={RATE}"]
            n_bed = {"pink": 1, "chord": 3}.get(bed or "", 0)
            if n_bed:
                beds = "".join(f"[{2 + i}:a]volume={0.5 if bed == 'pink' else 0.2}[b{i}];" for i in range(n_bed))
                mix = f"{beds}[1:a]" + "".join(f"[b{i}]" for i in range(n_bed)) + f"amix=inputs={1 + n_bed}:normalize=0[a]"
                cmd += ["-filter_complex", mix, "-map", "0:v", "-map", "[a]"]
            else:
                cmd += ["-map", "0:v", "-map", "1:a"]
            part = out / "videos" / f"part-{clip}"
            cmd += ["-t", str(SECONDS), "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "96k", "-ar", "44100", str(part)]
            subprocess.run(cmd, check=True)
            os.replace(part, out / "videos" / clip)
            videos.append({"video": clip, "duration": SECONDS, "source": f"{src}@{at}", "bed": bed, "speech": speech})
    queries = [
        {"id": qid, "query": text, "type": typ, "source_kind": ["speech"], "moments": [dict(spans[s]) for s in sids]}
        for qid, typ, text, sids in QUERIES
    ]
    gt = out / "ground_truth.json"
    gt.write_text(json.dumps({"version": 1, "videos": videos, "queries": queries}, indent=1))
    print(f"{len(videos)} clips, {len(spans)} sentences, {len(queries)} queries -> {gt}")
    return gt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "speech-check")
    make(ap.parse_args().out)


if __name__ == "__main__":
    main()
