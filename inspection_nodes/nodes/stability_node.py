"""stability: drift monitor over scores, ROI luminance and operator overrides."""

from __future__ import annotations

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import Image

from inspection_msgs.msg import AnomalyResult, Disposition, StabilityComponent, StabilityReport
from inspection_nodes.core.image_encoding import ImageFormatError
from inspection_nodes.core.stability import LEVELS, StabilityConfig, StabilityMonitor
from inspection_nodes.nodes.common import Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import image_to_array
from inspection_nodes.nodes.qos import RESULT_QOS, STATUS_QOS, UNIT_IMAGE_QOS, overridable

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("window", 50, "rolling window in units", range=(5, 100000), read_only=True),
    ParamSpec(
        "reference_units",
        30,
        "units after start that define the reference",
        range=(5, 100000),
        read_only=True,
    ),
    ParamSpec(
        "luminance_limit",
        25.0,
        "mean ROI grey-level shift that counts as 1.0",
        range=(0.1, 255.0),
        read_only=True,
    ),
    ParamSpec(
        "false_reject_limit",
        0.05,
        "false-reject rate that counts as 1.0",
        range=(0.001, 1.0),
        read_only=True,
    ),
    ParamSpec(
        "watch_at", 0.5, "index from which the level is watch", range=(0.01, 100.0), read_only=True
    ),
    ParamSpec(
        "recalibrate_at",
        1.0,
        "index from which the level is recalibrate",
        range=(0.01, 100.0),
        read_only=True,
    ),
    ParamSpec(
        "report_period_s",
        1.0,
        "seconds between StabilityReports",
        range=(0.05, 3600.0),
        read_only=True,
    ),
)


class StabilityNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("stability", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        p = self.params
        self.monitor = StabilityMonitor(
            StabilityConfig(
                window=p["window"],
                reference_units=p["reference_units"],
                luminance_limit=p["luminance_limit"],
                false_reject_limit=p["false_reject_limit"],
                watch_at=p["watch_at"],
                recalibrate_at=p["recalibrate_at"],
            )
        )
        self.health = Health(self)
        self._model_version = ""
        qos = overridable()
        self._pub = self.create_publisher(
            StabilityReport, "stability", STATUS_QOS, qos_overriding_options=qos
        )
        self.create_subscription(
            AnomalyResult, "anomaly/result", self._on_result, RESULT_QOS, qos_overriding_options=qos
        )
        self.create_subscription(
            Image, "roi/image", self._on_roi, UNIT_IMAGE_QOS, qos_overriding_options=qos
        )
        self.create_subscription(
            Disposition, "disposition", self._on_disposition, RESULT_QOS, qos_overriding_options=qos
        )
        self.create_timer(p["report_period_s"], self._publish)
        self.health.set_status(b"\x00", "running")

    def _on_result(self, msg: AnomalyResult) -> None:
        self._model_version = msg.model_version
        self.monitor.add_score(float(msg.score), float(msg.image_threshold))

    def _on_roi(self, msg: Image) -> None:
        try:
            pixels = image_to_array(msg)
        except ImageFormatError as exc:
            self.health.reject("bad_roi_images", str(exc))
            return
        self.monitor.add_luminance(float(np.mean(pixels[::4, ::4])))

    def _on_disposition(self, msg: Disposition) -> None:
        self.monitor.add_disposition(msg.disposition == Disposition.FALSE_REJECT)

    def _publish(self) -> None:
        state = self.monitor.state()
        report = StabilityReport(
            model_version=self._model_version,
            window_units=state.units,
            index=float(state.index),
            level=LEVELS.index(state.level),
            components=[
                StabilityComponent(name=n, value=float(v), normalised=float(k))
                for n, (v, k) in state.components.items()
            ],
        )
        report.header.stamp = self.get_clock().now().to_msg()
        self._pub.publish(report)


def main(args: list[str] | None = None) -> None:
    run_node(StabilityNode, args)
