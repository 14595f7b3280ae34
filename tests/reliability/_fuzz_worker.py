"""Fuzz worker: hypothesis mutates the bytes of small videos and feeds them to probe and sampling.

Run in a child process by test_fuzz.py (a segfault or a hang in FFmpeg then fails the test
instead of killing pytest): python -m tests.reliability._fuzz_worker SEED_DIR EXAMPLES OUT_JSON

Property: probe() returns a sane VideoInfo or raises MediaError; iter_frames() yields
increasing finite times and same-sized upright RGB frames, or raises MediaError. Nothing else.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vsearch.errors import MediaError
from vsearch.frames import SampleOptions, iter_frames
from vsearch.probe import probe

COUNTS = {"cases": 0, "probed_ok": 0, "probe_errors": 0, "decoded_ok": 0, "decode_errors": 0, "frames": 0}


def check(data: bytes, suffix: str, workdir: Path) -> None:
    COUNTS["cases"] += 1
    p = workdir / f"case{suffix}"
    p.write_bytes(data)
    try:
        info = probe(p, timeout=5.0)
    except MediaError as e:
        assert "\n" not in str(e)
        COUNTS["probe_errors"] += 1
        return
    COUNTS["probed_ok"] += 1
    assert math.isfinite(info.duration) and info.duration > 0
    assert info.width > 0 and info.height > 0
    opts = SampleOptions(short_side=32, batch=8, timeout=5.0)
    last = -math.inf
    shape = None
    try:
        for b in iter_frames(p, info, opts):
            assert np.all(np.isfinite(b.times)) and np.all(np.diff(b.times) > 0) and b.times[0] > last
            last = float(b.times[-1])
            assert b.images.dtype == np.uint8 and b.images.ndim == 4 and b.images.shape[3] == 3
            shape = shape or b.images.shape[1:]
            assert b.images.shape[1:] == shape
            COUNTS["frames"] += len(b.times)
    except MediaError as e:
        assert "\n" not in str(e)
        COUNTS["decode_errors"] += 1
        return
    COUNTS["decoded_ok"] += 1


def main() -> int:
    seed_dir, examples, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    seeds = [(p.read_bytes(), p.suffix) for p in sorted(seed_dir.iterdir())]
    workdir = Path(tempfile.mkdtemp(prefix="vsearch-fuzz-"))

    mutation = st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.sampled_from(["flip", "zero", "ff", "cut", "dup"]),
            st.integers(1, 64),
        ),
        min_size=1,
        max_size=4,
    )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.integers(0, len(seeds) - 1), mutation, st.randoms(use_true_random=False))
    def run(which: int, muts: list, rnd) -> None:  # noqa: ANN001
        data, suffix = seeds[which]
        buf = bytearray(data)
        for pos, op, n in muts:
            i = int(pos * len(buf)) if buf else 0
            if op == "flip":
                for j in range(i, min(len(buf), i + n)):
                    buf[j] ^= 1 << rnd.randrange(8)
            elif op == "zero":
                buf[i : i + n] = bytes(len(buf[i : i + n]))
            elif op == "ff":
                buf[i : i + n] = b"\xff" * len(buf[i : i + n])
            elif op == "cut":
                del buf[i : i + n * 7]
            elif op == "dup":
                buf[i:i] = buf[i : i + n * 31]
        check(bytes(buf), suffix, workdir)

    t0 = time.monotonic()
    run()
    COUNTS["seconds"] = round(time.monotonic() - t0, 1)
    out.write_text(json.dumps(COUNTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
