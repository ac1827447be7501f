"""`inspection train-detector` on real DeepPCB pairs: one tiny real training run (1 epoch, 4
pairs, 160 px, about 10 s) shared by the tests, checkpoint packaging, template mode, errors."""

from pathlib import Path

import pytest
from helpers.cli import run_inspection
from helpers.detector_data import make_deeppcb_subset, tiny_detector

from inspection_nodes.cli.main import main
from inspection_nodes.core.detector.deeppcb import CLASS_NAMES
from inspection_nodes.core.detector.registry import DetectorRegistry, load_model


@pytest.fixture(scope="module")
def tiny(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_detector(shared_data, tmp_path_factory.mktemp("detector"))


def test_train_detector_writes_a_complete_model_directory(tiny: Path) -> None:
    model = load_model(tiny)
    assert model.onnx_path.is_file() and model.weights_path.is_file()
    m = model.manifest
    assert m["class_names"] == list(CLASS_NAMES) and m["input_mode"] == "plain"
    assert m["imgsz"] == 160 and m["architecture"] == "yolo11n"
    assert m["dataset"]["layout"] == "deeppcb" and len(m["dataset"]["hash"]) > 64
    assert m["dataset"]["boxes_per_class"]["train"]["mousebite"] > 0
    assert m["training"]["epochs_run"] == 1 and m["training"]["train_s"] > 0
    assert {"map50", "map50_95", "per_class_ap50", "latency_ms"} <= set(m["metrics"])
    assert model.int8_path.is_file() and m["metrics_int8"]["precision"] == "int8"
    assert m["model_version"].startswith("det-") and m["code_version"]
    (entry,) = DetectorRegistry(tiny.parent / "detector_registry.json").read()["models"]
    assert entry["model_version"] == m["model_version"] and entry["status"] == "trained"
    assert entry["dataset_hash"] == m["dataset"]["hash"]


def test_a_checkpoint_is_packaged_without_training(
    tiny: Path, shared_data: Path, tmp_path: Path
) -> None:
    checkpoint = tiny.parent.parent / "run_plain" / "run" / "weights" / "last.pt"
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb")
    out = tmp_path / "models" / "packaged"
    argv = ["train-detector", "--data", str(data), "--out", str(out), "--imgsz", "160"]
    result = run_inspection(*argv, "--from-checkpoint", str(checkpoint))
    assert result.returncode == 0, result.stderr[-2000:]
    training = load_model(out).manifest["training"]
    assert training["epochs_run"] == 1 and training["epochs"] == 1 and training["imgsz"] == 160
    assert "checkpoint last.pt" in training["weights"] and len(training["history"]) == 1


def test_template_mode_trains_and_evaluates(shared_data: Path, tmp_path: Path) -> None:
    model = load_model(tiny_detector(shared_data, tmp_path, "template"))
    assert model.input_mode == "template" and model.manifest["metrics"]["n_images"] == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train-detector", "--data", "{tmp}", "--out", "{tmp}/m"], "no data.yaml"),
        (["train-detector", "--data", "{tmp}", "--out", "{tmp}/m", "--epochs", "0"], "epochs"),
    ],
)
def test_errors_exit_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_label_file_is_named(shared_data: Path, tmp_path: Path) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb")
    (data / "group00041/00041_not/00041002.txt").write_text("1 2 3 4 5\n10 10 20 20 9\n")
    result = run_inspection("train-detector", "--data", str(data), "--out", str(tmp_path / "m"))
    assert result.returncode == 2
    assert "00041002.txt:2: unknown class 9" in result.stderr
