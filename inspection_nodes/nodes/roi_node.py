"""roi: crop, mask and resize each camera frame; frames it cannot use become rejections."""

from __future__ import annotations

import time
from collections.abc import Collection
from enum import StrEnum

from rclpy.node import Node
from sensor_msgs.msg import Image

from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.io.image_encoding import ImageFormatError, to_rgb8
from inspection_nodes.core.io.roi import RoiConfig, RoiError, RoiExtractor
from inspection_nodes.nodes.common import (
    Health,
    ParamSpec,
    Rejections,
    declare_parameters,
    run_node,
)
from inspection_nodes.nodes.convert import array_to_image, image_to_array
from inspection_nodes.nodes.intra_process import Handler, IntraProcessNode
from inspection_nodes.nodes.qos import UNIT_IMAGE_QOS, overridable


class RoiCounter(StrEnum):
    ROIS = "rois"
    REJECTED_FRAMES = "rejected_frames"  # unusable: encoding, size, blank (a reason is published)
    ROI_ERRORS = "roi_errors"  # an unexpected error (the unit is still rejected, never dropped)


PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("crop", [0], "[x, y, w, h] in frame pixels; [0] = whole frame", read_only=True),
    ParamSpec(
        "polygon",
        [0.0],
        "mask polygon [x1, y1, x2, y2, ...] in crop pixels; [0.0] = none",
        read_only=True,
    ),
    ParamSpec("output_size", [224, 224], "ROI size [w, h] fed to the backbone", read_only=True),
    ParamSpec("mask_value", 0, "grey value outside the polygon", range=(0, 255), read_only=True),
    ParamSpec("min_input_size", [32, 32], "smaller frames are rejected [w, h]", read_only=True),
    ParamSpec(
        "blank_std_limit",
        1.0,
        "frames with contrast below this are rejected as blank (0 = off)",
        range=(0.0, 255.0),
        read_only=True,
    ),
)


def roi_config(params: dict) -> RoiConfig:
    """RoiConfig from parameter values; the [0] placeholders mean "not set" (ROS has no None)."""
    crop = tuple(int(v) for v in params["crop"]) if list(params["crop"]) != [0] else ()
    polygon = tuple(float(v) for v in params["polygon"]) if list(params["polygon"]) != [0.0] else ()
    return RoiConfig(
        crop=crop,
        polygon=polygon,
        output_size=tuple(int(v) for v in params["output_size"]),
        mask_value=int(params["mask_value"]),
        min_input_size=tuple(int(v) for v in params["min_input_size"]),
        blank_std_limit=float(params["blank_std_limit"]),
    )


class RoiNode(IntraProcessNode, Node):
    """Frames from camera/image_raw, over DDS or, composed with the camera, in-process
    (`local_inputs`, see nodes/intra_process.py); its ROIs go to composed consumers the same way."""

    INTRA_PROCESS_INPUTS = ("camera/image_raw",)

    def __init__(self, local_inputs: Collection[str] = (), **kwargs) -> None:
        super().__init__("roi", local_inputs=local_inputs, **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.extractor = RoiExtractor(roi_config(self.params))
        self.health = Health(self, RoiCounter)
        qos = overridable()
        self._roi_pub = self.create_publisher(
            Image, "roi/image", UNIT_IMAGE_QOS, qos_overriding_options=qos
        )
        self._rejections = Rejections(self, self.health, "roi")
        self.subscribe_input(Image, "camera/image_raw", self._on_image, UNIT_IMAGE_QOS)
        self.health.set_status(HealthLevel.OK, "running")

    def intra_process_inputs(self) -> dict[str, Handler]:
        return {"camera/image_raw": self._on_image}

    def _on_image(self, msg: Image) -> None:
        start = time.perf_counter()
        header, encoding = msg.header, msg.encoding
        try:
            pixels = image_to_array(msg)
            if encoding in ("rgb8", "bgr8"):
                # Crop and resize in the camera's channel order, convert only the small ROI.
                roi = to_rgb8(self.extractor.extract(pixels), encoding)
            else:
                roi = self.extractor.extract(to_rgb8(pixels, encoding))
        except (ImageFormatError, RoiError) as exc:
            self._rejections.publish(
                header, "", RoiCounter.REJECTED_FRAMES, f"roi: {exc}", str(exc)
            )
            return
        except Exception as exc:
            reason = f"roi error: {exc!r}"
            self._rejections.publish(header, "", RoiCounter.ROI_ERRORS, reason, repr(exc))
            return
        # A new message per frame: in-process consumers may keep it (the scoring node's ROI cache).
        self.intra.publish(self._roi_pub, array_to_image(roi, header, "rgb8"))
        self.health.counters.inc(RoiCounter.ROIS)
        self.last_latency_ms = (time.perf_counter() - start) * 1e3


def main(args: list[str] | None = None) -> None:
    run_node(RoiNode, args)
