"""The FastAPI application: versioned JSON API under /api/v1 and the thin UI at /.

Errors are answered as `{"detail": "..."}` (search_api.errors): a 4xx for anything the caller
sent, a 503 when OpenSearch is not reachable; an unexpected failure is a 500 with no internals
leaked. The client address is the connection's, or a trusted proxy's X-Forwarded-For.
Authentication, roles and scope are search_api.auth; every route that reads or changes data
records an audit entry (search_api.audit), whose writer is flushed when the app shuts down.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
import uvicorn
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from search_api import errors
from search_api.audit import AuditWriter
from search_api.auth import SESSION_COOKIE, Authenticator, audit_cross_origin
from search_api.limits import Snapshots, limited_client
from search_api.login_guard import LoginGuard
from search_api.middleware import BodySizeLimit, SameOriginWrites, SecurityHeaders
from search_api.paging import KEEP_ALIVE_SECONDS
from search_api.routes import admin, audit, conversations, exports, health, items, people, reports, search, session, threads
from search_api.routes import gaps
from search_api.search import described_fields
from services.settings import Settings, get_settings

UI_DIR = files("ui") / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (default: from the environment)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(app.state.audit.close)  # write what is queued before the process goes

    app = FastAPI(title="Lantern", version="1", description="Search official and private email, chat and attachments.",
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.opensearch = limited_client(settings)
    app.state.snapshots = Snapshots(settings.cursors_per_caller, KEEP_ALIVE_SECONDS)
    app.state.auth = Authenticator(app.state.opensearch, settings)
    app.state.audit = AuditWriter(app.state.opensearch, settings)
    app.state.login_guard = LoginGuard(settings)

    for router in (search.router, items.router, conversations.router, threads.router, people.router, health.router,
                   reports.router, exports.router, session.router, audit.router, admin.router, gaps.router):
        app.include_router(router, prefix="/api/v1")

    async def audit_refusal(scope: Scope, reason: str) -> None:
        await run_in_threadpool(audit_cross_origin, Request(scope), reason)

    app.add_middleware(SameOriginWrites, session_cookie=SESSION_COOKIE, on_refusal=audit_refusal)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders, headers=SECURITY_HEADERS)
    # Outermost: the client address every later step (the audit trail) sees. X-Forwarded-For and
    # -Proto are believed only from LANTERN_TRUSTED_PROXIES (none by default).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    errors.install(app)

    app.mount("/static", StaticFiles(directory=str(UI_DIR)), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(UI_DIR / "index.html"))

    @app.get("/ui/fields.js", include_in_schema=False)
    def ui_fields() -> Response:
        """The search filters and facets, for the web UI, from the item model's field table (data, not code:
        one JSON value assigned to window.LanternFields)."""
        return Response(f"window.LanternFields = {json.dumps(described_fields())};\n", media_type="text/javascript")

    return app


def server_config(app: FastAPI, host: str, port: int, **options) -> uvicorn.Config:
    """How uvicorn serves the app (`lantern serve`, the tests): forwarding headers are the app's to judge
    (LANTERN_TRUSTED_PROXIES), so uvicorn's own default of believing them from 127.0.0.1 is off."""
    return uvicorn.Config(app, host=host, port=port, proxy_headers=False, **options)
