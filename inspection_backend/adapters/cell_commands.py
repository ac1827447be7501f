"""Signed commands to cells over MQTT: `inspection/<cell_id>/cmd`, QoS 1, confirmed by PUBACK.

The first document built for a command id is stored and every later send of that id publishes
the stored bytes again, so a step that runs twice (crash, retry) sends the identical signed
command, which the cell answers as a duplicate without applying it twice.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from inspection_backend.core.commands import CommandType, SigningKey, build_command, encode_command
from inspection_backend.db import holds_store
from inspection_backend.mqtt import make_client
from inspection_backend.settings import MqttSettings


class CommandNotSent(RuntimeError):
    """The broker did not confirm the command in time (the step retries it)."""


def command_topic(cell_id: str) -> str:
    return f"inspection/{cell_id}/cmd"


class CommandSender:
    def __init__(
        self, settings: MqttSettings, client_id: str, key: SigningKey, engine: sa.Engine
    ) -> None:
        self._key = key
        self._engine = engine
        self._client = make_client(settings, client_id)
        self._settings = settings
        self._connected = threading.Event()
        self._client.on_connect = lambda *_a: self._connected.set()
        self._client.on_disconnect = lambda *_a: self._connected.clear()

    def start(self) -> None:
        self._client.connect_async(self._settings.host, self._settings.port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def document(
        self, command_id: str, command_type: CommandType, cell_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The stored document of this id, or a newly signed one (stored before it is sent)."""
        with self._engine.begin() as conn:
            stored = holds_store.stored_command(conn, command_id)
            if stored is not None:
                return stored
            document = build_command(
                self._key, command_id, command_type, cell_id, params, datetime.now(UTC)
            )
            holds_store.record_command(conn, document)
        return document

    def publish(self, document: dict[str, Any], timeout_s: float = 10.0) -> None:
        """Publish and wait for the broker's PUBACK; raises CommandNotSent otherwise."""
        if not self._connected.wait(timeout_s):
            raise CommandNotSent(f"not connected to the broker within {timeout_s} s")
        info = self._client.publish(
            command_topic(document["cell_id"]), encode_command(document), qos=1
        )
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise CommandNotSent(f"publish failed: {exc}") from exc
        if not info.is_published():
            raise CommandNotSent(f"no PUBACK within {timeout_s} s")
        with self._engine.begin() as conn:
            holds_store.mark_published(conn, document["id"])

    def send(
        self, command_id: str, command_type: CommandType, cell_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        document = self.document(command_id, command_type, cell_id, params)
        self.publish(document)
        return document
