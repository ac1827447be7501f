"""ActuatorNode in-process against real pymodbus servers: pulses, duplicates, LATE, server
restart, gate death (watchdog + fail-safe), embedded server + PLC handshake, bad config."""

from __future__ import annotations

import socket
import time

import pytest
import rclpy
from helpers.ros import Collector, spin_until
from pymodbus.client import ModbusTcpClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from std_msgs.msg import Header

from inspection_msgs.msg import ActuatorEvent, CaptureEvent, Verdict
from inspection_nodes.cli.bench_actuator import coil_edges
from inspection_nodes.core.actuation.modbus_server import COIL_WRITE_CODES, ServerProcess
from inspection_nodes.core.actuation.plc_handshake import RESULT_NG, Reg
from inspection_nodes.nodes.actuator_node import ActuatorNode
from inspection_nodes.nodes.convert import ns_to_stamp
from inspection_nodes.nodes.gate_node import GateNode
from inspection_nodes.nodes.qos import COMMAND_QOS, RESULT_QOS

MS = 1_000_000
DELAY_MS = 150.0


class CoilLog:
    """Coil 0 edges as the server (its own process, like the actuator's) timestamped them."""

    def __init__(self, path) -> None:
        self.path = path

    @property
    def edges(self) -> list[tuple[int, bool]]:
        if not self.path.exists():
            return []
        writes = coil_edges(self.path.read_text(), COIL_WRITE_CODES)
        return [(t, v) for i, (t, v) in enumerate(writes) if v != (i > 0 and writes[i - 1][1])]

    @property
    def pulses(self) -> int:
        return sum(1 for _, on in self.edges if on)


@pytest.fixture
def server(tmp_path):
    log = tmp_path / "writes.txt"
    srv = ServerProcess("127.0.0.1", 0, log_writes=str(log))
    srv.start()
    srv.coils = CoilLog(log)
    yield srv
    srv.stop()


@pytest.fixture
def cell(ros_context):
    made = []

    def make(port: int, **params):
        params = {
            "embedded_server": False,
            "modbus_port": port,
            "delay_ms": DELAY_MS,
            "pulse_width_ms": 10.0,
            "verdict_timeout_ms": 100.0,
            "gate_watchdog_ms": 150.0,
            **params,
        }
        node = ActuatorNode(
            context=ros_context,
            parameter_overrides=[Parameter(k, value=v) for k, v in params.items()],
        )
        test = rclpy.create_node("actuator_test", context=ros_context)
        events = Collector()
        test.create_subscription(ActuatorEvent, "actuator/event", events, RESULT_QOS)
        verdicts = test.create_publisher(Verdict, "verdict", RESULT_QOS)
        units = test.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS)
        executor = SingleThreadedExecutor(context=ros_context)
        executor.add_node(node)
        executor.add_node(test)
        made.append((node, test))
        node.autostart()
        assert spin_until(executor, lambda: verdicts.get_subscription_count() > 0, 5.0)
        return node, test, executor, verdicts, units, events

    yield make
    for node, test in made:
        if node.actuator is not None:
            node.trigger_deactivate()
            node.trigger_cleanup()
        node.destroy_node()
        test.destroy_node()


def verdict(stamp_ns: int, unit_id: str, passed: bool) -> Verdict:
    msg = Verdict(unit_id=unit_id, decision=Verdict.PASS if passed else Verdict.FAIL)
    msg.header.stamp = ns_to_stamp(stamp_ns)
    return msg


def outcomes(events: Collector) -> dict[str, int]:
    return {m.unit_id: m.outcome for m in events.messages}


def test_one_pulse_per_failed_unit_despite_duplicates_and_order(server, cell):
    _, _, executor, verdicts, _, events = cell(server.port)
    now, mono = time.time_ns(), time.monotonic_ns()
    stamps = {f"u{i}": now + i * 30 * MS for i in range(4)}
    for uid in ("u3", "u1", "u0", "u3", "u2", "u0"):  # out of order and twice
        verdicts.publish(verdict(stamps[uid], uid, passed=uid == "u2"))
    assert spin_until(executor, lambda: len(events.messages) == 6, 5.0)
    got = [(m.unit_id, m.outcome) for m in events.messages]
    assert sorted(got) == sorted([("u0", 0), ("u1", 0), ("u3", 0), ("u2", 4), ("u3", 3), ("u0", 3)])
    assert server.coils.pulses == 3
    ons = [t for t, on in server.coils.edges if on]
    for uid, on in zip(("u0", "u1", "u3"), ons, strict=True):
        expected = mono + (stamps[uid] - now) + int(DELAY_MS * MS)
        assert abs(on - expected) < 5 * MS, (uid, (on - expected) / MS)


def test_verdict_after_fire_time_is_late_not_fired(server, cell):
    _, _, executor, verdicts, _, events = cell(server.port)
    verdicts.publish(verdict(time.time_ns() - int(2 * DELAY_MS * MS), "old", passed=False))
    assert spin_until(executor, lambda: len(events.messages) == 1, 3.0)
    assert events.messages[0].outcome == ActuatorEvent.LATE
    spin_until(executor, lambda: False, 0.2)
    assert server.coils.pulses == 0


def test_server_restart_mid_run_reports_missed_then_recovers(server, cell):
    node, _, executor, verdicts, _, events = cell(server.port)
    verdicts.publish(verdict(time.time_ns(), "before", passed=False))
    assert spin_until(executor, lambda: len(events.messages) == 1, 3.0)
    server.stop()
    verdicts.publish(verdict(time.time_ns(), "during", passed=False))
    assert spin_until(executor, lambda: len(events.messages) == 2, 3.0)
    server.start()
    assert spin_until(executor, lambda: node.output.up, 5.0)
    verdicts.publish(verdict(time.time_ns(), "after", passed=False))
    assert spin_until(executor, lambda: len(events.messages) == 3, 3.0)
    assert outcomes(events) == {
        "before": ActuatorEvent.FIRED,
        "during": ActuatorEvent.MISSED,
        "after": ActuatorEvent.FIRED,
    }
    assert node.health.counters.get("missed") == 1
    assert node.health.counters.get("output_reconnects") >= 1


def test_dead_gate_trips_watchdog_and_captured_units_are_rejected(
    server, cell, ros_context, tmp_path
):
    node, _, executor, _, units, events = cell(server.port)
    gate = GateNode(
        context=ros_context,
        parameter_overrides=[
            Parameter("audit_path", value=str(tmp_path / "audit.log")),
            Parameter("deadline_ms", value=5000.0),  # the gate would decide far too late
        ],
    )
    executor.add_node(gate)
    assert spin_until(executor, lambda: node.actuator._last_heartbeat_mono is not None, 3.0)
    spin_until(executor, lambda: False, 0.3)
    assert not node.actuator.gate_lost
    executor.remove_node(gate)
    gate.destroy_node()  # the gate process dies
    now = time.time_ns()
    for i in range(3):
        msg = CaptureEvent(unit_id=f"c{i}")
        msg.header.stamp = ns_to_stamp(now + i * 20 * MS)
        units.publish(msg)
    assert spin_until(executor, lambda: len(events.messages) == 3, 3.0)
    assert node.actuator.gate_lost and node.health.counters.get("gate_watchdog_trips") == 1
    assert all(m.outcome == ActuatorEvent.FIRED for m in events.messages)
    assert all("fail-safe" in m.detail for m in events.messages)
    assert server.coils.pulses == 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_embedded_server_and_plc_handshake(cell):
    port = free_port()
    node, test, executor, verdicts, _, events = cell(
        port, embedded_server=True, handshake=True, handshake_poll_ms=10.0
    )
    triggers = Collector()
    test.create_subscription(Header, "camera/trigger", triggers, COMMAND_QOS)
    assert node.server.running and node.server.port == port
    plc = ModbusTcpClient("127.0.0.1", port=port)
    assert plc.connect()
    try:
        verdicts.publish(verdict(time.time_ns(), "h1", passed=False))
        assert spin_until(executor, lambda: len(events.messages) == 1, 3.0)
        assert events.messages[0].outcome == ActuatorEvent.FIRED
        spin_until(executor, lambda: False, 0.05)
        regs = plc.read_holding_registers(100, count=8, device_id=1).registers
        assert (regs[Reg.RESULT_SEQ], regs[Reg.RESULT]) == (1, RESULT_NG)
        plc.write_register(100 + Reg.TRIGGER, 2, device_id=1)
        assert spin_until(executor, lambda: len(triggers.messages) == 2, 3.0)
    finally:
        plc.close()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"delay_ms": DELAY_MS, "verdict_timeout_ms": 200.0}, "must be < delay_ms=150"),
        ({"backend": "gpio"}, "GPIO unavailable"),
    ],
)
def test_bad_config_fails_configure_with_reason(ros_context, params, message):
    overrides = {"autostart": False, "embedded_server": False, **params}
    node = ActuatorNode(
        context=ros_context,
        parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()],
    )
    try:
        assert node.trigger_configure() == TransitionCallbackReturn.FAILURE
        assert message in node.health._message
    finally:
        node.destroy_node()
