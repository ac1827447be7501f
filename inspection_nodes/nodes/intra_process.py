"""Same-process delivery of messages between composed nodes, ahead of DDS.

rclpy has no intra-process transport: two nodes in one process still serialise, copy through
the DDS transport and wake the executor for every message. For the cell's two large per-unit
messages (the 2.4 MB camera frame, the 477 kB patch embedding) that costs milliseconds on the
hot path, so a producer composed with its consumer (nodes/container.py) calls the consumer's
callback with the message object itself, then publishes over DDS only if another process
subscribes (rqt, the stability monitor). The consumer does not subscribe to that topic.

The one way in: a node of the hot path derives from `IntraProcessNode`.

- As a producer it publishes through `self.intra.publish(publisher, msg)`.
- As a consumer it lists the topics it can take in-process in `INTRA_PROCESS_INPUTS`, creates
  its subscriptions with `self.subscribe_input(...)` (none for a topic handed over in-process),
  and returns the callbacks it offers with its current parameters from
  `intra_process_inputs()`.

Which pairs are composed is graph.INTRA_PROCESS_EDGES; the order of a topic's handlers is
graph.intra_process_edges (there is no other state: nothing here is global to the process).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar

from rclpy.publisher import Publisher
from rclpy.qos import QoSProfile
from rclpy.subscription import Subscription

from inspection_nodes.nodes.qos import overridable

Handler = Callable[[Any], None]


class IntraProcess:
    """A producer node's same-process subscribers, by resolved topic name."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    def connect(self, topic: str, handler: Handler) -> None:
        """`topic` resolved (`node.resolve_topic_name`), as publishers report theirs; handlers
        run in the order they are connected."""
        self._handlers.setdefault(topic, []).append(handler)

    def consumed(self, topic: str) -> bool:
        """True when a node of this process takes `topic` (resolved) in-process: it has a
        subscriber even though DDS shows none (the camera's start-up wait asks this)."""
        return bool(self._handlers.get(topic))

    def publish(self, publisher: Publisher, msg: Any) -> None:
        """Local handlers first (the hot path), then DDS when it has or needs subscribers."""
        handlers = self._handlers.get(publisher.topic_name)
        if handlers:
            for handler in handlers:
                handler(msg)
            if publisher.get_subscription_count() == 0:
                return
        publisher.publish(msg)


class IntraProcessNode:
    """Mixin (before Node/LifecycleNode) for a node that hands messages to, or takes them from,
    a node composed in the same process. `local_inputs` (set by nodes/container.py) are the
    topics a composed producer delivers in-process; they must be in INTRA_PROCESS_INPUTS."""

    INTRA_PROCESS_INPUTS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args, local_inputs: Collection[str] = (), **kwargs) -> None:
        unknown = sorted(set(local_inputs) - set(self.INTRA_PROCESS_INPUTS))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} cannot take {', '.join(unknown)} in-process "
                f"(INTRA_PROCESS_INPUTS: {', '.join(self.INTRA_PROCESS_INPUTS) or 'none'})"
            )
        super().__init__(*args, **kwargs)
        self.local_inputs = frozenset(local_inputs)
        self.intra = IntraProcess()  # this node's in-process subscribers, as a producer

    def intra_process_inputs(self) -> Mapping[str, Handler]:
        """The callbacks this node offers for in-process delivery, by (relative) topic."""
        return {}

    def subscribe_input(
        self, msg_type: type, topic: str, callback: Handler, qos: QoSProfile
    ) -> Subscription | None:
        """An input over DDS, unless a composed producer hands `topic` over in-process; the
        callback is the same either way."""
        if topic in self.local_inputs:
            return None
        return self.create_subscription(
            msg_type, topic, callback, qos, qos_overriding_options=overridable()
        )
