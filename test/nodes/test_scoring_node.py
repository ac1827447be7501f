"""scoring node in-process with real rclpy and a real (tiny) model: embeddings become anomaly
results (and heatmaps for their ROIs); embeddings of another model are rejected; a new
model_dir is loaded at run time or refused with the reason."""

from __future__ import annotations

import numpy as np
import pytest
import rclpy
from helpers.messages import image_msg
from helpers.ros import Collector, executor_of, node_with, spin_until
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from inspection_msgs.msg import AnomalyResult, PatchEmbedding, UnitRejection
from inspection_nodes.core.anomaly.engine import AnomalyEngine
from inspection_nodes.nodes.convert import float32_array
from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS, UNIT_IMAGE_QOS
from inspection_nodes.nodes.scoring_node import ScoringNode


@pytest.fixture(scope="module")
def roi_and_patches(tiny_model):
    engine = AnomalyEngine.load(tiny_model)
    roi = np.random.default_rng(4).integers(0, 255, (224, 224, 3), dtype=np.uint8)
    return engine, roi, engine.embed(roi)


def _embedding(patches: np.ndarray, version: str, sec: int) -> PatchEmbedding:
    h, w, c = patches.shape
    msg = PatchEmbedding(unit_id=f"u{sec}", model_version=version, height=h, width=w, channels=c)
    msg.roi_height, msg.roi_width = 224, 224
    msg.header.stamp.sec = sec
    msg.data = float32_array(patches)
    return msg


@pytest.fixture
def graph(ros_context, tiny_model):
    node = node_with(ScoringNode, ros_context, model_dir=str(tiny_model))
    probe = rclpy.create_node("probe", context=ros_context)
    executor = executor_of(ros_context, node, probe)
    results, heatmaps, rejections = Collector(), Collector(), Collector()
    probe.create_subscription(AnomalyResult, "anomaly/result", results, RESULT_QOS)
    probe.create_subscription(Image, "anomaly/heatmap", heatmaps, DEBUG_IMAGE_QOS)
    probe.create_subscription(UnitRejection, "rejections", rejections, RESULT_QOS)
    pubs = (
        probe.create_publisher(Image, "roi/image", UNIT_IMAGE_QOS),
        probe.create_publisher(PatchEmbedding, "embedding/patches", RESULT_QOS),
    )
    assert spin_until(executor, lambda: all(p.get_subscription_count() for p in pubs))
    yield node, executor, pubs, results, heatmaps, rejections
    node.destroy_node()
    probe.destroy_node()


def test_embeddings_become_results_and_heatmaps(graph, roi_and_patches):
    node, executor, (rois, embeddings), results, heatmaps, rejections = graph
    engine, roi, patches = roi_and_patches
    rois.publish(image_msg(roi, "rgb8", sec=5))
    assert spin_until(executor, lambda: node._heatmap_pub.get_subscription_count() > 0)
    spin_until(executor, lambda: False, 0.2)  # the ROI is cached before its features arrive
    embeddings.publish(_embedding(patches, engine.model_version, 5))
    embeddings.publish(_embedding(patches, "someone-else", 6))
    assert spin_until(
        executor, lambda: results.messages and rejections.messages and heatmaps.messages
    )
    result = results.messages[0]
    expected = engine.score(patches, (224, 224))
    assert result.unit_id == "u5" and result.score == pytest.approx(expected.score, rel=1e-6)
    assert (result.model_version, result.method) == (engine.model_version, "patchcore")
    assert (result.map_height, result.map_width, result.area_px) == (224, 224, expected.area_px)
    assert list(result.nearest_normals) == list(expected.nearest_normals)
    assert result.timings[-1].stage == "scoring"
    assert "someone-else" in rejections.messages[0].reason
    assert (heatmaps.messages[0].encoding, heatmaps.messages[0].header.stamp.sec) == ("rgb8", 5)
    assert node.health.counters.get("results") == 1
    assert node.health.counters.get("rejected_embeddings") == 1


def test_a_new_model_dir_is_loaded_or_refused_with_the_reason(graph, tiny_model, tmp_path):
    node, *_ = graph
    refused = node.set_parameters([Parameter("model_dir", value=str(tmp_path / "none"))])[0]
    assert not refused.successful and "not a model directory" in refused.reason
    assert node.engine.model_dir == tiny_model
    accepted = node.set_parameters([Parameter("model_dir", value=str(tiny_model))])[0]
    assert accepted.successful and node.engine.model_dir == tiny_model


def test_in_process_inputs_follow_the_heatmap_setting(ros_context, tiny_model):
    plain = ScoringNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("model_dir", value=str(tiny_model)),
            Parameter("publish_heatmap", value=False),
        ],
        local_inputs=("embedding/patches",),
    )
    try:
        assert set(plain.intra_process_inputs()) == {"embedding/patches"}
        assert not {s.topic_name for s in plain.subscriptions} & {
            "/embedding/patches",
            "/roi/image",
        }
    finally:
        plain.destroy_node()
