"""Review queue: one key per decision (the shared review_keys.js), JSON decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from inspection_backend.core.auth import Permission
from inspection_backend.core.review import ReviewDecision, ReviewVerdict
from inspection_backend.db import cases_store
from inspection_backend.db.users_store import Session
from inspection_backend.web.pages import render
from inspection_backend.web.security import context, guarded, require

router = APIRouter()


class DecisionIn(BaseModel):
    decision: ReviewVerdict
    label: str = ""
    note: str = ""


@router.get("/review")
def review_page(
    request: Request, session: Annotated[Session, Depends(require(Permission.REVIEW))]
) -> Response:
    ctx = context(request)
    with ctx.engine.connect() as conn:
        queue = cases_store.review_queue(conn)
    classes = {
        cell.cell_id: list(ctx.plant.station_classes.get(cell.station, ()))
        for cell in ctx.plant.cells
    }
    return render(request, "review.html", session, queue=queue, classes=classes)


@router.post("/api/review/{case_id}")
def decide(
    case_id: str,
    body: DecisionIn,
    request: Request,
    session: Annotated[Session, Depends(guarded(Permission.REVIEW))],
) -> JSONResponse:
    """Record a person's decision (with audit), then wake the case's workflow."""
    ctx = context(request)
    label = body.label if body.decision is ReviewVerdict.FAIL else ""
    try:
        decision = ReviewDecision(body.decision, session.user.username, label, body.note)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    with ctx.engine.begin() as conn:
        cases_store.lock_case(conn, case_id)
        case = cases_store.get_case(conn, case_id)
        if case is None:
            raise HTTPException(404, f"no case {case_id}")
        if case.state not in cases_store.OPEN_REVIEW:
            return JSONResponse({"ok": False, "message": f"case is {case.state}, not open"}, 409)
        classes = ctx.plant.station_classes.get(ctx.plant.cell(case.cell_id).station, ())
        if label and label not in classes:
            raise HTTPException(400, f"unknown class {label!r} for this station")
        step = len(cases_store.labels_of(conn, case.cell_id, case.unit_id))
        cases_store.apply_review(conn, case_id, decision, step)
        state = cases_store.get_case(conn, case_id).state
    ctx.notify_workflow(case_id, decision.as_message(), "review")
    return JSONResponse(
        {"ok": True, "state": str(state), "message": f"{decision.verdict} recorded"}
    )
