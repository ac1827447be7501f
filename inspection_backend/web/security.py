"""Sessions, permissions and CSRF for the page.

The session cookie holds a random token (the database keeps its hash); it is HttpOnly and
SameSite=Strict. Every state-changing request must also carry the session's CSRF token, as the
form field `csrf_token` or the header `X-CSRF-Token` (the review script sends the header), so a
page on another site cannot act in the user's name even where SameSite is not honoured.
"""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from inspection_backend.core.auth import Permission, allowed
from inspection_backend.db import users_store
from inspection_backend.db.users_store import Session
from inspection_backend.web.context import WebContext

COOKIE = "inspection_session"


class LoginRequired(Exception):
    """Raised by the session dependency; the app answers with a redirect to /login."""


def context(request: Request) -> WebContext:
    return request.app.state.context


def current_session(request: Request) -> Session:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired()
    with context(request).engine.connect() as conn:
        session = users_store.session_for(conn, token)
    if session is None:
        raise LoginRequired()
    return session


def require(permission: Permission):
    """Dependency: the session, if its role grants `permission` (else 403)."""

    def check(session: Annotated[Session, Depends(current_session)]) -> Session:
        if not allowed(session.user.role, permission):
            raise HTTPException(403, f"role {session.user.role} may not {permission}")
        return session

    return check


async def check_csrf(request: Request, session: Session) -> None:
    """403 unless the request carries this session's CSRF token."""
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token")


def guarded(permission: Permission):
    """Dependency for state-changing routes: permission and CSRF token both checked."""
    check = require(permission)

    async def dependency(request: Request, session: Annotated[Session, Depends(check)]) -> Session:
        await check_csrf(request, session)
        return session

    return dependency
