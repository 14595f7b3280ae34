"""The precision a user picks (settings dialog / --precision) reaches the model and is remembered."""

from __future__ import annotations

from pathlib import Path

from vsearch.cli import main
from vsearch.embed.base import pick_precision
from vsearch.service import Service


def test_precision_setting_reaches_the_model_and_is_remembered(tmp_path: Path) -> None:
    with Service(tmp_path / "lib", model="tiny-random", device="cpu") as svc:
        assert svc.embedder("tiny-random").precision == pick_precision("cpu")  # auto
        svc.update_settings(precision="fp32")
        assert svc.embedder("tiny-random").precision == "fp32"
    with Service(tmp_path / "lib", model="tiny-random", device="cpu") as svc:
        assert svc.embedder("tiny-random").precision == "fp32"
    with Service(tmp_path / "lib", model="tiny-random", device="cpu", precision="bf16") as svc:
        assert svc.embedder("tiny-random").precision == "bf16"  # the command line wins


def test_cli_rejects_an_unknown_precision(capsys) -> None:
    try:
        main(["--precision", "int4", "status"])
    except SystemExit as e:
        assert e.code == 2
    assert "invalid choice: 'int4'" in capsys.readouterr().err
