"""foxglove node with real rclpy and a real WebSocket client (subprotocol foxglove.sdk.v1):
every topic advertised with its ROS 2 schema, CDR bytes as rclpy published them, images also as
foxglove.CompressedImage, diagnostics as JSON, ROS subscriptions only while a client watches,
MCAP recording; and a running graph seen from a client."""

from __future__ import annotations

import json
import signal
import subprocess

import cv2
import numpy as np
import pytest
import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray
from helpers.cli import start_inspection
from helpers.foxglove_client import FoxgloveClient
from helpers.ros import executor_of, node_with
from helpers.station import free_port, station_config
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image

from inspection_msgs.msg import Verdict
from inspection_nodes.core.foxglove.channels import FORWARDED
from inspection_nodes.core.io.bags import read_messages
from inspection_nodes.nodes.convert import array_to_image, timing
from inspection_nodes.nodes.foxglove_node import FoxgloveNode
from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS


@pytest.fixture
def cell(ros_context, tmp_path):
    port = free_port()
    node = node_with(FoxgloveNode, ros_context, port=port, mcap_path=str(tmp_path / "debug.mcap"))
    probe = rclpy.create_node("probe", context=ros_context)
    executor = executor_of(ros_context, node, probe)
    client = FoxgloveClient(f"ws://127.0.0.1:{port}", lambda: executor.spin_once(timeout_sec=0))
    yield node, probe, client, tmp_path / "debug.mcap"
    client.close()
    probe.destroy_node()
    node.destroy_node()


def test_every_topic_is_advertised_with_its_ros2_schema(cell):
    _node, _probe, client, _mcap = cell
    expected = {f"/{f.topic}" for f in FORWARDED}
    expected |= {f"/{f.topic}/compressed" for f in FORWARDED if f.is_image} | {"/diagnostics"}
    assert client.until(lambda: expected <= set(client.channels), 10.0), set(client.channels)
    verdict = client.channels["/verdict"]
    assert (verdict["encoding"], verdict["schemaEncoding"]) == ("cdr", "ros2msg")
    assert verdict["schemaName"] == "inspection_msgs/msg/Verdict"
    assert "MSG: inspection_msgs/StageTiming" in verdict["schema"]
    assert client.channels["/anomaly/heatmap/compressed"]["schemaName"] == (
        "foxglove.CompressedImage"
    )
    assert client.channels["/diagnostics"]["encoding"] == "json"


def test_the_mcap_recording_is_a_ros2_bag_of_every_topic(cell):
    node, probe, client, mcap = cell
    pub = probe.create_publisher(Verdict, "verdict", RESULT_QOS)
    # the recording is a sink of every channel: every topic is subscribed without a client
    assert client.until(lambda: pub.get_subscription_count() == 1, 10.0)
    pub.publish(Verdict(unit_id="u000007", decision=Verdict.PASS, score=1.25))
    assert client.until(lambda: node.health.counters.get("forwarded") >= 1, 5.0)
    node.recording.close()
    node.recording = None
    [recorded] = read_messages(mcap, "/verdict")
    assert (recorded.unit_id, recorded.score) == ("u000007", 1.25)


def test_a_verdict_travels_byte_for_byte_and_only_while_watched(cell):
    node, probe, client, _mcap = cell
    node.recording.close()
    node.recording = None
    pub = probe.create_publisher(Verdict, "verdict", RESULT_QOS)
    assert client.until(lambda: "/verdict" in client.channels, 10.0)
    assert client.until(lambda: pub.get_subscription_count() == 0, 5.0), "no work unwatched"
    client.subscribe("/verdict", 1)
    assert client.until(lambda: pub.get_subscription_count() == 1, 5.0)
    sent = Verdict(unit_id="u000042", decision=Verdict.FAIL, score=4.2, reasons=["score: 4 > 3"])
    sent.timings = [timing("gate", 0.3)]
    pub.publish(sent)
    assert client.until(lambda: client.messages.get(1), 5.0)
    payload = client.messages[1][0][1]
    assert payload == serialize_message(sent)
    got = deserialize_message(payload, Verdict)
    assert (got.unit_id, got.reasons, got.timings[0].stage) == ("u000042", sent.reasons, "gate")
    client.unsubscribe(1)
    assert client.until(lambda: pub.get_subscription_count() == 0, 5.0)


def test_images_come_raw_and_as_jpeg_and_diagnostics_as_json(cell):
    node, probe, client, _mcap = cell
    node.recording.close()
    node.recording = None
    heat = probe.create_publisher(Image, "anomaly/heatmap", DEBUG_IMAGE_QOS)
    diag = probe.create_publisher(DiagnosticArray, "diagnostics", 10)
    assert client.until(lambda: "/anomaly/heatmap/compressed" in client.channels, 10.0)
    client.subscribe("/anomaly/heatmap", 1)
    client.subscribe("/anomaly/heatmap/compressed", 2)
    client.subscribe("/diagnostics", 3)
    assert client.until(lambda: heat.get_subscription_count() == 1, 5.0)
    pixels = np.zeros((224, 224, 3), np.uint8)
    pixels[:, :112] = (255, 0, 0)  # left half red (rgb8)
    msg = array_to_image(pixels, Image().header, "rgb8")

    def published_until(predicate) -> bool:
        for _ in range(100):
            heat.publish(msg)
            if client.until(predicate, 0.1):
                return True
        return False

    assert published_until(lambda: client.messages.get(1) and client.messages.get(2))
    raw = deserialize_message(client.messages[1][0][1], Image)
    assert (raw.width, raw.height, raw.encoding) == (224, 224, "rgb8")
    compressed = client.protobuf_class("/anomaly/heatmap/compressed")
    image = compressed.FromString(client.messages[2][0][1])
    assert image.format == "jpeg"
    bgr = cv2.imdecode(np.frombuffer(image.data, np.uint8), cv2.IMREAD_COLOR)
    assert bgr.shape == (224, 224, 3) and bgr[100, 50, 2] > 200 and bgr[100, 200, 2] < 50
    assert client.until(lambda: diag.get_subscription_count() > 0, 5.0)
    diag.publish(DiagnosticArray())
    assert client.until(lambda: client.messages.get(3), 5.0)
    body = json.loads(client.messages[3][0][1])
    assert body["node"] == "foxglove" and "forwarded" in body["values"]


@pytest.mark.launch
def test_a_client_decodes_a_verdict_and_a_heatmap_from_a_running_graph(
    tmp_path, tiny_model, bottle_subset
):
    """The station as processes (`inspection run`) with the foxglove node; a WebSocket client
    subscribes to /verdict and /anomaly/heatmap like Foxglove would."""
    port = free_port()
    config = station_config(
        tmp_path, tiny_model, bottle_subset / "test",
        nodes=["camera", "roi", "embedding", "scoring", "gate", "foxglove"],
    )  # fmt: skip
    params = yaml.safe_load(config.read_text())
    params["/**/foxglove"] = {"ros__parameters": {"port": port}}
    params["/**/camera"]["ros__parameters"].update(loop=True, rate_hz=5.0)
    config.write_text(yaml.safe_dump(params))
    runner = start_inspection("run", "--config", str(config))
    client = None
    try:
        client = _connect(f"ws://127.0.0.1:{port}", runner, 90.0)
        assert client.until(lambda: "/anomaly/heatmap" in client.channels, 30.0)
        client.subscribe("/verdict", 1)
        client.subscribe("/anomaly/heatmap", 2)
        assert client.until(lambda: client.messages.get(1) and client.messages.get(2), 90.0)
        verdict = deserialize_message(client.messages[1][0][1], Verdict)
        heatmap = deserialize_message(client.messages[2][0][1], Image)
    finally:
        if client is not None:
            client.close()
        runner.send_signal(signal.SIGINT)
        output, _ = runner.communicate(timeout=60)
    assert verdict.unit_id.startswith("bottle-") and verdict.decision in (0, 1)
    assert (heatmap.width, heatmap.height, heatmap.encoding) == (224, 224, "rgb8")
    assert runner.returncode == 0, output[-3000:]


def _connect(url: str, runner: subprocess.Popen, timeout_s: float) -> FoxgloveClient:
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return FoxgloveClient(url)
        except OSError:
            assert runner.poll() is None, runner.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the foxglove node never listened"
            time.sleep(0.5)
