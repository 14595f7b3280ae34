"""Layering: core modules never import Qt; the CLI and the app reach the core through the Service only."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

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


#: What the faces (``vsearch/cli.py``, ``vsearch/ui/``) may import of the core: the facade, the
#: values and errors that cross it, the shared time formatting (issue 13.4), and the named
#: loggers every layer writes to. Everything else goes through ``Service``.
FACE_IMPORTS = {
    "vsearch",
    "vsearch.service",
    "vsearch.types",
    "vsearch.errors",
    "vsearch.timefmt",
    "vsearch.log",
}


def _runtime_imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, module) of every vsearch module *path* imports at run time (TYPE_CHECKING blocks skipped)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            if mod == "vsearch":  # `from vsearch import x`: x is a submodule or __version__
                out += [(node.lineno, f"vsearch.{a.name}" if a.name != "__version__" else "vsearch") for a in node.names]
            else:
                out.append((node.lineno, mod))
    return [(line, m) for line, m in out if m == "vsearch" or m.startswith("vsearch.")]


#: Face imports still waiting for their Service method: (file, module). Empty: the cluster
#: commands live in vsearch/cli.py and call the Service like the others. Add an entry only with
#: the issue that will remove it.
PENDING: set[tuple[str, str]] = set()


def _face_violations(files: list[Path]) -> list[str]:
    root = Path(vsearch.__file__).parent
    bad = []
    for f in files:
        package = ".".join(["vsearch", *f.relative_to(root).parent.parts])
        name = f.relative_to(root.parent).as_posix()
        for line, mod in _runtime_imports(f, package):
            if mod in FACE_IMPORTS or mod == "vsearch.ui" or mod.startswith("vsearch.ui."):
                continue
            if (name, mod) not in PENDING:
                bad.append(f"{name}:{line}: {mod}")
    return bad


def test_cli_uses_only_the_service_and_shared_types() -> None:
    bad = _face_violations([Path(vsearch.__file__).parent / "cli.py"])
    assert not bad, "import through vsearch.service instead:\n" + "\n".join(bad)


def test_ui_uses_only_the_service_and_shared_types() -> None:
    bad = _face_violations(sorted((Path(vsearch.__file__).parent / "ui").rglob("*.py")))
    assert not bad, "import through vsearch.service instead:\n" + "\n".join(bad)
