"""roi node in-process: good frames become ROIs, unusable ones become counted rejections."""

import numpy as np
import pytest
import rclpy
from helpers.messages import image_msg
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from inspection_msgs.msg import UnitRejection
from inspection_nodes.nodes.qos import RESULT_QOS, UNIT_IMAGE_QOS
from inspection_nodes.nodes.roi_node import RoiNode


@pytest.fixture
def graph(ros_context):
    node = RoiNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("crop", value=[10, 10, 80, 60]),
            Parameter("output_size", value=[40, 30]),
        ],
    )
    probe = rclpy.create_node("probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    rois, rejections = Collector(), Collector()
    probe.create_subscription(Image, "roi/image", rois, UNIT_IMAGE_QOS)
    probe.create_subscription(UnitRejection, "rejections", rejections, RESULT_QOS)
    pub = probe.create_publisher(Image, "camera/image_raw", UNIT_IMAGE_QOS)
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0)
    yield node, executor, pub, rois, rejections
    node.destroy_node()
    probe.destroy_node()


def test_frames_become_rois_and_bad_frames_rejections(graph):
    node, executor, pub, rois, rejections = graph
    rng = np.random.default_rng(1)
    good = rng.integers(0, 255, (100, 120, 3), dtype=np.uint8)
    pub.publish(image_msg(good[..., ::-1].copy(), "bgr8", sec=1))
    pub.publish(image_msg(good, "yuv422", sec=2))
    pub.publish(image_msg(good[:50, :50].copy(), "rgb8", sec=3))  # crop falls outside
    assert spin_until(executor, lambda: len(rois.messages) + len(rejections.messages) >= 3)
    assert len(rois.messages) == 1
    roi = rois.messages[0]
    assert (roi.width, roi.height, roi.encoding, roi.header.stamp.sec) == (40, 30, "rgb8", 1)
    reasons = {m.header.stamp.sec: m.reason for m in rejections.messages}
    assert "unsupported encoding" in reasons[2] and "outside frame" in reasons[3]
    assert node.health.counters.get("rejected_frames") == 2
