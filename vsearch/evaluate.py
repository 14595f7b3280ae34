"""Ground-truth moments (DiDeMo-style JSON) -> predictions -> video recall and tIoU metrics."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vsearch.types import Moment

GroundTruth = dict[str, Any]
"""The ground-truth file as loaded: {"queries": [{id, query, moments: [{video, start, end}], ...}]}."""
Prediction = dict[str, Any]
"""One result as the devset format writes it: {video, start, end, score}."""
Report = dict[str, Any]
"""What ``evaluate`` returns: n_queries, all, breakdown, per_query."""


def tiou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Temporal intersection over union of the spans *a* and *b* (start, end)."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def load_ground_truth(path: str | os.PathLike[str]) -> GroundTruth:
    """Read a ground-truth JSON file; raises ValueError without a "queries" list."""
    gt: GroundTruth = json.loads(Path(path).read_text(encoding="utf-8"))
    if "queries" not in gt:
        raise ValueError("no 'queries' in the ground truth file")
    return gt


def predict(gt: GroundTruth, search: Callable[[str], list[Moment]], top: int = 10) -> dict[str, list[Prediction]]:
    """Run every query; results as {query id: [{video, start, end, score}, ...]} (the devset format)."""
    out: dict[str, list[Prediction]] = {}
    for q in gt["queries"]:
        res = search(q["query"])[:top]
        out[q["id"]] = [
            {"video": os.path.basename(m.path), "start": round(m.start, 3), "end": round(m.end, 3), "score": round(float(m.score), 5)}
            for m in res
        ]
    return out


def score_query(q: dict[str, Any], results: list[Prediction]) -> dict[str, float]:
    """Video recall at 1/5/10, span recall at tIoU thresholds and the best IoU of one query's results."""
    gt: dict[str, list[tuple[float, float]]] = {}
    for m in q["moments"]:
        gt.setdefault(m["video"], []).append((m["start"], m["end"]))
    vids: list[str] = []
    for r in results:
        v = os.path.basename(r["video"])
        if v not in vids:
            vids.append(v)
    out = {f"video_R@{k}": float(any(v in gt for v in vids[:k])) for k in (1, 5, 10)}

    def best(r: Prediction) -> float:
        v = os.path.basename(r["video"])
        if v not in gt or r.get("start") is None:
            return 0.0
        return max(tiou((float(r["start"]), float(r["end"])), g) for g in gt[v])

    ious = [best(r) for r in results[:5]]
    top1 = ious[0] if ious else 0.0
    for t in (0.3, 0.5, 0.7):
        out[f"moment_R@1_tIoU{t}"] = float(top1 >= t)
    for t in (0.5, 0.7):
        out[f"moment_R@5_tIoU{t}"] = float(any(x >= t for x in ious))
    out["mIoU"] = top1
    return out


def evaluate(gt: GroundTruth, preds: dict[str, list[Prediction]]) -> Report:
    """Mean metrics over all queries and per group (kind, type) of the ground truth."""
    per_q = {q["id"]: score_query(q, preds.get(q["id"]) or []) for q in gt["queries"]}
    keys = list(next(iter(per_q.values())).keys())

    def mean(ids: list[str]) -> dict[str, float]:
        return {k: sum(per_q[i][k] for i in ids) / len(ids) for k in keys} if ids else {}

    groups: dict[str, list[str]] = {}
    for q in gt["queries"]:
        groups.setdefault("type=" + q.get("type", "?"), []).append(q["id"])
        for k in q.get("source_kind", []):
            groups.setdefault("kind=" + k, []).append(q["id"])
    return {
        "n_queries": len(per_q),
        "all": mean(list(per_q)),
        "breakdown": {g: dict(n=len(ids), **mean(ids)) for g, ids in sorted(groups.items())},
        "per_query": per_q,
    }


COLS = [
    ("video_R@1", "vR@1"),
    ("video_R@5", "vR@5"),
    ("video_R@10", "vR@10"),
    ("moment_R@1_tIoU0.3", "R1@.3"),
    ("moment_R@1_tIoU0.5", "R1@.5"),
    ("moment_R@1_tIoU0.7", "R1@.7"),
    ("moment_R@5_tIoU0.5", "R5@.5"),
    ("mIoU", "mIoU"),
]


def format_report(r: Report) -> str:
    """The metrics as the text table ``vsearch eval`` prints."""
    lines = [f"{r['n_queries']} queries", f"{'group':16s} {'n':>4s} " + " ".join(f"{s:>6s}" for _, s in COLS)]
    rows = [("all", dict(n=r["n_queries"], **r["all"])), *r["breakdown"].items()]
    for name, m in rows:
        lines.append(f"{name:16s} {m['n']:4d} " + " ".join(f"{100 * m[c]:6.1f}" for c, _ in COLS))
    experts = r.get("experts") or {}
    if experts:
        lines += ["", "by expert alone (the rows above fuse them all):"]
        lines.append(f"{'expert, group':22s} {'n':>4s} " + " ".join(f"{s:>6s}" for _, s in COLS))
        for expert, er in experts.items():
            groups = [("all", dict(n=er["n_queries"], **er["all"]))]
            groups += [(g, m) for g, m in er["breakdown"].items() if g.startswith("type=")]
            for name, m in groups:
                lines.append(f"{expert + ' ' + name:22s} {m['n']:4d} " + " ".join(f"{100 * m[c]:6.1f}" for c, _ in COLS))
    return "\n".join(lines)
