"""`inspection run` starts the station as separate processes; messages flow through every node;
Ctrl-C stops every process cleanly."""

import os
import signal
import subprocess
import sys
import time

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from helpers.ros import Collector, spin_until
from helpers.station import station_config
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import Image

from inspection_msgs.msg import (
    ActuatorEvent,
    AnomalyResult,
    CaptureEvent,
    PatchEmbedding,
    StabilityReport,
    Verdict,
)
from inspection_nodes.nodes.qos import RESULT_QOS, STATUS_QOS, UNIT_IMAGE_QOS

pytestmark = pytest.mark.launch

OUTPUTS = {  # topic -> (type, qos): one output of each node
    "camera/unit": (CaptureEvent, RESULT_QOS),
    "roi/image": (Image, UNIT_IMAGE_QOS),
    "embedding/patches": (PatchEmbedding, RESULT_QOS),
    "anomaly/result": (AnomalyResult, RESULT_QOS),
    "verdict": (Verdict, RESULT_QOS),
    "actuator/event": (ActuatorEvent, RESULT_QOS),
    "stability": (StabilityReport, STATUS_QOS),
}


def test_run_starts_every_node_and_stops_on_ctrl_c(
    ros_context, tmp_path, tiny_model, bottle_subset
):
    config = station_config(tmp_path, tiny_model, bottle_subset / "test")
    probe = rclpy.create_node("probe", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(probe)
    seen = {topic: Collector() for topic in OUTPUTS}
    for topic, (cls, qos) in OUTPUTS.items():
        probe.create_subscription(cls, topic, seen[topic], qos)
    diagnostics = Collector()
    probe.create_subscription(DiagnosticArray, "diagnostics", diagnostics, 50)
    runner = subprocess.Popen(
        [sys.executable, "-m", "inspection_nodes.cli.main", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    nodes = {"camera", "roi", "embedding", "scoring", "gate", "actuator", "recorder", "stability"}

    def reporting() -> set[str]:
        return {s.name for m in diagnostics.messages for s in m.status}

    try:
        assert spin_until(
            executor,
            lambda: len(seen["verdict"].messages) >= 4 and all(c.messages for c in seen.values()),
            90.0,
        ), {t: len(c.messages) for t, c in seen.items()}
        # Diagnostics come at 1 Hz per node; the first verdicts can be faster than that.
        assert spin_until(executor, lambda: nodes <= reporting(), 10.0), nodes - reporting()
        folders = {
            u.header.stamp.sec * 10**9 + u.header.stamp.nanosec: u.source.split("/")[-2]
            for u in seen["camera/unit"].messages
        }
        decisions = {
            folders.get(v.header.stamp.sec * 10**9 + v.header.stamp.nanosec): v.decision
            for v in seen["verdict"].messages
        }
        assert decisions["broken_large"] == Verdict.FAIL
    finally:
        runner.send_signal(signal.SIGINT)
        output, _ = runner.communicate(timeout=60)
        probe.destroy_node()
    assert runner.returncode == 0, output[-3000:]
    assert "[run] stopped:" in output
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-f", str(config)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", "node processes survived Ctrl-C"
