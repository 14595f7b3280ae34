"""Core modules never import Qt: importing each with PySide6 blocked must work."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import vsearch


def core_modules() -> list[str]:
    out = []
    for m in pkgutil.walk_packages(vsearch.__path__, "vsearch."):
        if m.name.startswith("vsearch.ui"):
            continue
        out.append(m.name)
    return out


def test_core_imports_without_qt() -> None:
    mods = core_modules()
    assert "vsearch.service" in mods and "vsearch.cli" in mods
    code = (
        "import sys; sys.modules['PySide6'] = None\n"
        "import importlib\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "assert not any(k.startswith('PySide6.') for k in sys.modules)\n"
        "print('ok')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
