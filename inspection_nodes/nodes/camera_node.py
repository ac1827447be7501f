"""camera: frames from a folder, video, V4L2 device or bag, each one a unit with a capture stamp."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from enum import StrEnum

import numpy as np
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from inspection_msgs.msg import CaptureEvent, UnitRejection, Verdict
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.io.camera import SOURCE_TYPES, SourceError, open_source
from inspection_nodes.core.io.pacing import InFlight, Startup, StartupWait
from inspection_nodes.nodes.common import Autostart, Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import array_to_image, ns_to_stamp, stamp_to_ns, wall_ns
from inspection_nodes.nodes.intra_process import IntraProcessNode
from inspection_nodes.nodes.qos import COMMAND_QOS, RESULT_QOS, UNIT_IMAGE_QOS, overridable

READER_NICE = 10  # decode-ahead thread priority (see CameraNode._read_frames)


class CameraCounter(StrEnum):
    FRAMES = "frames"
    CAMERA_NOT_READY = "camera_not_ready"  # a tick found no decoded frame waiting
    UNREADABLE_FRAMES = "unreadable_frames"  # published as a rejection of the unit


PARAMETERS: tuple[ParamSpec, ...] = (
    Autostart.AUTOSTART,
    ParamSpec(
        "source_type", "folder", "where frames come from", choices=SOURCE_TYPES, read_only=True
    ),
    ParamSpec("source", "", "folder, video file, device index/path, or bag path", read_only=True),
    ParamSpec(
        "bag_topic",
        "/camera/image_raw",
        "image topic to read when source_type is bag",
        read_only=True,
    ),
    ParamSpec("loop", False, "start over at the end of a folder, video or bag", read_only=True),
    ParamSpec(
        "rate_hz",
        10.0,
        "free-run frame rate (0 = as fast as flow control allows)",
        range=(0.0, 1000.0),
    ),
    ParamSpec(
        "trigger", False, "wait for a message on camera/trigger before each frame", read_only=True
    ),
    ParamSpec(
        "max_in_flight",
        0,
        "units published but not yet decided before the camera waits "
        "(0 = free run, for live cameras that cannot wait)",
        range=(0, 1000),
    ),
    ParamSpec("max_frames", 0, "stop after this many frames (0 = no limit)", range=(0, 10**9)),
    ParamSpec("frame_id", "camera", "frame_id of published images", read_only=True),
    ParamSpec("unit_prefix", "u", "prefix of unit ids (prefix + 6-digit sequence)", read_only=True),
    ParamSpec(
        "wait_for_subscribers",
        ["camera/image_raw", "camera/unit"],
        "topics that must have a subscriber before the first frame",
        read_only=True,
    ),
    ParamSpec(
        "wait_for_publishers",
        ["camera/image_raw"],
        "topics that must have a publisher (a loaded stage) before the first frame",
        read_only=True,
    ),
    ParamSpec(
        "startup_timeout_s",
        30.0,
        "start anyway after waiting this long for subscribers",
        range=(0.0, 600.0),
        read_only=True,
    ),
)


class CameraNode(Autostart, IntraProcessNode, LifecycleNode):
    """Publishes each frame as a unit: CaptureEvent first (the gate's roll call), then the Image.

    A reader thread decodes frames ahead into a small queue; every publish happens in the
    executor thread (timer, trigger or flow-control callback), so one thread owns the
    publishers and the pacing follows the executor's clock.
    """

    PREFETCH = 2

    def __init__(self, **kwargs) -> None:
        super().__init__("camera", **kwargs)  # frames go to a composed roi node in-process
        self.params = declare_parameters(self, PARAMETERS)
        self.health = Health(self, CameraCounter)
        self._frames = None
        self._queue: queue.Queue = queue.Queue(maxsize=self.PREFETCH)
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._timer = None
        self._in_flight = InFlight(self.params["max_in_flight"])
        self._startup: StartupWait | None = None
        self._frame_id = "camera"
        self.sequence = 0
        self.published = 0
        self.finished = threading.Event()

    # lifecycle ------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.params
        try:
            self._frames = open_source(p["source_type"], p["source"], p["loop"], p["bag_topic"])
        except (SourceError, FileNotFoundError, ValueError) as exc:
            self.get_logger().error(f"cannot open source: {exc}")
            return TransitionCallbackReturn.FAILURE
        qos = overridable()
        self._image_pub = self.create_lifecycle_publisher(
            Image, "camera/image_raw", UNIT_IMAGE_QOS, qos_overriding_options=qos
        )
        self._info_pub = self.create_lifecycle_publisher(CameraInfo, "camera/camera_info", 10)
        self._unit_pub = self.create_lifecycle_publisher(
            CaptureEvent, "camera/unit", RESULT_QOS, qos_overriding_options=qos
        )
        self._reject_pub = self.create_lifecycle_publisher(
            UnitRejection, "rejections", RESULT_QOS, qos_overriding_options=qos
        )
        if p["trigger"]:
            self.create_subscription(Header, "camera/trigger", self._on_trigger, COMMAND_QOS)
        if p["max_in_flight"] > 0:
            self.create_subscription(Verdict, "verdict", self._on_verdict, RESULT_QOS)
        self._frame_id = p["frame_id"]
        self.health.set_status(HealthLevel.OK, f"configured: {p['source_type']} {p['source']}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        result = super().on_activate(state)
        self._stop.clear()
        if self._startup is None:  # once the graph was complete, a re-activation need not wait
            self._startup = StartupWait(self.params["startup_timeout_s"], time.monotonic())
        self._reader = threading.Thread(target=self._read_frames, name="camera-reader", daemon=True)
        self._reader.start()
        rate = self.get_parameter("rate_hz").value
        if not self.params["trigger"]:
            self._timer = self.create_timer(1.0 / rate if rate > 0 else 0.002, self._emit)
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_reader()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_reader()
        self._frames = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_reader()
        return TransitionCallbackReturn.SUCCESS

    def _stop_reader(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self.destroy_timer(self._timer)
            self._timer = None
        while not self._queue.empty():  # unblock a reader waiting to put
            self._queue.get_nowait()
        if self._reader is not None:
            self._reader.join(timeout=5.0)
        self._reader = None

    # reader thread --------------------------------------------------------------------------
    def _read_frames(self) -> None:
        """Decode ahead; None marks the end of the source.

        The thread runs at a lower CPU priority (nice +10, Linux applies it per thread): file
        sources decode PNG/JPEG here, which a real camera does not, and that decoding must not
        take cores from the units already in the pipeline (measured on 2 cores: it added about
        6 ms to camera->verdict p50).
        """
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), READER_NICE)
        limit = self.params["max_frames"]
        count = 0
        try:
            for frame in self._frames:
                while not self._stop.is_set():
                    try:
                        self._queue.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                count += 1
                if self._stop.is_set() or (limit and count >= limit):
                    break
        except SourceError as exc:
            self.get_logger().error(f"source failed: {exc}")
        if not self._stop.is_set():
            self._queue.put(None)

    # executor callbacks ---------------------------------------------------------------------
    def _on_trigger(self, _msg: Header) -> None:
        self._emit()

    def _on_verdict(self, msg: Verdict) -> None:
        self._in_flight.decided(stamp_to_ns(msg.header.stamp))

    def _missing_endpoints(self) -> list[str]:
        """Configured topics without a subscriber (DDS or in-process) or without a publisher."""
        missing = [
            t
            for t in self.params["wait_for_subscribers"]
            if self.count_subscribers(t) == 0
            and not self.intra.consumed(self.resolve_topic_name(t))
        ]
        return missing + [
            t for t in self.params["wait_for_publishers"] if self.count_publishers(t) == 0
        ]

    def _graph_ready(self) -> bool:
        if self._startup is None:  # a trigger before the first activation
            return False
        step = self._startup.poll(time.monotonic(), self._missing_endpoints)
        if step is Startup.GAVE_UP:
            missing = list(self._startup.missing)
            self.get_logger().warning(f"starting before the graph was complete: missing {missing}")
        return step is Startup.READY

    def _emit(self) -> None:
        if self.finished.is_set() or not self._graph_ready() or self._in_flight.full:
            return
        try:
            frame = self._queue.get_nowait()
        except queue.Empty:
            self.health.counters.inc(CameraCounter.CAMERA_NOT_READY)
            return
        if frame is None:
            self.finished.set()
            self.get_logger().info(f"source finished after {self.sequence} frames")
            return
        self._publish(frame)

    def _publish(self, frame) -> None:
        stamp_ns = wall_ns()
        # A new header per frame: in-process consumers may keep the message (nothing is copied).
        header = Header(frame_id=self._frame_id, stamp=ns_to_stamp(stamp_ns))
        unit_id = f"{self.params['unit_prefix']}{self.sequence:06d}"
        self._in_flight.opened(stamp_ns)
        self._unit_pub.publish(
            CaptureEvent(
                header=header, unit_id=unit_id, sequence=self.sequence, source=frame.source
            )
        )
        self.sequence += 1
        self.health.counters.inc(CameraCounter.FRAMES)
        if frame.pixels is None:
            self.health.reject(CameraCounter.UNREADABLE_FRAMES, f"{frame.source}: {frame.error}")
            self._reject_pub.publish(
                UnitRejection(header=header, unit_id=unit_id, stage="camera", reason=frame.error)
            )
            return
        pixels: np.ndarray = frame.pixels
        self.intra.publish(self._image_pub, array_to_image(pixels, header, "bgr8"))
        self._info_pub.publish(
            CameraInfo(header=header, height=pixels.shape[0], width=pixels.shape[1])
        )
        self.published += 1


def main(args: list[str] | None = None) -> None:
    run_node(CameraNode, args)
