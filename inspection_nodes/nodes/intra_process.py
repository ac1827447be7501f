"""Same-process delivery of messages between composed nodes, ahead of DDS.

rclpy has no intra-process transport: two nodes in one process still serialise, copy through
the DDS transport and wake the executor for every message. For the cell's two large per-unit
messages (the 2.4 MB camera frame, the 477 kB patch embedding) that costs milliseconds on the
hot path, so a producer composed with its consumer (nodes/container.py) calls the consumer's
callback with the message object itself, then publishes over DDS only if another process
subscribes (rqt, the stability monitor). The consumer does not subscribe to that topic.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from rclpy.node import Node
from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile
from rclpy.subscription import Subscription

from inspection_nodes.nodes.qos import overridable

Handler = Callable[[Any], None]

_CONSUMED: set[str] = set()  # topics some node of this process gets in-process


def consumed_in_process(topic: str) -> bool:
    """True when a node of this process receives `topic` (resolved) in-process: it has a
    subscriber even though DDS shows none (the camera's start-up wait asks this)."""
    return topic in _CONSUMED


class IntraProcess:
    """A producer node's same-process subscribers, by resolved topic name."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def connect(self, topic: str, handler: Handler) -> None:
        """`topic` resolved (`node.resolve_topic_name`), as publishers report theirs."""
        self._handlers.setdefault(topic, []).append(handler)
        _CONSUMED.add(topic)

    def publish(self, publisher: Publisher, msg: Any) -> None:
        """Local handlers first (the hot path), then DDS when it has or needs subscribers."""
        handlers = self._handlers.get(publisher.topic_name)
        if handlers:
            for handler in handlers:
                handler(msg)
            if publisher.get_subscription_count() == 0:
                return
        publisher.publish(msg)


def subscribe_input(
    node: Node,
    msg_type: type,
    topic: str,
    callback: Handler,
    qos: QoSProfile,
    local_inputs: Collection[str],
) -> Subscription | None:
    """A node's input over DDS, unless a producer composed with it hands `topic` over
    in-process (`local_inputs`, set by nodes/container.py); the callback is the same either way
    and is what the node lists in its `intra_process_inputs`."""
    if topic in local_inputs:
        return None
    return node.create_subscription(
        msg_type, topic, callback, qos, qos_overriding_options=overridable()
    )
