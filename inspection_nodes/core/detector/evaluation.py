"""Evaluate a detector model directory with the cell's own inference path (core/detector/yolo.py).

Data: a YOLO layout (its `val` split, images already in the model's input mode) or a DeepPCB
root (its official test pairs, composed here for the model's input mode). mAP comes from
core/detector/metrics at a low confidence (0.001, the usual mAP protocol); latency is timed in a
second pass at the detector's deployed confidence, per image with the image already in memory:
composition (template mode), letterbox, network, NMS — what the detector node does per ROI.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection_nodes.core.common.timing import percentile_ms
from inspection_nodes.core.detector import deeppcb, yolo_dataset
from inspection_nodes.core.detector.metrics import DetectionEvaluator
from inspection_nodes.core.detector.yolo import YoloDetector
from inspection_nodes.core.io.mvtec import DatasetError, read_rgb

EVAL_CONFIDENCE = 0.001


@dataclass(frozen=True)
class EvalSample:
    """One evaluation image: `template` set for DeepPCB pairs, boxes in pixels."""

    name: str
    image: Path
    template: Path | None
    boxes: np.ndarray
    classes: np.ndarray


def load_samples(data: Path, class_names: list[str], split: str = "val") -> list[EvalSample]:
    """Evaluation samples of a YOLO layout split or of DeepPCB's official test pairs.

    Raises:
        DatasetError: unknown layout, bad labels, or class names that differ from the model's.
    """
    data = Path(data)
    if deeppcb.is_deeppcb(data):
        names, samples = list(deeppcb.CLASS_NAMES), []
        for pair in deeppcb.official_split(data)["test"]:
            boxes = deeppcb.read_pair_boxes(pair)
            samples.append(
                EvalSample(
                    pair.key,
                    pair.tested,
                    pair.template,
                    np.array([(b.x1, b.y1, b.x2, b.y2) for b in boxes]).reshape(-1, 4),
                    np.array([b.class_id for b in boxes], dtype=np.int64),
                )
            )
    else:
        spec = yolo_dataset.read_data_yaml(data)
        names = list(spec.class_names)
        samples = [
            EvalSample(str(s.image.name), s.image, None, s.boxes, s.classes)
            for s in yolo_dataset.read_split(spec, split)
        ]
    if names != list(class_names):
        raise DatasetError(f"{data}: classes {names} differ from the model's {list(class_names)}")
    if not samples:
        raise DatasetError(f"{data}: no evaluation images")
    return samples


def samples_hash(samples: list[EvalSample]) -> str:
    """SHA-256 over names, image (and template) bytes and boxes: identifies a validation split."""
    digest = hashlib.sha256()
    for sample in sorted(samples, key=lambda s: s.name):
        digest.update(sample.name.encode())
        for path in (sample.image, sample.template):
            digest.update(b"" if path is None else path.read_bytes())
        digest.update(np.ascontiguousarray(sample.boxes, dtype=np.float64).tobytes())
        digest.update(np.ascontiguousarray(sample.classes, dtype=np.int64).tobytes())
    return digest.hexdigest()


def _inputs(samples: list[EvalSample]) -> Iterator[tuple]:
    """(sample, image, template) with pixels loaded; a YOLO image is already the model input."""
    for sample in samples:
        image = read_rgb(sample.image)
        template = None if sample.template is None else deeppcb.read_gray(sample.template)
        yield sample, image, template


def _run(detector: YoloDetector, image: np.ndarray, template: np.ndarray | None, conf=None):
    if template is None:
        return detector.detect_input(image, conf)
    return detector.detect(image, template, conf)


def evaluate(detector: YoloDetector, samples: list[EvalSample], warmup: int = 3) -> dict:
    """mAP over `samples` and per-image latency; see the module docstring for the protocol."""
    evaluator = DetectionEvaluator(detector.class_names)
    loaded = list(_inputs(samples))
    for sample, image, template in loaded:
        found = _run(detector, image, template, EVAL_CONFIDENCE)
        evaluator.add(
            np.array([d.box for d in found]).reshape(-1, 4),
            np.array([d.confidence for d in found]),
            np.array([d.class_id for d in found], dtype=np.int64),
            sample.boxes,
            sample.classes,
        )
    for _, image, template in loaded[:warmup]:
        _run(detector, image, template)
    latency = []
    for _, image, template in loaded:
        start = time.perf_counter()
        _run(detector, image, template)
        latency.append(time.perf_counter() - start)
    return {
        **evaluator.result(),
        "n_images": len(samples),
        "latency_ms": {
            "p50": percentile_ms(latency, 50),
            "p99": percentile_ms(latency, 99),
            "mean": float(np.mean(latency) * 1e3),
        },
        "imgsz": detector.size,
        "input_mode": detector.model.input_mode,
        "backend": detector.config.backend,
        "precision": detector.config.precision,
        "threads": detector.config.threads,
        "eval_confidence": EVAL_CONFIDENCE,
        "latency_confidence": detector.config.confidence,
        "nms_iou": detector.config.iou,
        "model_version": detector.version,
    }
