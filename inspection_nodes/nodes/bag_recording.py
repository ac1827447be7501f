"""Record the cell's topics to MCAP from inside any node (raw CDR, no re-serialisation)."""

from __future__ import annotations

from pathlib import Path

from rclpy.node import Node
from sensor_msgs.msg import Image

from inspection_msgs.msg import (
    ActuatorEvent,
    AnomalyResult,
    CaptureEvent,
    StabilityReport,
    UnitRejection,
    Verdict,
)
from inspection_nodes.core.io.bags import BagRecorder
from inspection_nodes.nodes.qos import RESULT_QOS, STATUS_QOS, UNIT_IMAGE_QOS

RECORDED = (
    ("camera/image_raw", Image, "sensor_msgs/msg/Image", UNIT_IMAGE_QOS),
    ("camera/unit", CaptureEvent, "inspection_msgs/msg/CaptureEvent", RESULT_QOS),
    ("roi/image", Image, "sensor_msgs/msg/Image", UNIT_IMAGE_QOS),
    ("rejections", UnitRejection, "inspection_msgs/msg/UnitRejection", RESULT_QOS),
    ("anomaly/result", AnomalyResult, "inspection_msgs/msg/AnomalyResult", RESULT_QOS),
    ("verdict", Verdict, "inspection_msgs/msg/Verdict", RESULT_QOS),
    ("actuator/event", ActuatorEvent, "inspection_msgs/msg/ActuatorEvent", RESULT_QOS),
    ("stability", StabilityReport, "inspection_msgs/msg/StabilityReport", STATUS_QOS),
)


def start_recording(node: Node, path: Path) -> tuple[BagRecorder, list]:
    """Subscribe raw to every recorded topic; messages are stamped with receive time.
    Returns the recorder and the subscriptions (callers can wait until they are matched)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    recorder = BagRecorder(path)
    subscriptions = []
    for topic, cls, msgtype, qos in RECORDED:
        recorder.add_topic(topic, msgtype)

        def write(raw: bytes, topic: str = topic) -> None:
            recorder.write(topic, node.get_clock().now().nanoseconds, raw)

        subscriptions.append(node.create_subscription(cls, topic, write, qos, raw=True))
    return recorder, subscriptions
