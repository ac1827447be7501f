"""Known-defect detection with an ultralytics YOLO model: letterbox, one network run, NMS.

The network's output is the ultralytics detection head export: one tensor (1, 4 + classes,
anchors) with box centre/size in input pixels, then one score per class. Three runtimes give it
from the same model directory (core/detector/registry.py):

- `onnxruntime` (default, CPU): `model.onnx` through the shared ONNX Runtime backend;
- `tensorrt`: an FP16 engine built from `model.onnx` on the target and cached beside it;
- `torch`: the ultralytics checkpoint `model.pt` (reference; CUDA FP16 where a GPU exists).

Pre- and post-processing are numpy/OpenCV and identical for all three, so the backends differ
only in the network arithmetic. In `template` input mode the tested image is composed with the
station's defect-free template (core/detector/deeppcb.compose) before the letterbox.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspection_nodes.core.detector.deeppcb import INPUT_MODES, compose
from inspection_nodes.core.detector.registry import DetectorArtifactError, DetectorModel, load_model
from inspection_nodes.core.inference.backends import BackendError

BACKENDS = ("onnxruntime", "tensorrt", "torch")
PRECISIONS = ("fp32", "int8")  # int8: the model's INT8 ONNX file, ONNX Runtime only
PAD_VALUE = 114  # ultralytics' letterbox grey


class DetectorError(RuntimeError):
    """The detector model is missing, unreadable, not a YOLO export, or its backend cannot run."""


@dataclass(frozen=True)
class Detection:
    """One detection; `box` is x1, y1, x2, y2 in the input image's pixels."""

    class_id: int
    class_name: str
    confidence: float
    box: tuple[float, float, float, float]

    @property
    def area(self) -> float:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])


@dataclass(frozen=True)
class DetectorConfig:
    """Runtime settings of a detector; `validate()` names the first bad value."""

    backend: str = "onnxruntime"
    device: str = "cpu"
    precision: str = "fp32"
    confidence: float = 0.25
    iou: float = 0.45
    max_detections: int = 300
    threads: int = 2
    spin: bool = False  # ONNX Runtime threads busy-wait (one process owning the CPU; see backends)

    def validate(self) -> DetectorConfig:
        checks = (
            ("backend", self.backend in BACKENDS, f"must be one of {', '.join(BACKENDS)}"),
            ("device", self.device in ("cpu", "cuda"), "must be cpu or cuda"),
            ("precision", self.precision in PRECISIONS, f"must be one of {', '.join(PRECISIONS)}"),
            (
                "precision",
                self.precision == "fp32" or self.backend == "onnxruntime",
                "int8 runs on the onnxruntime backend only",
            ),
            ("confidence", 0.0 <= self.confidence <= 1.0, "must be in [0, 1]"),
            ("iou", 0.0 < self.iou <= 1.0, "must be in (0, 1]"),
            ("max_detections", self.max_detections >= 1, "must be >= 1"),
            ("threads", self.threads >= 1, "must be >= 1"),
        )
        for name, ok, why in checks:
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} {why}")
        return self


@dataclass(frozen=True)
class Letterbox:
    """How an image was placed into the square network input: scale, then pad (left, top)."""

    scale: float
    left: int
    top: int


def letterbox(rgb: np.ndarray, size: int, blob: np.ndarray) -> Letterbox:
    """Resize keeping the aspect ratio and pad centred into `blob` (1, 3, size, size) in [0, 1].

    Same placement as ultralytics' LetterBox(center=True), so boxes match its validation.
    """
    h, w = rgb.shape[:2]
    scale = size / max(h, w)
    nh, nw = round(h * scale), round(w * scale)
    top, left = (size - nh) // 2, (size - nw) // 2
    resized = rgb if (nh, nw) == (h, w) else cv2.resize(rgb, (nw, nh), cv2.INTER_LINEAR)
    blob.fill(PAD_VALUE / 255.0)
    blob[0, :, top : top + nh, left : left + nw] = resized.transpose(2, 0, 1) / np.float32(255.0)
    return Letterbox(scale, left, top)


def postprocess(
    raw: np.ndarray,
    placement: Letterbox,
    image_wh: tuple[int, int],
    class_names: Sequence[str],
    confidence: float,
    iou: float,
    max_detections: int,
) -> list[Detection]:
    """Head output (4 + nc, anchors) -> per-class NMS detections in image pixels, best first."""
    scores = raw[4:]
    class_ids = scores.argmax(axis=0)
    confidences = scores[class_ids, np.arange(scores.shape[1])]
    keep = confidences >= confidence
    if not keep.any():
        return []
    cx, cy, bw, bh = raw[:4, keep].astype(np.float64)
    s, left, top = placement.scale, placement.left, placement.top
    xywh = np.stack([(cx - bw / 2 - left) / s, (cy - bh / 2 - top) / s, bw / s, bh / s], axis=1)
    conf, cls = confidences[keep], class_ids[keep]
    picked = np.asarray(
        cv2.dnn.NMSBoxesBatched(xywh.tolist(), conf.tolist(), cls.tolist(), confidence, iou),
        dtype=int,
    ).reshape(-1)
    picked = picked[np.argsort(-conf[picked], kind="stable")][:max_detections]
    w, h = image_wh
    result = []
    for i in picked:
        x, y, bw_i, bh_i = xywh[i]
        cid = int(cls[i])
        name = class_names[cid] if cid < len(class_names) else str(cid)
        box = (max(0.0, x), max(0.0, y), min(float(w), x + bw_i), min(float(h), y + bh_i))
        result.append(Detection(cid, name, float(conf[i]), tuple(float(v) for v in box)))
    return result


def _onnxruntime_runner(model: DetectorModel, config: DetectorConfig) -> Callable:
    from inspection_nodes.core.inference.backends import OnnxRuntimeBackend

    path = model.int8_path if config.precision == "int8" else model.onnx_path
    if not path.is_file():
        raise BackendError(f"{model.path}: {path.name} is missing (train with --int8-images)")
    backend = OnnxRuntimeBackend(
        path, device=config.device, threads=config.threads, spin=config.spin
    )
    return lambda blob: backend(blob)[0]


def _tensorrt_runner(model: DetectorModel, config: DetectorConfig) -> Callable:
    from inspection_nodes.core.inference.backends import TensorRTBackend

    backend = TensorRTBackend(model.onnx_path, fp16=True, max_batch=1)
    return lambda blob: backend(blob)[0]


def _torch_runner(model: DetectorModel, config: DetectorConfig) -> Callable:
    import torch

    if not model.weights_path.is_file():
        raise BackendError(f"{model.path}: torch backend needs {model.weights_path.name}")
    if config.device == "cuda" and not torch.cuda.is_available():
        raise BackendError("torch backend asked for cuda but no CUDA device is available")
    from ultralytics.nn.tasks import load_checkpoint

    net, _ = load_checkpoint(str(model.weights_path), device=config.device, fuse=True)
    half = config.device == "cuda"
    net = (net.half() if half else net.float()).eval()
    dtype = torch.float16 if half else torch.float32

    def run(blob: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = net(torch.from_numpy(blob).to(config.device, dtype))
        return (out[0] if isinstance(out, list | tuple) else out).float().cpu().numpy()

    return run


_RUNNERS: dict[str, Callable[[DetectorModel, DetectorConfig], Callable]] = {
    "onnxruntime": _onnxruntime_runner,
    "tensorrt": _tensorrt_runner,
    "torch": _torch_runner,
}


class YoloDetector:
    """A loaded detector: `detect(rgb)` for plain models, `detect(rgb, template)` for template.

    The input buffer is allocated once; one instance serves one thread.
    """

    def __init__(
        self,
        model: DetectorModel,
        config: DetectorConfig | None = None,
        template: np.ndarray | None = None,
    ) -> None:
        self.config = (config or DetectorConfig()).validate()
        self.model = model
        if model.input_mode not in INPUT_MODES:
            raise DetectorError(f"{model.path}: unknown input_mode {model.input_mode!r}")
        self.template = template  # station template; per-image templates override it
        try:
            self._run = _RUNNERS[self.config.backend](model, self.config)
        except BackendError as exc:
            raise DetectorError(str(exc)) from None
        self.size = model.imgsz
        self.class_names = model.class_names
        self._blob = np.empty((1, 3, self.size, self.size), dtype=np.float32)

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        config: DetectorConfig | None = None,
        template: np.ndarray | None = None,
    ) -> YoloDetector:
        """Load a model directory; raises DetectorError with the reason."""
        try:
            model = load_model(Path(model_dir))
        except DetectorArtifactError as exc:
            raise DetectorError(str(exc)) from None
        return cls(model, config, template)

    @property
    def version(self) -> str:
        return self.model.version

    def model_input(self, image: np.ndarray, template: np.ndarray | None = None) -> np.ndarray:
        """The RGB picture the network sees: the image itself, or tested/template/difference."""
        if self.model.input_mode == "plain":
            return image
        template = self.template if template is None else template
        if template is None:
            raise DetectorError(f"{self.model.path}: input_mode 'template' needs a template image")
        if template.shape[:2] != image.shape[:2]:
            template = cv2.resize(template, image.shape[1::-1], interpolation=cv2.INTER_AREA)
        return compose(image, template, "template")

    def detect(
        self,
        image: np.ndarray,
        template: np.ndarray | None = None,
        confidence: float | None = None,
    ) -> list[Detection]:
        """(H, W, 3) uint8 RGB (template mode: the tested image) -> detections in its pixels.

        `template` overrides the station template for this image (evaluation on pairs);
        `confidence` overrides the configured threshold (mAP evaluation uses a low one).
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
        return self.detect_input(self.model_input(image, template), confidence)

    def detect_input(self, rgb: np.ndarray, confidence: float | None = None) -> list[Detection]:
        """Detections on the network's picture as is (already composed in template mode)."""
        placement = letterbox(rgb, self.size, self._blob)
        raw = np.asarray(self._run(self._blob))[0]
        expected = 4 + len(self.class_names)
        if raw.ndim != 2 or raw.shape[0] != expected:
            raise DetectorError(
                f"model output {raw.shape} does not match {len(self.class_names)} classes"
            )
        conf = self.config.confidence if confidence is None else confidence
        return postprocess(
            raw,
            placement,
            (rgb.shape[1], rgb.shape[0]),
            self.class_names,
            conf,
            self.config.iou,
            self.config.max_detections,
        )


def parse_crop(values: Sequence[int]) -> tuple[int, ...]:
    """The roi node's crop parameter: [0] -> () (whole frame), else a checked (x, y, w, h)."""
    crop = tuple(int(v) for v in values)
    if crop == (0,):
        return ()
    if len(crop) != 4 or min(crop[2:]) <= 0 or min(crop[:2]) < 0:
        raise ValueError(f"crop must be [0] or [x, y, w, h] with w, h > 0, got {list(crop)}")
    return crop


def roi_to_frame(
    box: Sequence[float],
    crop: Sequence[int],
    roi_wh: tuple[int, int],
    frame_wh: tuple[int, int] | None = None,
) -> tuple[float, float, float, float]:
    """Map a box from ROI pixels to frame pixels, undoing the ROI node's crop + resize.

    `crop` is the ROI node's [x, y, w, h]; empty = the whole frame, whose size `frame_wh` comes
    from camera_info (None: not known yet, the ROI is taken as the frame and the box returned
    unchanged).
    """
    if crop:
        x, y, w, h = crop
    elif frame_wh is not None:
        x, y, (w, h) = 0, 0, frame_wh
    else:
        return tuple(float(v) for v in box)
    sx, sy = w / roi_wh[0], h / roi_wh[1]
    return (x + box[0] * sx, y + box[1] * sy, x + box[2] * sx, y + box[3] * sy)


PALETTE = (
    (255, 56, 56), (255, 157, 151), (255, 112, 31), (255, 178, 29), (72, 249, 10),
    (61, 219, 134), (0, 194, 255), (52, 69, 147), (132, 56, 255), (255, 55, 199),
)  # fmt: skip


def draw_detections(rgb: np.ndarray, detections: Sequence[Detection]) -> np.ndarray:
    """Debug overlay: a coloured box and `class confidence` per detection, on a copy."""
    out = np.ascontiguousarray(rgb).copy()
    thickness = max(1, round(max(out.shape[:2]) / 400))
    for d in detections:
        colour = PALETTE[d.class_id % len(PALETTE)]
        x1, y1, x2, y2 = (round(v) for v in d.box)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thickness)
        label = f"{d.class_name} {d.confidence:.2f}"
        cv2.putText(
            out, label, (x1, max(10, y1 - 3)), cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thickness, colour, thickness, cv2.LINE_AA,
        )  # fmt: skip
    return out
