"""Users (admin), the audit trail, label export for retraining, and a health endpoint."""

from __future__ import annotations

import csv
import io
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from inspection_backend.core.auth import Permission, Role
from inspection_backend.db import cases_store, users_store
from inspection_backend.db.tables import audit_log
from inspection_backend.db.users_store import Session
from inspection_backend.web.pages import render
from inspection_backend.web.security import context, guarded, require

router = APIRouter()


@router.get("/users")
def users(request: Request, session: Annotated[Session, Depends(require(Permission.MANAGE_USERS))]):
    with context(request).engine.connect() as conn:
        rows = users_store.list_users(conn)
    return render(request, "users.html", session, users=rows, roles=list(Role))


@router.post("/users")
def save_user(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[Role, Form()],
    session: Annotated[Session, Depends(guarded(Permission.MANAGE_USERS))],
) -> Response:
    try:
        with context(request).engine.begin() as conn:
            users_store.add_user(conn, username.strip(), password, role, session.user.username)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return RedirectResponse("/users", status_code=303)


@router.get("/audit")
def audit_page(request: Request, session: Annotated[Session, Depends(require(Permission.VIEW))]):
    with context(request).engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(300)).all()
    return render(request, "audit.html", session, rows=rows)


@router.get("/labels.csv")
def labels(
    request: Request, _session: Annotated[Session, Depends(require(Permission.VIEW))]
) -> Response:
    with context(request).engine.connect() as conn:
        rows = cases_store.export_labels(conn)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["case_id"])
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=labels.csv"},
    )


@router.get("/healthz")
def health(request: Request) -> JSONResponse:
    return JSONResponse(context(request).health())
