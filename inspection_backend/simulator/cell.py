"""The MQTT side of a cell, simulated: publishes at QoS 1 on a persistent session (paho re-sends
what was not acknowledged after a reconnect, like the cell's outbox drain), and answers the
commands it receives on `inspection/<cell>/cmd` the way a hardened cell will: it applies a
command only when its Ed25519 signature verifies with the backend's public key, and answers
every command with a `command_result`."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from inspection_backend.core.commands import verify_command
from inspection_backend.mqtt import make_client, persistent_session
from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages


@dataclass(frozen=True)
class ReceivedCommand:
    received_at: float  # time.monotonic()
    received_wall: float  # time.time(), to compare with database timestamps
    document: dict[str, Any]
    verified: bool


class SimulatedCell:
    def __init__(
        self,
        settings: MqttSettings,
        cell_ids: list[str],
        public_key_b64: str,
        client_id: str = "",
        answer: bool = True,
    ) -> None:
        self.cell_ids = cell_ids
        self._public_key = public_key_b64
        self._answer = answer
        self._lock = threading.Lock()
        self.commands: list[ReceivedCommand] = []
        self.applied: set[str] = set()
        self.held: dict[str, bool] = dict.fromkeys(cell_ids, False)
        self._unacked: set[int] = set()
        self._early: set[int] = set()
        self._settings = settings
        self._connected = threading.Event()
        self._client = make_client(settings, client_id or f"sim-{'-'.join(cell_ids)[:40]}")
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish

    def start(self, timeout_s: float = 10.0) -> SimulatedCell:
        self._client.connect(
            self._settings.host,
            self._settings.port,
            keepalive=30,
            clean_start=False,
            properties=persistent_session(1000),
        )
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            raise TimeoutError("simulated cell could not connect to the broker")
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, _userdata, _flags, reason, _props) -> None:
        if reason.is_failure:
            return
        client.subscribe([(f"inspection/{cell}/cmd", 1) for cell in self.cell_ids])
        self._connected.set()

    def publish(self, topic: str, message: dict[str, Any] | bytes) -> int:
        """Queue a QoS 1 message (also while disconnected: paho sends it on reconnect and
        re-sends what was in flight); returns its message id, cleared on PUBACK."""
        payload = message if isinstance(message, bytes) else messages.encode(message)
        # Not under self._lock: paho calls on_publish holding its own mutex, which publish()
        # also takes; a PUBACK that beats us here is remembered in _early.
        info = self._client.publish(topic, payload, qos=1)
        with self._lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
            else:
                self._unacked.add(info.mid)
        return info.mid

    def _on_publish(self, _client, _userdata, mid, _reason, _props) -> None:
        with self._lock:
            if mid in self._unacked:
                self._unacked.discard(mid)
            else:
                self._early.add(mid)

    def publish_cell(self, message: dict[str, Any]) -> int:
        return self.publish(f"inspection/{message['cell_id']}/{message['type']}", message)

    def publish_plant(self, message: dict[str, Any]) -> int:
        return self.publish(f"plant/{message['line_id']}/{message['type']}", message)

    def wait_acknowledged(self, timeout_s: float = 60.0) -> int:
        """Wait until the broker acknowledged everything published; returns how many are not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._unacked:
                    return 0
            time.sleep(0.05)
        with self._lock:
            return len(self._unacked)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        received, wall = time.monotonic(), time.time()
        try:
            document = json.loads(message.payload)
        except ValueError:
            return
        verified = verify_command(document, self._public_key)
        with self._lock:
            self.commands.append(ReceivedCommand(received, wall, document, verified))
        if self._answer:
            self._reply(document, verified)

    def _reply(self, document: dict[str, Any], verified: bool) -> None:
        cell_id = document.get("cell_id", "")
        command_id = str(document.get("id", ""))
        kind = str(document.get("type", ""))
        if cell_id not in self.held:
            return
        if not verified:
            accepted, reason = False, "signature does not verify: not applied"
        elif command_id in self.applied:
            accepted, reason = False, "duplicate command id: already handled, not applied again"
        else:
            accepted, reason = True, "accepted"
            self.applied.add(command_id)
            if kind in ("line_hold", "line_release"):
                self.held[cell_id] = kind == "line_hold"
                reason = f"line/hold set to {self.held[cell_id]}"
        self.publish_cell(messages.command_result(cell_id, command_id, kind, accepted, reason))

    def received(self, kind: str | None = None) -> list[ReceivedCommand]:
        with self._lock:
            return [c for c in self.commands if kind is None or c.document.get("type") == kind]
