"""The quality engineer's page: FastAPI, server-rendered with jinja2, no CDN (every asset is
served by the app; the review keyboard script comes from the cell package, shared with the
cell's station page)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from inspection_backend.cell_contract import shared_static_dir
from inspection_backend.web.context import WebContext
from inspection_backend.web.security import LoginRequired

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def create_app(context: WebContext) -> FastAPI:
    from inspection_backend.web.routes import admin, auth, board, ncrs, review, thresholds

    app = FastAPI(title="Inspection backend", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = context
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.mount("/shared", StaticFiles(directory=str(shared_static_dir())), name="shared")
    for module in (auth, board, review, ncrs, thresholds, admin):
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    return app
