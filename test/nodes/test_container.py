"""container: camera and roi composed in one process, real rclpy.

The roi node gets the frames in-process (it has no camera/image_raw subscription), its ROIs
still go out over DDS, and the full frames are published to DDS only for a process that asks.
"""

from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from inspection_nodes.nodes import container
from inspection_nodes.nodes.qos import UNIT_IMAGE_QOS


def test_factories_tell_consumers_which_inputs_are_local():
    camera, roi, gate = container.factories(["camera", "roi", "gate"])
    assert roi.keywords == {"local_inputs": ("camera/image_raw",)}
    assert camera.__name__ == "CameraNode" and gate.__name__ == "GateNode"
    _, scoring = container.factories(["embedding", "scoring"])
    assert scoring.keywords == {"local_inputs": ("embedding/patches",)}
    with pytest.raises(KeyError, match="lidar"):
        container.factories(["camera", "lidar"])


@pytest.mark.parametrize("remote_viewer", [False, True])
def test_camera_feeds_roi_in_process(ros_context, tmp_path: Path, remote_viewer):
    for i in range(3):
        frame = np.random.default_rng(i).integers(0, 255, (90, 120, 3), dtype=np.uint8)
        cv2.imwrite(str(tmp_path / f"{i}.png"), frame)
    probe = rclpy.create_node("probe", context=ros_context)
    rois, frames = Collector(), Collector()
    probe.create_subscription(Image, "roi/image", rois, UNIT_IMAGE_QOS)
    if remote_viewer:
        probe.create_subscription(Image, "camera/image_raw", frames, UNIT_IMAGE_QOS)
    make_camera, make_roi = container.factories(["camera", "roi"])
    camera = make_camera(
        context=ros_context,
        parameter_overrides=[
            Parameter("source", value=str(tmp_path)),
            Parameter("rate_hz", value=50.0),
            Parameter("wait_for_subscribers", value=["camera/image_raw", "roi/image"]),
            Parameter("wait_for_publishers", value=["roi/image"]),
            Parameter("startup_timeout_s", value=60.0),
        ],
    )
    roi = make_roi(
        context=ros_context, parameter_overrides=[Parameter("output_size", value=[60, 45])]
    )
    container.wire([camera, roi])
    executor = SingleThreadedExecutor(context=ros_context)
    for node in (camera, roi, probe):
        executor.add_node(node)
    camera.autostart()
    try:
        # The camera starts although no process subscribes to camera/image_raw: the roi node
        # consumes it in-process.
        assert spin_until(executor, lambda: len(rois.messages) == 3, 20.0), len(rois.messages)
        assert roi.count_publishers("camera/image_raw") == 1
        assert "/camera/image_raw" not in {s.topic_name for s in roi.subscriptions}
        assert [(m.width, m.height, m.encoding) for m in rois.messages] == [(60, 45, "rgb8")] * 3
        stamps = [m.header.stamp for m in rois.messages]
        assert len({(s.sec, s.nanosec) for s in stamps}) == 3
        assert roi.health.counters.get("rois") == 3
        if remote_viewer:  # a viewer in another process still gets every full frame
            assert spin_until(executor, lambda: len(frames.messages) == 3, 5.0)
            assert [m.header.stamp for m in frames.messages] == stamps
    finally:
        camera.trigger_deactivate()
        for node in (camera, roi, probe):
            node.destroy_node()
