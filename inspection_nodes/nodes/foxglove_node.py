"""foxglove: live debugging of the cell in Foxglove over a WebSocket (foxglove-sdk).

Every debug image and result topic (core/foxglove/channels.py) is advertised as a channel with
its real ROS 2 schema and the CDR bytes rclpy received, untouched; images also as
`<topic>/compressed` (foxglove.CompressedImage, JPEG) for light clients; `diagnostics` as JSON.
No work for topics nobody watches: a ROS subscription exists only while a channel has a sink (a
client subscribed, or the MCAP recording), checked ten times a second, and images are decoded
and compressed only while someone watches the compressed channel. The server listens on
127.0.0.1 by default (`address`). `mcap_path` also records, through the same SDK, every ROS
topic (the CDR channels, profile ros2: a ROS 2 bag that rosbags, `inspection replay` and
Foxglove read; the JPEG and JSON channels are for viewers only and stay out of it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import foxglove
from diagnostic_msgs.msg import DiagnosticArray
from foxglove.channels import CompressedImageChannel
from foxglove.mcap import MCAPWriteOptions
from foxglove.messages import CompressedImage, Timestamp
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from rclpy.serialization import deserialize_message
from rclpy.subscription import Subscription
from sensor_msgs.msg import Image

from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.foxglove.channels import (
    COMPRESSED_SUFFIX,
    DIAGNOSTICS,
    DIAGNOSTICS_SCHEMA,
    FORWARDED,
    Forwarded,
    ros2msg_schema,
)
from inspection_nodes.core.foxglove.channels import jpeg as jpeg_of
from inspection_nodes.core.io.image_encoding import ImageFormatError
from inspection_nodes.nodes.common import Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import image_to_array, stamp_to_ns
from inspection_nodes.nodes.msg_json import diagnostics_bodies
from inspection_nodes.nodes.qos import RESULT_QOS

SINK_CHECK_S = 0.1

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "address",
        "127.0.0.1",
        "address of the WebSocket server (0.0.0.0 to reach it from another machine)",
        read_only=True,
    ),
    ParamSpec("port", 8765, "WebSocket port", range=(1, 65535), read_only=True),
    ParamSpec(
        "mcap_path",
        "",
        "also record every forwarded ROS topic to this MCAP file (new file; '' = none)",
        read_only=True,
    ),
    ParamSpec(
        "jpeg_quality",
        80,
        "JPEG quality of the <topic>/compressed image channels",
        range=(1, 100),
        read_only=True,
    ),
)


class FoxgloveCounter(StrEnum):
    FORWARDED = "forwarded"
    COMPRESSED = "compressed"
    BAD_IMAGES = "bad_images"


@dataclass
class Route:
    """One forwarded topic: its raw channel, the compressed one for images, the subscription
    that exists only while one of them has a sink."""

    spec: Forwarded
    raw: foxglove.Channel
    compressed: CompressedImageChannel | None
    subscription: Subscription | None = None

    def watched(self) -> bool:
        return self.raw.has_sinks() or bool(self.compressed and self.compressed.has_sinks())


class FoxgloveNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("foxglove", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.health = Health(self, FoxgloveCounter)
        self.sdk = foxglove.Context()
        self.routes = [self._route(spec) for spec in FORWARDED]
        self._diagnostics = foxglove.Channel(
            self.resolve_topic_name(DIAGNOSTICS), schema=DIAGNOSTICS_SCHEMA, context=self.sdk
        )
        self._diagnostics_sub: Subscription | None = None
        self.server = foxglove.start_server(
            name=f"inspection cell {self.get_namespace()}",
            host=self.params["address"],
            port=self.params["port"],
            context=self.sdk,
        )
        self.recording = None
        if self.params["mcap_path"]:
            Path(self.params["mcap_path"]).parent.mkdir(parents=True, exist_ok=True)
            self.recording = foxglove.open_mcap(
                self.params["mcap_path"],
                context=self.sdk,
                channel_filter=lambda channel: channel.message_encoding == "cdr",
                writer_options=MCAPWriteOptions(profile="ros2"),
            )
        self.create_timer(SINK_CHECK_S, self._follow_sinks)
        where = f"ws://{self.params['address']}:{self.server.port}"
        self.health.set_status(HealthLevel.OK, f"serving {where}")
        self.get_logger().info(f"Foxglove WebSocket on {where} ({len(self.routes)} topics)")

    def _route(self, spec: Forwarded) -> Route:
        topic = self.resolve_topic_name(spec.topic)
        schema = foxglove.Schema(
            name=spec.type_name, encoding="ros2msg", data=ros2msg_schema(spec.type_name)
        )
        raw = foxglove.Channel(topic, schema=schema, message_encoding="cdr", context=self.sdk)
        compressed = (
            CompressedImageChannel(topic + COMPRESSED_SUFFIX, context=self.sdk)
            if spec.is_image
            else None
        )
        return Route(spec, raw, compressed)

    def _follow_sinks(self) -> None:
        """Subscribe to a topic while its channels have sinks, and only then."""
        for route in self.routes:
            watched = route.watched()
            if watched and route.subscription is None:
                route.subscription = self._subscribe(route)
            elif not watched and route.subscription is not None:
                self.destroy_subscription(route.subscription)
                route.subscription = None
        watched = self._diagnostics.has_sinks()
        if watched and self._diagnostics_sub is None:
            self._diagnostics_sub = self.create_subscription(
                DiagnosticArray, DIAGNOSTICS, self._on_diagnostics, 50
            )
        elif not watched and self._diagnostics_sub is not None:
            self.destroy_subscription(self._diagnostics_sub)
            self._diagnostics_sub = None

    def _subscribe(self, route: Route) -> Subscription:
        # Images best effort: a viewer must never hold back the unit images of the hot path.
        qos = qos_profile_sensor_data if route.spec.is_image else RESULT_QOS
        msg_type = Image if route.spec.is_image else _message_class(route.spec.type_name)
        return self.create_subscription(
            msg_type, route.spec.topic, self._forwarder(route), qos, raw=True
        )

    def _forwarder(self, route: Route) -> Callable[[bytes], None]:
        def forward(data: bytes) -> None:
            now = time.time_ns()
            if route.raw.has_sinks():
                route.raw.log(data, log_time=now)
                self.health.counters.inc(FoxgloveCounter.FORWARDED)
            if route.compressed is not None and route.compressed.has_sinks():
                self._compress(route.compressed, data, now)

        return forward

    def _compress(self, channel: CompressedImageChannel, data: bytes, now: int) -> None:
        msg = deserialize_message(data, Image)
        try:
            payload = jpeg_of(image_to_array(msg), msg.encoding, self.params["jpeg_quality"])
        except (ImageFormatError, ValueError) as exc:
            self.health.reject(FoxgloveCounter.BAD_IMAGES, f"{msg.encoding}: {exc}")
            return
        stamp = Timestamp(msg.header.stamp.sec, msg.header.stamp.nanosec)
        image = CompressedImage(
            timestamp=stamp, frame_id=msg.header.frame_id, data=payload, format="jpeg"
        )
        channel.log(image, log_time=now)
        self.health.counters.inc(FoxgloveCounter.COMPRESSED)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        for body in diagnostics_bodies(msg):
            self._diagnostics.log(body, log_time=stamp or time.time_ns())

    def destroy_node(self) -> None:
        if self.recording is not None:
            self.recording.close()
        self.server.stop()
        super().destroy_node()


def _message_class(type_name: str) -> type:
    """`inspection_msgs/msg/Verdict` -> the generated rclpy class."""
    import importlib

    package, _, name = type_name.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def main(args: list[str] | None = None) -> None:
    run_node(FoxgloveNode, args)
