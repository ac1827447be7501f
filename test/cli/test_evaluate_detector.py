"""`inspection evaluate-detector` on both dataset layouts and in INT8."""

import json
from pathlib import Path

import pytest
from helpers.detector_data import make_deeppcb_subset, tiny_detector

from inspection_nodes.cli.main import main
from inspection_nodes.core.detector import deeppcb
from inspection_nodes.core.detector.deeppcb import CLASS_NAMES


@pytest.fixture(scope="module")
def tiny(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_detector(shared_data, tmp_path_factory.mktemp("detector"))


def test_evaluate_detector_on_deeppcb_and_yolo_layouts(
    tiny: Path, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb")
    yolo = deeppcb.convert(data, tmp_path / "yolo").out_dir
    results = []
    for source, precision in ((data, "fp32"), (yolo, "fp32"), (yolo, "int8")):
        out = tmp_path / f"{source.name}_{precision}.json"
        argv = ["evaluate-detector", "--model", str(tiny), "--data", str(source)]
        assert main([*argv, "--json", str(out), "--precision", precision]) == 0
        results.append(json.loads(out.read_text()))
    assert [r["precision"] for r in results] == ["fp32", "fp32", "int8"]
    assert "mAP50" in capsys.readouterr().out
    for r in results:
        assert 0.0 <= r["map50_95"] <= r["map50"] <= 1.0
        assert set(r["per_class_ap50"]) == set(CLASS_NAMES) and r["n_images"] == 2
        assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p99"]
    # the same two test pairs through either layout give the same metrics
    assert results[0]["map50"] == pytest.approx(results[1]["map50"])
    assert results[0]["gt_per_class"] == results[1]["gt_per_class"]


def test_a_missing_model_exits_2_without_traceback(tmp_path: Path, capsys) -> None:
    argv = ["evaluate-detector", "--model", str(tmp_path), "--data", str(tmp_path)]
    assert main([*argv, "--json", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "not a detector model directory" in err and "Traceback" not in err
