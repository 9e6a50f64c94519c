"""GET /api/v1/search: full-text search with filters, highlights and facets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client, SearchParameters, json_response
from search_api.search import SearchRequest, run_search

router = APIRouter()
Searcher = Annotated[AuditTrail, Depends(audited("search", "search"))]


@router.get("/search")
def search(http: Request, request: SearchParameters, client: Client, settings: AppSettings, trail: Searcher) -> Response:
    """Items matching `q` (the query language: see the README) and the filters: total, one page of hits
    with highlights, and facets. A malformed `q` is a 400 with `detail`, `position` and `hint`."""
    trail.note(query=request.q, details={"filters": audit_filters(request)})
    principal = trail.principal
    result = run_search(client, settings.items_alias, request, principal.filters(), http.app.state.snapshots, principal.audit_name)
    trail.ok(total=result["total"])
    return json_response(result)


def audit_filters(request: SearchRequest) -> dict:
    """The filters and sort of a search as the audit trail keeps them (no paging, no defaults)."""
    return request.model_dump(mode="json", exclude={"q", "size", "offset", "cursor", "expand"}, exclude_defaults=True)
