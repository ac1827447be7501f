"""Known-defect detection with an ultralytics YOLO model exported to ONNX (onnxruntime).

Export: `yolo export model=best.pt format=onnx imgsz=640` gives one output of shape
(1, 4 + classes, anchors): box centre/size in input pixels, then one score per class.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


class DetectorError(RuntimeError):
    """The detector model is missing, unreadable or not a YOLO detection export."""


@dataclass(frozen=True)
class Detection:
    class_id: int
    class_name: str
    confidence: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in the input image's pixels


class YoloOnnxDetector:
    def __init__(
        self,
        model_path: str | Path,
        class_names: list[str],
        conf: float = 0.25,
        iou: float = 0.45,
        threads: int = 2,
    ) -> None:
        import onnxruntime as ort

        path = Path(model_path)
        if not path.is_file():
            raise DetectorError(f"detector model not found: {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise DetectorError(f"cannot load {path}: {exc}") from None
        shape = self.session.get_inputs()[0].shape
        if len(shape) != 4 or not isinstance(shape[2], int):
            raise DetectorError(f"{path}: expected a fixed-size NCHW input, got {shape}")
        self.input_name = self.session.get_inputs()[0].name
        self.size = int(shape[2])
        self.class_names = class_names
        self.conf, self.iou = conf, iou
        self._blob = np.full((1, 3, self.size, self.size), 114 / 255, dtype=np.float32)

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """(H, W, 3) uint8 RGB -> detections in that image's pixel coordinates."""
        h, w = rgb.shape[:2]
        scale = self.size / max(h, w)
        nh, nw = round(h * scale), round(w * scale)
        top, left = (self.size - nh) // 2, (self.size - nw) // 2
        resized = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_LINEAR)
        self._blob.fill(114 / 255)
        self._blob[0, :, top : top + nh, left : left + nw] = resized.transpose(2, 0, 1) / 255.0
        out = self.session.run(None, {self.input_name: self._blob})[0][0]  # (4 + nc, anchors)
        scores = out[4:]
        class_ids = scores.argmax(axis=0)
        confidences = scores[class_ids, np.arange(scores.shape[1])]
        keep = confidences >= self.conf
        if not keep.any():
            return []
        cx, cy, bw, bh = out[:4, keep]
        boxes = np.stack(
            [(cx - bw / 2 - left) / scale, (cy - bh / 2 - top) / scale, bw / scale, bh / scale],
            axis=1,
        )
        conf, cls = confidences[keep], class_ids[keep]
        picked = cv2.dnn.NMSBoxesBatched(
            boxes.tolist(), conf.tolist(), cls.tolist(), self.conf, self.iou
        )
        result = []
        for i in np.asarray(picked, dtype=int).reshape(-1):
            x, y, bw_i, bh_i = boxes[i]
            cid = int(cls[i])
            name = self.class_names[cid] if cid < len(self.class_names) else str(cid)
            result.append(
                Detection(
                    cid,
                    name,
                    float(conf[i]),
                    (
                        float(max(0.0, x)),
                        float(max(0.0, y)),
                        float(min(w, x + bw_i)),
                        float(min(h, y + bh_i)),
                    ),
                )
            )
        return result
