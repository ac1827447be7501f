"""camera node in-process: every file is a unit (CaptureEvent first), corrupt files rejected."""

from pathlib import Path

import cv2
import numpy as np
import rclpy
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from inspection_msgs.msg import CaptureEvent, UnitRejection
from inspection_nodes.nodes.camera_node import CameraNode
from inspection_nodes.nodes.qos import RESULT_QOS, UNIT_IMAGE_QOS


def test_folder_units_in_order_with_rejection(ros_context, tmp_path: Path):
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((20, 30, 3), 50 * i, np.uint8))
    (tmp_path / "1.png").write_bytes(b"\x89PNG broken")
    probe = rclpy.create_node("probe", context=ros_context)
    units, images, rejections = Collector(), Collector(), Collector()
    probe.create_subscription(CaptureEvent, "camera/unit", units, RESULT_QOS)
    probe.create_subscription(Image, "camera/image_raw", images, UNIT_IMAGE_QOS)
    probe.create_subscription(UnitRejection, "rejections", rejections, RESULT_QOS)
    camera = CameraNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("source", value=str(tmp_path)),
            Parameter("rate_hz", value=50.0),
            Parameter("unit_prefix", value="t-"),
        ],
    )
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(camera)
    executor.add_node(probe)
    camera.autostart()
    assert spin_until(
        executor,
        lambda: (
            camera.finished.is_set()
            and len(units.messages) == 3
            and len(images.messages) == 2
            and len(rejections.messages) == 1
        ),
        15.0,
    )
    assert [u.unit_id for u in units.messages] == ["t-000000", "t-000001", "t-000002"]
    assert [Path(u.source).name for u in units.messages] == ["0.png", "1.png", "2.png"]
    stamps = [u.header.stamp for u in units.messages]
    assert images.messages[1].header.stamp == stamps[2]
    assert rejections.messages[0].header.stamp == stamps[1]
    assert rejections.messages[0].unit_id == "t-000001"
    assert (images.messages[0].encoding, images.messages[0].width) == ("bgr8", 30)
    camera.trigger_deactivate()
    camera.destroy_node()
    probe.destroy_node()


def test_missing_folder_fails_configure(ros_context, tmp_path):
    from rclpy.lifecycle import TransitionCallbackReturn

    camera = CameraNode(
        context=ros_context,
        parameter_overrides=[Parameter("source", value=str(tmp_path / "missing"))],
    )
    assert camera.trigger_configure() == TransitionCallbackReturn.FAILURE
    camera.destroy_node()
