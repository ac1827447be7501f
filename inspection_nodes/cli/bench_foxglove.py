"""`inspection bench foxglove`: what live debugging costs the cell per frame.

The real FoxgloveNode and a publisher node share one process and executor; a WebSocket client
(subprotocol foxglove.sdk.v1) in a thread subscribes to `/anomaly/heatmap` (raw CDR), then also
to `/anomaly/heatmap/compressed` (JPEG). 224x224 rgb8 images are published at `--rate` Hz. Per
phase: the node's time per frame in its subscription callback (what the executor thread, shared
with nothing else here, spends), and the latency from the node's log time to the client.
A third phase has no client: the node must not subscribe at all (no work unwatched).
"""

from __future__ import annotations

import argparse
import json
import struct
import threading
import time
from pathlib import Path

import numpy as np

PHASES = (
    ("raw", ["/anomaly/heatmap"]),
    ("raw+jpeg", ["/anomaly/heatmap", "/anomaly/heatmap/compressed"]),
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("foxglove", help="per-frame cost of the foxglove node")
    parser.add_argument("--frames", type=int, default=300, help="frames per phase")
    parser.add_argument("--rate", type=float, default=30.0, help="frames per second")
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.set_defaults(func=run)


class Client:
    """Reads messageData frames in a thread: (log time ns, receive time ns) per frame."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self.ws = connect(url, subprotocols=["foxglove.sdk.v1"])
        self.channels: dict[str, int] = {}
        self.frames: list[tuple[int, int, int]] = []  # (subscription, log ns, received ns)
        self._running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while self._running:
            try:
                frame = self.ws.recv(timeout=0.1)
            except TimeoutError:
                continue
            except Exception:
                return
            if isinstance(frame, bytes):
                _op, sub, log_ns = struct.unpack_from("<BIQ", frame)
                self.frames.append((sub, log_ns, time.time_ns()))
            else:
                message = json.loads(frame)
                if message["op"] == "advertise":
                    self.channels.update({c["topic"]: c["id"] for c in message["channels"]})

    def subscribe(self, topics: list[str]) -> None:
        subs = [{"id": i + 1, "channelId": self.channels[t]} for i, t in enumerate(topics)]
        self.ws.send(json.dumps({"op": "subscribe", "subscriptions": subs}))

    def unsubscribe(self, count: int) -> None:
        self.ws.send(
            json.dumps({"op": "unsubscribe", "subscriptionIds": list(range(1, count + 1))})
        )

    def close(self) -> None:
        self._running = False
        self.thread.join(timeout=2.0)
        self.ws.close()


def _stats(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"n": 0}
    a = np.asarray(values_ms)
    return {
        "n": len(a),
        "p50": round(float(np.median(a)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
    }


def run(args: argparse.Namespace) -> int:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image

    from inspection_nodes.cli.cell import isolate_domain
    from inspection_nodes.nodes import foxglove_node
    from inspection_nodes.nodes.convert import array_to_image
    from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS

    callback_ms: list[float] = []
    original = foxglove_node.FoxgloveNode._forwarder

    def timed(self, route):
        forward = original(self, route)

        def wrapper(data: bytes) -> None:
            start = time.perf_counter()
            forward(data)
            callback_ms.append((time.perf_counter() - start) * 1000.0)

        return wrapper

    foxglove_node.FoxgloveNode._forwarder = timed
    isolate_domain()
    context = rclpy.Context()
    rclpy.init(context=context)
    port = _free_port()
    node = foxglove_node.FoxgloveNode(
        context=context, parameter_overrides=[Parameter("port", value=port)]
    )
    source = rclpy.create_node("bench_source", context=context)
    pub = source.create_publisher(Image, "anomaly/heatmap", DEBUG_IMAGE_QOS)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    executor.add_node(source)
    pixels = np.random.default_rng(0).integers(0, 255, (224, 224, 3), dtype=np.uint8)
    msg = array_to_image(pixels, Image().header, "rgb8")
    client = Client(f"ws://127.0.0.1:{port}")
    result: dict = {
        "frames": args.frames,
        "rate_hz": args.rate,
        "image": "224x224 rgb8",
        "phases": {},
    }
    try:
        _spin(executor, 1.0)
        for name, topics in PHASES:
            client.subscribe(topics)
            _spin(executor, 0.5)
            callback_ms.clear()
            client.frames.clear()
            _publish(executor, pub, msg, args.frames, args.rate)
            _spin(executor, 0.5)
            latency = [(recv - log) / 1e6 for sub, log, recv in client.frames if sub == 1]
            result["phases"][name] = {
                "node_ms_per_frame": _stats(callback_ms),
                "log_to_client_ms": _stats(latency),
                "frames_received": len(client.frames),
            }
            client.unsubscribe(len(topics))
            _spin(executor, 0.5)
        callback_ms.clear()
        _publish(executor, pub, msg, args.frames // 3, args.rate)
        result["phases"]["nobody watching"] = {
            "subscribers_of_the_topic": pub.get_subscription_count(),
            "node_callbacks": len(callback_ms),
        }
    finally:
        client.close()
        node.destroy_node()
        source.destroy_node()
        rclpy.shutdown(context=context)
        foxglove_node.FoxgloveNode._forwarder = original
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def _spin(executor, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.01)


def _publish(executor, pub, msg, frames: int, rate: float) -> None:
    period = 1.0 / rate
    next_at = time.monotonic()
    for _ in range(frames):
        pub.publish(msg)
        next_at += period
        while time.monotonic() < next_at:
            executor.spin_once(timeout_sec=max(0.0, next_at - time.monotonic()))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
