"""How a failed request is answered: every exception the API lets out becomes one status and a JSON body.

User input never gets a 5xx: a query OpenSearch finds too large (too many clauses, a proximity
wildcard matching too many words), a malformed query or cursor, a search that ran out of time,
text that is not valid Unicode — each is a 4xx that says what to change. A 503 means a backing
service is down or the audit trail cannot be written; a 500 is a bug, answered as JSON without
internals and logged. `answer` is also what search_api.audited records for a failed request.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, RequestError, TransportError

from search_api.audit import AuditUnavailable
from search_api.limits import SearchTimedOut
from search_api.paging import BadCursor
from search_api.query import QuerySyntaxError, parse
from search_api.query_fields import too_big_for_opensearch

log = logging.getLogger("lantern.api")

NOT_REACHABLE = "the search index (OpenSearch) is not reachable; run `lantern services up`"
NOTHING_INGESTED = "nothing has been ingested yet: run `lantern ingest PATH --custodian NAME`"
BUSY = "OpenSearch is too busy to take this search now (its queues or open snapshots are full); try again shortly"
INTERNAL = "an internal error stopped this request; it has been logged"


def readable(errors: list[dict]) -> str:
    """Pydantic validation errors as one line: 'size: Input should be less than or equal to 100; ...'."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        message = error.get("msg", "invalid").removeprefix("Value error, ")  # a model check's own message, as written
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _query_tree(request: Request):
    try:
        return parse(request.query_params.get("q", ""))
    except QuerySyntaxError:
        return None


def answer(request: Request, exc: Exception) -> tuple[int, dict[str, Any]]:
    """The status and JSON body for `exc` raised while serving `request`."""
    if isinstance(exc, HTTPException):
        return exc.status_code, {"detail": exc.detail}
    if isinstance(exc, RequestValidationError):
        return 422, {"detail": readable(exc.errors())}
    if isinstance(exc, QuerySyntaxError):
        return 400, exc.to_body()
    if isinstance(exc, (BadCursor, SearchTimedOut)):
        return 400, {"detail": str(exc)}
    if isinstance(exc, AuditUnavailable):
        return 503, {"detail": str(exc)}
    if isinstance(exc, OpenSearchConnectionError):
        return 503, {"detail": NOT_REACHABLE}
    if isinstance(exc, NotFoundError):
        return 404, {"detail": NOTHING_INGESTED}
    if isinstance(exc, RequestError):
        return 400, {"detail": f"the search was rejected: {exc.error}"}
    if isinstance(exc, TransportError):
        too_big = too_big_for_opensearch(str(exc), _query_tree(request))
        if too_big is not None:
            return 400, too_big.to_body()
        if exc.status_code == 429:  # OpenSearch's queues or its point-in-time limit are full: not the caller's doing
            return 503, {"detail": BUSY}
        return 500, {"detail": "the search failed inside OpenSearch"}
    return 500, {"detail": INTERNAL}


def install(app: FastAPI) -> None:
    """Answer every exception the routes let out through `answer` (HTTPException keeps FastAPI's own handler)."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        status, body = answer(request, exc)
        if status >= 500 and not isinstance(exc, (AuditUnavailable, OpenSearchConnectionError)):
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(status_code=status, content=body)

    for kind in (RequestValidationError, QuerySyntaxError, BadCursor, SearchTimedOut, AuditUnavailable, TransportError,
                 Exception):
        app.add_exception_handler(kind, handle)
