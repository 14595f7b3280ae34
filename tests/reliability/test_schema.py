"""Schema: every released schema's fixture library opens, migrates and searches; newer ones are refused untouched."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.reliability._lib import MODEL, check_sound, cli
from vsearch.service import Service
from vsearch.store import migrations
from vsearch.store.db import DB_NAME, SchemaTooNew

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "libraries"
RELEASED = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and (p / DB_NAME).exists())


def test_there_is_a_fixture_for_every_schema_version() -> None:
    assert RELEASED == [f"v{n}" for n in range(1, migrations.SCHEMA_VERSION + 1)]


def _copy(name: str, tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    shutil.copy(FIXTURES / name / DB_NAME, lib / DB_NAME)
    return lib


@pytest.mark.parametrize("name", RELEASED)
def test_released_library_opens_migrates_and_searches(name: str, tmp_path: Path) -> None:
    lib = _copy(name, tmp_path)
    with Service(lib, model=MODEL) as svc:
        st = svc.status()
        assert st.schema_version == migrations.SCHEMA_VERSION
        assert svc.library.pending_migrations() == []
        assert st.indexed == 2 and st.frames > 0
        # its folder is not on this machine: offline, still searchable from the stored vectors
        assert [f.online for f in svc.folders()] == [False]
        top = svc.search("blue", k=1)[0]
        assert top.path == "/vsearch-fixture/videos/red then blue.mp4" and top.start >= 1.0
        assert svc.search("green", k=1)[0].path == "/vsearch-fixture/videos/green.mp4"
        # an index run keeps the offline folder's entries
        stats = svc.index()
        assert stats.gone == 0 and svc.status().indexed == 2
    check_sound(lib, query="green")


def test_library_from_a_newer_vsearch_is_refused_and_left_byte_identical(tmp_path: Path) -> None:
    lib = _copy(RELEASED[-1], tmp_path)
    conn = sqlite3.connect(lib / DB_NAME)
    conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    conn.close()
    before = hashlib.sha256((lib / DB_NAME).read_bytes()).hexdigest()
    with pytest.raises(SchemaTooNew, match="newer than this vsearch understands"):
        Service(lib, model=MODEL)
    r = cli(lib, "search", "red")
    assert r.returncode == 3
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "upgrade vsearch" in lines[0]
    r = cli(lib, "index", "-q", str(tmp_path))
    assert r.returncode == 3
    assert hashlib.sha256((lib / DB_NAME).read_bytes()).hexdigest() == before
    assert not (lib / (DB_NAME + "-wal")).exists() or (lib / (DB_NAME + "-wal")).stat().st_size == 0
