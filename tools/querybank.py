"""Write the starter model's query bank into the package (vsearch/resources/querybank/).

    python tools/querybank.py

Run it after a change to the bank's sentences (vsearch.query.bank, BANK_VERSION), the starter's
text tower or its query templates; the old file is removed. Other models embed their bank on
first search and cache it (vsearch.query.bank.for_model). tests/unit/test_querybank.py fails
when the shipped file is missing or was embedded differently from the starter's query path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsearch.embed.base import query_templates  # noqa: E402
from vsearch.embed.starter import StarterEmbedder  # noqa: E402
from vsearch.query import bank  # noqa: E402


def main() -> None:
    emb = StarterEmbedder()
    templates = query_templates(emb)
    target = bank.shipped_path(emb.model_id, templates)
    vecs = bank.embed(emb.embed_text, templates)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, vecs.astype(np.float16))
    for old in target.parent.glob("bank-*.npy"):
        if old != target:
            old.unlink()
            print(f"removed {old.relative_to(ROOT)}")
    print(f"wrote {target.relative_to(ROOT)} ({len(vecs)} sentences, templates {templates})")


if __name__ == "__main__":
    main()
