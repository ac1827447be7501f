"""`inspection bench actuator`: units through the real gate and actuator nodes to a real server.

A driver publishes CaptureEvent + AnomalyResult for N units at a fixed rate (about half of them
over the threshold). The gate decides, the actuator pulses coil 0 of a pymodbus server (a child
process, like the actuator's embedded one), and the server timestamps every coil write on the
monotonic clock. Each rising edge
is matched to the failed unit whose expected fire time (capture + delay) is nearest; unmatched
failed units are `missed`, unmatched edges `extra`.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MS = 1_000_000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("actuator", help="gate + actuator timing against pymodbus")
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0, help="units per second")
    parser.add_argument("--fail-ratio", type=float, default=0.5)
    parser.add_argument("--delay-ms", type=float, default=300.0)
    parser.add_argument("--pulse-width-ms", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.set_defaults(func=run)


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    arr = np.abs(np.asarray(values))
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p99": round(float(np.percentile(arr, 99)), 3),
        "max": round(float(arr.max()), 3),
    }


def match_pulses(
    expected_ns: list[int], edges: list[tuple[int, bool]], window_ns: int
) -> tuple[list[float], list[float], int, int]:
    """Match rising edges to expected fire times: (timing errors ms, measured pulse widths ms,
    missed, extra). Each edge and each unit is used at most once."""
    pulses = []
    for i, (t, on) in enumerate(edges):
        if on:
            off = next((u for u, v in edges[i + 1 :] if not v), None)
            pulses.append((t, off))
    used: set[int] = set()
    timing, widths = [], []
    for exp in expected_ns:
        best = min(
            (k for k in range(len(pulses)) if k not in used),
            key=lambda k: abs(pulses[k][0] - exp),
            default=None,
        )
        if best is None or abs(pulses[best][0] - exp) > window_ns:
            continue
        used.add(best)
        on, off = pulses[best]
        timing.append((on - exp) / MS)
        if off is not None:
            widths.append((off - on) / MS)
    missed = len(expected_ns) - len(timing)
    return timing, widths, missed, len(pulses) - len(used)


def coil_edges(log_text: str, codes: tuple[int, ...]) -> list[tuple[int, bool]]:
    """Coil 0 writes from the server's log lines `mono_ns fc address values...`."""
    writes = []
    for line in log_text.splitlines():
        mono_ns, fc, address, *values = (int(x) for x in line.split())
        if fc in codes and address == 0:
            writes.append((mono_ns, bool(values[0])))
    return writes


@dataclass
class _Run:
    """What the driver saw: expected fire times of failed units and the actuator's events."""

    fails: list[bool]
    expected: list[int] = field(default_factory=list)
    events: list = field(default_factory=list)
    realtime: bool = False


def _drive(args: argparse.Namespace, server_port: int, audit_dir: str, run: _Run) -> None:
    """Gate + actuator + a driver node in one executor; publish every unit at the bench rate."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter

    from inspection_msgs.msg import ActuatorEvent, AnomalyResult, CaptureEvent
    from inspection_nodes.nodes.actuator_node import ActuatorNode
    from inspection_nodes.nodes.gate_node import GateNode
    from inspection_nodes.nodes.qos import RESULT_QOS

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        gate = GateNode(
            context=context,
            parameter_overrides=[Parameter("audit_path", value=f"{audit_dir}/audit.log")],
        )
        actuator = ActuatorNode(
            context=context,
            parameter_overrides=[
                Parameter("embedded_server", value=False),
                Parameter("modbus_port", value=server_port),
                Parameter("delay_ms", value=args.delay_ms),
                Parameter("pulse_width_ms", value=args.pulse_width_ms),
                Parameter("verdict_timeout_ms", value=args.delay_ms * 0.8),
            ],
        )
        driver = rclpy.create_node("bench_driver", context=context)
        units = driver.create_publisher(CaptureEvent, "camera/unit", RESULT_QOS)
        results = driver.create_publisher(AnomalyResult, "anomaly/result", RESULT_QOS)
        driver.create_subscription(ActuatorEvent, "actuator/event", run.events.append, RESULT_QOS)
        executor = SingleThreadedExecutor(context=context)
        for node in (gate, actuator, driver):
            executor.add_node(node)
        actuator.autostart()
        _spin_for(executor, 1.0)  # discovery
        _publish_units(args, executor, units, results, run)
        deadline = time.monotonic() + args.delay_ms / 1000.0 + 2.0
        while len(run.events) < args.units and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.01)
        run.realtime = actuator._scheduler.realtime
        actuator.trigger_deactivate()
        actuator.trigger_cleanup()
        for node in (gate, actuator, driver):
            node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def _publish_units(args: argparse.Namespace, executor, units, results, run: _Run) -> None:
    from inspection_msgs.msg import AnomalyResult, CaptureEvent
    from inspection_nodes.nodes.convert import ns_to_stamp

    period_ns = int(1e9 / args.rate)
    start = time.monotonic_ns() + 100 * MS
    for i, failed in enumerate(run.fails):
        _spin_until(executor, start + i * period_ns)
        wall, mono = time.time_ns(), time.monotonic_ns()
        stamp = ns_to_stamp(wall)
        unit_id = f"b{i:06d}"
        capture = CaptureEvent(unit_id=unit_id, sequence=i, source="bench")
        capture.header.stamp = stamp
        units.publish(capture)
        result = AnomalyResult(
            unit_id=unit_id,
            model_version="bench",
            score=3.0 if failed else 1.0,
            image_threshold=2.0,
            largest_region_px=100,
        )
        result.header.stamp = stamp
        results.publish(result)
        if failed:
            run.expected.append(mono + int(args.delay_ms * MS))


def _report(args: argparse.Namespace, run: _Run, writes: list[tuple[int, bool]]) -> dict:
    from inspection_nodes.core.actuation.scheduler import Outcome

    period_ns = int(1e9 / args.rate)
    timing, widths, missed, extra = match_pulses(run.expected, writes, period_ns // 2)
    events = run.events
    return {
        "units": args.units,
        "fails": sum(run.fails),
        "pulses": sum(1 for _, on in writes if on),
        "missed": missed,
        "extra": extra,
        "timing_error_ms": _quantiles(timing),
        "pulse_width_error_ms": _quantiles([w - args.pulse_width_ms for w in widths]),
        "scheduler_error_ms": _quantiles(
            [e.timing_error_ms for e in events if e.outcome == Outcome.FIRED]
        ),
        "scheduler_realtime": run.realtime,
        "rate_hz": args.rate,
        "delay_ms": args.delay_ms,
        "pulse_width_ms": args.pulse_width_ms,
        "events": {o.name.lower(): sum(1 for e in events if e.outcome == o) for o in Outcome},
    }


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.actuation.modbus_server import COIL_WRITE_CODES, ServerProcess

    tmp = tempfile.TemporaryDirectory()
    write_log = Path(tmp.name) / "writes.txt"
    server = ServerProcess("127.0.0.1", 0, log_writes=str(write_log))
    server.start()
    rng = random.Random(args.seed)
    run = _Run([rng.random() < args.fail_ratio for _ in range(args.units)])
    try:
        _drive(args, server.port, tmp.name, run)
    finally:
        server.stop()
    writes = coil_edges(write_log.read_text(), COIL_WRITE_CODES)
    tmp.cleanup()
    report = _report(args, run, writes)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0 if report["missed"] == 0 and report["extra"] == 0 else 1


def _spin_until(executor, mono_ns: int) -> None:
    while (remaining := mono_ns - time.monotonic_ns()) > 0:
        executor.spin_once(timeout_sec=min(remaining / 1e9, 0.005))


def _spin_for(executor, seconds: float) -> None:
    _spin_until(executor, time.monotonic_ns() + int(seconds * 1e9))
