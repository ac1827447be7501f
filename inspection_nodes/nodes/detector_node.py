"""detector: YOLO known-defect detection on each ROI (optional node; needs a trained model)."""

from __future__ import annotations

import time
from enum import StrEnum

import numpy as np
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Image

from inspection_msgs.msg import Detection, Detections
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.detector.yolo import (
    BACKENDS,
    PRECISIONS,
    DetectorConfig,
    DetectorError,
    YoloDetector,
    draw_detections,
    parse_crop,
    roi_to_frame,
)
from inspection_nodes.core.io.image_encoding import ImageFormatError, to_rgb8
from inspection_nodes.core.io.mvtec import DatasetError, read_rgb
from inspection_nodes.nodes.common import (
    Autostart,
    Health,
    ParamSpec,
    Rejections,
    declare_parameters,
    run_node,
)
from inspection_nodes.nodes.convert import array_to_image, image_to_array, stamp_to_ns, timing
from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS, UNIT_IMAGE_QOS, overridable
from inspection_nodes.nodes.unit_ids import follow_unit_ids


class DetectorCounter(StrEnum):
    DETECTIONS_PUBLISHED = "detections_published"
    REJECTED_ROIS = "rejected_rois"  # bad image, detector error, or the node is not active
    FRAME_SIZE_UNKNOWN = "frame_size_unknown"  # no crop and no camera_info yet: frame boxes = ROI


PARAMETERS: tuple[ParamSpec, ...] = (
    Autostart.AUTOSTART,
    ParamSpec(
        "model_path",
        "",
        "detector model directory (from `inspection train-detector`)",
        read_only=True,
    ),
    ParamSpec("backend", "onnxruntime", "network runtime", choices=BACKENDS, read_only=True),
    ParamSpec("device", "cpu", "cpu or cuda (torch and TensorRT backends)", read_only=True),
    ParamSpec(
        "precision",
        "fp32",
        "fp32, or int8 (the model's INT8 ONNX file; onnxruntime backend)",
        choices=PRECISIONS,
        read_only=True,
    ),
    ParamSpec("threads", 2, "ONNX Runtime intra-op threads", range=(1, 64), read_only=True),
    ParamSpec(
        "confidence", 0.25, "minimum confidence of a detection", range=(0.0, 1.0), read_only=True
    ),
    ParamSpec("iou", 0.45, "NMS IoU threshold", range=(0.0, 1.0), read_only=True),
    ParamSpec("max_detections", 100, "most detections per ROI", range=(1, 1000), read_only=True),
    ParamSpec(
        "template_path",
        "",
        "defect-free template image of the ROI (models trained with input_mode template)",
        read_only=True,
    ),
    ParamSpec(
        "crop",
        [0],
        "the roi node's crop [x, y, w, h], to map boxes to frame pixels; [0] = whole frame "
        "(size from camera/camera_info)",
        read_only=True,
    ),
    ParamSpec(
        "publish_overlay",
        True,
        "publish detector/overlay images (only while someone subscribes)",
        read_only=True,
    ),
)


class DetectorNode(Autostart, LifecycleNode):
    """Loads the model in configure (so the first ROI is fast); detects only while active."""

    def __init__(self, **kwargs) -> None:
        super().__init__("detector", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self._crop = parse_crop(self.params["crop"])
        self.config = DetectorConfig(
            backend=self.params["backend"],
            device=self.params["device"],
            precision=self.params["precision"],
            confidence=self.params["confidence"],
            iou=self.params["iou"],
            max_detections=self.params["max_detections"],
            threads=self.params["threads"],
        ).validate()
        self.health = Health(self, DetectorCounter)
        self.detector: YoloDetector | None = None
        self._frame_wh: tuple[int, int] | None = None
        self._active = False

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.params
        try:
            template = read_rgb(p["template_path"]) if p["template_path"] else None
            self.detector = YoloDetector.load(p["model_path"], self.config, template)
            if self.detector.model.input_mode == "template" and template is None:
                raise DetectorError("the model's input_mode is template: set template_path")
            size = self.detector.size
            self.detector.detect(np.zeros((size, size, 3), np.uint8))  # warm-up
        except (DetectorError, DatasetError, OSError, ValueError) as exc:
            self.get_logger().error(f"cannot load detector: {exc}")
            self.health.set_status(HealthLevel.ERROR, f"no model: {exc}")
            return TransitionCallbackReturn.FAILURE
        qos = overridable()
        self._pub = self.create_lifecycle_publisher(
            Detections, "detections", RESULT_QOS, qos_overriding_options=qos
        )
        self._overlay_pub = (
            self.create_publisher(
                Image, "detector/overlay", DEBUG_IMAGE_QOS, qos_overriding_options=qos
            )
            if p["publish_overlay"]
            else None
        )
        self._rejections = Rejections(self, self.health, "detector")
        self._unit_ids = follow_unit_ids(self)
        self._info_sub = self.create_subscription(
            CameraInfo, "camera/camera_info", self._on_info, 10
        )
        # Subscribed from configure on so the camera sees the stage is ready; ROIs that arrive
        # while inactive are rejected (the gate FAILs them), never silently dropped.
        self._sub = self.create_subscription(
            Image, "roi/image", self._on_roi, UNIT_IMAGE_QOS, qos_overriding_options=qos
        )
        model = self.detector.model
        self.health.set_status(
            HealthLevel.OK, f"model {model.version} ({model.input_mode}) on {self.config.backend}"
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.destroy_subscription(self._sub)
        self.destroy_subscription(self._info_sub)
        self._rejections.destroy()
        if self._overlay_pub is not None:
            self.destroy_publisher(self._overlay_pub)
        self.detector = None
        return TransitionCallbackReturn.SUCCESS

    def _on_info(self, msg: CameraInfo) -> None:
        self._frame_wh = (msg.width, msg.height)

    def _reject(self, msg: Image, unit_id: str, reason: str) -> None:
        self._rejections.publish(msg.header, unit_id, DetectorCounter.REJECTED_ROIS, reason)

    def _on_roi(self, msg: Image) -> None:
        start = time.perf_counter()
        unit_id = self._unit_ids.get(stamp_to_ns(msg.header.stamp))
        if not self._active:
            self._reject(msg, unit_id, "detector: node not active")
            return
        try:
            rgb = to_rgb8(image_to_array(msg), msg.encoding)
            found = self.detector.detect(rgb)
        except ImageFormatError as exc:
            self._reject(msg, unit_id, f"detector: {exc}")
            return
        except Exception as exc:
            self._reject(msg, unit_id, f"detector error: {exc!r}")
            return
        roi_wh = (rgb.shape[1], rgb.shape[0])
        if not self._crop and self._frame_wh is None:
            self.health.counters.inc(DetectorCounter.FRAME_SIZE_UNKNOWN)
        out = Detections(header=msg.header, unit_id=unit_id, model_version=self.detector.version)
        out.detections = [
            Detection(
                class_id=d.class_id,
                class_name=d.class_name,
                confidence=d.confidence,
                box_roi=list(d.box),
                box_frame=list(roi_to_frame(d.box, self._crop, roi_wh, self._frame_wh)),
            )
            for d in found
        ]
        out.timings = [timing("detector", (time.perf_counter() - start) * 1e3)]
        self._pub.publish(out)
        self.health.counters.inc(DetectorCounter.DETECTIONS_PUBLISHED)
        if self._overlay_pub is not None and self._overlay_pub.get_subscription_count() > 0:
            self._overlay_pub.publish(
                array_to_image(draw_detections(rgb, found), msg.header, "rgb8")
            )


def main(args: list[str] | None = None) -> None:
    run_node(DetectorNode, args)
