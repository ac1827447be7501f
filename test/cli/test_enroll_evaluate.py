"""`inspection enroll` / `inspection evaluate` end to end on a tiny synthetic category."""

import json
from pathlib import Path

import pytest
from helpers.anomaly_data import make_category

from inspection_nodes.cli.main import main


def test_enroll_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cat = make_category(tmp_path, n_train=6, n_test_good=3, n_defect=3)
    out = tmp_path / "models" / "syn"
    assert main(["enroll", "--data", str(cat), "--out", str(out)]) == 0
    assert (out / "manifest.json").is_file() and (tmp_path / "models" / "registry.json").is_file()
    report = tmp_path / "eval.json"
    assert main(["evaluate", "--model", str(out), "--data", str(cat), "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["n_images"] == 6 and result["image_auroc"] == 1.0
    assert result["pixel_auroc"] > 0.9 and result["latency_ms"]["p50"] > 0
    assert "image AUROC" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["enroll", "--data", "{tmp}", "--out", "{tmp}/m"], "train/good"),
        (
            ["evaluate", "--model", "{tmp}/none", "--data", "{tmp}", "--json", "{tmp}/x.json"],
            "not a model directory",
        ),
    ],
)
def test_errors_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_corrupt_training_image_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cat = make_category(tmp_path, n_train=2, n_test_good=1, n_defect=1)
    (cat / "train" / "good" / "001.png").write_bytes(b"garbage")
    assert main(["enroll", "--data", str(cat), "--out", str(tmp_path / "m")]) == 2
    assert "cannot decode" in capsys.readouterr().err
