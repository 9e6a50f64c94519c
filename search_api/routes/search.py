"""GET /api/v1/search: full-text search with filters, highlights and facets."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from opensearchpy import OpenSearch
from pydantic import ValidationError

from search_api.audited import AuditTrail, audited
from search_api.deps import get_opensearch, get_settings, json_response
from search_api.search import SearchRequest, run_search
from services.settings import Settings

router = APIRouter()


@router.get("/search")
def search(
    http: Request,
    q: str = Query("", max_length=4000, description="query text; empty = everything, newest first"),
    custodian: list[str] = Query([]),
    channel: list[str] = Query([]),
    record: list[str] = Query([], description="official or private"),
    kind: list[str] = Query([], description="email, attachment, message, sms, document"),
    people: list[str] = Query([], description="person keys, e.g. person:alice.hart@dhsc.gov.uk"),
    entity_people: list[str] = Query([], description="people named in the text"),
    entity_orgs: list[str] = Query([], description="organisations named in the text"),
    entity_places: list[str] = Query([], description="places named in the text"),
    pii_types: list[str] = Query([], description="email, phone, ni_number, nhs_number, postcode, bank_account, date_of_birth"),
    has_pii: bool | None = Query(None, description="only items with (true) or without (false) personal data"),
    date_from: date | None = Query(None, description="YYYY-MM-DD, inclusive"),
    date_to: date | None = Query(None, description="YYYY-MM-DD, inclusive"),
    collapse_duplicates: bool = Query(False, description="one hit per group of exact duplicates"),
    size: int = Query(20, ge=0, le=100),
    offset: int = Query(0, ge=0, alias="from"),
    sort: Literal["relevance", "date_desc", "date_asc"] | None = Query(None, description="default: relevance with q, else date_desc"),
    cursor: str | None = Query(None, max_length=8192, description="'start' for point-in-time paging, then each response's next_cursor"),
    expand: Literal["families"] | None = Query(None, description="'families': add each hit's family (top-level item and attachments)"),
    client: OpenSearch = Depends(get_opensearch),
    settings: Settings = Depends(get_settings),
    trail: AuditTrail = Depends(audited("search", "search")),
) -> Response:
    """Items matching `q` (the query language: see the README) and the filters: total, one page of hits
    with highlights, and facets. A malformed `q` is a 400 with `detail`, `position` and `hint`."""
    trail.note(query=q)
    try:
        request = SearchRequest(
            q=q, custodian=custodian, channel=channel, record=record, kind=kind, people=people,
            entity_people=entity_people, entity_orgs=entity_orgs, entity_places=entity_places,
            pii_types=pii_types, has_pii=has_pii,
            date_from=date_from, date_to=date_to, size=size, offset=offset, collapse_duplicates=collapse_duplicates,
            sort=sort, cursor=cursor, expand=expand,
        )
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail="; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from exc
    trail.note(details={"filters": audit_filters(request)})
    principal = trail.principal
    result = run_search(client, settings.items_alias, request, principal.filters(), http.app.state.snapshots, principal.audit_name)
    trail.ok(total=result["total"])
    return json_response(result)


def audit_filters(request: SearchRequest) -> dict:
    """The filters and sort of a search as the audit trail keeps them (no paging, no defaults)."""
    return request.model_dump(mode="json", exclude={"q", "size", "offset", "cursor", "expand"}, exclude_defaults=True)
