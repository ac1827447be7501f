"""Detector model directories and the registry: round trip, clear errors, one deployed model."""

import json
from pathlib import Path

import pytest

from inspection_nodes.core.detector.registry import (
    DetectorArtifactError,
    DetectorRegistry,
    ModelStatus,
    load_model,
    model_version,
    save_model,
    update_manifest,
)

MANIFEST = {
    "class_names": ["open", "short"],
    "input_mode": "plain",
    "imgsz": 160,
    "architecture": "yolo11n.yaml",
    "dataset": {"hash": "abcdef0123456789:plain", "boxes_per_class": {"train": {"open": 4}}},
    "metrics": {"map50": 0.5, "map50_95": 0.3, "n_images": 2},
}


def _model(tmp_path: Path, name: str, **fields) -> Path:
    onnx = tmp_path / "export.onnx"
    onnx.write_bytes(b"onnx")
    return save_model(tmp_path / name, onnx, None, {**MANIFEST, **fields}).path


def test_save_fills_provenance_and_load_checks_it(tmp_path: Path):
    model = load_model(_model(tmp_path, "m1", created="2026-03-04T05:06:07Z"))
    assert model.version == model_version("abcdef0123456789", "2026-03-04T05:06:07Z")
    assert model.version == "det-20260304T050607-abcdef01"
    assert (model.class_names, model.input_mode, model.imgsz) == (["open", "short"], "plain", 160)
    assert model.manifest["format"] == "inspection-detector" and model.manifest["code_version"]
    updated = update_manifest(model, metrics={"map50": 0.9})
    assert (
        load_model(model.path).manifest["metrics"] == {"map50": 0.9} == updated.manifest["metrics"]
    )


def test_foreign_or_incomplete_directories_are_clear_errors(tmp_path: Path):
    with pytest.raises(DetectorArtifactError, match="not a detector model directory"):
        load_model(tmp_path)
    path = _model(tmp_path, "m")
    manifest = json.loads((path / "manifest.json").read_text())
    (path / "manifest.json").write_text(json.dumps({**manifest, "format_version": 9}))
    with pytest.raises(DetectorArtifactError, match="not a inspection-detector v1 manifest"):
        load_model(path)
    del manifest["imgsz"]
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DetectorArtifactError, match="missing imgsz"):
        load_model(path)
    (path / "manifest.json").write_text(json.dumps({**manifest, "imgsz": 160}))
    (path / "model.onnx").unlink()
    with pytest.raises(DetectorArtifactError, match=r"model\.onnx is missing"):
        load_model(path)


def test_one_model_is_deployed_and_the_previous_one_retired(tmp_path: Path):
    registry = DetectorRegistry(tmp_path / "detector_registry.json")
    assert registry.read() == {"models": [], "deployed": None} and registry.deployed() is None
    first = load_model(_model(tmp_path, "a"))
    second = load_model(_model(tmp_path, "b"))
    registry.record(first, ModelStatus.DEPLOYED)
    entry = registry.record(second, ModelStatus.DEPLOYED, reason="better")
    assert entry["boxes_per_class"] == {"open": 4} and entry["metrics"] == {
        "map50": 0.5,
        "map50_95": 0.3,
    }
    data = registry.read()
    assert [(e["path"], e["status"]) for e in data["models"]] == [
        ("a", "retired"),
        ("b", "deployed"),
    ]
    assert registry.deployed()["reason"] == "better" and registry.resolve(entry) == second.path
    with pytest.raises(ValueError, match="status 'lost'"):
        registry.record(first, "lost")
    registry.path.write_text("{")
    with pytest.raises(DetectorArtifactError, match="corrupt registry"):
        registry.read()
