"""Run the vsearch CLI with widened write windows, so that a test's SIGKILL lands inside them.

Usage: python -m tests.reliability._driver PHASE_FILE -- <vsearch CLI args>

Test-only: it wraps the store's Sql.transaction (sleeps inside BEGIN ... COMMIT, after the writes)
and atomic_path (sleeps after the ANN index was written to its temp file, before the rename), saves the
ANN cache often, and appends the phase it is in to PHASE_FILE so that a test can tell
where each kill landed. While the file named by VSEARCH_TEST_PAUSE_FILE exists, the run
waits after each stored batch of frames (writer lock held), so a test can act during it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import sys
import time


def main() -> int:
    phase_file = sys.argv[1]
    args = sys.argv[sys.argv.index("--") + 1 :]
    fd = os.open(phase_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    delay = float(os.environ.get("VSEARCH_TEST_WRITE_DELAY", "0.03"))
    pause = os.environ.get("VSEARCH_TEST_PAUSE_FILE")  # while this file exists, no write starts
    rng = random.Random()

    def mark(phase: str) -> None:
        os.write(fd, (phase + "\n").encode())

    from vsearch import atomic, frames, indexer
    from vsearch.store import ann, library, sql

    indexer.ANN_SAVE_EVERY = 0.2
    real_init = indexer.Indexer.__init__

    def small_batches(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        real_init(self, *a, **k)
        self.options = dataclasses.replace(self.options, batch=int(os.environ.get("VSEARCH_TEST_BATCH", "4")))

    indexer.Indexer.__init__ = small_batches  # type: ignore[method-assign]
    real_tx = sql.Sql.transaction

    @contextlib.contextmanager
    def slow_tx(self):  # noqa: ANN001, ANN202
        if self._depth:  # a step of an outer transaction: that one sleeps before its COMMIT
            with real_tx(self) as c:
                yield c
            return
        with real_tx(self) as c:
            yield c
            mark("commit")
            time.sleep(rng.uniform(0, delay))
        mark("decode")

    sql.Sql.transaction = slow_tx  # type: ignore[method-assign]
    real_add_frames = library.Library.add_frames

    def paused_add_frames(self, *a, **k):  # noqa: ANN001, ANN002, ANN003, ANN202
        ids = real_add_frames(self, *a, **k)
        while pause and os.path.exists(pause):  # a test holds the run here, frames stored, lock held
            time.sleep(0.05)
        return ids

    library.Library.add_frames = paused_add_frames  # type: ignore[method-assign]
    real_ap = atomic.atomic_path

    @contextlib.contextmanager
    def slow_ap(path):  # noqa: ANN001, ANN202
        with real_ap(path) as tmp:
            yield tmp
            mark("ann-save")
            time.sleep(rng.uniform(0, delay))
        mark("decode")

    ann.atomic_path = slow_ap  # type: ignore[assignment]
    real_iter = frames.iter_frames

    def slow_iter(*a, **k):  # noqa: ANN002, ANN003, ANN202
        for batch in real_iter(*a, **k):
            time.sleep(rng.uniform(0, delay))
            yield batch

    indexer.iter_frames = slow_iter  # type: ignore[assignment]
    mark("start")
    from vsearch.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
