"""What the foxglove node forwards: every debug image and result topic of the cell.

Each topic becomes a Foxglove channel with its real ROS 2 schema (`ros2msg`: the message's .msg
text followed by every dependency as a `MSG: pkg/Type` section, the format rosbag2 writes into
MCAP) and `cdr` payloads, the bytes rclpy received, unchanged; Foxglove decodes them itself.
Images get a second channel `<topic>/compressed` (foxglove.CompressedImage, JPEG) for clients on
a slow link. The schema text comes from the same typestore the bags use (core/io/bags.py: ROS 2
kilted standard types plus this repository's msg/), so it matches what rosidl generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from inspection_nodes.core.evidence.images import encode_image
from inspection_nodes.core.io.bags import cell_typestore
from inspection_nodes.core.io.image_encoding import to_rgb8

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED_SUFFIX = "/compressed"
DIAGNOSTICS = "diagnostics"  # forwarded as JSON (one object per node status)


@dataclass(frozen=True)
class Forwarded:
    topic: str  # relative ROS name, resolved in the node's namespace
    type_name: str  # "pkg/msg/Type"

    @property
    def is_image(self) -> bool:
        return self.type_name == IMAGE


FORWARDED: tuple[Forwarded, ...] = tuple(
    Forwarded(topic, type_name)
    for topic, type_name in (
        ("camera/image_raw", IMAGE),
        ("roi/image", IMAGE),
        ("anomaly/heatmap", IMAGE),
        ("detector/overlay", IMAGE),
        ("stability/plot", IMAGE),
        ("camera/unit", "inspection_msgs/msg/CaptureEvent"),
        ("rejections", "inspection_msgs/msg/UnitRejection"),
        ("embedding/patches", "inspection_msgs/msg/PatchEmbedding"),
        ("anomaly/result", "inspection_msgs/msg/AnomalyResult"),
        ("detections", "inspection_msgs/msg/Detections"),
        ("verdict", "inspection_msgs/msg/Verdict"),
        ("actuator/event", "inspection_msgs/msg/ActuatorEvent"),
        ("stability", "inspection_msgs/msg/StabilityReport"),
        ("disposition", "inspection_msgs/msg/Disposition"),
    )
)

DIAGNOSTICS_SCHEMA = {
    "type": "object",
    "title": "inspection diagnostics",
    "properties": {
        "stamp_ns": {"type": "integer"},
        "node": {"type": "string"},
        "level": {"type": "integer", "description": "0 OK, 1 WARN, 2 ERROR, 3 STALE"},
        "message": {"type": "string"},
        "values": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


@cache
def ros2msg_schema(type_name: str) -> bytes:
    """The `ros2msg` schema text of a type and its dependencies (rosbags' TypesysError for a
    type neither ROS 2 kilted nor msg/ defines)."""
    text, _digest = cell_typestore().generate_msgdef(type_name, ros_version=2)
    return text.encode()


def jpeg(pixels: np.ndarray, encoding: str, quality: int) -> bytes:
    """A JPEG of an image in any encoding the cell publishes (mono, bgr8, rgb8, ...);
    ValueError for an encoding it cannot show."""
    _media, data = encode_image(to_rgb8(pixels, encoding), "rgb8", "jpg", quality)
    return data
