"""A cold start pays only for what it needs: no model load for an index run with nothing to
embed, and a starter-model search that imports neither torch's model stacks nor open_clip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.videos import make_video
from vsearch.embed.registry import PRESETS
from vsearch.service import Service

HEAVY = ("open_clip", "transformers", "torchvision", "torch")

# run the CLI in a fresh interpreter, then report which heavy packages it imported
_PROBE = (
    "import json, sys\n"
    "from vsearch.cli import main\n"
    "rc = main(sys.argv[1:])\n"
    f"print(json.dumps({{'rc': rc, 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))\n"
)


def _cli(*args: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=dict(os.environ), timeout=300
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def starter_library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(library, videos folder) indexed with the starter model (frames only)."""
    root = tmp_path_factory.mktemp("cold")
    videos = root / "videos"
    videos.mkdir()
    make_video(videos / "a.mp4", segments=[("red", 2.0), ("blue", 2.0)])
    lib = root / "lib"
    # a home of its own: the settings written here must not reach the session's other fixtures
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VSEARCH_HOME", str(root / "home"))
        with Service(lib, model="starter") as svc:
            svc.update_settings(speech=False, ocr=False)
            stats = svc.index([videos])
            assert stats.indexed == 1 and svc.models_built == ["starter"]
    return lib, videos


def test_index_of_an_unchanged_folder_builds_no_embedder(starter_library: tuple[Path, Path]) -> None:
    lib, _ = starter_library
    with Service(lib) as svc:
        svc.update_settings(speech=False, ocr=False)
        stats = svc.index()
        assert stats.unchanged == 1 and stats.indexed == 0
        assert svc.models_built == []


def test_starter_search_imports_no_torch_model_stack(starter_library: tuple[Path, Path]) -> None:
    lib, _ = starter_library
    out = _cli("--library", str(lib), "search", "a red wall", "-k", "1")
    assert out == {"rc": 0, "heavy": []}


def test_index_of_an_empty_folder_on_a_fresh_install_loads_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    out = _cli("--library", str(tmp_path / "lib"), "index", str(empty))
    assert out == {"rc": 0, "heavy": []}


def test_preset_hub_repos_agree_with_open_clip() -> None:
    from vsearch.embed.weights import hf_weight_candidates

    for p in PRESETS.values():
        cand = hf_weight_candidates(p.arch, p.pretrained)
        assert cand is not None and cand[0] == p.hub_repo, p.name


def test_listing_models_with_nothing_downloaded_imports_no_model_stack(tmp_path: Path) -> None:
    """The app's model list and its better-model offer run on a worker thread while a video may
    start playing; importing open_clip (torchvision, triton) there crashed the app once."""
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from vsearch.embed.registry import list_models\n"
        f"rows = list_models(Path({str(tmp_path / 'models')!r}))\n"
        f"print(json.dumps({{'present': [r.present for r in rows], 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))\n"
    )
    env = dict(os.environ, HF_HOME=str(tmp_path / "hf"))  # an empty default hub cache too
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["present"][0] is True and not any(out["present"][1:])  # the starter only
    assert out["heavy"] == []
