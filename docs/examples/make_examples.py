"""Make the sample exports in this folder from a dev-set style result list (run from the repo root).

The moments are what a search for the query below returns on the dev set
(/work/shared/data/devset); rerun after changing an exporter, or replace them with a real
``vsearch search --json`` output: ``vsearch export --from results.json --format F``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vsearch.export import EXPORTERS, export
from vsearch.types import Moment

VIDEOS = "/work/shared/data/devset/videos"
QUERY = "footage from a space mission: a rocket, a spacecraft or an astronaut"
MOMENTS = [
    Moment(f"{VIDEOS}/d02.mp4", 2.0, 9.6, 0.312, 4.0, fps=25, duration=82.68),
    Moment(f"{VIDEOS}/d04.mp4", 0.4, 8.8, 0.298, 3.2, fps=25, duration=66.68),
    Moment(f"{VIDEOS}/d03.mp4", 14.0, 22.4, 0.281, 16.0, fps=25, duration=77.48),
    Moment(f"{VIDEOS}/d04.mp4", 53.16, 56.0, 0.201, 54.0, fps=25, duration=66.68),
]


def main(out_dir: Path) -> None:
    for name in EXPORTERS:
        if name == "clips":
            # one short stream-copied clip keeps the folder small
            export(MOMENTS[3:], name, out_dir / "clips", query=QUERY, overwrite=True)
            continue
        stem = "space-mission-markers" if name == "resolve-markers" else "space-mission"
        if name == "sheet":
            stem = "space-mission-sheet"
        for p in export(MOMENTS, name, out_dir / stem, query=QUERY, overwrite=True):
            print(p)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
