"""The facility-mode commands as a user types them, and a model switch on the shared library."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cluster.conftest import make_archive
from vsearch.cli import main
from vsearch.service import Service
from vsearch.store.shared import SharedDataset

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("ray_cluster")]


def test_cluster_index_then_search_shared_with_a_path_map(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = make_archive(tmp_path / "archive")
    uri = str(tmp_path / "shared")
    args = ["--library", str(tmp_path / "drv")]
    assert main([*args, "cluster", "index", str(root), "--shared", uri, "--model", "test-color", "-q"]) == 0
    out = capsys.readouterr()
    assert "5 videos found: 5 new" in out.out and "indexed 4" in out.out and "failed 1" in out.out
    assert "broken.mp4" in out.err
    assert main(["--model", "test-color", *args, "cluster", "index", str(root), "--shared", uri, "-q"]) == 0
    assert "5 unchanged; indexed 0 (0 frames)" in capsys.readouterr().out
    desk = ["--model", "test-color", "--library", str(tmp_path / "desk")]
    code = main([*desk, "search", "red", "-k", "3", "--json", "--shared", uri, "--map", f"{root}=/Volumes/Archive"])
    assert code == 0
    res = json.loads(capsys.readouterr().out)["results"]
    assert res and res[0]["path"] in ("/Volumes/Archive/a/red_blue.mp4", "/Volumes/Archive/b/cyan_red.mp4")
    assert main([*desk, "search", "red", "--shared", str(tmp_path / "nothing-here")]) == 2
    assert "holds no shared library" in capsys.readouterr().err
    assert main([*desk, "search", "red", "--shared", uri, "--map", "no-equals-sign"]) == 2
    capsys.readouterr()
    # remembered: every later search (the CLI's and the app's, through the Service) includes it
    assert main([*desk, "cluster", "attach", uri, "--map", f"{root}=/Volumes/Archive"]) == 0
    assert main([*desk, "cluster", "list"]) == 0
    assert f"{uri}  --map {root}=/Volumes/Archive" in capsys.readouterr().out
    assert main([*desk, "search", "red", "-k", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"] == res
    assert main([*desk, "cluster", "detach", uri]) == 0
    assert main([*desk, "cluster", "detach", uri]) == 2
    capsys.readouterr()
    assert main([*desk, "cluster", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_an_offline_remembered_shared_library_does_not_stop_a_search(tmp_path: Path) -> None:
    from vsearch.cluster.attach import remember

    with Service(tmp_path / "desk", model="test-color") as svc:
        remember(svc.dirs.config, str(tmp_path / "unplugged"), ["/mnt/a=/Volumes/A"])
        assert svc.shared_libraries() == [(str(tmp_path / "unplugged"), ["/mnt/a=/Volumes/A"])]
        assert svc.search("red", only="visual") == []


@pytest.mark.slow  # loads a second (open_clip) model on the driver and in an actor: 30-90 s here
def test_a_model_switch_builds_a_new_table_while_the_old_one_serves(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "archive")
    uri = str(tmp_path / "shared")
    with Service(tmp_path / "drv", model="test-color") as drv:
        drv.cluster_index([str(root)], uri)
    ds = SharedDataset(uri)
    old = ds.active_model()
    with Service(tmp_path / "drv", model="tiny-random") as drv:
        stats = drv.cluster_index([str(root)], uri)
    assert stats.indexed == 4 and stats.unchanged == 1  # the broken file is not retried
    ds = SharedDataset(uri)
    models = {m.name: m for m in ds.models()}
    assert models["test-color"].state == "retired" and models["tiny-random"].state == "active"
    assert models["tiny-random"].table != old.table and models["tiny-random"].dim != old.dim
    assert ds.frame_count(models["test-color"]) == ds.frame_count(old) > 0  # kept until removed
    with Service(tmp_path / "desk", model="tiny-random") as desk:
        assert desk.attach_shared(uri)
        assert desk._shared[0].model.model_id == models["tiny-random"].model_id
        assert desk.search("a red frame", k=3, only="visual")
