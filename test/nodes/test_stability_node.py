"""stability node in-process with real rclpy: reports, plot and bad input; guided recalibration
through `stability/recalibrate` with a real scoring node (capture, switch, follow a rollback);
the bridge forwards reports to MQTT as schema-valid JSON."""

from __future__ import annotations

import array
import json
import shutil
import threading

import numpy as np
import pytest
import rclpy
from helpers.ros import Collector, spin_until
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image

from inspection_msgs.msg import AnomalyResult, CaptureEvent, PatchEmbedding, StabilityReport
from inspection_msgs.srv import Recalibrate
from inspection_nodes.core.anomaly.artifact import read_manifest
from inspection_nodes.core.anomaly.registry import read_registry
from inspection_nodes.core.io import mvtec
from inspection_nodes.nodes.convert import ns_to_stamp
from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS, STATUS_QOS, UNIT_IMAGE_QOS
from inspection_nodes.nodes.stability_node import StabilityNode


def _roi(pixels: np.ndarray, stamp_ns: int, encoding: str = "rgb8") -> Image:
    msg = Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding)
    msg.step = pixels.strides[0]
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.data = array.array("B", pixels.tobytes())
    return msg


def _patches(feats: np.ndarray, stamp_ns: int, version: str) -> PatchEmbedding:
    h, w, c = feats.shape
    msg = PatchEmbedding(unit_id=f"u{stamp_ns}", model_version=version, height=h, width=w)
    msg.channels, msg.roi_height, msg.roi_width = c, 224, 224
    msg.header.stamp = ns_to_stamp(stamp_ns)
    msg.data = array.array("f", np.ascontiguousarray(feats, np.float32).tobytes())
    return msg


class Probe:
    """Publishes a unit's ROI, embeddings and result; collects reports and plots."""

    def __init__(self, context, executor) -> None:
        self.node = rclpy.create_node("stability_probe", context=context)
        self.reports, self.plots, self.results = Collector(), Collector(), Collector()
        self.node.create_subscription(StabilityReport, "stability", self.reports, STATUS_QOS)
        self.node.create_subscription(Image, "stability/plot", self.plots, DEBUG_IMAGE_QOS)
        self.node.create_subscription(AnomalyResult, "anomaly/result", self.results, RESULT_QOS)
        self.roi = self.node.create_publisher(Image, "roi/image", UNIT_IMAGE_QOS)
        self.emb = self.node.create_publisher(PatchEmbedding, "embedding/patches", RESULT_QOS)
        self.res = self.node.create_publisher(AnomalyResult, "anomaly/result", RESULT_QOS)
        self.recalibrate = self.node.create_client(Recalibrate, "stability/recalibrate")
        executor.add_node(self.node)


@pytest.fixture
def run(ros_context):
    nodes, executor = [], SingleThreadedExecutor(context=ros_context)

    def add(node):
        nodes.append(node)
        executor.add_node(node)
        return node

    probe = Probe(ros_context, executor)
    nodes.append(probe.node)
    yield executor, probe, add
    for node in nodes:
        node.destroy_node()


def _stability(context, **params) -> StabilityNode:
    params = {"window": 5, "reference_units": 5, "report_period_s": 0.1, **params}
    overrides = [Parameter(k, value=v) for k, v in params.items()]
    return StabilityNode(context=context, parameter_overrides=overrides)


def test_reports_components_plot_and_bad_input(ros_context, run) -> None:
    executor, probe, add = run
    node = add(_stability(ros_context))
    assert spin_until(executor, lambda: probe.roi.get_subscription_count() > 0)
    grey, feats = np.full((16, 16, 3), 120, np.uint8), np.ones((2, 2, 4))
    for i in range(10):  # an unchanging station
        stamp = 1_000 + i
        probe.roi.publish(_roi(grey, stamp))
        probe.emb.publish(_patches(feats, stamp, "m1"))
        probe.res.publish(AnomalyResult(model_version="m1", score=1.0, image_threshold=2.0))

    def latest_has(names: set[str]) -> bool:
        return bool(probe.reports.messages) and names <= {
            c.name for c in probe.reports.messages[-1].components
        }

    assert spin_until(executor, lambda: latest_has({"score_p50", "luminance", "centroid_shift"}))
    report = probe.reports.messages[-1]
    assert (report.level, report.model_version, report.window_units) == (0, "m1", 5)
    assert spin_until(executor, lambda: probe.plots.messages)
    plot = probe.plots.messages[-1]
    assert (plot.encoding, plot.width, plot.height) == ("rgb8", 480, 320)

    for i in range(5):  # the light goes down by a third
        probe.roi.publish(_roi((grey * 0.66).astype(np.uint8), 2_000 + i))
    assert spin_until(executor, lambda: probe.reports.messages[-1].level == 2)
    comps = {c.name: c for c in probe.reports.messages[-1].components}
    assert comps["luminance"].value == pytest.approx(-0.34, abs=0.01)
    assert comps["luminance"].normalised >= 1.0

    probe.roi.publish(_roi(grey, 3_000, encoding="yuv422"))
    bad = _patches(np.zeros((2, 2, 4)), 3_000, "m1")
    bad.height = 3  # data does not fit the declared shape
    probe.emb.publish(bad)
    assert spin_until(
        executor,
        lambda: (
            node.health.counters.snapshot().get("bad_roi_images", 0) == 1
            and node.health.counters.snapshot().get("bad_embeddings", 0) == 1
        ),
    )


def test_a_line_that_stops_raises_a_rhythm_alert_in_reports_and_diagnostics(
    ros_context, run
) -> None:
    """Units at 20 per second (capture stamps = now, as a live camera stamps them); then none.
    The report says overdue within a period or so, the status turns WARN, the count rises."""
    executor, probe, add = run
    node = add(_stability(ros_context, report_period_s=5.0, rhythm_check_s=0.01))
    units = probe.node.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS)
    assert spin_until(executor, lambda: units.get_subscription_count() > 0)
    for i in range(20):
        unit = CaptureEvent(unit_id=f"u{i}", sequence=i)
        unit.header.stamp = probe.node.get_clock().now().to_msg()
        units.publish(unit)
        spin_until(executor, lambda: False, 0.05)
    assert spin_until(executor, lambda: probe.reports.messages)
    assert probe.reports.messages[-1].rhythm_state == "ok"
    assert probe.reports.messages[-1].rhythm_period_s == pytest.approx(0.05, rel=0.4)
    assert spin_until(executor, lambda: probe.reports.messages[-1].rhythm_alert, 1.0)
    assert probe.reports.messages[-1].rhythm_state in ("overdue", "stopped")
    assert node.health.counters.snapshot()["rhythm_alerts"] >= 1
    assert "line rhythm" in node.health._message


def test_bad_limits_stop_the_node_but_a_missing_model_does_not(ros_context, tmp_path) -> None:
    with pytest.raises(ValueError, match="watch_at"):
        _stability(ros_context, watch_at=2.0, recalibrate_at=1.0)
    node = _stability(ros_context, model_dir=str(tmp_path / "missing"))
    try:  # monitoring is not in the gate path: it falls back to the reference window
        assert node.monitor.baseline is None and node.model_version == ""
        assert node.health.counters.snapshot()["unusable_model_dir"] == 1
    finally:
        node.destroy_node()


def test_recalibrate_from_the_next_units_switches_scoring_and_follows_rollback(
    ros_context, run, tiny_model, bottle_subset, tmp_path
) -> None:
    from inspection_nodes.core.anomaly.engine import AnomalyEngine
    from inspection_nodes.nodes.scoring_node import ScoringNode

    executor, probe, add = run
    parent = tmp_path / "models" / "bottle"
    shutil.copytree(tiny_model, parent)
    registry = parent.parent / "registry.json"
    parent_version = read_manifest(parent).model_version
    scoring = add(
        ScoringNode(
            context=ros_context,
            parameter_overrides=[
                Parameter("model_dir", value=str(parent)),
                Parameter("publish_heatmap", value=False),
            ],
        )
    )
    node = add(_stability(ros_context, model_dir=str(parent), capture_timeout_s=60.0))
    assert node.monitor.baseline.source == "enrollment"
    assert spin_until(executor, lambda: probe.recalibrate.service_is_ready())

    def call(request: Recalibrate.Request) -> Recalibrate.Response:
        future = probe.recalibrate.call_async(request)
        assert spin_until(executor, future.done, 60.0)
        return future.result()

    refused = call(Recalibrate.Request(units=0, data_dir="", requested_by="tech"))
    assert not refused.success and "give units" in refused.message

    engine = AnomalyEngine.load(parent)
    paths = mvtec.list_train_images(bottle_subset)
    dark = [(mvtec.read_rgb(p, 224) * 0.75).astype(np.uint8) for p in paths]
    future = probe.recalibrate.call_async(
        Recalibrate.Request(units=10, data_dir="", requested_by="tech-anna")
    )
    assert spin_until(executor, lambda: node.capturing)
    for i, img in enumerate(dark):  # the next 10 units flow through the graph
        probe.roi.publish(_roi(img, 10_000 + i))
        probe.emb.publish(_patches(engine.embed(img), 10_000 + i, parent_version))
    assert spin_until(executor, future.done, 60.0)
    response = future.result()
    assert response.success, response.message
    new_dir = parent.parent / "bottle.r1"
    manifest = read_manifest(new_dir)
    assert response.model_version == manifest.model_version == scoring.engine.model_version
    assert manifest.recalibration.requested_by == "tech-anna"
    assert manifest.dataset.n_images == 10 and (new_dir / "recalibration.png").is_file()
    assert read_registry(registry)["active"][manifest.root_version] == "bottle.r1"
    assert node.monitor.baseline.source == "recalibration"

    # The running embedding node still stamps the parent version: scoring accepts it.
    probe.results.messages.clear()
    probe.emb.publish(_patches(engine.embed(dark[0]), 20_000, parent_version))
    assert spin_until(executor, lambda: probe.results.messages)
    assert probe.results.messages[-1].model_version == response.model_version

    # Rollback on the running cell: scoring switches back, the stability node follows.
    bad = scoring.set_parameters([Parameter("model_dir", value=str(tmp_path / "missing"))])
    assert not bad[0].successful and scoring.engine.model_version == response.model_version
    assert scoring.set_parameters([Parameter("model_dir", value=str(parent))])[0].successful
    for i in range(3):
        probe.emb.publish(_patches(engine.embed(dark[i]), 30_000 + i, parent_version))
    assert spin_until(executor, lambda: node.model_version == parent_version)
    assert node.monitor.baseline.source == "enrollment"


def test_bridge_forwards_reports_to_mqtt(ros_context, run, tmp_path) -> None:
    import paho.mqtt.client as mqtt

    from inspection_nodes.core.bridge.payloads import validator
    from inspection_nodes.loopback.mosquitto import Mosquitto, mosquitto_binary
    from inspection_nodes.nodes.bridge_node import BridgeNode

    if mosquitto_binary() is None:
        pytest.skip("mosquitto not installed (apt-get install mosquitto)")
    executor, _probe, add = run
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    received, lock = [], threading.Lock()
    backend = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

    def on_message(_client, _userdata, message) -> None:
        with lock:
            received.append(json.loads(message.payload))

    backend.on_message = on_message
    backend.connect("127.0.0.1", broker.port)
    backend.subscribe("inspection/cell-1/stability", qos=1)
    backend.loop_start()
    try:
        add(_stability(ros_context))
        overrides = {
            "mqtt_port": broker.port,
            "outbox_path": str(tmp_path / "outbox.db"),
            "audit_path": str(tmp_path / "audit.log"),
            "backoff_initial_s": 0.1,
        }
        bridge = add(
            BridgeNode(
                context=ros_context,
                parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
            )
        )
        assert spin_until(executor, lambda: len(received) >= 2, 15.0)
        with lock:
            message = received[-1]
        validator("stability").validate(message)
        assert message["body"]["level"] == "OK" and message["body"]["index"] == 0.0
        assert bridge.health.counters.snapshot().get("stability_queued", 0) >= 2
    finally:
        backend.disconnect()
        backend.loop_stop()
        broker.stop()
