"""Channels: ros2msg schema text with every dependency, JPEG of every image encoding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from rosbags.typesys.base import TypesysError

from inspection_nodes.core.foxglove.channels import FORWARDED, jpeg, ros2msg_schema


def test_every_forwarded_type_has_a_schema_with_its_dependencies():
    for spec in FORWARDED:
        text = ros2msg_schema(spec.type_name).decode()
        assert "std_msgs/Header header" in text and "MSG: builtin_interfaces/Time" in text, spec
    report = ros2msg_schema("inspection_msgs/msg/StabilityReport").decode()
    assert "MSG: inspection_msgs/StabilityComponent" in report and "rhythm_state" in report
    with pytest.raises(TypesysError):
        ros2msg_schema("nope_msgs/msg/Nothing")


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "mono8"])
def test_jpeg_keeps_the_picture_for_every_encoding(encoding):
    pixels = np.zeros((32, 48, 1 if encoding == "mono8" else 3), np.uint8)
    pixels[:, :24] = 255 if encoding == "mono8" else (255, 0, 0)  # left: red in rgb8
    bgr = cv2.imdecode(np.frombuffer(jpeg(pixels, encoding, 90), np.uint8), cv2.IMREAD_COLOR)
    assert bgr.shape == (32, 48, 3) and bgr[:, 30:].max() < 30 and bgr[:, :20].max() > 200
    if encoding == "rgb8":
        assert bgr[10, 10, 2] > 200 and bgr[10, 10, 0] < 50  # red stays red


def test_an_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        jpeg(np.zeros((4, 4, 2), np.uint8), "yuv422", 80)
