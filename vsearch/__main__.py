"""``python -m vsearch`` runs the command-line interface."""

import multiprocessing

from vsearch.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    raise SystemExit(main())
