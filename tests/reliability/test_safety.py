"""Safety: no shell, parameterised SQL, escaped exports, reads only the chosen folders, writes
only the library, no network during index and search."""

from __future__ import annotations

import ast
import csv
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.helpers.videos import make_video
from tests.reliability._lib import MODEL, REPO, check_sound
from vsearch.export import export, load_results_json
from vsearch.service import Service

PKG = REPO / "vsearch"
SOURCES = sorted(PKG.rglob("*.py"))
SQL_METHODS = {"execute", "executemany", "executescript", "query"}
# the only things ever formatted into SQL text: constant column lists, "?, ?, ?" placeholder
# runs, and integers the code computes itself
SQL_FSTRING_OK = {"_VIDEO_COLS", "_MODEL_COLS", "marks", "int(timeout * 1000)", "migrations.SCHEMA_VERSION"}


def _calls(tree: ast.AST):  # noqa: ANN202
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def test_no_shell_anywhere() -> None:
    bad = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree):
            name = ast.unparse(call.func)
            if name in ("os.system", "os.popen", "os.spawnl", "os.spawnlp", "commands.getoutput"):
                bad.append(f"{path.relative_to(REPO)}:{call.lineno} {name}")
            for kw in call.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    bad.append(f"{path.relative_to(REPO)}:{call.lineno} shell=")
            if (
                name.startswith("subprocess.")
                and call.args
                and isinstance(call.args[0], ast.Constant | ast.JoinedStr)
            ):
                bad.append(f"{path.relative_to(REPO)}:{call.lineno} {name} with a string command")
    assert bad == []


def test_sql_is_parameterised() -> None:
    bad = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for call in _calls(tree):
            if not (isinstance(call.func, ast.Attribute) and call.func.attr in SQL_METHODS and call.args):
                continue
            sql = call.args[0]
            if isinstance(sql, ast.JoinedStr):
                for part in sql.values:
                    if isinstance(part, ast.FormattedValue) and ast.unparse(part.value) not in SQL_FSTRING_OK:
                        bad.append(f"{path.relative_to(REPO)}:{call.lineno} {{{ast.unparse(part.value)}}}")
            elif (
                isinstance(sql, ast.BinOp | ast.Call)
                and "format" in ast.unparse(sql)
                or isinstance(sql, ast.BinOp)
            ):
                bad.append(f"{path.relative_to(REPO)}:{call.lineno} SQL built by concatenation/format")
    assert bad == [], "user values must go in as ? parameters"


HOSTILE = "a&b <c> \"q\" 'x' ]]> =cmd|calc\u202e 🎬.mp4"


def test_hostile_name_survives_every_text_export(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v" / HOSTILE, segments=[("red", 2.0), ("blue", 2.0)])
    with Service(tmp_path / "lib", model=MODEL) as svc:
        svc.index([video.parent])
        moments = svc.search("red", k=2)
    assert moments and moments[0].path == str(video)
    for fmt in ("fcpxml", "xmeml", "csv", "json"):
        (out,) = export(moments, fmt, tmp_path / f"out.{fmt}", query="red <&>")[:1]
        text = out.read_text(encoding="utf-8")
        if fmt in ("fcpxml", "xmeml"):
            root = ET.fromstring(text.encode("utf-8"))  # well-formed despite <, &, quotes and ]]>
            found = " ".join(
                [*(e.text or "" for e in root.iter()), *(v for e in root.iter() for v in e.attrib.values())]
            )
            from urllib.parse import unquote

            assert HOSTILE in found or HOSTILE in unquote(found), fmt
        elif fmt == "csv":
            rows = list(csv.reader(text.splitlines()))
            cells = [c for r in rows for c in r]
            assert any(HOSTILE in c for c in cells)
            assert not any(c.startswith(("=", "+", "-", "@")) for c in cells if "cmd" in c)
        else:
            query, loaded = load_results_json(out)
            assert query == "red <&>" and [m.path for m in loaded] == [m.path for m in moments]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in filenames + dirnames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, root)] = (st.st_mtime_ns, st.st_size)
    return out


def test_reads_only_the_folder_and_writes_only_the_library(tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    outside = tmp_path / "outside"
    make_video(videos / "inside.mp4", segments=[("red", 2.0)])
    make_video(outside / "linked file.mp4", segments=[("blue", 2.0)])
    make_video(outside / "not linked.mp4", segments=[("green", 2.0)])
    (videos / "link.mp4").symlink_to(outside / "linked file.mp4")
    before = _tree(tmp_path)
    lib = tmp_path / "lib"
    with Service(lib, model=MODEL) as svc:
        svc.index([videos])
        svc.search("red")
        paths = sorted(os.path.basename(v.path) for v in svc.library.videos().values())
    # a link the user put inside the folder is followed; the rest of the disk is not visited
    assert paths == ["inside.mp4", "link.mp4"]
    after = _tree(tmp_path)
    changed = sorted(
        k for k in set(before) | set(after) if before.get(k) != after.get(k) and not k.startswith("lib")
    )
    assert changed == [], f"written outside the library: {changed}"
    check_sound(lib)


NO_NET = """
import socket, sys
def refuse(*a, **k):
    raise OSError("network access attempted during an offline test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from vsearch.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_index_and_search_need_no_network(tmp_path: Path) -> None:
    make_video(tmp_path / "v" / "a.mp4", segments=[("red", 2.0), ("blue", 2.0)])
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROXY") and not k.endswith("_proxy")}
    lib = tmp_path / "lib"
    for args in (["index", "-q", str(tmp_path / "v")], ["search", "blue", "--json"], ["status"]):
        r = subprocess.run(
            [sys.executable, "-c", NO_NET, "--library", str(lib), "--model", MODEL, *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        assert r.returncode == 0, (args, r.stderr)
        assert "network access attempted" not in r.stderr
        if args[0] == "search":
            assert "a.mp4" in r.stdout


def test_the_network_guard_itself_works() -> None:
    code = NO_NET.replace(
        "from vsearch.cli import main\nsys.exit(main(sys.argv[1:]))\n",
        "socket.create_connection(('127.0.0.1', 9))\n",
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "network access attempted" in r.stderr
