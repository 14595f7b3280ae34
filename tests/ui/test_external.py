"""Opening outside the app (issue 16.9): a player at the moment, the file selected, a message when nothing can."""

from __future__ import annotations

from pathlib import Path

import pytest

from vsearch.types import Moment
from vsearch.ui import external
from vsearch.ui.external import player_command, reveal_command
from vsearch.ui.player import PlayerPanel

VIDEO = "/media/clips/a dog.mp4"


def on_path(*names: str):  # noqa: ANN201 - a fake shutil.which
    return lambda name: f"/usr/bin/{name}" if name in names else None


def nothing(_path: str) -> bool:
    return False


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_mpv_then_vlc_open_at_the_moment(platform: str) -> None:
    mpv = player_command(VIDEO, 12.5, which=on_path("mpv", "vlc"), platform=platform, exists=nothing)
    assert mpv.argv == ("/usr/bin/mpv", "--start=12.5", VIDEO) and mpv.at_moment
    vlc = player_command(VIDEO, 61.25, which=on_path("vlc"), platform=platform, exists=nothing)
    assert vlc.argv == ("/usr/bin/vlc", "--start-time=61.25", VIDEO) and vlc.at_moment
    assert "vlc" in vlc.note and "61.25" in vlc.note


def test_vlc_where_its_installer_puts_it() -> None:
    app = "/Applications/VLC.app/Contents/MacOS/VLC"
    cmd = player_command(VIDEO, 3.0, which=on_path(), platform="darwin", exists=lambda p: p == app)
    assert cmd.argv == (app, "--start-time=3", VIDEO)


def test_without_mpv_or_vlc_the_platform_opener_starts_at_zero_and_says_so() -> None:
    linux = player_command(VIDEO, 12.5, which=on_path("xdg-open"), platform="linux", exists=nothing)
    assert linux.argv == ("/usr/bin/xdg-open", VIDEO) and not linux.at_moment
    assert "0:00" in linux.note
    mac = player_command(VIDEO, 12.5, which=on_path(), platform="darwin", exists=nothing)
    assert mac.argv == ("open", VIDEO) and "0:00" in mac.note
    win = player_command(VIDEO, 12.5, which=on_path(), platform="win32", exists=nothing)
    assert win.argv == ("cmd", "/c", "start", "", VIDEO)


def test_no_player_at_all_gives_a_message_not_silence() -> None:
    cmd = player_command(VIDEO, 12.5, which=on_path(), platform="linux", exists=nothing)
    assert cmd.argv == () and "No video player found" in cmd.note and "mpv or VLC" in cmd.note


def test_show_in_folder_selects_the_file_where_the_platform_can() -> None:
    assert reveal_command(VIDEO, platform="darwin").argv == ("open", "-R", VIDEO)
    assert reveal_command(VIDEO, platform="win32").argv == ("explorer", f"/select,{VIDEO}")
    dbus = reveal_command(VIDEO, which=on_path("dbus-send", "xdg-open"), platform="linux")
    assert dbus.argv[0] == "/usr/bin/dbus-send" and "--dest=org.freedesktop.FileManager1" in dbus.argv
    assert "org.freedesktop.FileManager1.ShowItems" in dbus.argv
    assert f"array:string:{Path(VIDEO).as_uri()}" in dbus.argv  # the space is %20 in the URI
    folder = reveal_command(VIDEO, which=on_path("xdg-open"), platform="linux", dbus=False)
    assert folder.argv == ("/usr/bin/xdg-open", "/media/clips") and not folder.at_moment


def test_the_player_opens_at_the_current_moment_or_says_nothing_can(qtbot, monkeypatch) -> None:
    p = PlayerPanel(audio=False, autoplay=False)
    qtbot.addWidget(p)
    started: list[tuple[str, ...]] = []
    p.launcher = lambda argv: started.append(tuple(argv)) or True
    assert not p.open_external()  # nothing loaded: nothing to open
    p.open_moment(Moment(VIDEO, 4.0, 6.0, 0.5, 5.0, fps=25.0, duration=10.0), [(1.0, 2.0), (4.0, 6.0)], 1)
    monkeypatch.setattr(external.shutil, "which", on_path("mpv"))
    with qtbot.waitSignal(p.externalOpened) as opened:
        assert p.open_external()
    assert started[-1] == ("/usr/bin/mpv", "--start=4", VIDEO) and "mpv" in opened.args[0]
    p.go_to_mark(0)
    p.open_external()
    assert started[-1] == ("/usr/bin/mpv", "--start=1", VIDEO)
    monkeypatch.setattr(external.shutil, "which", on_path())
    monkeypatch.setattr(external.sys, "platform", "linux")
    with qtbot.waitSignal(p.externalFailed) as failed:
        assert not p.open_external()
    assert "No video player found" in failed.args[0]
    # a player that will not start is said too
    monkeypatch.setattr(external.shutil, "which", on_path("vlc"))
    p.launcher = lambda argv: False
    with qtbot.waitSignal(p.externalFailed) as failed:
        p.open_external()
    assert "Could not start /usr/bin/vlc" in failed.args[0]


def test_show_in_folder_falls_back_to_the_folder_when_no_file_manager_answers(qtbot, monkeypatch,
                                                                              tmp_path: Path) -> None:  # fmt: skip
    """A dbus-send that fails (no FileManager1 on the bus) ends with the folder opened."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dbus-send").write_text("#!/bin/sh\nexit 1\n")
    (fake / "dbus-send").chmod(0o755)
    p = PlayerPanel(audio=False, autoplay=False)
    qtbot.addWidget(p)
    started: list[tuple[str, ...]] = []
    p.launcher = lambda argv: started.append(tuple(argv)) or True
    p.open_moment(Moment(VIDEO, 4.0, 6.0, 0.5, 5.0, fps=25.0, duration=10.0))
    tools = {"dbus-send": str(fake / "dbus-send"), "xdg-open": "/usr/bin/xdg-open"}
    monkeypatch.setattr(external.shutil, "which", tools.get)
    monkeypatch.setattr(external.sys, "platform", "linux")
    with qtbot.waitSignal(p.externalOpened, timeout=10_000) as opened:
        assert p.show_in_folder()
    assert started == [("/usr/bin/xdg-open", "/media/clips")]
    assert "folder" in opened.args[0]


def test_in_the_window_the_user_is_told_what_opened_or_what_to_install(qtbot, monkeypatch, colour_window,
                                                                        colour_video: Path) -> None:
    """The menu's "Open in system player" ends in words the user sees: the status bar and a message box."""
    from PySide6.QtWidgets import QMessageBox

    win = colour_window
    win.player.open_moment(Moment(str(colour_video), 2.0, 4.0, 0.5, 3.0, fps=10.0, duration=6.0), [(2.0, 4.0)], 0)
    started: list[tuple[str, ...]] = []
    win.player.launcher = lambda argv: started.append(tuple(argv)) or True
    monkeypatch.setattr(external.shutil, "which", on_path())
    monkeypatch.setattr(external.sys, "platform", "linux")
    win.open_action.trigger()
    assert not started
    assert "No video player found" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: any(b.isVisible() and "No video player found" in b.text()
                                for b in win.findChildren(QMessageBox)), timeout=5000)  # fmt: skip
    for b in win.findChildren(QMessageBox):
        b.close()
    monkeypatch.setattr(external.shutil, "which", on_path("mpv"))
    win.open_action.trigger()
    assert started == [("/usr/bin/mpv", "--start=2", str(colour_video))]
    assert "mpv" in win.statusBar().currentMessage()
