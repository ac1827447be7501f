"""Pulse timing, LATE, merging and outages against a real pymodbus server."""

from __future__ import annotations

import contextlib
import queue
import time

from inspection_nodes.cli.bench_actuator import coil_edges
from inspection_nodes.core.actuation.modbus import ModbusOutput, ModbusTarget
from inspection_nodes.core.actuation.modbus_server import COIL_WRITE_CODES, ServerProcess
from inspection_nodes.core.actuation.output import ReconnectingOutput
from inspection_nodes.core.actuation.scheduler import (
    Outcome,
    Pulse,
    PulseScheduler,
    fire_time_ns,
)
from inspection_nodes.core.common.counters import EventCounters

MS = 1_000_000


def started(server, tolerance_ms: float = 2.0):
    counters = EventCounters()
    output = ReconnectingOutput(ModbusOutput(ModbusTarget(port=server.port)), counters)
    output.start()
    events: queue.SimpleQueue = queue.SimpleQueue()
    scheduler = PulseScheduler(output, int(tolerance_ms * MS), events.put)
    scheduler.start()
    return output, scheduler, events, counters


def wait_events(events, n: int, timeout_s: float = 3.0) -> list:
    out = []
    deadline = time.monotonic() + timeout_s
    while len(out) < n and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            out.append(events.get(timeout=0.05))
    return out


def test_pulses_land_on_time_with_their_width(tmp_path):
    """Edges timed by a server in its own process, as the actuator runs it (no shared GIL)."""
    log = tmp_path / "writes.txt"
    server = ServerProcess("127.0.0.1", 0, log_writes=str(log))
    server.start()
    output, scheduler, events, _ = started(server)
    try:
        now = time.monotonic_ns()
        fire = [now + (40 + 30 * i) * MS for i in range(4)]
        for i, at in enumerate(fire):
            assert scheduler.schedule(Pulse(i, f"u{i}", at, 10 * MS)) is None
        got = wait_events(events, 4)
    finally:
        scheduler.stop()
        output.stop()
        server.stop()
    assert [e.outcome for e in got] == [Outcome.FIRED] * 4
    writes = coil_edges(log.read_text(), COIL_WRITE_CODES)
    edges = [(t, v) for i, (t, v) in enumerate(writes) if v != (i > 0 and writes[i - 1][1])]
    ons = [t for t, v in edges if v]
    offs = [t for t, v in edges if not v]
    assert len(ons) == len(offs) == 4
    for at, on, off in zip(fire, ons, offs, strict=True):
        assert abs(on - at) < 5 * MS
        assert abs((off - on) - 10 * MS) < 5 * MS


def test_past_fire_time_is_late_and_not_driven(modbus_server):
    output, scheduler, _, _ = started(modbus_server)
    try:
        event = scheduler.schedule(Pulse(1, "u1", time.monotonic_ns() - 10 * MS, 10 * MS))
        time.sleep(0.05)
    finally:
        scheduler.stop()
        output.stop()
    assert event.outcome == Outcome.LATE and event.timing_error_ms >= 10
    assert modbus_server.log.edges() == []


def test_overlapping_pulses_merge_and_report_each_unit(modbus_server):
    output, scheduler, events, _ = started(modbus_server)
    try:
        now = time.monotonic_ns()
        scheduler.schedule(Pulse(1, "a", now + 30 * MS, 20 * MS))
        scheduler.schedule(Pulse(2, "b", now + 40 * MS, 20 * MS))
        got = wait_events(events, 2)
    finally:
        scheduler.stop()
        output.stop()
    assert [e.unit_id for e in got] == ["a", "b"]
    assert all(e.outcome == Outcome.FIRED for e in got)
    assert "merged" in got[1].detail
    ons = [t for t, v in modbus_server.log.edges() if v]
    assert len(ons) == 1


def test_server_restart_counts_missed_and_recovers(modbus_server):
    output, scheduler, events, counters = started(modbus_server)
    try:
        modbus_server.stop()
        now = time.monotonic_ns()
        scheduler.schedule(Pulse(1, "during", now + 20 * MS, 5 * MS))
        [missed] = wait_events(events, 1)
        assert missed.outcome == Outcome.MISSED and "modbus" in missed.detail
        modbus_server.start()
        deadline = time.monotonic() + 5.0
        while not output.up and time.monotonic() < deadline:
            time.sleep(0.02)
        assert output.up and counters.get("output_reconnects") >= 1
        scheduler.schedule(Pulse(2, "after", time.monotonic_ns() + 20 * MS, 5 * MS))
        [fired] = wait_events(events, 1)
    finally:
        scheduler.stop()
        output.stop()
    assert fired.outcome == Outcome.FIRED and fired.unit_id == "after"
    assert counters.get("output_disconnects") == 1


def test_stop_reports_pending_pulses_missed(modbus_server):
    output, scheduler, events, _ = started(modbus_server)
    scheduler.schedule(Pulse(1, "u1", time.monotonic_ns() + 10_000 * MS, 5 * MS))
    scheduler.stop()
    output.stop()
    [event] = wait_events(events, 1)
    assert event.outcome == Outcome.MISSED and "stopped" in event.detail


def test_fire_time_from_wall_stamp():
    assert fire_time_ns(1_000 * MS, 500 * MS, 1_100 * MS, 7_000 * MS) == 7_400 * MS
