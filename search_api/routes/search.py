"""GET /api/v1/search: full-text search with filters, highlights and facets."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Query
from opensearchpy import OpenSearch
from pydantic import ValidationError

from search_api.deps import get_opensearch, get_settings
from search_api.search import SearchRequest, run_search
from services.settings import Settings

router = APIRouter()


@router.get("/search")
def search(
    q: str = Query("", max_length=4000, description="query text; empty = everything, newest first"),
    custodian: list[str] = Query([]),
    channel: list[str] = Query([]),
    record: list[str] = Query([], description="official or private"),
    kind: list[str] = Query([], description="email, attachment, message, sms, document"),
    date_from: date | None = Query(None, description="YYYY-MM-DD, inclusive"),
    date_to: date | None = Query(None, description="YYYY-MM-DD, inclusive"),
    collapse_duplicates: bool = Query(False, description="one hit per group of exact duplicates"),
    size: int = Query(20, ge=0, le=100),
    offset: int = Query(0, ge=0, alias="from"),
    client: OpenSearch = Depends(get_opensearch),
    settings: Settings = Depends(get_settings),
) -> dict:
    """Items matching `q` and the filters: total, one page of hits with highlights, and facets."""
    try:
        request = SearchRequest(
            q=q, custodian=custodian, channel=channel, record=record, kind=kind,
            date_from=date_from, date_to=date_to, size=size, offset=offset, collapse_duplicates=collapse_duplicates,
        )
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail="; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from exc
    return run_search(client, settings.items_alias, request)
