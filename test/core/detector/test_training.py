"""Detector training pieces that run without a training: settings, augmentation, precision,
the offline ultralytics environment, data preparation and the run history. A real (tiny)
training runs in test/cli/test_train_detector.py."""

from pathlib import Path

import pytest
from helpers.detector_data import make_deeppcb_subset

from inspection_nodes.core.detector.training import (
    TrainConfig,
    augmentation,
    prepare_data,
    prepare_offline,
    read_history,
    resolve_precision,
)
from inspection_nodes.core.io.mvtec import DatasetError


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs=0 must be >= 1"),
        ({"imgsz": 100}, "multiple of 32"),
        ({"fraction": 0.0}, "fraction"),
        ({"device": "tpu"}, "cpu or cuda"),
        ({"precision": "int4"}, "precision"),
        ({"batch": 32}, "nominal_batch=16 must be >= batch"),
    ],
)
def test_bad_settings_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change).validate()


def test_augmentation_keeps_the_meaning_of_the_channels():
    plain, template = augmentation("plain"), augmentation("template")
    assert plain["hsv_v"] > 0 and template["hsv_v"] == 0.0
    assert plain["hsv_h"] == plain["hsv_s"] == template["hsv_h"] == 0.0
    assert plain["fliplr"] == plain["flipud"] == 0.5


def test_precision_auto_resolves_per_device():
    import torch

    assert resolve_precision(TrainConfig(precision="fp32")) == "fp32"
    assert resolve_precision(TrainConfig(device="cuda")) == "fp16"
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert resolve_precision(TrainConfig()) == ("bf16" if native else "fp32")


def test_offline_environment_has_fonts_and_no_downloads(tmp_path: Path, monkeypatch):
    for var in ("YOLO_CONFIG_DIR", "YOLO_OFFLINE", "YOLO_AUTOINSTALL", "MPLCONFIGDIR"):
        monkeypatch.delenv(var, raising=False)
    user_dir = prepare_offline(tmp_path / "ultra")
    assert (user_dir / "Arial.ttf").stat().st_size > 100_000
    import os

    assert os.environ["YOLO_OFFLINE"] == "1" and os.environ["YOLO_AUTOINSTALL"] == "0"
    assert os.environ["YOLO_CONFIG_DIR"] == str((tmp_path / "ultra").resolve())


def test_deeppcb_is_converted_and_a_yolo_layout_keeps_its_mode(shared_data: Path, tmp_path: Path):
    data = make_deeppcb_subset(shared_data, tmp_path / "deeppcb")
    prepared = prepare_data(data, tmp_path / "work", "template")
    assert prepared.source_layout == "deeppcb" and prepared.dataset_hash.endswith(":template")
    assert prepared.spec.input_mode == "template" and sum(prepared.counts["train"].values()) > 0
    text = prepared.train_yaml.read_text()
    assert text.startswith("train: ") and "  0: open" in text
    again = prepare_data(prepared.spec.yaml_path, tmp_path / "work2", None)
    assert again.source_layout == "yolo" and again.spec.input_mode == "template"
    with pytest.raises(DatasetError, match="input_mode is 'template', not 'plain'"):
        prepare_data(prepared.spec.yaml_path, tmp_path / "work3", "plain")


def test_history_reads_the_numbers_of_results_csv(tmp_path: Path):
    assert read_history(tmp_path) == []
    (tmp_path / "results.csv").write_text(
        "epoch, train/box_loss, metrics/mAP50(B), note\n1, 2.5, 0.1, x\n2, 2.0, 0.3, y\n"
    )
    rows = read_history(tmp_path)
    assert rows == [
        {"epoch": 1.0, "train/box_loss": 2.5, "metrics/mAP50(B)": 0.1},
        {"epoch": 2.0, "train/box_loss": 2.0, "metrics/mAP50(B)": 0.3},
    ]
