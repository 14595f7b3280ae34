"""A process searching with a torch text tower puts numpy's BLAS on one thread; the starter's does not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHILD = r"""
import sys, numpy as np
from threadpoolctl import threadpool_info
from vsearch.query.search import Searcher

class Torch:
    text_in_torch = True

class Numpy:
    pass

np.ones((64, 64)) @ np.ones((64, 64))
blas = lambda: max(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
before = blas()
Searcher(None, None, None, Numpy())
after_numpy = blas()
Searcher(None, None, None, Torch())
print(before, after_numpy, blas())
"""


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS has one thread anyway")
def test_blas_goes_to_one_thread_only_for_a_torch_text_tower() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120, check=True)
    before, after_numpy, after_torch = map(int, out.stdout.split())
    assert before > 1 and after_numpy == before
    assert after_torch == 1
