"""`inspection enroll` on a tiny synthetic category: a registered model, clear errors."""

import json
from pathlib import Path

import pytest
from helpers.anomaly_data import make_category

from inspection_nodes.cli.main import main


def test_enroll_writes_and_registers_a_model(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cat = make_category(tmp_path, n_train=6, n_test_good=3, n_defect=3)
    out = tmp_path / "models" / "syn"
    assert main(["enroll", "--data", str(cat), "--out", str(out), "--method", "padim"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())
    assert manifest["method"] == "padim" and manifest["dataset"]["path"] == str(cat)
    assert [m["model_version"] for m in registry["models"]] == [manifest["model_version"]]
    assert f"enrolled {manifest['model_version']} from 6 images" in capsys.readouterr().out


def test_missing_category_exits_2_without_traceback(tmp_path: Path, capsys) -> None:
    assert main(["enroll", "--data", str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "train/good" in err and "Traceback" not in err


def test_corrupt_training_image_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cat = make_category(tmp_path, n_train=2, n_test_good=1, n_defect=1)
    (cat / "train" / "good" / "001.png").write_bytes(b"garbage")
    assert main(["enroll", "--data", str(cat), "--out", str(tmp_path / "m")]) == 2
    assert "cannot decode" in capsys.readouterr().err
