"""Icons and the stylesheet bundled under vsearch/resources/ui, loaded once and cached."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from vsearch.service import Service


@cache
def icon(name: str) -> QIcon:
    """The bundled SVG icon *name* (an empty icon if the file is missing)."""
    path = Service.resource("ui", f"{name}.svg")
    return QIcon(str(path)) if path.exists() else QIcon()


def stylesheet() -> str:
    """The app's stylesheet (empty if it is missing: the app still works with the platform style)."""
    path = Service.resource("ui", "style.qss")
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
