"""Log in and out. The login form is protected against login CSRF by a double-submit cookie."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from inspection_backend.db import audit, users_store
from inspection_backend.db.audit import AuditEntry
from inspection_backend.db.users_store import Session
from inspection_backend.web.pages import render
from inspection_backend.web.security import COOKIE, context, current_session

router = APIRouter()
LOGIN_COOKIE = "inspection_login"


def _safe_next(target: str) -> str:
    """Only local paths: the login page must not redirect to another site."""
    return target if target.startswith("/") and not target.startswith("//") else "/cases"


@router.get("/login")
def login_form(request: Request, next: str = "/cases") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=_safe_next(next), login_csrf=token)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict")
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    login_csrf: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/cases",
) -> Response:
    ctx = context(request)
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, login_csrf):
        return render(
            request,
            "login.html",
            None,
            403,
            next=next,
            login_csrf=cookie,
            error="The form expired; try again.",
        )
    with ctx.engine.begin() as conn:
        user = users_store.authenticate(conn, username, password)
        if user is None:
            audit.record(conn, AuditEntry(username[:64], "session.refused", "user", username[:64]))
        else:
            session = users_store.open_session(conn, user, ctx.settings.session_hours)
    if user is None:
        return render(
            request,
            "login.html",
            None,
            401,
            next=next,
            login_csrf=cookie,
            error="Unknown user or wrong password.",
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.cookie_secure,
        max_age=int(ctx.settings.session_hours * 3600),
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(
    request: Request, session: Annotated[Session, Depends(current_session)]
) -> Response:
    from inspection_backend.web.security import check_csrf

    await check_csrf(request, session)
    with context(request).engine.begin() as conn:
        users_store.close_session(conn, session.token, session.user.username)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
