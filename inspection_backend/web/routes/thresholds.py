"""Threshold proposals: an engineer approves one and the backend sends the signed
`threshold_update` to the cell (the cell's answer shows up beside it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from inspection_backend.core.auth import Permission
from inspection_backend.core.commands import CommandType
from inspection_backend.db import holds_store, proposals_store
from inspection_backend.db.users_store import Session
from inspection_backend.web.pages import render
from inspection_backend.web.security import context, guarded, require

router = APIRouter()


@router.get("/thresholds")
def proposals(
    request: Request, session: Annotated[Session, Depends(require(Permission.VIEW))]
) -> Response:
    with context(request).engine.connect() as conn:
        rows = proposals_store.list_proposals(conn)
        answers = {
            r["command_id"]: holds_store.command_answers(conn, r["command_id"])
            for r in rows
            if r["command_id"]
        }
    return render(request, "thresholds.html", session, proposals=rows, answers=answers)


@router.post("/thresholds/{proposal_id}")
def decide(
    proposal_id: int,
    request: Request,
    session: Annotated[Session, Depends(guarded(Permission.APPROVE_THRESHOLD))],
    approve: Annotated[bool, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    ctx = context(request)
    with ctx.engine.begin() as conn:
        row = proposals_store.decide(conn, proposal_id, session.user.username, approve, reason)
    if row is None:
        raise HTTPException(409, "this proposal was already decided")
    if approve:
        ctx.send_command(
            row["command_id"],
            CommandType.THRESHOLD_UPDATE,
            row["cell_id"],
            {
                "name": row["name"],
                "value": row["proposed_value"],
                "reason": (reason or row["basis"])[:512],
                "approved_by": [session.user.username],
            },
        )
    return RedirectResponse("/thresholds", status_code=303)
