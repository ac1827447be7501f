"""embedding node in-process with real rclpy and a real (tiny) model: ROIs become patch
embeddings labelled with their unit id; bad ROIs and ROIs while inactive become rejections."""

from __future__ import annotations

import numpy as np
import pytest
import rclpy
from helpers.messages import image_msg
from helpers.ros import Collector, executor_of, node_with, spin_until
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from inspection_msgs.msg import CaptureEvent, PatchEmbedding, UnitRejection
from inspection_nodes.core.anomaly.artifact import read_manifest
from inspection_nodes.nodes.embedding_node import EmbeddingNode
from inspection_nodes.nodes.qos import RESULT_QOS, UNIT_IMAGE_QOS


@pytest.fixture
def graph(ros_context, tiny_model):
    node = node_with(EmbeddingNode, ros_context, model_dir=str(tiny_model))
    probe = rclpy.create_node("probe", context=ros_context)
    executor = executor_of(ros_context, node, probe)
    out, rejections = Collector(), Collector()
    probe.create_subscription(PatchEmbedding, "embedding/patches", out, RESULT_QOS)
    probe.create_subscription(UnitRejection, "rejections", rejections, RESULT_QOS)
    rois = probe.create_publisher(Image, "roi/image", UNIT_IMAGE_QOS)
    units = probe.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS)
    yield node, executor, rois, units, out, rejections
    node.destroy_node()
    probe.destroy_node()


def test_rois_become_embeddings_with_their_unit_id(graph, tiny_model):
    node, executor, rois, units, out, rejections = graph
    node.autostart()
    assert spin_until(executor, lambda: rois.get_subscription_count() > 0)
    capture = CaptureEvent(unit_id="u000007")
    capture.header.stamp.sec = 7
    units.publish(capture)
    assert spin_until(executor, lambda: node._unit_ids.get(7 * 10**9) == "u000007")
    roi = np.random.default_rng(0).integers(0, 255, (224, 224, 3), dtype=np.uint8)
    rois.publish(image_msg(roi, "rgb8", sec=7))
    rois.publish(image_msg(roi[:4, :4].copy(), "rgb8", sec=8))  # smaller than the engine takes
    assert spin_until(executor, lambda: len(out.messages) == 1 and len(rejections.messages) == 1)
    msg = out.messages[0]
    assert (msg.unit_id, msg.model_version) == ("u000007", read_manifest(tiny_model).model_version)
    assert (msg.height, msg.width, msg.channels) == (28, 28, 152)
    assert len(msg.data) == 28 * 28 * 152 and (msg.roi_height, msg.roi_width) == (224, 224)
    expected = node.engine.embed(roi)
    np.testing.assert_array_equal(np.asarray(msg.data, np.float32).reshape(28, 28, 152), expected)
    assert [t.stage for t in msg.timings] == ["camera_to_embedding", "embedding"]
    assert (
        rejections.messages[0].stage == "embedding" and "H, W >= 8" in rejections.messages[0].reason
    )
    assert node.health.counters.snapshot() == {"embeddings": 1, "rejected_rois": 1}


def test_rois_while_inactive_are_rejected_never_dropped(graph):
    node, executor, rois, _units, out, rejections = graph
    node.autostart()
    node.trigger_deactivate()
    roi = np.zeros((224, 224, 3), np.uint8)
    assert spin_until(executor, lambda: rois.get_subscription_count() > 0)
    rois.publish(image_msg(roi, "rgb8", sec=3))
    assert spin_until(executor, lambda: len(rejections.messages) == 1)
    assert "not active" in rejections.messages[0].reason and out.messages == []


def test_a_missing_model_fails_configure_and_says_why(ros_context, tmp_path):
    node = EmbeddingNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("model_dir", value=str(tmp_path / "none")),
            Parameter("autostart", value=False),
        ],
    )
    try:
        from rclpy.lifecycle import TransitionCallbackReturn

        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert node.engine is None
    finally:
        node.destroy_node()
