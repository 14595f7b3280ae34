"""Frozen entry point of the ``vsearch`` command-line program (PyInstaller bundle)."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from vsearch.cli import main

    sys.exit(main())
