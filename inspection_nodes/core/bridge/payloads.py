"""JSON payloads the bridge sends to the backend: envelope, stable ids, topics and schemas.

Every message is `{"schema", "id", "type", "cell_id", "body"}`. The id is derived from what the
message is about (cell, type, capture stamp, unit), never from when it was sent, so a message
that is re-sent after a crash or a lost PUBACK carries the same id and the receiver drops it.
The JSON Schema of each type ships in `inspection_nodes/schemas/<type>.json`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from typing import Any

import jsonschema

from inspection_nodes import PACKAGE_DIR

SCHEMA_DIR = PACKAGE_DIR / "schemas"


class PayloadType(StrEnum):
    """What the cell sends; each has `schemas/<value>.json` and the topic `.../<value>`."""

    VERDICT = "verdict"
    ACTUATOR_EVENT = "actuator_event"
    STABILITY = "stability"
    COMMAND_RESULT = "command_result"


OUTBOUND_TYPES = tuple(PayloadType)


@cache
def validator(schema_name: str) -> jsonschema.protocols.Validator:
    """A compiled validator for `schemas/<schema_name>.json` (loaded once)."""
    schema = json.loads((SCHEMA_DIR / f"{schema_name}.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def message_id(cell_id: str, kind: str, key: str) -> str:
    """Stable id: the same fact (cell, type, unit or stamp) always gets the same id."""
    return f"{cell_id}:{kind}:{key}"


def fact_key(body: Mapping[str, Any]) -> str:
    """The key of a unit fact (verdict, actuator event) or a stamped report: unit id and capture
    stamp, so a re-sent fact keeps its id."""
    return f"{body.get('unit_id', '')}:{body['stamp_ns']}"


def topic(prefix: str, cell_id: str, kind: str) -> str:
    """MQTT topic layout: `<prefix>/<cell_id>/<type>`."""
    return f"{prefix}/{cell_id}/{kind}"


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN: a missing score (NaN in ROS) travels as null."""
    value = float(value)
    return value if math.isfinite(value) else None


def envelope(kind: str, cell_id: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    if kind not in OUTBOUND_TYPES:
        raise ValueError(f"unknown payload type {kind!r}")
    return {
        "schema": f"inspection/{kind}/1",
        "id": message_id(cell_id, kind, key),
        "type": kind,
        "cell_id": cell_id,
        "body": body,
    }


def encode(message: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the bytes that go on the wire and into the outbox."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode()
