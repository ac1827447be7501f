"""Line holds and the commands sent to cells.

A hold is opened by the critical-defect workflow and closed only by a person (release on the
page). Every command document sent to a cell is kept with its signature, and the cell's
`command_result` answer is joined to it by command id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from inspection_backend.db import audit
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.tables import command_results, commands, line_holds

ACTIVE = "active"
RELEASED = "released"


@dataclass(frozen=True)
class HoldView:
    hold_id: str
    case_id: str
    cell_id: str
    line_id: str
    reason: str
    state: str
    requested_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


def hold_id_for(case_id: str) -> str:
    return f"hold:{case_id}"


def open_hold(conn: sa.Connection, case_id: str, cell_id: str, line_id: str, reason: str) -> str:
    hold_id = hold_id_for(case_id)
    inserted = conn.execute(
        insert(line_holds)
        .values(
            hold_id=hold_id,
            case_id=case_id,
            cell_id=cell_id,
            line_id=line_id,
            reason=reason,
            state=ACTIVE,
        )
        .on_conflict_do_nothing()
        .returning(line_holds.c.hold_id)
    ).first()
    if inserted is not None:
        audit.record(
            conn,
            AuditEntry("system", "hold.opened", "line_hold", hold_id, reason, {"line": line_id}),
        )
    return hold_id


def release_hold(conn: sa.Connection, hold_id: str, username: str, reason: str) -> bool:
    """Mark an active hold released by `username`; False when it was not active."""
    released = conn.execute(
        line_holds.update()
        .where(line_holds.c.hold_id == hold_id, line_holds.c.state == ACTIVE)
        .values(
            state=RELEASED,
            released_by=username,
            released_at=sa.func.now(),
            release_reason=reason,
        )
        .returning(line_holds.c.hold_id)
    ).first()
    if released is not None:
        audit.record(conn, AuditEntry(username, "hold.released", "line_hold", hold_id, reason))
    return released is not None


def get_hold(conn: sa.Connection, hold_id: str) -> HoldView | None:
    row = conn.execute(sa.select(line_holds).where(line_holds.c.hold_id == hold_id)).first()
    return _view(row) if row is not None else None


def active_holds(conn: sa.Connection) -> list[HoldView]:
    rows = conn.execute(
        sa.select(line_holds)
        .where(line_holds.c.state == ACTIVE)
        .order_by(line_holds.c.requested_at)
    )
    return [_view(r) for r in rows]


def _view(row: sa.Row) -> HoldView:
    m = row._mapping
    return HoldView(**{f: m[f] for f in HoldView.__dataclass_fields__})


def record_command(conn: sa.Connection, document: dict[str, Any]) -> None:
    conn.execute(
        insert(commands)
        .values(
            command_id=document["id"],
            cell_id=document["cell_id"],
            command_type=document["type"],
            document=document,
        )
        .on_conflict_do_nothing()
    )


def stored_command(conn: sa.Connection, command_id: str) -> dict[str, Any] | None:
    return conn.execute(
        sa.select(commands.c.document).where(commands.c.command_id == command_id)
    ).scalar_one_or_none()


def mark_published(conn: sa.Connection, command_id: str) -> None:
    conn.execute(
        commands.update()
        .where(commands.c.command_id == command_id, commands.c.published_at.is_(None))
        .values(published_at=sa.func.now())
    )


def command_answers(conn: sa.Connection, command_id: str) -> list[sa.Row]:
    """The cell's answers to a command (a re-sent command is answered again: 'duplicate')."""
    return list(
        conn.execute(
            sa.select(command_results)
            .where(command_results.c.command_id == command_id)
            .order_by(command_results.c.received_at)
        )
    )
