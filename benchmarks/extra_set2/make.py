"""Build the second extra evaluation set: fixed-camera footage where the moment is inside one take.

    python3 benchmarks/extra_set2/make.py --out /tmp/extra_set2 [--github-snapshots /work/.mirror]

Sources: intel-iot-devkit/sample-videos (CC BY 4.0), read from a snapshot of the repository
(``fetch github:intel-iot-devkit/sample-videos`` puts one under ``/work/.mirror``) with ``git
show``, each checked against its sha256. Needs ffmpeg and git; standard library only; about a
minute. The queries were written by looking at frames (contact sheets at 1 frame/s) and their
times read off the footage (a person's presence from the frame difference against the empty
room); see README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = "intel-iot-devkit+sample-videos"
COMMIT = "57978890822836f2b4743852f04f62fc511757e4"
SHA = json.loads((Path(__file__).parent / "sources.json").read_text())
#: y04: six short clips, each looped to PIECE seconds, one after the other
MONTAGE = [
    ("classroom", "preview/classroom.gif"),
    ("store", "preview/store-aisle-detection.gif"),
    ("conveyor", "preview/fruit-and-vegetable-detection.gif"),
    ("worker", "preview/worker-zone-detection.gif"),
    ("parking", "preview/person-bicycle-car-detection.gif"),
    ("faces", "preview/face-demographics-walking-and-pause.gif"),
]
PIECE = 6.0
ENCODE = ["-vf", "scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:(ow-iw)/2:(oh-ih)/2,fps=25,format=yuv420p",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-g", "50", "-an", "-movflags", "+faststart"]

# (id, query, type, [(video, start, end)]): times in seconds of the built videos
QUERIES = [
    ("f001", "a woman with long light brown hair in a long grey cardigan standing at a small white table", "within", [("y01.mp4", 6.5, 20.2)]),
    ("f002", "a man in a black hooded sweatshirt standing with his back to the camera", "within", [("y01.mp4", 23.0, 45.2)]),
    ("f003", "a woman with long blonde hair wearing a black top", "within", [("y01.mp4", 50.4, 70.3)]),
    ("f004", "a man in a black t-shirt and glasses standing at the table", "within", [("y01.mp4", 74.8, 87.3)]),
    ("f005", "a woman with dark hair in a grey knitted cardigan standing still", "within", [("y01.mp4", 92.5, 120.4)]),
    ("f006", "a man in a grey shirt and blue jeans", "within", [("y01.mp4", 123.8, 136.5)]),
    ("f007", "an empty room with a wooden floor and a small round table, nobody there", "multi",
     [("y01.mp4", 0.0, 6.5), ("y01.mp4", 20.2, 23.0), ("y01.mp4", 45.2, 50.4), ("y01.mp4", 70.3, 74.8),
      ("y01.mp4", 87.3, 92.5), ("y01.mp4", 136.5, 139.4)]),
    ("f008", "a red car parked next to a silver car, seen from above", "within", [("y02.mp4", 14.4, 19.6)]),
    ("f009", "a white car driving up from the bottom of the frame into an empty parking lot", "within", [("y02.mp4", 25.0, 30.1)]),
    ("f010", "empty grey asphalt seen from directly above", "multi",
     [("y02.mp4", 0.0, 4.5), ("y02.mp4", 9.5, 14.4), ("y02.mp4", 19.6, 25.0)]),
    ("f011", "only one water bottle left standing on the table", "within", [("y03.mp4", 18.0, 22.0)]),
    ("f012", "two hands lift two bottles at the same time", "within", [("y03.mp4", 15.5, 18.0)]),
    ("f013", "plastic water bottles with blue caps on a white table", "segment", [("y03.mp4", 0.0, 39.85)]),
    ("f014", "people sitting at desks in a meeting room with a whiteboard", "segment", [("y04.mp4", 0.0, 6.0)]),
    ("f015", "shoppers in a store aisle between shelves of white plates and bowls", "segment", [("y04.mp4", 6.0, 12.0)]),
    ("f016", "a green apple and a head of broccoli moving along a conveyor belt", "segment", [("y04.mp4", 12.0, 18.0)]),
    ("f017", "a worker in an orange safety vest and a yellow hard hat walking through a warehouse", "segment", [("y04.mp4", 18.0, 24.0)]),
    ("f018", "a car turning in a parking lot while a cyclist rides past, seen from above", "segment", [("y04.mp4", 24.0, 30.0)]),
    ("f019", "three people standing side by side facing the camera in an office", "segment", [("y04.mp4", 30.0, 36.0)]),
]


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True)


def fetch(snapshot: Path, path: str, dest: Path) -> Path:
    data = subprocess.run(["git", "-C", str(snapshot), "show", f"{COMMIT}:{path}"], check=True, capture_output=True).stdout
    got = hashlib.sha256(data).hexdigest()
    if got != SHA[path]:
        raise SystemExit(f"{path}: sha256 {got}, expected {SHA[path]}")
    dest.write_bytes(data)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--github-snapshots", type=Path, default=Path("/work/.mirror"))
    args = ap.parse_args()
    for tool in ("ffmpeg", "git"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found")
    snapshot = args.github_snapshots / REPO / "repo"
    if not snapshot.exists():
        raise SystemExit(f"no snapshot at {snapshot}: fetch github:intel-iot-devkit/sample-videos first")
    videos = args.out / "videos"
    videos.mkdir(parents=True, exist_ok=True)
    ff = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    with tempfile.TemporaryDirectory() as tmp:
        src = {p: fetch(snapshot, p, Path(tmp) / Path(p).name) for p in SHA}
        for name, path in [("y01", "one-by-one-person-detection.mp4"), ("y02", "car-detection.mp4"), ("y03", "bottle-detection.mp4")]:
            run([*ff, "-i", str(src[path]), *ENCODE, str(videos / f"{name}.mp4")])
        pieces = []
        for i, (_, path) in enumerate(MONTAGE):
            piece = Path(tmp) / f"piece{i}.mp4"
            run([*ff, "-stream_loop", "-1", "-i", str(src[path]), "-t", f"{PIECE}", *ENCODE, str(piece)])
            pieces.append(piece)
        listing = Path(tmp) / "pieces.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in pieces))
        run([*ff, "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(videos / "y04.mp4")])
    gt = {
        "version": 1,
        "source": "intel-iot-devkit/sample-videos (CC BY 4.0) at " + COMMIT,
        "montage": {"y04.mp4": [{"segment": s, "start": PIECE * i, "end": PIECE * (i + 1)} for i, (s, _) in enumerate(MONTAGE)]},
        "queries": [
            {"id": qid, "query": q, "type": typ, "source_kind": ["video"],
             "moments": [{"video": v, "start": a, "end": b} for v, a, b in ms]}
            for qid, q, typ, ms in QUERIES
        ],
    }
    (args.out / "ground_truth.json").write_text(json.dumps(gt, indent=1) + "\n")
    print(f"{len(list(videos.glob('*.mp4')))} videos, {len(QUERIES)} queries -> {args.out / 'ground_truth.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
