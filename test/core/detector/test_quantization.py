"""INT8 quantization of a real tiny detector: the model still runs with the same output layout
and gives finite boxes on real DeepPCB images."""

from pathlib import Path

import numpy as np
import onnx
from helpers.detector_data import deeppcb_root, tiny_detector

from inspection_nodes.core.detector.deeppcb import read_gray
from inspection_nodes.core.detector.quantization import quantize_int8
from inspection_nodes.core.detector.registry import load_model
from inspection_nodes.core.detector.yolo import DetectorConfig, YoloDetector


def test_int8_model_runs_like_the_fp32_one(shared_data: Path, tmp_path: Path):
    model = load_model(tiny_detector(shared_data, tmp_path / "detector"))
    images = [
        np.repeat(read_gray(p)[..., None], 3, axis=2)
        for p in sorted((deeppcb_root(shared_data) / "group00041" / "00041").glob("*_test.jpg"))[:4]
    ]
    out = quantize_int8(model.onnx_path, model.int8_path, images, model.imgsz)
    ops = {node.op_type for node in onnx.load(out).graph.node}
    assert "QLinearConv" in ops and out == model.int8_path
    fp32 = YoloDetector(model, DetectorConfig())
    int8 = YoloDetector(model, DetectorConfig(precision="int8"))
    found = int8.detect(images[0], confidence=0.001)
    assert all(np.isfinite(d.box).all() for d in found)
    assert len(fp32.detect(images[0], confidence=0.001)) > 0
