"""NCR list and page: evidence image and heatmap, root-cause hypotheses, signed approvals.

A signature needs the signer's password again (an electronic signature is a deliberate act,
not a side effect of an open session); it is stored with the hash of the content it approves.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from inspection_backend.core.auth import Permission
from inspection_backend.core.ncr import (
    ApprovalMeaning,
    DispositionDecision,
    NcrDisposition,
    NcrError,
)
from inspection_backend.db import audit, ncr_store, rca_store, users_store
from inspection_backend.db.users_store import Session
from inspection_backend.web.pages import render
from inspection_backend.web.security import context, guarded, require

router = APIRouter()


@router.get("/ncrs")
def ncr_list(
    request: Request, session: Annotated[Session, Depends(require(Permission.VIEW))]
) -> Response:
    with context(request).engine.connect() as conn:
        ncrs = ncr_store.list_ncrs(conn)
    return render(request, "ncrs.html", session, ncrs=ncrs)


def _page(request: Request, session: Session, number: str, status: int = 200, error: str = ""):
    with context(request).engine.connect() as conn:
        ncr = ncr_store.get_ncr(conn, number)
        if ncr is None:
            raise HTTPException(404, f"no NCR {number}")
        values = {
            "ncr": ncr,
            "approvals": ncr_store.approvals(conn, ncr["ncr_id"]),
            "rca": rca_store.get_result(conn, ncr["case_id"]),
            "history": audit.history(conn, "ncr", number),
        }
    return render(
        request,
        "ncr.html",
        session,
        status,
        dispositions=list(NcrDisposition),
        error=error,
        **values,
    )


@router.get("/ncrs/{number}")
def ncr_page(
    number: str, request: Request, session: Annotated[Session, Depends(require(Permission.VIEW))]
):
    return _page(request, session, number)


@router.post("/ncrs/{number}/sign")
def sign(
    number: str,
    request: Request,
    session: Annotated[Session, Depends(guarded(Permission.SIGN_NCR))],
    meaning: Annotated[ApprovalMeaning, Form()],
    password: Annotated[str, Form()],
    disposition: Annotated[str, Form()] = "",
    capa_owner: Annotated[str, Form()] = "",
    capa_due: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    ctx = context(request)
    user = session.user
    try:
        decision = None
        if meaning is ApprovalMeaning.DISPOSITION:
            decision = DispositionDecision(
                NcrDisposition(disposition), capa_owner.strip(), date.fromisoformat(capa_due), note
            )
        with ctx.engine.begin() as conn:
            if users_store.authenticate(conn, user.username, password) is None:
                raise NcrError("the password does not match: not signed")
            ncr_store.sign(conn, number, meaning, user.username, str(user.role), decision)
            case_id = ncr_store.get_ncr(conn, number)["case_id"]
    except (NcrError, ValueError) as exc:
        return _page(request, session, number, 400, str(exc))
    ctx.notify_workflow(f"ncr:{case_id}", {"meaning": str(meaning)}, "approval")
    return RedirectResponse(f"/ncrs/{number}", status_code=303)
