"""docs/ARCHITECTURE.md names every module that exists and no module that does not."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _layout() -> str:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    start = doc.index("<!-- layout:")
    return doc[start : doc.index("<!-- /layout -->", start)]


def test_the_layout_lists_exactly_the_modules_that_exist() -> None:
    listed = set(re.findall(r"^(vsearch/\S+\.py)\s", _layout(), flags=re.M))
    actual = {str(p.relative_to(ROOT)) for p in (ROOT / "vsearch").rglob("*.py")}
    assert sorted(actual - listed) == [], "modules missing from ARCHITECTURE.md: run tools/layout.py --write"
    assert sorted(listed - actual) == [], "ARCHITECTURE.md names modules that do not exist"


def test_the_layout_is_what_tools_layout_prints() -> None:
    block = runpy.run_path(str(ROOT / "tools" / "layout.py"))["block"]()
    assert _layout().strip() == block.rsplit("<!-- /layout -->", 1)[0].strip(), "run tools/layout.py --write"


def test_every_path_the_architecture_names_exists() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:vsearch|tests|benchmarks|tools|docs)/[\w/.]+\.(?:py|md))`", doc))
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == []
