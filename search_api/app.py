"""The FastAPI application: versioned JSON API under /api/v1 and the thin UI at /.

Errors are answered as `{"detail": "..."}` with a 4xx for a bad request and a 503 when
OpenSearch is not reachable; an unexpected failure is a 500 with no internals leaked.
Authentication, roles and scope are search_api.auth; every route that reads or changes data
records an audit entry (search_api.audit), whose writer is flushed when the app shuts down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from search_api.audit import AuditUnavailable, AuditWriter
from search_api.auth import SESSION_COOKIE, Authenticator, audit_cross_origin
from search_api.login_guard import LoginGuard
from search_api.middleware import BodySizeLimit, SameOriginWrites, SecurityHeaders
from search_api.paging import BadCursor
from search_api.query import QuerySyntaxError, parse
from search_api.query_fields import TOO_MANY_TERMS, too_broad
from search_api.routes import admin, audit, conversations, exports, health, items, people, reports, search, session, threads
from search_api.routes import gaps
from services.clients import opensearch_client
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


def _readable(errors: list[dict]) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid"))
    return "; ".join(parts)


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
    app.state.opensearch = opensearch_client(settings)
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

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _readable(exc.errors())})

    @app.exception_handler(QuerySyntaxError)
    async def bad_query(request: Request, exc: QuerySyntaxError) -> JSONResponse:
        return JSONResponse(status_code=400, content=exc.to_body())

    @app.exception_handler(TransportError)
    async def search_failed(request: Request, exc: TransportError) -> JSONResponse:
        if TOO_MANY_TERMS in str(exc):  # a proximity wildcard such as `t* w/3 contract`
            return JSONResponse(status_code=400, content=too_broad(parse(request.query_params.get("q", ""))).to_body())
        return JSONResponse(status_code=500, content={"detail": "the search failed inside OpenSearch"})

    @app.exception_handler(AuditUnavailable)
    async def not_audited(request: Request, exc: AuditUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(BadCursor)
    async def bad_cursor(request: Request, exc: BadCursor) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.exception_handler(OpenSearchConnectionError)
    async def search_down(request: Request, exc: OpenSearchConnectionError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": "the search index (OpenSearch) is not reachable; run `lantern services up`"})

    @app.exception_handler(NotFoundError)
    async def no_index(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": "nothing has been ingested yet: run `lantern ingest PATH --custodian NAME`"})

    @app.exception_handler(RequestError)
    async def rejected(request: Request, exc: RequestError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": f"the search was rejected: {exc.error}"})

    app.mount("/static", StaticFiles(directory=str(UI_DIR)), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(UI_DIR / "index.html"))

    return app
