"""Rendering shared by every page: the user, the CSRF token and the line-hold banner."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from inspection_backend.core.auth import Permission, allowed
from inspection_backend.db import holds_store
from inspection_backend.db.users_store import Session
from inspection_backend.web.app import templates
from inspection_backend.web.security import context


def render(
    request: Request, template: str, session: Session | None, status: int = 200, **values: Any
) -> HTMLResponse:
    holds = []
    if session is not None:
        with context(request).engine.connect() as conn:
            holds = holds_store.active_holds(conn)
    return templates.TemplateResponse(
        request,
        template,
        {
            "session": session,
            "user": session.user if session else None,
            "csrf": session.csrf_token if session else "",
            "holds": holds,
            "can": (lambda p: session is not None and allowed(session.user.role, Permission(p))),
            **values,
        },
        status_code=status,
    )
