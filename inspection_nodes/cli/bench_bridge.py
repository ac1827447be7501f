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


def run_bench(n: int, outage_s: float, rate: float, workdir: Path) -> dict[str, Any]:
    """Run the scenario and return the counts (also used by the test with a small n)."""
    from inspection_nodes.core.bridge.outbox import Outbox
    from inspection_nodes.core.bridge.payloads import topic
    from inspection_nodes.loopback.mosquitto import CountingSubscriber, Mosquitto

    broker = Mosquitto(workdir / "broker")
    broker.start()
    sub = CountingSubscriber(broker.port, f"{PREFIX}/{CELL}/#", f"bench-sub-{broker.port}")
    outbox_path = workdir / "outbox.db"
    outbox = Outbox(outbox_path)
    probe = _DepthProbe(outbox_path)
    probe.start()
    bridge = _bridge(outbox_path, broker.port)
    period = 1.0 / rate
    outage_at = int(n * 0.2)
    events: dict[str, float] = {}
    put_ms: list[float] = []
    sent_ids: list[str] = []
    outage_puts = 0
    t0 = time.monotonic()
    try:
        for i in range(n):
            now = time.monotonic()
            if i == outage_at:
                broker.stop()
                events["outage_start"] = now
            if "outage_start" in events and "outage_end" not in events:
                if now - events["outage_start"] >= outage_s:
                    broker.start()
                    events["outage_end"] = time.monotonic()
                else:
                    outage_puts += 1
            if "outage_end" in events and "kill" not in events and _mid_drain(probe, events, now):
                bridge.kill()  # SIGKILL: no clean-up, mid-drain
                bridge.wait()
                events["kill"] = time.monotonic()
                bridge = _bridge(outbox_path, broker.port)
            msg_id, payload = _verdict(i, time.time_ns())
            sent_ids.append(msg_id)
            start = time.perf_counter()
            outbox.put(msg_id, topic(PREFIX, CELL, "verdict"), payload)
            put_ms.append((time.perf_counter() - start) * 1e3)
            if "outage_end" in events and "drained" not in events and probe.depth <= STEADY_DEPTH:
                events["drained"] = time.monotonic()
            time.sleep(max(0.0, t0 + (i + 1) * period - time.monotonic()))
        produce_s = time.monotonic() - t0
        deadline = time.monotonic() + 120
        while True:
            # Checked before the exit test: a backlog that drained while the last verdicts were
            # produced still gets its drain time (an upper bound, at most one 50 ms tick late).
            if "outage_end" in events and "drained" not in events and probe.depth <= STEADY_DEPTH:
                events["drained"] = time.monotonic()
            done = len(set(sub.snapshot())) >= n and probe.depth == 0
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        time.sleep(1.0)  # late duplicates still in flight
    finally:
        bridge.terminate()
        bridge.wait(10)
        probe.stop_flag.set()
        sub.close()
        broker.stop()
    ids = sub.snapshot()
    unique = set(ids)
    firsts = list(dict.fromkeys(ids))
    put_ms.sort()
    return {
        "sent": n,
        "received_unique": len(unique),
        "duplicates": len(ids) - len(unique),
        "lost": len(set(sent_ids) - unique),
        "max_queue": probe.max_depth,
        "drain_s": (
            round(events["drained"] - events["outage_end"], 2) if "drained" in events else None
        ),
        "out_of_order": sum(1 for a, b in itertools.pairwise(firsts) if b < a),
        "rate_hz": rate,
        "produce_s": round(produce_s, 2),
        "achieved_rate_hz": round(n / produce_s, 1),
        "verdicts_during_outage": outage_puts,
        "outage_s": outage_s,
        "bridge_kills": 1 if "kill" in events else 0,
        "put_ms_p50": round(put_ms[len(put_ms) // 2], 3),
        "put_ms_p99": round(put_ms[int(len(put_ms) * 0.99)], 3),
        "put_ms_max": round(put_ms[-1], 3),
    }


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
