"""`inspection cell`: run the graph as processes over a folder once and report every verdict.

Used by `make demo`, by benchmarks and by integrators checking a station on sample parts.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path

import cv2

from inspection_nodes import PACKAGE_DIR
from inspection_nodes.core.cell.config import ConfigError
from inspection_nodes.core.cell.report import UnitRecord, format_table, report
from inspection_nodes.core.io.camera import SourceError, list_images
from inspection_nodes.core.io.image_encoding import to_rgb8

REPO = PACKAGE_DIR.parent
DEFAULT_CONFIG = REPO / "config" / "bottle.yaml"
PIPELINE_TOPICS = [
    "camera/image_raw",
    "camera/unit",
    "roi/image",
    "anomaly/result",
    "verdict",
]
# The observer subscribes here once its own subscriptions are matched with the graph.
READY_TOPIC = "cell/observer_ready"
# A stage's output publisher exists once its model is loaded and its input is subscribed.
PIPELINE_PUBLISHERS = ["roi/image", "embedding/patches", "anomaly/result", "verdict"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cell", help="run the graph over a folder of images once")
    add_cell_arguments(parser)
    parser.set_defaults(func=run)


def add_cell_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, required=True, help="model directory")
    parser.add_argument("--images", type=Path, required=True, help="folder (read recursively)")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="station params YAML")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="camera frame rate (0 = as fast as flow control allows)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=1,
        help="undecided units before the camera waits (0 = free run)",
    )
    parser.add_argument("--heatmaps", type=Path, help="write heatmap overlays (PNG) here")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after seconds")
    parser.add_argument("--quiet", action="store_true", help="do not echo node output")


def isolate_domain() -> None:
    """Keep a batch run's DDS traffic to itself: this host only, and, unless ROS_DOMAIN_ID is
    set, a domain of its own, so a second cell, a test run or a live station on the same machine
    cannot feed it frames or verdicts (child processes inherit the environment)."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    # Fast DDS shared memory with a segment large enough for full frames (see README).
    os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(REPO / "config" / "fastdds_shm.xml"))
    if "ROS_DOMAIN_ID" not in os.environ:
        os.environ["ROS_DOMAIN_ID"] = str(101 + os.getpid() % 100)


class Observer:
    """In-process rclpy node that collects capture events, verdicts and heatmaps."""

    def __init__(self, heatmap_dir: Path | None, record: Path | None = None) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from sensor_msgs.msg import Image

        from inspection_msgs.msg import CaptureEvent, Verdict
        from inspection_nodes.nodes.convert import image_to_array, stamp_to_ns, wall_ns
        from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS

        self._stamp_to_ns, self._wall_ns = stamp_to_ns, wall_ns
        self._image_to_array = image_to_array
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node("cell_observer", context=self.context)
        self.records: dict[int, UnitRecord] = {}
        self.duplicates = 0
        self.lock = threading.Lock()
        self.heatmap_dir = heatmap_dir
        self.heatmaps_written = 0
        self._must_match = [
            self.node.create_subscription(CaptureEvent, "camera/unit", self._on_unit, RESULT_QOS),
            self.node.create_subscription(Verdict, "verdict", self._on_verdict, RESULT_QOS),
        ]
        if heatmap_dir is not None:
            heatmap_dir.mkdir(parents=True, exist_ok=True)
            self.node.create_subscription(
                Image, "anomaly/heatmap", self._on_heatmap, DEBUG_IMAGE_QOS
            )
        self.recorder = None
        if record is not None:
            from inspection_nodes.nodes.bag_recording import start_recording

            self.recorder, recording = start_recording(self.node, record)
            self._must_match += [
                sub
                for sub in recording
                if sub.topic_name.lstrip("/")
                in ("camera/image_raw", "camera/unit", "roi/image", "anomaly/result", "verdict")
            ]
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._running = threading.Event()
        self._running.set()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        ready = False
        while self._running.is_set():
            self.executor.spin_once(timeout_sec=0.05)
            if not ready and all(sub.get_publisher_count() > 0 for sub in self._must_match):
                # Only now may the camera start: it waits for a subscriber on this topic, so no
                # unit is published before this observer (and its recording) hears the graph.
                from std_msgs.msg import Empty

                self.node.create_subscription(Empty, READY_TOPIC, lambda _msg: None, 1)
                ready = True

    def _record(self, stamp_ns: int) -> UnitRecord:
        rec = self.records.get(stamp_ns)
        if rec is None:
            rec = self.records[stamp_ns] = UnitRecord("", "", stamp_ns)
        return rec

    def _on_unit(self, msg) -> None:
        with self.lock:
            rec = self._record(self._stamp_to_ns(msg.header.stamp))
            rec.unit_id, rec.image = msg.unit_id, msg.source

    def _on_verdict(self, msg) -> None:
        now = self._wall_ns()
        stamp_ns = self._stamp_to_ns(msg.header.stamp)
        with self.lock:
            rec = self._record(stamp_ns)
            if rec.verdict:
                self.duplicates += 1
                return
            rec.unit_id = rec.unit_id or msg.unit_id
            rec.image = rec.image or msg.source
            rec.verdict = "PASS" if msg.decision == msg.PASS else "FAIL"
            rec.score = float(msg.score)
            rec.reasons = list(msg.reasons)
            # The gate's own decision time since capture; receipt time here only as fallback.
            decided = float(msg.decided_at_ms)
            rec.camera_to_verdict_ms = decided if decided > 0 else (now - stamp_ns) / 1e6
            stages = {t.stage: t.latency_ms for t in msg.timings}
            rec.stages = stages
            if "embedding" in stages and "scoring" in stages:
                rec.engine_ms = stages["embedding"] + stages["scoring"]

    def _on_heatmap(self, msg) -> None:
        stamp_ns = self._stamp_to_ns(msg.header.stamp)
        with self.lock:
            rec = self.records.get(stamp_ns)
            name = rec.unit_id if rec and rec.unit_id else str(stamp_ns)
            label = Path(rec.image).parent.name if rec and rec.image else "unit"
        rgb = to_rgb8(self._image_to_array(msg), msg.encoding)
        cv2.imwrite(str(self.heatmap_dir / f"{name}_{label}.png"), rgb[..., ::-1])
        self.heatmaps_written += 1

    def decided(self) -> int:
        with self.lock:
            return sum(1 for r in self.records.values() if r.verdict)

    def close(self) -> None:
        import rclpy

        self._running.clear()
        self._thread.join(timeout=5.0)
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)
        if self.recorder is not None:
            self.recorder.close()


def run(args: argparse.Namespace) -> int:
    summary, ok = execute_folder(args)
    if summary is None:
        return 2
    print(format_table(summary, str(args.images)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
        print(f"report written to {args.json}")
    return 0 if ok else 1


def execute_folder(
    args: argparse.Namespace, record: Path | None = None
) -> tuple[dict | None, bool]:
    """The graph over every image of `args.images` once (what cell and record share)."""
    try:
        expected = len(list_images(args.images))
    except SourceError as exc:
        print(f"error: {exc}")
        return None, False
    camera = {"source_type": "folder", "source": str(args.images), "loop": False}
    return execute(args, camera, expected, record=record)


def execute(
    args: argparse.Namespace, camera: dict, expected: int, record: Path | None = None
) -> tuple[dict | None, bool]:
    """Run the graph until `expected` units have verdicts; (report, complete and no crash)."""
    from inspection_nodes.cli.run import build_graph

    if not (args.model / "manifest.json").is_file():
        print(f"error: no model at {args.model} (run `inspection enroll` first)")
        return None, False
    overrides = {
        "camera": {
            **camera,
            "rate_hz": args.rate,
            "max_in_flight": args.max_in_flight,
            "wait_for_subscribers": [*PIPELINE_TOPICS, READY_TOPIC],
            "wait_for_publishers": PIPELINE_PUBLISHERS,
        },
        "embedding": {"model_dir": str(args.model)},
        "scoring": {"model_dir": str(args.model)},
        # its baseline is the model's; a batch run is paced by the cell, not by a line
        "stability": {"model_dir": str(args.model), "rhythm": False},
    }
    isolate_domain()
    observer = Observer(args.heatmaps, record)
    try:
        graph = build_graph(args.config, overrides, echo=None if args.quiet else print)
    except ConfigError as exc:
        observer.close()
        print(f"error: {exc}")
        return None, False
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started, started_ns = time.monotonic(), time.time_ns()
    graph.start()
    failed: list[tuple[str, int]] = []
    try:
        while not stop.wait(0.1):
            if observer.decided() >= expected:
                time.sleep(0.3)  # let late heatmaps and duplicates (if any) arrive
                break
            failed = [(n, rc) for n, rc in graph.exited() if rc != 0]
            if failed or time.monotonic() - started > args.timeout:
                break
    finally:
        graph.stop()
        observer.close()
    summary = report(list(observer.records.values()), expected)
    summary["duplicate_verdicts"] = observer.duplicates
    summary["wall_s"] = round(time.monotonic() - started, 2)
    summary["started_ns"] = started_ns  # wall clock, as capture stamps: cold-start timing
    summary["heatmaps_written"] = observer.heatmaps_written
    for name, rc in failed:
        print(f"error: node {name} exited with code {rc}")
        tail = next(n.lines[-5:] for n in graph.nodes if n.name == name)
        print("\n".join(f"  [{name}] {line}" for line in tail))
    complete = summary["units"] == expected and observer.decided() == expected
    return summary, complete and not failed
