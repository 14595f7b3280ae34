"""Make the sample exports in this folder from a real dev-set search (run from the repo root).

``space-mission-results.json`` is the output of a real search on the dev set
(../shared/data/devset, indexed at default settings with the starter model)::

    vsearch index ../shared/data/devset/videos
    vsearch search "footage from a space mission: a rocket, a spacecraft or an astronaut" -k 4 --json \
        > docs/examples/space-mission-results.json

Each sample is what ``vsearch export --from docs/examples/space-mission-results.json --format F``
writes; rerun this script after changing an exporter.
"""

from __future__ import annotations

import sys
from pathlib import Path

from vsearch.export import EXPORTERS, export, load_results_json

HERE = Path(__file__).parent
QUERY, MOMENTS = load_results_json(HERE / "space-mission-results.json")


def main(out_dir: Path) -> None:
    for name in EXPORTERS:
        if name == "clips":
            # one short stream-copied clip keeps the folder small
            shortest = min(MOMENTS, key=lambda m: m.end - m.start)
            export([shortest], name, out_dir / "clips", query=QUERY, overwrite=True)
            continue
        stem = "space-mission-markers" if name == "resolve-markers" else "space-mission"
        if name == "sheet":
            stem = "space-mission-sheet"
        for p in export(MOMENTS, name, out_dir / stem, query=QUERY, overwrite=True):
            print(p)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
