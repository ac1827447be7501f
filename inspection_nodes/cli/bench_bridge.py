"""`inspection bench bridge`: verdicts through the durable outbox to a real mosquitto while the
broker is down for S seconds and the bridge process is killed (-9) and restarted once.

Three parties, as in the cell: a producer at line rate writes verdict payloads into the outbox
(what the bridge node's ROS callback does), a separate bridge process drains it to the broker
(`python -m inspection_nodes.core.bridge.mqtt_link`), and a QoS 1 subscriber with a persistent
session, started first, counts the ids it receives. Timeline: the outage starts at 20 % of the
production time; the bridge is killed (SIGKILL) once the backlog is half drained, and restarted
at once.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PREFIX = "inspection"
CELL = "bench-cell"
# The backlog counts as drained when the queue is back to its steady state (a message or two in
# flight at line rate).
STEADY_DEPTH = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bridge", help="outbox + MQTT under broker outage and kill -9")
    parser.add_argument("--messages", type=int, default=5000, help="verdicts to send (N)")
    parser.add_argument("--outage-s", type=float, default=20.0, help="broker down time (S)")
    parser.add_argument("--rate", type=float, default=50.0, help="line rate, verdicts per second")
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.add_argument("--workdir", type=Path, help="keep broker/outbox files here")
    parser.set_defaults(func=_run)


def _verdict(i: int, stamp_ns: int) -> tuple[str, bytes]:
    from inspection_nodes.core.bridge.payloads import encode, envelope

    body = {
        "unit_id": f"u{i:06d}",
        "stamp_ns": stamp_ns,
        "source": f"bench/{i}",
        "decision": "FAIL" if i % 17 == 0 else "PASS",
        "reasons": ["score 4.20 > 3.00"] if i % 17 == 0 else [],
        "score": 1.5,
        "image_threshold": 3.0,
        "model_version": "bench-1",
        "config_version": "bench",
        "decided_at_ms": 21.5,
        "timings_ms": {"roi": 1.2, "embedding": 9.8, "scoring": 6.1, "gate": 0.2},
    }
    message = envelope("verdict", CELL, f"{body['unit_id']}:{stamp_ns}", body)
    return message["id"], encode(message)


class _DepthProbe(threading.Thread):
    """Samples the outbox depth every 50 ms: the peak queue and when the backlog drained."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        from inspection_nodes.core.bridge.outbox import Outbox

        self.outbox = Outbox(path)
        self.max_depth = 0
        self.depth = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.depth = self.outbox.depth()
            self.max_depth = max(self.max_depth, self.depth)
            self.stop_flag.wait(0.05)


def _mid_drain(probe: _DepthProbe, events: dict[str, float], now: float) -> bool:
    """Kill time: the backlog is half drained (the bridge is busy publishing), or 5 s passed."""
    return probe.depth < probe.max_depth // 2 or now > events["outage_end"] + 5.0


def _bridge(outbox: Path, port: int) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "inspection_nodes.core.bridge.mqtt_link",
        "--outbox",
        str(outbox),
        "--port",
        str(port),
        "--backoff-max-s",
        "2.0",
    ]
    return subprocess.Popen(cmd)


class _Scenario:
    """The benchmark's three parties and its timeline (module docstring), step by step."""

    def __init__(self, n: int, outage_s: float, rate: float, workdir: Path) -> None:
        from inspection_nodes.core.bridge.outbox import Outbox
        from inspection_nodes.loopback.mosquitto import CountingSubscriber, Mosquitto

        self.n, self.outage_s, self.rate = n, outage_s, rate
        self.broker = Mosquitto(workdir / "broker")
        self.broker.start()
        port = self.broker.port
        self.sub = CountingSubscriber(port, f"{PREFIX}/{CELL}/#", f"bench-sub-{port}")
        self.outbox_path = workdir / "outbox.db"
        self.outbox = Outbox(self.outbox_path)
        self.probe = _DepthProbe(self.outbox_path)
        self.probe.start()
        self.bridge = _bridge(self.outbox_path, port)
        self.events: dict[str, float] = {}
        self.put_ms: list[float] = []
        self.sent_ids: list[str] = []
        self.outage_puts = 0
        self.produce_s = 0.0

    def _outage(self, i: int, now: float) -> None:
        """Stop the broker at 20 % of the run, restart it `outage_s` later."""
        events = self.events
        if i == int(self.n * 0.2):
            self.broker.stop()
            events["outage_start"] = now
        if "outage_start" in events and "outage_end" not in events:
            if now - events["outage_start"] >= self.outage_s:
                self.broker.start()
                events["outage_end"] = time.monotonic()
            else:
                self.outage_puts += 1
        if "outage_end" in events and "kill" not in events and _mid_drain(self.probe, events, now):
            self.bridge.kill()  # SIGKILL: no clean-up, mid-drain
            self.bridge.wait()
            events["kill"] = time.monotonic()
            self.bridge = _bridge(self.outbox_path, self.broker.port)

    def _note_drained(self) -> None:
        events = self.events
        if "outage_end" in events and "drained" not in events and self.probe.depth <= STEADY_DEPTH:
            events["drained"] = time.monotonic()

    def produce(self) -> None:
        from inspection_nodes.core.bridge.payloads import topic

        period = 1.0 / self.rate
        t0 = time.monotonic()
        for i in range(self.n):
            self._outage(i, time.monotonic())
            msg_id, payload = _verdict(i, time.time_ns())
            self.sent_ids.append(msg_id)
            start = time.perf_counter()
            self.outbox.put(msg_id, topic(PREFIX, CELL, "verdict"), payload)
            self.put_ms.append((time.perf_counter() - start) * 1e3)
            self._note_drained()
            time.sleep(max(0.0, t0 + (i + 1) * period - time.monotonic()))
        self.produce_s = time.monotonic() - t0

    def drain(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            # Checked before the exit test: a backlog that drained while the last verdicts were
            # produced still gets its drain time (an upper bound, at most one 50 ms tick late).
            self._note_drained()
            done = len(set(self.sub.snapshot())) >= self.n and self.probe.depth == 0
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        time.sleep(1.0)  # late duplicates still in flight

    def close(self) -> None:
        self.bridge.terminate()
        self.bridge.wait(10)
        self.probe.stop_flag.set()
        self.sub.close()
        self.broker.stop()

    def result(self) -> dict[str, Any]:
        ids = self.sub.snapshot()
        unique, events, put_ms = set(ids), self.events, sorted(self.put_ms)
        firsts = list(dict.fromkeys(ids))
        drained = events.get("drained")
        return {
            "sent": self.n,
            "received_unique": len(unique),
            "duplicates": len(ids) - len(unique),
            "lost": len(set(self.sent_ids) - unique),
            "max_queue": self.probe.max_depth,
            "drain_s": round(drained - events["outage_end"], 2) if drained else None,
            "out_of_order": sum(1 for a, b in itertools.pairwise(firsts) if b < a),
            "rate_hz": self.rate,
            "produce_s": round(self.produce_s, 2),
            "achieved_rate_hz": round(self.n / self.produce_s, 1),
            "verdicts_during_outage": self.outage_puts,
            "outage_s": self.outage_s,
            "bridge_kills": 1 if "kill" in events else 0,
            "put_ms_p50": round(put_ms[len(put_ms) // 2], 3),
            "put_ms_p99": round(put_ms[int(len(put_ms) * 0.99)], 3),
            "put_ms_max": round(put_ms[-1], 3),
        }


def run_bench(n: int, outage_s: float, rate: float, workdir: Path) -> dict[str, Any]:
    """Run the scenario and return the counts (also used by the test with a small n)."""
    scenario = _Scenario(n, outage_s, rate, workdir)
    try:
        scenario.produce()
        scenario.drain()
    finally:
        scenario.close()
    return scenario.result()


def _run(args: argparse.Namespace) -> int:
    from inspection_nodes.loopback.mosquitto import mosquitto_binary

    if mosquitto_binary() is None:
        print("mosquitto is not installed (apt-get install mosquitto); benchmark skipped")
        return 0
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        result = run_bench(args.messages, args.outage_s, args.rate, args.workdir)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
            result = run_bench(args.messages, args.outage_s, args.rate, Path(tmp))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result["lost"] == 0 else 1
