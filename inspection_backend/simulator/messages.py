"""Payloads exactly as a cell (and the plant's MES) publish them, for the demo, the benchmark
and tests. They follow the cell's conventions: envelope `{"schema", "id", "type", "cell_id",
"body"}`, ids derived from what the message is about, so a re-send carries the same id."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode()


def _cell_envelope(kind: str, cell_id: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": f"inspection/{kind}/1",
        "id": f"{cell_id}:{kind}:{key}",
        "type": kind,
        "cell_id": cell_id,
        "body": body,
    }


def _plant_envelope(kind: str, line_id: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": f"plant/{kind}/1",
        "id": f"{line_id}:{kind}:{key}",
        "type": kind,
        "line_id": line_id,
        "body": body,
    }


def verdict(
    cell_id: str,
    unit_id: str,
    stamp_ns: int,
    decision: str,
    score: float | None,
    threshold: float | None,
    *,
    reasons: list[str] | None = None,
    anomaly: dict[str, Any] | None = None,
    detections: list[dict[str, Any]] | None = None,
    evidence: dict[str, str] | None = None,
    model_version: str = "sim-model-1",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "unit_id": unit_id,
        "stamp_ns": stamp_ns,
        "source": "simulated",
        "decision": decision,
        "reasons": reasons if reasons is not None else [],
        "score": score,
        "image_threshold": threshold,
        "model_version": model_version,
        "config_version": "sim-config-1",
        "decided_at_ms": 21.5,
        "timings_ms": {"roi": 1.2, "embedding": 4.1, "scoring": 3.3},
    }
    for key, value in (("anomaly", anomaly), ("detections", detections), ("evidence", evidence)):
        if value is not None:
            body[key] = value
    return _cell_envelope("verdict", cell_id, f"{unit_id}:{stamp_ns}", body)


def evidence(cell_id: str, unit_id: str, kind: str, data: bytes, media_type: str) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    body = {
        "unit_id": unit_id,
        "kind": kind,
        "media_type": media_type,
        "sha256": digest,
        "data_b64": base64.b64encode(data).decode("ascii"),
    }
    return _cell_envelope("evidence", cell_id, f"{unit_id}:{kind}:{digest[:16]}", body)


def stability(cell_id: str, stamp_ns: int, level: str, index: float) -> dict[str, Any]:
    body = {
        "stamp_ns": stamp_ns,
        "model_version": "sim-model-1",
        "window_units": 200,
        "index": index,
        "level": level,
        "components": [{"name": "score_quantile", "value": index, "normalised": index}],
    }
    return _cell_envelope("stability", cell_id, str(stamp_ns), body)


def command_result(
    cell_id: str, command_id: str, command_type: str, accepted: bool, reason: str
) -> dict[str, Any]:
    body = {
        "command_id": command_id,
        "command_type": command_type,
        "accepted": accepted,
        "reason": reason,
    }
    key = f"{command_id}:{'ok' if accepted else 'rejected'}"
    return _cell_envelope("command_result", cell_id, key, body)


def context(
    line_id: str, cell_id: str, unit_id: str, stamp_ns: int, **fields: str
) -> dict[str, Any]:
    body = {"cell_id": cell_id, "unit_id": unit_id, "stamp_ns": stamp_ns, **fields}
    return _plant_envelope("context", line_id, f"{cell_id}:{unit_id}", body)


def process(line_id: str, machine: str, stamp_ns: int, values: dict[str, float]) -> dict[str, Any]:
    body = {"machine": machine, "stamp_ns": stamp_ns, "values": values}
    return _plant_envelope("process", line_id, f"{machine}:{stamp_ns}", body)
