"""What every node shares: parameter declarations, health on `diagnostics` with declared
counters and levels, the autostart mixin."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from enum import StrEnum
from pathlib import Path

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from helpers.ros import Collector, executor_of, spin_until
from helpers.station import free_port
from helpers.waiting import wait_for
from rclpy.parameter import Parameter

from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.nodes.common import Health, ParamSpec, declare_parameters


class Counter(StrEnum):
    FRAMES = "frames"
    BAD = "bad"


SPECS = (
    ParamSpec("rate", 10.0, "frames per second", range=(0.0, 100.0)),
    ParamSpec("depth", 3, "queue depth", range=(1, 10), read_only=True),
    ParamSpec("mode", "a", "which mode", choices=("a", "b")),
    ParamSpec("crop", [0], "crop box"),
)


def test_specs_describe_type_range_and_choices():
    rate, depth, mode, crop = SPECS
    assert [s.type_name for s in SPECS] == ["double", "int", "string", "int[]"]
    assert rate.descriptor().floating_point_range[0].to_value == 100.0
    assert depth.descriptor().integer_range[0].from_value == 1 and depth.descriptor().read_only
    assert mode.descriptor().additional_constraints == "one of: a, b"
    assert crop.descriptor().description == "crop box"


def test_declared_values_take_overrides_and_refuse_unknown_choices(ros_context):
    node = rclpy.create_node(
        "n", context=ros_context, parameter_overrides=[Parameter("rate", value=25.0)]
    )
    try:
        values = declare_parameters(node, SPECS)
        assert values == {"rate": 25.0, "depth": 3, "mode": "a", "crop": [0]}
    finally:
        node.destroy_node()
    bad = rclpy.create_node(
        "m", context=ros_context, parameter_overrides=[Parameter("mode", value="c")]
    )
    try:
        with pytest.raises(ValueError, match="mode='c' is not one of a, b"):
            declare_parameters(bad, SPECS)
    finally:
        bad.destroy_node()


def test_health_publishes_level_message_and_every_declared_counter(ros_context):
    node = rclpy.create_node("worker", context=ros_context)
    probe = rclpy.create_node("probe", context=ros_context)
    executor, got = executor_of(ros_context, node, probe), Collector()
    probe.create_subscription(DiagnosticArray, "diagnostics", got, 10)
    try:
        health = Health(node, Counter, period_s=0.05)
        health.set_status(HealthLevel.WARN, "slow")
        health.reject(Counter.BAD, "broken frame")
        health.set_gauge("queue_depth", 3)
        assert spin_until(executor, lambda: got.messages)
        [status] = got.messages[-1].status
        assert (status.name, status.level, status.message) == (
            "worker",
            DiagnosticStatus.WARN,
            "slow",
        )
        values = {kv.key: kv.value for kv in status.values}
        assert float(values.pop("process_cpu_s")) > 0.0
        assert values == {"bad": "1", "frames": "0", "queue_depth": "3"}
    finally:
        node.destroy_node()
        probe.destroy_node()


def node_process(executable: str, tmp_path, *params: str) -> subprocess.Popen:
    """A node's console script as its own process (what launch starts), output kept."""
    args = [f"audit_path:={tmp_path / 'audit.log'}", *params]
    command = [str(Path(sys.executable).parent / executable), "--ros-args"]
    for param in args:
        command += ["-p", param]
    return subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.launch
@pytest.mark.parametrize("gap_s", [0.0, 0.05])
def test_ctrl_c_twice_ends_a_node_quietly_and_releases_what_it_holds(ros_context, tmp_path, gap_s):
    """Ctrl-C in the terminal of `ros2 launch` sends every node SIGINT twice (the terminal's
    process group, then launch): exit 0 with no traceback, else launch reports "process has
    died, exit code -2". The actuator's embedded Modbus server (a child process) must be gone
    too, even though only the node's own pid was signalled."""
    port = free_port()
    nodes = {
        "gate": node_process("gate_node", tmp_path),
        "actuator": node_process("actuator_node", tmp_path, f"modbus_port:={port}"),
    }
    probe = rclpy.create_node("probe", context=ros_context)
    executor = executor_of(ros_context, probe)
    try:
        up = spin_until(
            executor,
            lambda: set(nodes) <= set(probe.get_node_names()) and not port_is_free(port),
            60.0,
        )
    finally:
        probe.destroy_node()
    for process in nodes.values():
        process.send_signal(signal.SIGINT)
    time.sleep(gap_s)
    for process in nodes.values():
        process.send_signal(signal.SIGINT)
    outputs = {name: p.communicate(timeout=30)[0] for name, p in nodes.items()}
    assert up, outputs
    for name, process in nodes.items():
        assert process.returncode == 0, (name, outputs[name][-2000:])
        assert "Traceback" not in outputs[name] and "KeyboardInterrupt" not in outputs[name]
    assert wait_for(lambda: port_is_free(port), 5.0), "the embedded Modbus server outlived its node"
