"""detector node in-process with a tiny real model: Detections in ROI and frame pixels, overlay,
rejections, and the model directory's input mode (template needs template_path)."""

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
from helpers.detector_data import deeppcb_root, tiny_detector
from helpers.messages import image_msg
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from inspection_msgs.msg import CaptureEvent, Detections, UnitRejection
from inspection_nodes.core.detector.registry import load_model, update_manifest
from inspection_nodes.nodes.detector_node import DetectorNode
from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS, UNIT_IMAGE_QOS

CROP = [10, 20, 320, 320]  # the ROI node cut 320x320 at (10, 20) and resized it to 160x160


@pytest.fixture(scope="module")
def tiny(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_detector(shared_data, tmp_path_factory.mktemp("detector"))


@pytest.fixture
def roi_pixels(shared_data: Path) -> np.ndarray:
    tested = cv2.imread(str(deeppcb_root(shared_data) / "group00041/00041/00041200_test.jpg"))
    return cv2.resize(tested[20:340, 10:330], (160, 160), interpolation=cv2.INTER_AREA)


def _make(ros_context, model: Path, **params):
    overrides = {"model_path": str(model), "confidence": 0.0, "max_detections": 3, **params}
    node = DetectorNode(
        context=ros_context,
        parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
    )
    probe = rclpy.create_node("probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    executor.add_node(probe)
    return node, probe, executor


@pytest.fixture
def graph(ros_context, tiny):
    node, probe, executor = _make(ros_context, tiny, crop=CROP)
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    found, rejections, overlays = Collector(), Collector(), Collector()
    probe.create_subscription(Detections, "detections", found, RESULT_QOS)
    probe.create_subscription(UnitRejection, "rejections", rejections, RESULT_QOS)
    probe.create_subscription(Image, "detector/overlay", overlays, DEBUG_IMAGE_QOS)
    units = probe.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS)
    pub = probe.create_publisher(Image, "roi/image", UNIT_IMAGE_QOS)
    assert spin_until(executor, lambda: pub.get_subscription_count() > 0)
    yield node, executor, units, pub, found, rejections, overlays
    node.destroy_node()
    probe.destroy_node()


def test_detections_in_roi_and_frame_pixels_with_overlay(graph, tiny, roi_pixels):
    node, executor, units, pub, found, rejections, overlays = graph
    pub.publish(image_msg(roi_pixels, "bgr8", sec=1))
    assert spin_until(executor, lambda: rejections.messages)
    assert "node not active" in rejections.messages[0].reason  # configured, not yet active
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    event = CaptureEvent(unit_id="pcb-000002")
    event.header.stamp.sec = 2
    units.publish(event)
    spin_until(executor, lambda: False, timeout_s=0.3)  # let the capture event arrive first
    pub.publish(image_msg(roi_pixels, "bgr8", sec=2))
    assert spin_until(executor, lambda: found.messages and overlays.messages)
    msg = found.messages[0]
    assert msg.header.stamp.sec == 2 and msg.unit_id == "pcb-000002"
    assert msg.model_version == load_model(tiny).version
    assert 0 < len(msg.detections) <= 3 and msg.timings[0].stage == "detector"
    for d in msg.detections:
        roi, frame = np.array(d.box_roi), np.array(d.box_frame)
        np.testing.assert_allclose(frame, roi * 2 + [10, 20, 10, 20], atol=1e-3)
        assert d.class_name in load_model(tiny).class_names
    overlay = overlays.messages[0]
    assert (overlay.width, overlay.height, overlay.encoding) == (160, 160, "rgb8")


def test_bad_roi_is_a_counted_rejection(graph, roi_pixels):
    node, executor, _, pub, found, rejections, _ = graph
    assert node.trigger_activate() == TransitionCallbackReturn.SUCCESS
    pub.publish(image_msg(roi_pixels, "yuv422", sec=3))
    assert spin_until(executor, lambda: rejections.messages)
    assert rejections.messages[0].stage == "detector"
    assert "unsupported encoding" in rejections.messages[0].reason
    assert node.health.counters.get("rejected_rois") == 1 and not found.messages


def test_template_model_needs_a_template(ros_context, tiny, tmp_path, shared_data, roi_pixels):
    model = tmp_path / "template_model"
    shutil.copytree(tiny, model)
    update_manifest(load_model(model), input_mode="template")
    node, probe, _ = _make(ros_context, model)
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    node.destroy_node()
    template = tmp_path / "template.png"
    cv2.imwrite(str(template), roi_pixels)
    node, probe2, _ = _make(ros_context, model, template_path=str(template))
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS
    assert node.detector.model.input_mode == "template"
    node.destroy_node()
    probe.destroy_node()
    probe2.destroy_node()


def test_missing_model_fails_configure_and_bad_crop_fails_start(ros_context, tmp_path):
    node, probe, _ = _make(ros_context, tmp_path / "none")
    assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
    node.destroy_node()
    probe.destroy_node()
    with pytest.raises(ValueError, match="crop must be"):
        DetectorNode(context=ros_context, parameter_overrides=[Parameter("crop", value=[1, 2])])
