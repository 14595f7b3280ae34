"""System libraries the desktop app needs from the OS (Qt's xcb plugin on Linux), checked before a QApplication.

PySide6's wheels bundle Qt but not the X11/xcb libraries its ``xcb`` platform plugin links
against. On a fresh Debian or Ubuntu desktop ``libxcb-cursor0`` (and often ``libxcb-icccm4`` and
``libxcb-keysyms1``) are absent, the plugin fails to load and Qt prints a generic "no Qt platform
plugin could be initialized ... Reinstalling the application may fix this problem" and aborts.
:func:`qt_platform_problem` finds that out first, by loading each library the plugin needs (the
``DT_NEEDED`` entries of ``libqxcb.so`` and ``libQt6XcbQpa.so.6``, read from the installed
PySide6, plus a known list for a frozen bundle), and words it as one line naming what is missing
and the command that installs it. No Qt is imported here (importing vsearch.ui loads QtCore, which needs no X11 library).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

#: soname -> (Debian/Ubuntu, Fedora, Arch) package that ships it.
PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libz.so.1": ("zlib1g", "zlib", "zlib"),
}

#: What the xcb plugin and QtGui of PySide6 6.x need from the system (``readelf -d`` of
#: ``libqxcb.so``, ``libQt6XcbQpa.so.6`` and ``libQt6Gui.so.6``, and ``ldd`` for what those pull
#: in), checked as well for a frozen bundle whose plugin file cannot be located.
XCB_NEEDS = tuple(PACKAGES)

_COMMANDS = (("apt", "sudo apt install"), ("dnf", "sudo dnf install"), ("pacman", "sudo pacman -S"))
_FAMILIES = {"debian": 0, "ubuntu": 0, "linuxmint": 0, "pop": 0, "fedora": 1, "rhel": 1, "centos": 1,
             "rocky": 1, "almalinux": 1, "arch": 2, "manjaro": 2, "endeavouros": 2}
_ALWAYS_THERE = ("libc.so", "libm.so", "libstdc++.so", "libgcc_s.so", "libdl.so", "libpthread.so",
                 "librt.so", "ld-linux")


def needed(elf: Path) -> list[str]:
    """The ``DT_NEEDED`` sonames of a 64-bit little-endian ELF file ([] when it is not one)."""
    try:
        data = elf.read_bytes()
    except OSError:
        return []
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    e_phoff, = struct.unpack_from("<Q", data, 0x20)
    e_phentsize, e_phnum = struct.unpack_from("<HH", data, 0x36)
    loads: list[tuple[int, int, int]] = []  # (vaddr, offset, filesz)
    dynamic = None
    for i in range(e_phnum):
        p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = struct.unpack_from("<IIQQQQ", data, e_phoff + i * e_phentsize)
        if p_type == 1:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == 2:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return []
    strtab, names = None, []
    for off in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, val = struct.unpack_from("<qQ", data, off)
        if tag == 0:
            break
        if tag == 1:
            names.append(val)
        elif tag == 5:
            strtab = val
    if strtab is None:
        return []
    base = next((o + strtab - v for v, o, n in loads if v <= strtab < v + n), None)
    if base is None:
        return []
    out = []
    for n in names:
        end = data.index(b"\0", base + n)
        out.append(data[base + n : end].decode("ascii", "replace"))
    return out


def _pyside_qt_dir() -> Path | None:
    spec = importlib.util.find_spec("PySide6")  # finds the package without importing (loading) Qt
    if spec is None or not spec.submodule_search_locations:
        return None
    qt = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    return qt if qt.is_dir() else None


def xcb_needs(qt_dir: Path | None = None) -> list[str]:
    """System libraries the xcb plugin links against (Qt's own, bundled ones left out)."""
    qt_dir = qt_dir if qt_dir is not None else _pyside_qt_dir()
    names: list[str] = []
    if qt_dir is not None:
        for f in (qt_dir / "plugins" / "platforms" / "libqxcb.so", qt_dir / "lib" / "libQt6XcbQpa.so.6"):
            names += needed(f)
    names += XCB_NEEDS
    bundled = {p.name for p in (qt_dir / "lib").iterdir()} if qt_dir is not None and (qt_dir / "lib").is_dir() else set()
    seen: dict[str, None] = {}
    for n in names:
        if n.startswith("libQt6") or n in bundled or n.startswith(_ALWAYS_THERE):
            continue
        seen.setdefault(n, None)
    return list(seen)


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing(names: Iterable[str], loads: Callable[[str], bool] = _loads) -> list[str]:
    """The libraries of *names* that the dynamic loader cannot load."""
    return [n for n in names if not loads(n)]


def platform_needs_xcb(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether Qt will start with its xcb plugin: Linux, and QT_QPA_PLATFORM (or the session) says X11."""
    env = dict(os.environ) if env is None else env
    if (platform or sys.platform) != "linux":
        return False
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa:
        return qpa.split(";")[0].split(":")[0].strip() == "xcb"
    # Qt 6 prefers wayland in a Wayland session and falls back to xcb otherwise
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE", "wayland") == "wayland")


def distro_family(os_release: Path = Path("/etc/os-release")) -> int | None:
    """0 Debian/Ubuntu (apt), 1 Fedora/RHEL (dnf), 2 Arch (pacman), None when unknown."""
    try:
        text = os_release.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    ids: list[str] = []
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids += value.strip().strip('"').lower().split()
    return next((_FAMILIES[i] for i in ids if i in _FAMILIES), None)


def describe(missing_libs: list[str], family: int | None) -> str:
    """One line: what is missing and the command that installs it (every family's when unknown)."""
    def command(i: int) -> str:
        return f"{_COMMANDS[i][1]} {' '.join(packages(missing_libs, i))}"

    how = (
        command(family)
        if family is not None
        else "; ".join(f"{command(i)} ({name})" for i, name in enumerate(("Debian/Ubuntu", "Fedora", "Arch")))
    )
    return (
        f"vsearch-gui cannot start: Qt's X11 (xcb) platform plugin needs {', '.join(missing_libs)}, "
        f"which this system lacks; install with: {how}"
    )


def qt_platform_problem(
    env: dict[str, str] | None = None,
    *,
    loads: Callable[[str], bool] = _loads,
    qt_dir: Path | None = None,
    os_release: Path = Path("/etc/os-release"),
) -> str | None:
    """The one line to print when Qt's platform plugin cannot load here, else None.

    Only the xcb plugin (Linux under X11) is checked; offscreen, wayland, macOS and Windows
    need nothing from the system that PySide6 does not bundle.
    """
    if not platform_needs_xcb(env):
        return None
    gone = missing(xcb_needs(qt_dir), loads)
    return describe(gone, distro_family(os_release)) if gone else None


def packages(missing_libs: Iterable[str], family: int = 0) -> list[str]:
    """The packages that install *missing_libs* (Debian's by default), each once."""
    out: dict[str, None] = {}
    for lib in missing_libs:
        out.setdefault(PACKAGES[lib][family] if lib in PACKAGES else lib, None)
    return list(out)


if __name__ == "__main__":  # `python -m vsearch.ui.syslibs`: the packages this machine lacks (CI installs them)
    print(" ".join(packages(missing(xcb_needs()), distro_family() or 0)))
