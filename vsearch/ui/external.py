"""Opening a video outside the app: a player at the moment, the file selected in the file manager.

Pure command construction (no Qt, no process started here), so each platform's command is tested
on any platform: :func:`player_command` prefers a player that can start at a time (mpv, VLC) and
falls back to the platform's opener, which starts at 0:00; :func:`reveal_command` selects the file
where the platform can (macOS ``open -R``, Windows ``explorer /select,``, Linux through the
freedesktop FileManager1 D-Bus interface) and otherwise opens its folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Which = Callable[[str], "str | None"]

#: Players that take a start time, in the order they are looked for, with how each is told it.
SEEKING_PLAYERS: tuple[tuple[str, str], ...] = (
    ("mpv", "--start={seconds}"),
    ("vlc", "--start-time={seconds}"),
)
#: Where VLC and mpv live when they are not on PATH (macOS app bundles, Windows installs).
KNOWN_LOCATIONS: dict[str, tuple[str, ...]] = {
    "darwin": ("/Applications/VLC.app/Contents/MacOS/VLC", "/Applications/mpv.app/Contents/MacOS/mpv"),
    "win32": (r"C:\Program Files\VideoLAN\VLC\vlc.exe", r"C:\Program Files (x86)\VideoLAN\VLC\vlc.exe"),
}
#: The D-Bus call that asks a Linux file manager (Nautilus, Dolphin, Nemo, Thunar…) to select a file.
FILE_MANAGER1 = ("org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                 "org.freedesktop.FileManager1", "ShowItems")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Command:
    """A command to start detached, and what to tell the user about it.

    Attributes:
        argv: program and arguments (empty: nothing can open the file).
        at_moment: True when the command starts playback at the moment, False when at 0:00.
        note: one line for the status bar.
    """

    argv: tuple[str, ...]
    at_moment: bool
    note: str


def _seconds(t: float) -> str:
    return f"{max(0.0, float(t)):.3f}".rstrip("0").rstrip(".") or "0"


def _find(name: str, which: Which, platform: str, exists: Callable[[str], bool]) -> str | None:
    found = which(name)
    if found:
        return found
    for candidate in KNOWN_LOCATIONS.get(platform, ()):
        if Path(candidate).name.lower().startswith(name) and exists(candidate):
            return candidate
    return None


def platform_opener(platform: str, which: Which) -> tuple[str, ...] | None:
    """The platform's "open with the default application" command, or None where there is none."""
    if platform == "darwin":
        return ("open",)
    if platform == "win32":
        return ("cmd", "/c", "start", "")
    opener = which("xdg-open") or which("gio")
    if opener is None:
        return None
    return (opener, "open") if Path(opener).name == "gio" else (opener,)


def player_command(
    path: str,
    start: float,
    *,
    which: Which | None = None,
    platform: str | None = None,
    exists: Callable[[str], bool] = os.path.exists,
) -> Command:
    """How to play *path* from *start* seconds in a player outside the app.

    mpv or VLC (on PATH, or where their installers put them) start at the moment; otherwise the
    platform's opener plays the file from its beginning, and the note says so; with neither,
    ``argv`` is empty and the note says what to install.
    """
    which, platform = which or shutil.which, platform or sys.platform
    for name, option in SEEKING_PLAYERS:
        exe = _find(name, which, platform, exists)
        if exe:
            argv = (exe, option.format(seconds=_seconds(start)), path)
            return Command(argv, True, f"Opened in {name} at {_seconds(start)} s")
    opener = platform_opener(platform, which)
    if opener is None:
        return Command((), False, "No video player found: install mpv or VLC to open moments outside vsearch")
    return Command(
        (*opener, path), False,
        "Opened in the system's video player, which starts at 0:00 (mpv or VLC would open at the moment)",
    )  # fmt: skip


def reveal_command(
    path: str, *, which: Which | None = None, platform: str | None = None, dbus: bool = True
) -> Command:
    """How to show *path* in the file manager: selected where the platform allows, else its folder.

    Args:
        path: the file.
        which: looks a program up on PATH.
        platform: ``sys.platform``'s value.
        dbus: whether a session bus is there to ask (Linux); the caller tries the D-Bus call
            itself (:data:`FILE_MANAGER1`) and falls back to this command's folder when the call fails.
    """
    which, platform = which or shutil.which, platform or sys.platform
    folder = os.path.dirname(path) or "."
    if platform == "darwin":
        return Command(("open", "-R", path), True, "Shown in Finder")
    if platform == "win32":
        return Command(("explorer", f"/select,{path}"), True, "Shown in Explorer")
    dbus_send = which("dbus-send") if dbus else None
    if dbus_send:
        uri = Path(path).absolute().as_uri()
        service, obj, iface, method = FILE_MANAGER1
        argv = (dbus_send, "--session", "--print-reply", f"--dest={service}", "--type=method_call",
                obj, f"{iface}.{method}", f"array:string:{uri}", "string:")  # fmt: skip
        return Command(argv, True, "Shown in the file manager")
    opener = platform_opener(platform, which)
    if opener is None:
        return Command((), False, f"No file manager found; the file is in {folder}")
    return Command((*opener, folder), False, f"Opened the folder {folder}")
