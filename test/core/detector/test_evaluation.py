"""Detector evaluation: samples of both layouts, a stable split hash, and mAP + latency of a
real tiny model on real DeepPCB pairs."""

from pathlib import Path

import pytest
from helpers.detector_data import make_deeppcb_subset, tiny_detector

from inspection_nodes.core.detector.deeppcb import CLASS_NAMES
from inspection_nodes.core.detector.evaluation import (
    EVAL_CONFIDENCE,
    evaluate,
    load_samples,
    samples_hash,
)
from inspection_nodes.core.detector.yolo import YoloDetector
from inspection_nodes.core.io.mvtec import DatasetError


def test_samples_of_deeppcb_test_pairs_and_their_hash(shared_data: Path, tmp_path: Path):
    data = make_deeppcb_subset(shared_data, tmp_path / "d")
    samples = load_samples(data, list(CLASS_NAMES))
    assert [s.name.rsplit("/", 1)[-1] for s in samples] == ["00041200", "00041201"]
    assert all(s.template is not None and len(s.boxes) == len(s.classes) > 0 for s in samples)
    assert samples_hash(samples) == samples_hash(list(reversed(samples)))
    with pytest.raises(DatasetError, match="differ from the model's"):
        load_samples(data, ["open"])


def test_a_real_model_is_evaluated_with_map_and_latency(shared_data: Path, tmp_path: Path):
    model = tiny_detector(shared_data, tmp_path / "detector")
    data = make_deeppcb_subset(shared_data, tmp_path / "d")
    detector = YoloDetector.load(model)
    result = evaluate(detector, load_samples(data, detector.class_names), warmup=1)
    assert 0.0 <= result["map50_95"] <= result["map50"] <= 1.0
    assert result["n_images"] == 2 and result["eval_confidence"] == EVAL_CONFIDENCE
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"]
    assert result["model_version"] == detector.version and result["input_mode"] == "plain"
