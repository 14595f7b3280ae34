"""Qt's xcb plugin needs system libraries: a missing one is named in one line, with its install command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vsearch.ui import syslibs

GONE = ("libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1")


def _os_release(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "os-release"
    p.write_text(text)
    return p


def test_missing_xcb_libraries_are_named_with_the_apt_command(tmp_path: Path) -> None:
    debian = _os_release(tmp_path, 'PRETTY_NAME="Ubuntu 24.04"\nID=ubuntu\nID_LIKE=debian\n')
    line = syslibs.qt_platform_problem(
        {"QT_QPA_PLATFORM": "xcb"}, loads=lambda n: n not in GONE, os_release=debian
    )
    assert line is not None and "\n" not in line
    assert "libxcb-cursor.so.0, libxcb-icccm.so.4, libxcb-keysyms.so.1" in line
    assert line.endswith("sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1")


@pytest.mark.parametrize(
    ("release", "command"),
    [
        ("ID=fedora\n", "sudo dnf install xcb-util-cursor"),
        ("ID=arch\n", "sudo pacman -S xcb-util-cursor"),
        ("ID=plan9\n", "sudo apt install libxcb-cursor0 (Debian/Ubuntu); sudo dnf install xcb-util-cursor (Fedora)"),
    ],
)
def test_the_install_command_follows_the_distribution(tmp_path: Path, release: str, command: str) -> None:
    line = syslibs.qt_platform_problem(
        {"QT_QPA_PLATFORM": "xcb"},
        loads=lambda n: n != "libxcb-cursor.so.0",
        os_release=_os_release(tmp_path, release),
    )
    assert line is not None and command in line


def test_the_needs_come_from_the_plugin_file_and_a_library_search_path(tmp_path: Path) -> None:
    qt = syslibs._pyside_qt_dir()
    if qt is None:
        pytest.skip("PySide6 is not installed")
    needs = syslibs.needed(qt / "plugins" / "platforms" / "libqxcb.so")
    assert "libxcb-cursor.so.0" in needs and "libxcb.so.1" in needs
    names = syslibs.xcb_needs(qt)
    assert not any(n.startswith("libQt6") or n.startswith("libc.so") for n in names)
    # a fake library folder holding all but one of them
    libdir = tmp_path / "lib"
    libdir.mkdir()
    for n in names:
        if n != "libxcb-keysyms.so.1":
            (libdir / n).write_bytes(b"")
    assert syslibs.missing(names, loads=lambda n: (libdir / n).exists()) == ["libxcb-keysyms.so.1"]


def test_other_platforms_are_not_checked() -> None:
    never = lambda n: False  # noqa: E731 - every library "missing"
    for env in ({"QT_QPA_PLATFORM": "offscreen"}, {"QT_QPA_PLATFORM": "wayland"},
                {"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}):
        assert syslibs.qt_platform_problem(env, loads=never) is None
    assert not syslibs.platform_needs_xcb({}, platform="darwin")
    assert not syslibs.platform_needs_xcb({}, platform="win32")
    assert syslibs.platform_needs_xcb({"DISPLAY": ":0"}, platform="linux")


def test_this_machine_has_what_the_xcb_plugin_needs() -> None:
    if syslibs._pyside_qt_dir() is None:
        pytest.skip("PySide6 is not installed")
    assert syslibs.missing(syslibs.xcb_needs()) == []


def test_the_app_exits_3_with_the_line_before_qt_starts(tmp_path: Path) -> None:
    # the real app entry, with one library made unloadable; Qt must not have been started
    code = (
        "import sys\n"
        "from vsearch.ui import syslibs\n"
        "real = syslibs._loads\n"
        "syslibs._loads = lambda n: n != 'libxcb-cursor.so.0' and real(n)\n"
        "syslibs.qt_platform_problem.__kwdefaults__['loads'] = syslibs._loads\n"
        "from vsearch.ui import app\n"
        "rc = app.main([])\n"
        "from PySide6.QtWidgets import QApplication\n"
        "assert QApplication.instance() is None\n"
        "sys.exit(rc)\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=":99", VSEARCH_HOME=str(tmp_path / "home"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 3, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert "libxcb-cursor.so.0" in lines[0] and "libxcb-cursor0" in lines[0]


@pytest.mark.parametrize("smoke", ["0", "1"])
def test_the_bundles_entry_point_says_the_same(tmp_path: Path, smoke: str) -> None:
    """packaging/entry_gui.py, the frozen app's entry (and its smoke mode), run as a script."""
    entry = Path(__file__).resolve().parents[2] / "packaging" / "entry_gui.py"
    code = (
        "import runpy, sys\n"
        "from vsearch.ui import syslibs\n"
        "real = syslibs._loads\n"
        "syslibs._loads = lambda n: n != 'libxcb-cursor.so.0' and real(n)\n"
        "syslibs.qt_platform_problem.__kwdefaults__['loads'] = syslibs._loads\n"
        f"runpy.run_path({str(entry)!r}, run_name='__main__')\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", DISPLAY=":99", VSEARCH_HOME=str(tmp_path / "home"),
               VSEARCH_GUI_SMOKE=smoke)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 3, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "libxcb-cursor0" in lines[0], r.stderr
