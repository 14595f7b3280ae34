"""The store owns all SQL: typed repositories, typed counts and statuses, one transaction per scan diff."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import vsearch
from vsearch.store.library import Counts, Diff, Library, ModelState, VideoStatus
from vsearch.store.speech import NewSpan, TranscriptStatus
from vsearch.types import VideoFile

PACKAGE = Path(vsearch.__file__).parent


def _indexed_video(lib: Library, path: str, *, audio: bool = True) -> int:
    root = lib.add_root(str(Path(path).parent))
    vid = lib.add_video(VideoFile(path, 10, 1.0), root.id)
    from vsearch.types import VideoInfo

    lib.set_probe(vid, VideoInfo(5.0, 25.0, 64, 48, has_audio=audio))
    lib.set_status(vid, VideoStatus.INDEXED)
    return vid


def _unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_no_sql_outside_the_store(tmp_path: Path) -> None:
    """No module outside vsearch/store/ imports sqlite3 or runs a statement; Library exports no raw SQL."""
    offenders = []
    for f in PACKAGE.rglob("*.py"):
        if "store" in f.relative_to(PACKAGE).parts[:1]:
            continue
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + (
                    [node.module] if isinstance(node, ast.ImportFrom) else []
                )
                if any(n and n.split(".")[0] in ("sqlite3", "sqlite_utils") for n in names):
                    offenders.append(f"{f.name}:{node.lineno} imports sqlite")
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "_sql", "conn"):
                offenders.append(f"{f.name}:{node.lineno} .{node.attr}")
    assert offenders == []
    lib = Library(tmp_path / "lib")
    for name in ("query", "transaction", "snapshot", "conn", "db"):
        assert not hasattr(lib, name), f"Library.{name} is public"
    lib.close()


def test_statuses_and_counts_are_typed(tmp_path: Path) -> None:
    lib = Library(tmp_path / "lib")
    vid = _indexed_video(lib, "/v/a.mp4")
    root = lib.root("/v")
    lib.add_video(VideoFile("/v/b.mp4", 1, 1.0), root.id)
    lib.set_failed(lib.add_video(VideoFile("/v/c.mp4", 1, 1.0), root.id), "broken")
    model = lib.ensure_model("m", "m", 8)
    lib.add_frames(vid, model.id, np.arange(3.0), _unit(3, 8))

    row = lib.video(vid)
    assert row.status is VideoStatus.INDEXED and row.status == "indexed"  # StrEnum: same text in SQLite
    assert lib.model("m").state is ModelState.BUILDING
    c = lib.counts()
    assert c == Counts(indexed=1, failed=1, pending=1, gone=0, frames=3) and c.videos == 3
    assert lib.root_counts() == {root.id: c}
    with pytest.raises(ValueError):
        lib.set_status(vid, "nonsense")  # type: ignore[arg-type]
    lib.close()


def test_nested_transactions_commit_once_and_roll_back_together(tmp_path: Path) -> None:
    lib = Library(tmp_path / "lib")
    root = lib.add_root("/v")
    with pytest.raises(RuntimeError), lib._sql.transaction():
        lib.add_video(VideoFile("/v/a.mp4", 1, 1.0), root.id)  # a step of the outer transaction
        raise RuntimeError("boom")
    assert lib.videos() == {}
    lib.close()


def test_a_scan_diff_is_one_transaction(tmp_path: Path) -> None:
    lib = Library(tmp_path / "lib")
    root = lib.add_root("/v")
    old = [lib.add_video(VideoFile(f"/v/old{i}.mp4", 1, 1.0), root.id) for i in range(5)]
    lib.set_status(old[0], VideoStatus.INDEXED)
    files = [VideoFile(f"/v/new{i:04d}.mp4", 100 + i, 2.0) for i in range(1000)]
    files += [VideoFile("/v/old1.mp4", 2, 2.0), VideoFile("/v/old2.mp4", 1, 1.0)]  # changed, unchanged
    d = lib.diff(root.id, files)
    assert (len(d.new), len(d.changed), len(d.unchanged), len(d.gone)) == (1000, 1, 1, 3)
    begins: list[str] = []
    lib._sql.conn.set_trace_callback(lambda sql: begins.append(sql) if sql.startswith("BEGIN") else None)
    lib.apply_diff(root.id, d)
    lib._sql.conn.set_trace_callback(None)
    assert begins == ["BEGIN IMMEDIATE"]
    rows = lib.videos_in_root(root.id)
    # the 3 gone files are kept, marked missing (issue 16.13), with the 1000 new and the 2 kept
    assert len(rows) == 1005 and sum(r.missing for r in rows.values()) == 3
    assert lib.root("/v").last_scan is not None
    lib.close()


def test_a_failed_diff_leaves_the_library_as_it_was(tmp_path: Path) -> None:
    lib = Library(tmp_path / "lib")
    root = lib.add_root("/v")
    d = Diff(new=[VideoFile(f"/v/{i}.mp4", 1, 1.0) for i in range(10)], gone=[])
    d.new.append(VideoFile("/v/\ud800.mp4", 1, 1.0))  # not encodable as UTF-8: SQLite refuses it
    with pytest.raises(UnicodeEncodeError):
        lib.apply_diff(root.id, d)
    assert lib.videos() == {} and lib.root("/v").last_scan is None
    lib.close()


def test_speech_store_round_trip_and_reset_forgets_the_transcript(tmp_path: Path) -> None:
    lib = Library(tmp_path / "lib")
    vid = _indexed_video(lib, "/v/talk.mp4")
    silent = _indexed_video(lib, "/v/quiet.mp4")
    _indexed_video(lib, "/v/mute.mp4", audio=False)
    assert [p.path for p in lib.speech.pending("whisper")] == ["/v/quiet.mp4", "/v/talk.mp4"]
    spans = [NewSpan(0.5, 1.5, "the red car", [[0.5, 0.9, "the"]]), NewSpan(2.0, 3.0, "a blue boat")]
    vecs = _unit(2, 6)
    lib.speech.save_transcript(
        vid, "whisper", TranscriptStatus.DONE, spans=spans, vectors=vecs, encoder_id="e"
    )
    lib.speech.save_transcript(silent, "whisper", TranscriptStatus.SILENT)
    assert lib.speech.pending("whisper") == [] and lib.speech.has_spans()
    rows, got = lib.speech.spans_with_vectors()
    assert [(r.video_id, r.text, r.path, r.duration) for r in rows] == [
        (vid, "the red car", "/v/talk.mp4", 5.0),
        (vid, "a blue boat", "/v/talk.mp4", 5.0),
    ]
    np.testing.assert_allclose(got, vecs, atol=1e-3)
    assert set(lib.speech.match_text('"boat"')) == {rows[1].id}
    assert lib.speech.transcript(vid) == [(0.5, 1.5, "the red car"), (2.0, 3.0, "a blue boat")]
    with pytest.raises(ValueError):
        lib.speech.save_transcript(vid, "whisper", TranscriptStatus.DONE, spans=spans, vectors=vecs[:1])
    assert len(lib.speech.transcript(vid)) == 2  # the refused write changed nothing

    lib.reset_video(vid, VideoFile("/v/talk.mp4", 11, 2.0))  # the file changed
    assert lib.speech.transcript(vid) == [] and lib.speech.match_text('"boat"') == {}
    assert lib.video(vid).status == VideoStatus.PENDING
    lib.close()


def test_stored_status_text_is_unchanged(tmp_path: Path) -> None:
    """StrEnum values reach SQLite as the same text older versions wrote (fixture libraries stay valid)."""
    lib = Library(tmp_path / "lib")
    vid = _indexed_video(lib, "/v/a.mp4")
    lib.speech.save_transcript(vid, "w", TranscriptStatus.SILENT)
    lib.close()
    conn = sqlite3.connect(tmp_path / "lib" / "library.sqlite3")
    assert conn.execute("SELECT status FROM videos").fetchone() == ("indexed",)
    assert conn.execute("SELECT status FROM transcripts").fetchone() == ("silent",)
    conn.close()
