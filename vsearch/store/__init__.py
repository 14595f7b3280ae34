"""The store: SQLite, the truth (schema, migrations, typed access), and the ANN index, its cache."""

import sys as _sys


def _import_sqlite_utils_without_pandas() -> None:
    """Import sqlite-utils while pandas is hidden from it.

    sqlite-utils imports pandas when it is installed (0.9 s, 100 MB) only to map
    ``pandas.Timestamp`` to a TEXT column; vsearch never passes pandas values, and pandas is in
    the environment only for other packages, so a cold ``vsearch search`` paid for it. Hiding it
    affects only that mapping; pandas imports normally afterwards.
    """
    if "sqlite_utils" in _sys.modules or "pandas" in _sys.modules:
        return
    _sys.modules["pandas"] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        del _sys.modules["pandas"]


_import_sqlite_utils_without_pandas()
