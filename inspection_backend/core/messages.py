"""What arrives over MQTT, as typed records: topic and payload checked, or refused with a reason.

Two families of topics reach the backend:
- `inspection/<cell_id>/<type>`: what a cell publishes (the cell's schemas) plus `evidence`
  (pictures of a unit, the backend's schema);
- `plant/<line_id>/<type>`: plant context the cell does not know (the backend's schemas):
  `context` (SKU, supplier batch, machine, shift of a unit), `process` (machine parameters),
  `label` (an inspector's category and description from an MES import).

`MessageParser.parse` never raises: every payload becomes either an `Accepted` record or a
`Rejected` one whose reason goes to the dead-letter table. A payload is refused when it is too
large, not UTF-8 JSON, fails its schema, comes from an unknown cell or line, or names another
cell (or line) than the topic it was published under: the broker's ACL lets a cell write only
under its own id, so a payload that claims another id is not trusted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CELL_ROOT = "inspection"
PLANT_ROOT = "plant"
DEFAULT_MAX_BYTES = 64 * 1024
EVIDENCE_MAX_BYTES = 4 * 1024 * 1024


class Kind(StrEnum):
    VERDICT = "verdict"
    ACTUATOR_EVENT = "actuator_event"
    STABILITY = "stability"
    COMMAND_RESULT = "command_result"
    EVIDENCE = "evidence"
    CONTEXT = "context"
    PROCESS = "process"
    LABEL = "label"


CELL_KINDS = (Kind.VERDICT, Kind.ACTUATOR_EVENT, Kind.STABILITY, Kind.COMMAND_RESULT, Kind.EVIDENCE)
PLANT_KINDS = (Kind.CONTEXT, Kind.PROCESS, Kind.LABEL)


class RejectReason(StrEnum):
    OVERSIZED = "oversized"
    NOT_JSON = "not_json"
    UNKNOWN_TOPIC = "unknown_topic"
    SCHEMA = "schema"
    UNKNOWN_SOURCE = "unknown_source"
    FOREIGN_TOPIC = "foreign_topic"
    EVIDENCE_HASH = "evidence_hash"
    DB_REFUSED = "db_refused"  # valid JSON the database cannot store (e.g. a NUL character)


@dataclass(frozen=True)
class AnomalyFeatures:
    area_px: int
    area_ratio: float
    regions: int
    largest_region_px: int | None = None
    peak_x: int | None = None
    peak_y: int | None = None
    map_width: int | None = None
    map_height: int | None = None
    pixel_threshold: float | None = None


@dataclass(frozen=True)
class Detection:
    class_name: str
    confidence: float
    box: tuple[float, float, float, float] | None = None


@dataclass(frozen=True)
class EvidenceRefs:
    ref: str | None = None
    image_sha256: str | None = None
    heatmap_sha256: str | None = None


@dataclass(frozen=True)
class VerdictRecord:
    message_id: str
    cell_id: str
    unit_id: str
    stamp_ns: int
    decision: str
    reasons: tuple[str, ...]
    score: float | None
    image_threshold: float | None
    model_version: str
    config_version: str
    source: str
    decided_at_ms: float | None
    anomaly: AnomalyFeatures | None
    detections: tuple[Detection, ...] | None
    evidence: EvidenceRefs | None
    body: Mapping[str, Any] = field(repr=False)

    @property
    def failed(self) -> bool:
        return self.decision == "FAIL"


@dataclass(frozen=True)
class ActuatorRecord:
    message_id: str
    cell_id: str
    unit_id: str
    stamp_ns: int
    outcome: str
    body: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class StabilityRecord:
    message_id: str
    cell_id: str
    stamp_ns: int
    model_version: str
    level: str
    index: float | None
    body: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class CommandResultRecord:
    message_id: str
    cell_id: str
    command_id: str
    command_type: str
    accepted: bool
    reason: str


@dataclass(frozen=True)
class EvidenceRecord:
    message_id: str
    cell_id: str
    unit_id: str
    kind: str
    media_type: str
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ContextRecord:
    message_id: str
    line_id: str
    cell_id: str
    unit_id: str
    stamp_ns: int
    sku: str | None
    lot: str | None
    supplier: str | None
    supplier_batch: str | None
    machine: str | None
    shift: str | None


@dataclass(frozen=True)
class ProcessRecord:
    message_id: str
    line_id: str
    machine: str
    stamp_ns: int
    values: Mapping[str, float]


@dataclass(frozen=True)
class LabelRecord:
    message_id: str
    line_id: str
    cell_id: str
    unit_id: str
    inspector: str
    category: str
    defect_class: str | None
    description: str | None
    stamp_ns: int


Record = (
    VerdictRecord
    | ActuatorRecord
    | StabilityRecord
    | CommandResultRecord
    | EvidenceRecord
    | ContextRecord
    | ProcessRecord
    | LabelRecord
)


@dataclass(frozen=True)
class Accepted:
    kind: Kind
    record: Record


@dataclass(frozen=True)
class Rejected:
    reason: RejectReason
    detail: str
    topic: str
    payload: bytes = field(repr=False)
    message_id: str | None = None


# Checks a document against one schema: None when valid, else a one-line error.
SchemaCheck = Callable[[Any], str | None]


@dataclass(frozen=True)
class Sources:
    """Who may publish: the cells and lines the plant configuration knows."""

    cells: frozenset[str]
    lines: frozenset[str]


class MessageParser:
    """Topic + payload bytes -> Accepted or Rejected; pure, thread-safe, never raises."""

    def __init__(
        self,
        checks: Mapping[Kind, SchemaCheck],
        sources: Sources,
        max_bytes: int = DEFAULT_MAX_BYTES,
        evidence_max_bytes: int = EVIDENCE_MAX_BYTES,
    ) -> None:
        missing = set(Kind) - set(checks)
        if missing:
            raise ValueError(f"no schema check for {sorted(missing)}")
        self._checks = dict(checks)
        self.sources = sources
        self._max_bytes = max_bytes
        self._evidence_max_bytes = evidence_max_bytes

    def parse(self, topic: str, payload: bytes) -> Accepted | Rejected:
        try:
            return self._parse(topic, payload)
        except Exception as exc:  # a parser bug must dead-letter the message, not stop ingest
            return Rejected(RejectReason.SCHEMA, f"unexpected: {exc!r}", topic, payload)

    def _parse(self, topic: str, payload: bytes) -> Accepted | Rejected:
        parts = topic.split("/")
        route = _topic_route(parts)
        if route is None:
            return Rejected(
                RejectReason.UNKNOWN_TOPIC, f"no handler for topic {topic!r}", topic, payload
            )
        kind, source_field, source = route
        limit = self._evidence_max_bytes if kind is Kind.EVIDENCE else self._max_bytes
        if len(payload) > limit:
            return Rejected(
                RejectReason.OVERSIZED, f"{len(payload)} bytes > limit {limit}", topic, payload
            )
        try:
            doc = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return Rejected(RejectReason.NOT_JSON, f"not UTF-8 JSON: {exc}", topic, payload)
        message_id = _message_id(doc)
        error = self._checks[kind](doc)
        if error is not None:
            return Rejected(RejectReason.SCHEMA, error, topic, payload, message_id)
        if doc[source_field] != source:
            return Rejected(
                RejectReason.FOREIGN_TOPIC,
                f"payload {source_field} {doc[source_field]!r} published under {topic!r}",
                topic,
                payload,
                message_id,
            )
        known = self.sources.cells if source_field == "cell_id" else self.sources.lines
        if source not in known:
            what = "cell" if source_field == "cell_id" else "line"
            return Rejected(
                RejectReason.UNKNOWN_SOURCE,
                f"unknown {what} {source!r} (not in the plant configuration)",
                topic,
                payload,
                message_id,
            )
        if kind in (Kind.CONTEXT, Kind.LABEL) and doc["body"]["cell_id"] not in self.sources.cells:
            return Rejected(
                RejectReason.UNKNOWN_SOURCE,
                f"unknown cell {doc['body']['cell_id']!r} in a {kind} message",
                topic,
                payload,
                message_id,
            )
        return _BUILDERS[kind](doc, topic, payload)


def _topic_route(parts: list[str]) -> tuple[Kind, str, str] | None:
    """(kind, the payload field naming the source, the source id in the topic) or None."""
    if len(parts) != 3 or not parts[1]:
        return None
    root, source, kind_text = parts
    try:
        kind = Kind(kind_text)
    except ValueError:
        return None
    if root == CELL_ROOT and kind in CELL_KINDS:
        return kind, "cell_id", source
    if root == PLANT_ROOT and kind in PLANT_KINDS:
        return kind, "line_id", source
    return None


def _message_id(doc: Any) -> str | None:
    value = doc.get("id") if isinstance(doc, dict) else None
    return value[:256] if isinstance(value, str) and value else None


def _opt(body: Mapping[str, Any], key: str) -> Any:
    value = body.get(key)
    return value if value != "" else None


def _verdict(doc: dict[str, Any], _topic: str, _payload: bytes) -> Accepted:
    body = doc["body"]
    anomaly = body.get("anomaly")
    detections = body.get("detections")
    evidence = body.get("evidence")
    record = VerdictRecord(
        message_id=doc["id"],
        cell_id=doc["cell_id"],
        unit_id=body["unit_id"],
        stamp_ns=body["stamp_ns"],
        decision=body["decision"],
        reasons=tuple(body["reasons"]),
        score=body["score"],
        image_threshold=body["image_threshold"],
        model_version=body["model_version"],
        config_version=body["config_version"],
        source=body["source"],
        decided_at_ms=body["decided_at_ms"],
        anomaly=AnomalyFeatures(**anomaly) if anomaly is not None else None,
        detections=(
            tuple(
                Detection(d["class_name"], d["confidence"], tuple(d["box"]) if "box" in d else None)
                for d in detections
            )
            if detections is not None
            else None
        ),
        evidence=EvidenceRefs(**evidence) if evidence is not None else None,
        body=body,
    )
    return Accepted(Kind.VERDICT, record)


def _actuator(doc: dict[str, Any], _topic: str, _payload: bytes) -> Accepted:
    body = doc["body"]
    return Accepted(
        Kind.ACTUATOR_EVENT,
        ActuatorRecord(
            doc["id"], doc["cell_id"], body["unit_id"], body["stamp_ns"], body["outcome"], body
        ),
    )


def _stability(doc: dict[str, Any], _topic: str, _payload: bytes) -> Accepted:
    body = doc["body"]
    return Accepted(
        Kind.STABILITY,
        StabilityRecord(
            doc["id"],
            doc["cell_id"],
            body["stamp_ns"],
            body["model_version"],
            body["level"],
            body["index"],
            body,
        ),
    )


def _command_result(doc: dict[str, Any], _topic: str, _payload: bytes) -> Accepted:
    body = doc["body"]
    return Accepted(
        Kind.COMMAND_RESULT,
        CommandResultRecord(
            doc["id"],
            doc["cell_id"],
            body["command_id"],
            body["command_type"],
            body["accepted"],
            body["reason"],
        ),
    )


def _evidence(doc: dict[str, Any], topic: str, payload: bytes) -> Accepted | Rejected:
    body = doc["body"]
    try:
        data = base64.b64decode(body["data_b64"], validate=True)
    except (binascii.Error, ValueError) as exc:
        return Rejected(
            RejectReason.SCHEMA, f"data_b64 is not base64: {exc}", topic, payload, doc["id"]
        )
    digest = hashlib.sha256(data).hexdigest()
    if digest != body["sha256"]:
        return Rejected(
            RejectReason.EVIDENCE_HASH,
            f"sha256 of the data is {digest}, the message says {body['sha256']}",
            topic,
            payload,
            doc["id"],
        )
    return Accepted(
        Kind.EVIDENCE,
        EvidenceRecord(
            doc["id"],
            doc["cell_id"],
            body["unit_id"],
            body["kind"],
            body["media_type"],
            digest,
            data,
        ),
    )


def _context(doc: dict[str, Any], _topic: str, _payload: bytes) -> Accepted:
    body = doc["body"]
    return Accepted(
        Kind.CONTEXT,
        ContextRecord(
            doc["id"],
            doc["line_id"],
            body["cell_id"],
            body["unit_id"],
            body["stamp_ns"],
            *(_opt(body, key) for key in ("sku", "lot", "supplier", "supplier_batch", "machine")),
            _opt(body, "shift"),
        ),
    )


def _process(doc: dict[str, Any], _topic: str, _payload: bytes) -> Accepted:
    body = doc["body"]
    values = {name: float(value) for name, value in body["values"].items()}
    return Accepted(
        Kind.PROCESS,
        ProcessRecord(doc["id"], doc["line_id"], body["machine"], body["stamp_ns"], values),
    )


def _label(doc: dict[str, Any], _topic: str, _payload: bytes) -> Accepted:
    body = doc["body"]
    return Accepted(
        Kind.LABEL,
        LabelRecord(
            doc["id"],
            doc["line_id"],
            body["cell_id"],
            body["unit_id"],
            body["inspector"],
            body["category"],
            _opt(body, "defect_class"),
            _opt(body, "description"),
            body["stamp_ns"],
        ),
    )


_BUILDERS: dict[Kind, Callable[[dict[str, Any], str, bytes], Accepted | Rejected]] = {
    Kind.VERDICT: _verdict,
    Kind.ACTUATOR_EVENT: _actuator,
    Kind.STABILITY: _stability,
    Kind.COMMAND_RESULT: _command_result,
    Kind.EVIDENCE: _evidence,
    Kind.CONTEXT: _context,
    Kind.PROCESS: _process,
    Kind.LABEL: _label,
}
