"""`inspection retrain-detector`: dry run, first deployment, then nothing due."""

from pathlib import Path

import pytest
from helpers.cli import run_inspection
from helpers.detector_data import make_deeppcb_subset, tiny_detector

from inspection_nodes.cli.main import main
from inspection_nodes.core.detector import deeppcb
from inspection_nodes.core.detector.registry import DetectorRegistry, load_model


@pytest.fixture(scope="module")
def tiny(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_detector(shared_data, tmp_path_factory.mktemp("detector"))


def test_retrain_detector_deploys_the_first_model_then_waits(
    tiny: Path, shared_data: Path, tmp_path: Path
) -> None:
    data = deeppcb.convert(make_deeppcb_subset(shared_data, tmp_path / "pcb"), tmp_path / "yolo")
    models, deploy = tmp_path / "models", tmp_path / "deployed"
    common = ["--data", str(data.out_dir), "--models-dir", str(models), "--min-new-labels", "5"]
    dry = run_inspection("retrain-detector", *common, "--dry-run")
    assert dry.returncode == 0 and "retrain due" in dry.stdout and "mousebite" in dry.stdout
    fast = ["--epochs", "1", "--imgsz", "160", "--batch", "4"]
    first = run_inspection("retrain-detector", *common, *fast, "--deploy-dir", str(deploy))
    assert first.returncode == 0, first.stderr[-2000:]
    assert "deployed: no deployed model" in first.stdout
    entry = DetectorRegistry(models / "detector_registry.json").deployed()
    assert entry["status"] == "deployed" and entry["val_hash"]
    assert load_model(deploy).version == entry["model_version"]
    again = run_inspection("retrain-detector", *common)
    assert again.returncode == 0 and "no retrain due" in again.stdout


def test_missing_data_exits_2_without_traceback(tmp_path: Path, capsys) -> None:
    argv = ["retrain-detector", "--data", str(tmp_path), "--models-dir", str(tmp_path / "m")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no data.yaml" in err and "Traceback" not in err
