"""Outbox contents for the outbox and MQTT link tests: numbered JSON messages in order."""

from __future__ import annotations

import json

from inspection_nodes.core.bridge.outbox import Outbox


def message_id(i: int) -> str:
    return f"m{i:05d}"


def fill(outbox: Outbox, n: int, start: int = 0) -> None:
    """Put messages `start` .. `start + n - 1` (ids m00000, ...; JSON bodies with their id)."""
    for i in range(start, start + n):
        payload = json.dumps({"id": message_id(i), "i": i}).encode()
        outbox.put(message_id(i), "cell/test/verdict", payload)
