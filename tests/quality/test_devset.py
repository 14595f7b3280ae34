"""The whole system on the real dev set (../shared/data/devset): the issue-3 quality bar must hold.

Indexes the four dev-set videos at default settings with the offline starter model and scores all
29 queries. Skipped when the dev set is not beside the checkout.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vsearch import evaluate
from vsearch.service import Service

DEVSET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "devset"

pytestmark = pytest.mark.skipif(not (DEVSET / "ground_truth.json").exists(), reason="no dev set beside the checkout")


def test_starter_meets_the_quality_bar_on_the_dev_set(tmp_path: Path) -> None:
    gt = evaluate.load_ground_truth(DEVSET / "ground_truth.json")
    videos = DEVSET / "videos"
    with Service(tmp_path / "lib", model="starter") as svc:
        stats = svc.index([videos])
        assert stats.indexed == 4 and stats.failed == 0
        preds = evaluate.predict(gt, lambda q: svc.search(q, k=10, folder=str(videos)))
        absent = {q: svc.search(q, k=10, folder=str(videos)) for q in NOTHING_THERE}
        strong = [q["id"] for q in gt["queries"] if svc.strong_match(svc.search(q["query"], k=10, folder=str(videos)))]
    r = evaluate.evaluate(gt, preds)["all"]
    # issue 3: moment R@1 at tIoU 0.5 >= 40 % and mIoU >= 40 without lowering video R@1 below the
    # naive frame search (65.5 %); measured 72.4 / 44.8 / 41.9 (docs/MODELS.md)
    assert r["video_R@1"] >= 0.655
    assert r["moment_R@1_tIoU0.5"] >= 0.40
    assert r["mIoU"] >= 0.40
    for q in gt["queries"]:
        for m in preds[q["id"]]:
            assert 0.0 <= m["start"] < m["end"]
    # issue 17.4: calibrated scores say when nothing matches; most real queries match strongly
    weak = [q for q, res in absent.items() if not Service.strong_match(res)]
    assert len(weak) >= len(NOTHING_THERE) - 2, f"strong matches for absent content: {set(NOTHING_THERE) - set(weak)}"
    assert all(q in weak for q in NONSENSE)
    assert len(strong) >= 0.6 * len(gt["queries"])


#: Queries for content none of the dev-set videos shows (written without looking at its scores),
#: and nonsense: each should end in the "no strong match" state.
NONSENSE = ("asdf qwerty zxcv", "blorp flim zang")
NOTHING_THERE = (
    *NONSENSE,
    "a plate of spaghetti with tomato sauce",
    "a wedding ceremony in a church",
    "people playing football on a grass pitch",
    "a man typing on a laptop in a cafe",
    "fireworks over a harbour",
    "a horse race",
    "the quarterly tax report",
    "a red double-decker bus in London",
)
