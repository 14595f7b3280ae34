"""Facility mode: index an archive on a Ray cluster into a shared LanceDB dataset (docs/CLUSTER.md).

Needs the optional extra ``vsearch[cluster]`` (ray[data], lancedb). Nothing outside this package
imports it unless a user asks for a shared library, and its modules import ray and lancedb
only inside the functions that need them, so ``import vsearch.cluster.*`` works without them.
"""

from __future__ import annotations

from vsearch.errors import EnvironmentProblem

#: The shared libraries a desktop searches by default, in its config folder (vsearch.cluster.attach).
REMEMBERED_FILE = "shared_libraries.json"


def require(*modules: str) -> None:
    """Raise EnvironmentProblem naming the extra when one of *modules* cannot be imported."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise EnvironmentProblem(
                f"facility mode needs {name} ({e}); install it with: pip install 'vsearch[cluster]'"
            ) from None
