"""Shared checks for the reliability tests: library snapshots and "is this library sound?"."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from vsearch.service import Service
from vsearch.store.ann import AnnIndex
from vsearch.store.db import DB_NAME

REPO = Path(__file__).resolve().parents[2]
MODEL = "test-color"


def cli(
    lib: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run `python -m vsearch --library LIB --model test-color ARGS` (an argument list, no shell)."""
    return subprocess.run(
        [sys.executable, "-m", "vsearch", "--library", str(lib), "--model", MODEL, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def snapshot(lib: Path) -> dict[tuple[str, float], bytes]:
    """{(video path, t): float16 vector bytes} of every stored frame, read straight from SQLite."""
    if not (lib / DB_NAME).exists():
        return {}
    conn = sqlite3.connect(f"file:{lib / DB_NAME}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT v.path, f.t, x.vec FROM frames f JOIN videos v ON v.id = f.video_id "
            "JOIN vectors x ON x.frame_id = f.id"
        ).fetchall()
    finally:
        conn.close()
    return {(p, round(t, 4)): bytes(b) for p, t, b in rows}


def done_paths(lib: Path) -> set[str]:
    if not (lib / DB_NAME).exists():
        return set()
    conn = sqlite3.connect(f"file:{lib / DB_NAME}?mode=ro", uri=True)
    try:
        return {
            r[0] for r in conn.execute("SELECT v.path FROM video_models m JOIN videos v ON v.id = m.video_id")
        }
    finally:
        conn.close()


def check_sound(lib: Path, query: str = "red") -> int:
    """Assert the library opens, passes integrity_check and its ANN cache agrees with SQLite.

    Returns the number of vectors stored (0 when killed before the database existed).
    """
    if not (lib / DB_NAME).exists():
        return 0
    conn = sqlite3.connect(str(lib / DB_NAME))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    with Service(lib, model=MODEL) as svc:
        assert svc.library.integrity_ok()
        model = svc.library.model_by_name(MODEL)
        if model is None:
            return 0
        truth = set(int(i) for i in svc.library.vector_ids(model.id))
        # the cache on disk, reconciled the way a search reconciles it
        ann = AnnIndex(lib / "ann", model.model_id, model.dim)
        ann.load()
        ann.sync(svc.library, model.id)
        assert set(ann._ids) == truth, "ANN cache disagrees with SQLite after reconciliation"
        # a search through the facade answers, and only with frames SQLite has
        res = svc.search(query, k=50, min_score=-1.0)
        if truth:
            assert res, "a library with vectors returned nothing"
        known = {v.path for v in svc.library.videos().values()}
        for m in res:
            assert m.path in known and 0.0 <= m.start <= m.end
        return len(truth)


def assert_cache_truthful(lib: Path) -> None:
    """A saved ANN cache that claims the database's generation holds exactly the database's vectors.

    A cache labelled with an older generation is fine (it is reconciled on open); one labelled
    with the current generation is trusted as it is, so any ghost or missing id is a wrong answer.
    """
    with Service(lib, model=MODEL, readonly=True) as svc:
        for model in svc.library.models():
            ann = AnnIndex(lib / "ann", model.model_id, model.dim)
            if ann.load() is None or ann.generation != svc.library.generation(model.id):
                continue
            truth = {int(i) for i in svc.library.vector_ids(model.id)}
            have = {int(i) for i in ann._ids}
            assert have == truth, (
                f"cache at generation {ann.generation}: {len(have - truth)} ghost, {len(truth - have)} missing"
            )
