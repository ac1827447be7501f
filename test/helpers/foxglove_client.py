"""A minimal Foxglove WebSocket client (subprotocol `foxglove.sdk.v1`) for tests: channels from
`advertise`, subscribe by topic, `messageData` frames as (subscription id, log time, payload)."""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import Callable

from websockets.sync.client import ClientConnection, connect

SUBPROTOCOL = "foxglove.sdk.v1"
MESSAGE_DATA = 0x01


class FoxgloveClient:
    def __init__(self, url: str, pump: Callable[[], None] = lambda: None) -> None:
        """`pump` runs between reads (a test spins its rclpy executor there)."""
        self.ws: ClientConnection = connect(url, subprotocols=[SUBPROTOCOL], open_timeout=10)
        self.pump = pump
        self.channels: dict[str, dict] = {}
        self.server_info: dict = {}
        self.messages: dict[int, list[tuple[int, bytes]]] = {}
        self._topics: dict[int, str] = {}

    def read(self, timeout_s: float = 0.02) -> None:
        self.pump()
        try:
            frame = self.ws.recv(timeout=timeout_s)
        except TimeoutError:
            return
        if isinstance(frame, bytes):
            op, sub_id, log_time = struct.unpack_from("<BIQ", frame)
            if op == MESSAGE_DATA:
                self.messages.setdefault(sub_id, []).append((log_time, frame[13:]))
            return
        message = json.loads(frame)
        if message["op"] == "serverInfo":
            self.server_info = message
        elif message["op"] == "advertise":
            self.channels.update({c["topic"]: c for c in message["channels"]})

    def until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            self.read()
        return predicate()

    def subscribe(self, topic: str, sub_id: int) -> None:
        channel = self.channels[topic]["id"]
        self._topics[sub_id] = topic
        subscription = {"id": sub_id, "channelId": channel}
        self.ws.send(json.dumps({"op": "subscribe", "subscriptions": [subscription]}))

    def unsubscribe(self, sub_id: int) -> None:
        self.ws.send(json.dumps({"op": "unsubscribe", "subscriptionIds": [sub_id]}))

    def protobuf_class(self, topic: str) -> type:
        """The message class of a protobuf channel, built from the schema it advertised."""
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

        channel = self.channels[topic]
        files = descriptor_pb2.FileDescriptorSet.FromString(base64.b64decode(channel["schema"]))
        pool = descriptor_pool.DescriptorPool()
        for proto in files.file:
            pool.Add(proto)
        return message_factory.GetMessageClass(pool.FindMessageTypeByName(channel["schemaName"]))

    def close(self) -> None:
        self.ws.close()
