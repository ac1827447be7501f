"""detector: YOLO known-defect detection on each ROI (optional node; needs a trained model)."""

from __future__ import annotations

import time

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import Image

from inspection_msgs.msg import Detection, Detections, UnitRejection
from inspection_nodes.core.detector import DetectorError, YoloOnnxDetector
from inspection_nodes.core.image_encoding import ImageFormatError, to_rgb8
from inspection_nodes.nodes.common import Autostart, Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import image_to_array, stamp_to_ns, timing
from inspection_nodes.nodes.qos import RESULT_QOS, UNIT_IMAGE_QOS, overridable
from inspection_nodes.nodes.unit_ids import follow_unit_ids

PARAMETERS: tuple[ParamSpec, ...] = (
    Autostart.AUTOSTART,
    ParamSpec("model_path", "", "YOLO detection model exported to ONNX", read_only=True),
    ParamSpec("class_names", ["defect"], "class names in model order", read_only=True),
    ParamSpec(
        "confidence", 0.25, "minimum confidence of a detection", range=(0.0, 1.0), read_only=True
    ),
    ParamSpec("iou", 0.45, "NMS IoU threshold", range=(0.0, 1.0), read_only=True),
    ParamSpec("model_version", "", "version string copied into Detections", read_only=True),
)


class DetectorNode(Autostart, LifecycleNode):
    def __init__(self, **kwargs) -> None:
        super().__init__("detector", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.health = Health(self)
        self.detector: YoloOnnxDetector | None = None
        self._sub = None

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.params
        try:
            self.detector = YoloOnnxDetector(
                p["model_path"], list(p["class_names"]), p["confidence"], p["iou"]
            )
        except DetectorError as exc:
            self.get_logger().error(str(exc))
            self.health.set_status(b"\x02", str(exc))
            return TransitionCallbackReturn.FAILURE
        qos = overridable()
        self._pub = self.create_lifecycle_publisher(
            Detections, "detections", RESULT_QOS, qos_overriding_options=qos
        )
        self._reject_pub = self.create_lifecycle_publisher(
            UnitRejection, "rejections", RESULT_QOS, qos_overriding_options=qos
        )
        self._unit_ids = follow_unit_ids(self)
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._sub = self.create_subscription(
            Image, "roi/image", self._on_roi, UNIT_IMAGE_QOS, qos_overriding_options=overridable()
        )
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._sub is not None:
            self.destroy_subscription(self._sub)
            self._sub = None
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.detector = None
        return TransitionCallbackReturn.SUCCESS

    def _on_roi(self, msg: Image) -> None:
        start = time.perf_counter()
        unit_id = self._unit_ids.get(stamp_to_ns(msg.header.stamp))
        try:
            found = self.detector.detect(to_rgb8(image_to_array(msg), msg.encoding))
        except (ImageFormatError, Exception) as exc:
            self.health.reject("rejected_rois", str(exc))
            self._reject_pub.publish(
                UnitRejection(
                    header=msg.header, unit_id=unit_id, stage="detector", reason=f"detector: {exc}"
                )
            )
            return
        out = Detections(
            header=msg.header, unit_id=unit_id, model_version=self.params["model_version"]
        )
        out.detections = [
            Detection(
                class_id=d.class_id,
                class_name=d.class_name,
                confidence=d.confidence,
                box_roi=list(d.box),
                box_frame=list(d.box),
            )
            for d in found
        ]
        out.timings = [timing("detector", (time.perf_counter() - start) * 1e3)]
        self._pub.publish(out)
        self.health.counters.inc("detections_published")


def main(args: list[str] | None = None) -> None:
    run_node(DetectorNode, args)
