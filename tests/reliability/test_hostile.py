"""Hostile files: each ends as a correct index entry or a one-line recorded error; the run goes on."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import av
import pytest

from tests.helpers.videos import HOSTILE_KINDS, make_hostile, make_video
from tests.reliability import _media
from tests.reliability._lib import MODEL, check_sound, cli, snapshot
from vsearch.service import Service


def _build(d: Path) -> dict[str, str]:
    """Fill *d*; returns name -> expected outcome: "ok" (indexed), "fail" (recorded error), "either"."""
    exp: dict[str, str] = {}
    make_video(d / "good red.mp4", segments=[("red", 3.0), ("blue", 3.0)])
    exp["good red.mp4"] = "ok"
    make_video(d / "good magenta.mkv", segments=[("magenta", 3.0)])
    exp["good magenta.mkv"] = "ok"
    must_fail = {"zero", "random", "text", "truncated", "no_moov", "audio_only"}
    for kind in HOSTILE_KINDS:  # every kind the shared helper knows, including ones added later
        name = f"{kind}.mkv" if kind == "text" else f"{kind}.mp4"
        make_hostile(kind, d / name)
        exp[name] = "fail" if kind in must_fail else "either"
    # a Matroska file cut in half: what is there is readable
    src = make_video(d.parent / "cut-src.mkv", segments=[("yellow", 4.0), ("purple", 4.0)], gop=10)
    data = src.read_bytes()
    (d / "cut mid-file.mkv").write_bytes(data[: len(data) // 2])
    exp["cut mid-file.mkv"] = "either"
    _media.one_pixel(d / "one pixel.mkv")
    exp["one pixel.mkv"] = "ok"
    _media.huge(d / "huge 8k.mp4")
    exp["huge 8k.mp4"] = "ok"
    _media.variable_rate(d / "vfr.mp4")
    exp["vfr.mp4"] = "ok"
    make_video(d / "rotated.mp4", segments=[("cyan", 3.0)], size=(160, 96), rotate=90)
    exp["rotated.mp4"] = "ok"
    if "libx265" in av.codecs_available:
        _media.hevc_10bit(d / "hevc 10-bit.mkv")
        exp["hevc 10-bit.mkv"] = "ok"
    liar_src = make_video(d.parent / "liar-src.mkv", segments=[("orange", 3.0)])
    _media.claim_hours(liar_src, d / "claims five hours.mkv")
    exp["claims five hours.mkv"] = "ok"
    # a symlink loop: the folder links to itself
    (d / "loop").symlink_to(d, target_is_directory=True)
    return exp


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str], object]:
    base = tmp_path_factory.mktemp("hostile")
    d = base / "videos"
    d.mkdir()
    exp = _build(d)
    lib = base / "lib"
    with Service(lib, model=MODEL) as svc:
        stats = svc.index([d])
    return d, lib, exp, stats


def test_every_hostile_file_ends_indexed_or_with_a_one_line_error(hostile_run) -> None:  # noqa: ANN001
    d, lib, exp, stats = hostile_run
    with Service(lib, model=MODEL) as svc:
        rows = {os.path.basename(v.path): v for v in svc.library.videos().values()}
        model = svc.library.model_by_name(MODEL)
        done = svc.library.done_videos(model.id)
        failures = {os.path.basename(p): e for p, e in ((f.path, f.error) for f in svc.failures())}
    assert set(rows) == set(exp), "every file is recorded exactly once (the symlink loop adds nothing)"
    for name, want in exp.items():
        row = rows[name]
        if row.id in done:
            assert want in ("ok", "either"), f"{name} should have failed"
            assert row.status == "indexed"
        else:
            assert want in ("fail", "either"), f"{name} failed: {failures.get(name)}"
            err = failures[name]
            assert err and "\n" not in err and len(err) < 300, (name, err)
    assert stats.failed == sum(1 for n in exp if rows[n].id not in done)
    check_sound(lib)


def test_the_good_files_are_unharmed(hostile_run, tmp_path: Path) -> None:  # noqa: ANN001
    d, lib, exp, _ = hostile_run
    clean = tmp_path / "clean"
    clean.mkdir()
    make_video(clean / "good red.mp4", segments=[("red", 3.0), ("blue", 3.0)])
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.index([clean])
    ref = {t: v for (p, t), v in snapshot(tmp_path / "lib").items()}
    got = {t: v for (p, t), v in snapshot(lib).items() if p == str(d / "good red.mp4")}
    assert got == ref
    with Service(lib, model=MODEL) as svc:
        assert os.path.basename(svc.search("red", k=1)[0].path) == "good red.mp4"
        assert os.path.basename(svc.search("magenta", k=1)[0].path) == "good magenta.mkv"


def test_odd_but_valid_files_are_found_where_they_are(hostile_run) -> None:  # noqa: ANN001
    d, lib, exp, _ = hostile_run
    with Service(lib, model=MODEL) as svc:
        rows = {os.path.basename(v.path): v for v in svc.library.videos().values()}
        # a phone clip turned 90 degrees is stored as displayed (portrait)
        rot = rows["rotated.mp4"]
        assert (rot.width, rot.height) == (96, 160)
        # the header claimed five hours; the frames stop where the pictures stop
        liar = rows["claims five hours.mkv"]
        assert liar.duration is not None and liar.duration < 10
        snap = snapshot(lib)
        assert max(t for (p, t) in snap if p == liar.path) < 4.0
        # variable frame rate: frames from both halves (green, then yellow after 3 s)
        vfr = sorted(t for (p, t) in snap if p == rows["vfr.mp4"].path)
        assert vfr[0] < 1.0 and vfr[-1] >= 3.0
        for q, name in (
            ("cyan", "rotated.mp4"),
            ("orange", "claims five hours.mkv"),
            ("blue", "huge 8k.mp4"),
        ):
            names = [os.path.basename(m.path) for m in svc.search(q, k=3)]
            assert name in names, (q, names)


WEIRD = [
    "with space.mp4",
    'quote\'s "double".mp4',
    "new\nline.mp4",
    "emoji 🎬🙂.mp4",
    "tab\tand;semi|pipe $(x).mp4",
]


def test_weird_names_are_indexed_and_found(tmp_path: Path) -> None:
    d = tmp_path / "weird names"
    d.mkdir()
    colours = ["red", "blue", "green", "yellow", "purple"]
    for name, c in zip(WEIRD, colours, strict=True):
        make_video(d / name, segments=[(c, 2.0)])
    bad = os.fsencode(str(d)) + b"/bad-\xff\xfe-utf8.mp4"
    make_video(tmp_path / "tmp.mp4", segments=[("orange", 2.0)])
    os.rename(tmp_path / "tmp.mp4", bad)
    with Service(tmp_path / "lib", model=MODEL) as svc:
        stats = svc.index([d])
        assert stats.failed == 0, svc.failures()
        assert stats.indexed == 5
        for name, c in zip(WEIRD, colours, strict=True):
            assert svc.search(c, k=1)[0].path == str(d / name)
        # SQLite text is UTF-8: a name that is not cannot be stored; it is reported, not fatal
        (err,) = [e for p, e in stats.errors if os.fsencode(p) == bad]
        assert "not valid UTF-8" in err and "\n" not in err
    r = cli(tmp_path / "lib", "index", "-q", "--no-speech")
    assert r.returncode == 0 and "not valid UTF-8" in r.stderr
    check_sound(tmp_path / "lib")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads mode-000 files anyway")
def test_unreadable_file_is_recorded(tmp_path: Path) -> None:
    d = tmp_path / "v"
    make_video(d / "ok.mp4", segments=[("red", 2.0)])
    make_video(d / "secret.mp4", segments=[("blue", 2.0)])
    os.chmod(d / "secret.mp4", 0)
    try:
        with Service(tmp_path / "lib", model=MODEL) as svc:
            stats = svc.index([d])
            assert stats.indexed == 1 and stats.failed == 1
            assert [os.path.basename(f.path) for f in svc.failures()] == ["secret.mp4"]
    finally:
        os.chmod(d / "secret.mp4", 0o644)


def test_files_deleted_replaced_or_growing_while_indexing(tmp_path: Path) -> None:
    d = tmp_path / "v"
    names = ["a.mp4", "b.mp4", "c.mp4", "d.mp4", "e.mp4", "f.mp4"]
    cols = ["red", "blue", "green", "yellow", "purple", "white"]
    for n, c in zip(names, cols, strict=True):
        make_video(d / n, segments=[(c, 4.0), (c, 4.0)], gop=5)
    growing_src = make_video(tmp_path / "grow.mp4", segments=[("cyan", 4.0)])
    fired = threading.Event()

    def meddle(p) -> None:  # noqa: ANN001 - called from the indexing thread once per batch
        if fired.is_set():
            return
        fired.set()
        (d / "d.mp4").unlink()  # deleted (unplugged / removed) after the scan
        make_video(d / "e.mp4", segments=[("orange", 3.0)])  # replaced with other content
        with open(d / "f.mp4", "ab") as fh:  # something still writing to it
            fh.write(os.urandom(4096))
        with open(d / "growing.mp4", "wb") as fh:
            fh.write(growing_src.read_bytes()[:2000])

    with Service(tmp_path / "lib", model=MODEL) as svc:
        stats = svc.index([d], progress=meddle)
        assert fired.is_set()
        assert stats.indexed + stats.failed == 6
        for _p, e in ((f.path, f.error) for f in svc.failures()):
            assert "\n" not in e
        # the next run settles everything: deleted gone, replaced and grown re-indexed with what is there now
        (d / "growing.mp4").write_bytes(growing_src.read_bytes())
        os.utime(d / "e.mp4", (1e9, 2e9))
        os.utime(d / "f.mp4", (1e9, 2e9))
        svc.index()
        rows = {os.path.basename(v.path): v for v in svc.library.videos().values()}
        assert rows["d.mp4"].missing  # kept, marked missing (issue 16.13)
        for n in ("a.mp4", "b.mp4", "c.mp4", "e.mp4", "growing.mp4"):
            assert rows[n].status == "indexed", (n, rows[n].status, rows[n].error)
        assert os.path.basename(svc.search("orange", k=1)[0].path) == "e.mp4"
        assert os.path.basename(svc.search("cyan", k=1)[0].path) == "growing.mp4"
        assert os.path.basename(svc.search("red", k=1)[0].path) == "a.mp4"
        # f.mp4 with junk appended: indexed from its readable part, or a recorded error
        assert rows["f.mp4"].status in ("indexed", "failed")
    check_sound(tmp_path / "lib")
