"""What every node shares: parameter declarations, health on `diagnostics` with declared
counters and levels, the autostart mixin."""

from __future__ import annotations

from enum import StrEnum

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from helpers.ros import Collector, executor_of, spin_until
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
        assert spin_until(executor, lambda: got.messages)
        [status] = got.messages[-1].status
        assert (status.name, status.level, status.message) == (
            "worker",
            DiagnosticStatus.WARN,
            "slow",
        )
        assert {kv.key: kv.value for kv in status.values} == {"bad": "1", "frames": "0"}
    finally:
        node.destroy_node()
        probe.destroy_node()
