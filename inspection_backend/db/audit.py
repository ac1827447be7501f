"""Audit rows: who did what to which entity, when and why. Written by the same transaction as
the change they describe (the table refuses UPDATE and DELETE)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from inspection_backend.db.tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    entity: str
    entity_id: str
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


def record(conn: sa.Connection, *entries: AuditEntry) -> None:
    """Append entries (in one statement) on the caller's transaction."""
    record_many(conn, entries)


def record_many(conn: sa.Connection, entries: Sequence[AuditEntry]) -> None:
    if not entries:
        return
    conn.execute(
        audit_log.insert(),
        [
            {
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "reason": e.reason,
                "detail": dict(e.detail),
            }
            for e in entries
        ],
    )


def history(conn: sa.Connection, entity: str, entity_id: str) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(audit_log)
            .where(audit_log.c.entity == entity, audit_log.c.entity_id == entity_id)
            .order_by(audit_log.c.id)
        )
    )
