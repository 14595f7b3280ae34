"""How many videos decode at once: every core on a GPU machine, half the cores when the CPU embeds."""

from __future__ import annotations

from vsearch.indexer import decode_plan


def test_gpu_machine_decodes_one_video_per_core_but_one() -> None:
    assert decode_plan(0, 16, "cuda", videos=100) == (15, 1)
    assert decode_plan(0, 16, "cuda", videos=3) == (3, 5)  # few videos: threads inside each
    assert decode_plan(0, 16, "cuda", videos=1) == (1, 16)


def test_cpu_embedding_leaves_cores_to_the_model() -> None:
    assert decode_plan(0, 2, "cpu", videos=10) == (1, 2)
    assert decode_plan(0, 16, "cpu", videos=10) == (4, 4)


def test_explicit_worker_count_wins() -> None:
    assert decode_plan(6, 16, "cuda", videos=10) == (6, 2)
