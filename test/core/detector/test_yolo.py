"""Detector pre/post-processing on hand-made tensors, and real inference on a tiny trained model."""

from pathlib import Path

import numpy as np
import pytest
from helpers.detector_data import deeppcb_root, tiny_detector

from inspection_nodes.core.detector.deeppcb import CLASS_NAMES, read_gray
from inspection_nodes.core.detector.registry import load_model, update_manifest
from inspection_nodes.core.detector.yolo import (
    PAD_VALUE,
    DetectorConfig,
    DetectorError,
    Letterbox,
    YoloDetector,
    draw_detections,
    letterbox,
    parse_crop,
    postprocess,
    roi_to_frame,
)


@pytest.fixture(scope="session")
def tiny_plain(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_detector(shared_data, tmp_path_factory.mktemp("detector"))


def test_letterbox_places_the_image_centred() -> None:
    image = np.full((960, 1280, 3), 255, np.uint8)
    blob = np.zeros((1, 3, 640, 640), np.float32)
    placement = letterbox(image, 640, blob)
    assert placement == Letterbox(0.5, 0, 80)
    assert np.allclose(blob[0, :, :80], PAD_VALUE / 255) and np.allclose(
        blob[0, :, 560:], 0.447, 1e-3
    )
    assert np.allclose(blob[0, :, 80:560], 1.0)


def test_postprocess_maps_back_and_suppresses_per_class() -> None:
    # anchors: (cx, cy, w, h) in network pixels, then scores of classes a, b
    anchors = [
        (100, 100, 20, 20, 0.9, 0.0),  # a, kept
        (102, 100, 20, 20, 0.8, 0.0),  # a, overlaps the first -> suppressed
        (100, 100, 20, 20, 0.0, 0.7),  # b at the same place: other class, kept
        (300, 300, 20, 20, 0.1, 0.0),  # below the confidence threshold
        (400, 500, 40, 20, 0.0, 0.6),  # b, kept
    ]
    raw = np.array(anchors, dtype=np.float32).T
    found = postprocess(raw, Letterbox(0.5, 0, 80), (1280, 960), ["a", "b"], 0.25, 0.45, 10)
    assert [(d.class_name, round(d.confidence, 2)) for d in found] == [
        ("a", 0.9),
        ("b", 0.7),
        ("b", 0.6),
    ]
    # (cx - w/2 - left) / scale, (cy - h/2 - top) / scale
    assert found[0].box == pytest.approx((180.0, 20.0, 220.0, 60.0))
    assert found[2].box == pytest.approx((760.0, 820.0, 840.0, 860.0))
    assert found[0].area == pytest.approx(1600.0)
    top1 = postprocess(raw, Letterbox(0.5, 0, 80), (1280, 960), ["a", "b"], 0.25, 0.45, 1)
    assert len(top1) == 1 and top1[0].confidence == pytest.approx(0.9)
    assert postprocess(raw, Letterbox(1, 0, 0), (640, 640), ["a", "b"], 0.95, 0.45, 10) == []


def test_boxes_are_clipped_to_the_image() -> None:
    raw = np.array([[5, 5, 20, 20, 0.9]], dtype=np.float32).T
    (d,) = postprocess(raw, Letterbox(1.0, 0, 0), (640, 640), ["a"], 0.25, 0.45, 10)
    assert d.box == (0.0, 0.0, 15.0, 15.0)


def test_roi_to_frame_and_crop() -> None:
    assert parse_crop([0]) == () and parse_crop([10, 20, 200, 100]) == (10, 20, 200, 100)
    for bad in ([1, 2, 3], [0, 0, 0, 10], [-1, 0, 10, 10]):
        with pytest.raises(ValueError, match="crop must be"):
            parse_crop(bad)
    # a 200x100 crop at (10, 20) resized to a 100x50 ROI: x2 scale, then offset
    assert roi_to_frame((5, 5, 10, 10), (10, 20, 200, 100), (100, 50)) == (20, 30, 30, 40)
    assert roi_to_frame((5, 5, 10, 10), (), (100, 50), (400, 200)) == (20, 20, 40, 40)
    assert roi_to_frame((5, 5, 10, 10), (), (100, 50), None) == (5, 5, 10, 10)


def test_config_validation() -> None:
    DetectorConfig().validate()
    for bad in (
        DetectorConfig(backend="openvino"),
        DetectorConfig(confidence=1.5),
        DetectorConfig(iou=0.0),
        DetectorConfig(max_detections=0),
        DetectorConfig(device="tpu"),
        DetectorConfig(precision="int4"),
        DetectorConfig(backend="torch", precision="int8"),
    ):
        with pytest.raises(ValueError):
            bad.validate()


def test_overlay_draws_boxes() -> None:
    from inspection_nodes.core.detector.yolo import Detection

    image = np.zeros((100, 100, 3), np.uint8)
    out = draw_detections(image, [Detection(0, "open", 0.9, (10, 10, 50, 50))])
    assert out.shape == image.shape and out[10, 30].any() and not out[30, 30].any()
    assert not image.any()  # drawn on a copy


def test_real_model_runs_on_a_deeppcb_image(tiny_plain: Path, shared_data: Path) -> None:
    detector = YoloDetector.load(tiny_plain, DetectorConfig(confidence=0.0, max_detections=5))
    assert detector.class_names == list(CLASS_NAMES) and detector.size == 160
    tested = read_gray(deeppcb_root(shared_data) / "group00041/00041/00041200_test.jpg")
    found = detector.detect(np.dstack([tested] * 3))
    assert 0 < len(found) <= 5
    assert all(0 <= v <= 640 for d in found for v in d.box)
    assert detector.version.startswith("det-")
    with pytest.raises(ValueError, match="uint8"):
        detector.detect(tested)


def test_torch_backend_matches_onnxruntime(tiny_plain: Path, shared_data: Path) -> None:
    """Same network output from the checkpoint (torch) and its ONNX export (ONNX Runtime)."""
    tested = read_gray(deeppcb_root(shared_data) / "group00041/00041/00041200_test.jpg")
    blob = np.empty((1, 3, 160, 160), np.float32)
    letterbox(np.dstack([tested] * 3), 160, blob)
    raw = {
        backend: np.asarray(
            YoloDetector.load(tiny_plain, DetectorConfig(backend=backend))._run(blob)
        )
        for backend in ("onnxruntime", "torch")
    }
    assert raw["torch"].shape == raw["onnxruntime"].shape == (1, 4 + len(CLASS_NAMES), 525)
    np.testing.assert_allclose(raw["torch"], raw["onnxruntime"], rtol=1e-3, atol=1e-3)


def test_tensorrt_backend(tiny_plain: Path) -> None:
    pytest.importorskip("tensorrt", reason="TensorRT is not installed here")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("TensorRT needs a CUDA device")
    detector = YoloDetector.load(tiny_plain, DetectorConfig(backend="tensorrt", confidence=0.0))
    assert detector.detect(np.zeros((160, 160, 3), np.uint8))


def test_model_errors(tiny_plain: Path, tmp_path: Path) -> None:
    with pytest.raises(DetectorError, match="not a detector model directory"):
        YoloDetector.load(tmp_path)
    # a template-mode model without any template image
    copy = tmp_path / "m"
    copy.mkdir()
    for f in tiny_plain.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    update_manifest(load_model(copy), input_mode="template")
    detector = YoloDetector.load(copy)
    with pytest.raises(DetectorError, match="needs a template image"):
        detector.detect(np.zeros((64, 64, 3), np.uint8))
    (copy / "model.pt").unlink()
    with pytest.raises(DetectorError, match=r"needs model\.pt"):
        YoloDetector.load(copy, DetectorConfig(backend="torch"))
