"""`inspection evaluate` end to end on a tiny synthetic category."""

import json
from pathlib import Path

import pytest
from helpers.anomaly_data import make_category

from inspection_nodes.cli.main import main


def test_enroll_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cat = make_category(tmp_path, n_train=6, n_test_good=3, n_defect=3)
    out = tmp_path / "models" / "syn"
    assert main(["enroll", "--data", str(cat), "--out", str(out)]) == 0
    report = tmp_path / "eval.json"
    assert main(["evaluate", "--model", str(out), "--data", str(cat), "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["n_images"] == 6 and result["image_auroc"] == 1.0
    assert result["pixel_auroc"] > 0.9 and result["latency_ms"]["p50"] > 0
    assert "image AUROC" in capsys.readouterr().out


def test_a_missing_model_exits_2_without_traceback(tmp_path: Path, capsys) -> None:
    argv = ["evaluate", "--model", str(tmp_path / "none"), "--data", str(tmp_path)]
    assert main([*argv, "--json", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "not a model directory" in err and "Traceback" not in err
