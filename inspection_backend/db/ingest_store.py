"""Writes one ingest batch: every accepted record into its raw table, keyed by the sender's
message id (a re-delivered message is dropped by the key), and every refused payload into
dead_letters with its reason. The caller commits once for the whole batch, then acknowledges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.core.messages import (
    Accepted,
    ActuatorRecord,
    CommandResultRecord,
    ContextRecord,
    EvidenceRecord,
    Kind,
    LabelRecord,
    ProcessRecord,
    Rejected,
    StabilityRecord,
    VerdictRecord,
)
from inspection_backend.db.engine import ns_to_datetime
from inspection_backend.db.tables import (
    actuator_events,
    command_results,
    dead_letters,
    evidence,
    inspector_labels,
    process_samples,
    stability_reports,
    unit_context,
    verdicts,
)


@dataclass
class BatchOutcome:
    inserted: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    new_fail_verdicts: int = 0


def _verdict_row(r: VerdictRecord) -> dict[str, Any]:
    a = r.anomaly
    e = r.evidence
    return {
        "message_id": r.message_id,
        "cell_id": r.cell_id,
        "unit_id": r.unit_id,
        "stamp": ns_to_datetime(r.stamp_ns),
        "decision": r.decision,
        "score": r.score,
        "image_threshold": r.image_threshold,
        "reasons": list(r.reasons),
        "model_version": r.model_version,
        "config_version": r.config_version,
        "source": r.source,
        "decided_at_ms": r.decided_at_ms,
        "area_px": a.area_px if a else None,
        "area_ratio": a.area_ratio if a else None,
        "regions": a.regions if a else None,
        "peak_x": a.peak_x if a else None,
        "peak_y": a.peak_y if a else None,
        "detections": [asdict(d) for d in r.detections] if r.detections is not None else None,
        "image_sha256": e.image_sha256 if e else None,
        "heatmap_sha256": e.heatmap_sha256 if e else None,
        "evidence_ref": e.ref if e else None,
        "body": dict(r.body),
    }


def _actuator_row(r: ActuatorRecord) -> dict[str, Any]:
    return {
        "message_id": r.message_id,
        "cell_id": r.cell_id,
        "unit_id": r.unit_id,
        "stamp": ns_to_datetime(r.stamp_ns),
        "outcome": r.outcome,
        "body": dict(r.body),
    }


def _stability_row(r: StabilityRecord) -> dict[str, Any]:
    return {
        "message_id": r.message_id,
        "cell_id": r.cell_id,
        "stamp": ns_to_datetime(r.stamp_ns),
        "model_version": r.model_version,
        "level": r.level,
        "stability_index": r.index,
        "body": dict(r.body),
    }


def _command_result_row(r: CommandResultRecord) -> dict[str, Any]:
    return asdict(r)


def _evidence_row(r: EvidenceRecord) -> dict[str, Any]:
    return asdict(r)


def _context_row(r: ContextRecord) -> dict[str, Any]:
    row = asdict(r)
    row["stamp"] = ns_to_datetime(row.pop("stamp_ns"))
    return row


def _process_row(r: ProcessRecord) -> dict[str, Any]:
    return {
        "message_id": r.message_id,
        "line_id": r.line_id,
        "machine": r.machine,
        "stamp": ns_to_datetime(r.stamp_ns),
        "parameter_values": dict(r.values),
    }


def _label_row(r: LabelRecord) -> dict[str, Any]:
    row = asdict(r)
    row["stamp"] = ns_to_datetime(row.pop("stamp_ns"))
    row["source"] = "mes"
    return row


_TABLES: dict[Kind, tuple[sa.Table, Callable[[Any], dict[str, Any]]]] = {
    Kind.VERDICT: (verdicts, _verdict_row),
    Kind.ACTUATOR_EVENT: (actuator_events, _actuator_row),
    Kind.STABILITY: (stability_reports, _stability_row),
    Kind.COMMAND_RESULT: (command_results, _command_result_row),
    Kind.EVIDENCE: (evidence, _evidence_row),
    Kind.CONTEXT: (unit_context, _context_row),
    Kind.PROCESS: (process_samples, _process_row),
    Kind.LABEL: (inspector_labels, _label_row),
}


def write_batch(
    conn: sa.Connection, accepted: Sequence[Accepted], rejected: Sequence[Rejected]
) -> BatchOutcome:
    """Insert the batch on the caller's transaction; duplicates are counted, not errors."""
    outcome = BatchOutcome()
    grouped: dict[Kind, list[Any]] = defaultdict(list)
    for item in accepted:
        grouped[item.kind].append(item.record)
    for kind, records in grouped.items():
        table, to_row = _TABLES[kind]
        # A message repeated inside one batch must not hit the key twice in one statement.
        unique = {r.message_id: r for r in records}
        rows = [to_row(r) for r in unique.values()]
        stmt = insert(table).on_conflict_do_nothing().returning(table.c.message_id)
        new_ids = set(conn.execute(stmt, rows).scalars())
        outcome.inserted += len(new_ids)
        outcome.duplicates += len(records) - len(new_ids)
        if kind is Kind.VERDICT:
            outcome.new_fail_verdicts += sum(
                1 for r in unique.values() if r.failed and r.message_id in new_ids
            )
    if rejected:
        conn.execute(
            dead_letters.insert(),
            [
                {
                    "topic": r.topic,
                    "reason": str(r.reason),
                    "detail": r.detail[:2000],
                    "message_id": r.message_id,
                    "payload": r.payload,
                }
                for r in rejected
            ],
        )
        outcome.dead_letters = len(rejected)
    return outcome
