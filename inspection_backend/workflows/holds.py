"""Line hold of a critical case (workflow id `hold:<case id>`): hold the cell, tell the MES,
wait as long as it takes for a person to release it, then resume the cell.

Holds and releases of one cell are serialised by a PostgreSQL advisory lock: the release
command is sent only when no other hold of that cell is still active, and a new hold that
races a release is recorded before the release looks, so the cell can never be resumed while
another critical case still holds it.
"""

from __future__ import annotations

import time
import zlib
from contextlib import contextmanager
from functools import partial

import sqlalchemy as sa
from dbos import DBOS

from inspection_backend.adapters.cell_commands import CommandNotSent
from inspection_backend.core.commands import CommandType
from inspection_backend.db import holds_store
from inspection_backend.db.cases_store import CaseFile
from inspection_backend.workflows.runtime import runtime, step, until_database_answers
from inspection_backend.workflows.steps import best_effort, notify
from inspection_backend.workflows.waiting import wait_for

RELEASE_TOPIC = "release"
_SEND_BACKOFF_MAX_S = 5.0


@contextmanager
def _cell_lock(cell_id: str):
    """Session advisory lock on the cell for the duration of the block."""
    key = zlib.crc32(f"cell-hold:{cell_id}".encode())
    with runtime().engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _send_until_confirmed(command_id: str, kind: CommandType, cell_id: str, reason: str) -> None:
    """A hold or release must reach the cell: retried (backoff up to 5 s) until the broker
    confirms it."""
    delay = 0.2
    sender = runtime().commands
    while True:
        try:
            sender.send(command_id, kind, cell_id, {"reason": reason[:512]})
            return
        except CommandNotSent:
            time.sleep(delay)
            delay = min(delay * 2, _SEND_BACKOFF_MAX_S)


def _hold_cell(case: CaseFile) -> str:
    reason = f"critical {case.defect_class} on unit {case.unit_id}: {case.route_reason}"
    with _cell_lock(case.cell_id):
        with runtime().engine.begin() as conn:
            hold_id = holds_store.open_hold(conn, case.case_id, case.cell_id, case.line_id, reason)
        _send_until_confirmed(hold_id, CommandType.LINE_HOLD, case.cell_id, reason)
    return hold_id


def _release_cell(case: CaseFile, released_by: str) -> str:
    with _cell_lock(case.cell_id):
        with runtime().engine.connect() as conn:
            others = [h for h in holds_store.active_holds(conn) if h.cell_id == case.cell_id]
        if others:
            return f"cell stays held by {len(others)} other hold(s)"
        reason = f"released by {released_by} ({holds_store.hold_id_for(case.case_id)})"
        _send_until_confirmed(
            f"release:{case.case_id}", CommandType.LINE_RELEASE, case.cell_id, reason
        )
    return "released"


def _released_by(hold_id: str) -> str | None:
    with runtime().engine.connect() as conn:
        hold = holds_store.get_hold(conn, hold_id)
    return hold.released_by if hold is not None and hold.state == holds_store.RELEASED else None


@DBOS.workflow(name="line_hold")
def line_hold(case: CaseFile) -> str:
    hold_id = step("hold_cell", until_database_answers, _hold_cell, case)
    systems = runtime().systems
    best_effort(
        "mes_hold",
        "line_hold",
        hold_id,
        systems.mes.hold,
        hold_id,
        case.line_id,
        case.cell_id,
        case.route_reason,
    )
    notify(hold_id, "line_hold", f"{case.line_id} held: {case.route_reason}", "line_hold", hold_id)
    released_by = wait_for(RELEASE_TOPIC, "hold_check", partial(_released_by, hold_id))
    outcome = step("release_cell", until_database_answers, _release_cell, case, released_by)
    best_effort("mes_release", "line_hold", hold_id, systems.mes.release, hold_id, released_by)
    return f"{outcome} by {released_by}"
