"""Cases board, case page, evidence pictures and the line-hold release."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from inspection_backend.core.auth import Permission
from inspection_backend.core.review import CaseState
from inspection_backend.db import audit, cases_store, holds_store, ncr_store, rca_store
from inspection_backend.db.tables import evidence
from inspection_backend.db.users_store import Session
from inspection_backend.web.pages import render
from inspection_backend.web.security import context, guarded, require

router = APIRouter()

BOARD_COLUMNS = (
    ("Awaiting review", (CaseState.AWAITING_REVIEW, CaseState.ESCALATED, CaseState.REINSPECT)),
    ("Line held", (CaseState.HOLD,)),
    ("Maintenance", (CaseState.ALERTED,)),
    ("Resolved", (CaseState.RESOLVED,)),
    ("Logged", (CaseState.LOGGED,)),
)


@router.get("/")
def home() -> Response:
    return RedirectResponse("/cases", status_code=303)


@router.get("/cases")
def board(
    request: Request, session: Annotated[Session, Depends(require(Permission.VIEW))]
) -> Response:
    with context(request).engine.connect() as conn:
        columns = [
            (title, cases_store.list_cases(conn, states, limit=50))
            for title, states in BOARD_COLUMNS
        ]
    return render(request, "cases.html", session, columns=columns)


@router.get("/cases/{case_id}")
def case_page(
    case_id: str, request: Request, session: Annotated[Session, Depends(require(Permission.VIEW))]
) -> Response:
    with context(request).engine.connect() as conn:
        case = cases_store.get_case(conn, case_id)
        if case is None:
            raise HTTPException(404, f"no case {case_id}")
        values = {
            "case": case,
            "history": audit.history(conn, "case", case_id),
            "rca": rca_store.get_result(conn, case_id),
            "ncr": ncr_store.ncr_for_case(conn, case_id),
            "hold": holds_store.get_hold(conn, holds_store.hold_id_for(case_id)),
        }
    return render(request, "case.html", session, **values)


@router.get("/evidence/{sha256}")
def evidence_file(
    sha256: str, request: Request, _session: Annotated[Session, Depends(require(Permission.VIEW))]
) -> Response:
    with context(request).engine.connect() as conn:
        row = conn.execute(
            evidence.select()
            .with_only_columns(evidence.c.media_type, evidence.c.data)
            .where(evidence.c.sha256 == sha256)
        ).first()
    if row is None:
        raise HTTPException(404, "no such evidence")
    return Response(
        bytes(row.data),
        media_type=row.media_type,
        headers={"Cache-Control": "private, max-age=86400"},
    )


@router.post("/holds/{hold_id}/release")
def release(
    hold_id: str,
    request: Request,
    reason: Annotated[str, Form()],
    session: Annotated[Session, Depends(guarded(Permission.RELEASE_HOLD))],
) -> Response:
    """A person releases a hold: recorded (with audit) here, then the hold workflow is told
    and resumes the cell when no other hold of it remains."""
    reason = reason.strip()
    if not reason:
        raise HTTPException(400, "a release needs a reason")
    ctx = context(request)
    with ctx.engine.begin() as conn:
        released = holds_store.release_hold(conn, hold_id, session.user.username, reason)
    if released:
        ctx.notify_workflow(hold_id, {"by": session.user.username}, "release")
    return RedirectResponse(request.headers.get("referer") or "/cases", status_code=303)
