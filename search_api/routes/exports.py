"""GET /api/v1/exports/results.csv | results.jsonl | production.zip: a search's results, streamed.

Each takes the same query parameters as GET /api/v1/search (q, filters, sort); paging
parameters are ignored, every matching item within the caller's scope is exported.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from opensearchpy import OpenSearch

from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client
from search_api.exports import CSV_COLUMNS, JSON_EXCLUDED, csv_chunks, export_hits, jsonl_chunks, primed
from search_api.production import production_chunks
from search_api.routes.search import audit_filters
from search_api.search import SearchRequest
from services.settings import Settings

router = APIRouter()
SearchParameters = Annotated[SearchRequest, Query()]
Exporter = Annotated[AuditTrail, Depends(audited("export", "export"))]


def _download(chunks, media_type: str, filename: str) -> StreamingResponse:
    return StreamingResponse(chunks, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _hits(trail: AuditTrail, client: OpenSearch, settings: Settings, search: SearchRequest, source, format: str):
    """The export's hits within the caller's scope, first page fetched; the export is audited once it can start
    (or as failed when it cannot)."""
    trail.note(query=search.q, details={"format": format, "filters": audit_filters(search)})
    hits = primed(export_hits(client, settings.items_alias, search, source, trail.principal.filters()))
    trail.ok()
    return hits


@router.get("/exports/results.csv")
def results_csv(search: SearchParameters, trail: Exporter, client: Client, settings: AppSettings) -> StreamingResponse:
    """Metadata of every matching item, one CSV row each (cells that a spreadsheet would run as a formula are quoted with ')."""
    hits = _hits(trail, client, settings, search, list(CSV_COLUMNS), "csv")
    return _download(csv_chunks(hits), "text/csv; charset=utf-8", "lantern-results.csv")


@router.get("/exports/results.jsonl")
def results_jsonl(search: SearchParameters, trail: Exporter, client: Client, settings: AppSettings) -> StreamingResponse:
    """Every matching item as indexed, text included, one JSON object per line."""
    hits = _hits(trail, client, settings, search, {"excludes": list(JSON_EXCLUDED)}, "jsonl")
    return _download(jsonl_chunks(hits), "application/x-ndjson; charset=utf-8", "lantern-results.jsonl")


@router.get("/exports/production.zip")
def production_zip(search: SearchParameters, trail: Exporter, client: Client, settings: AppSettings) -> StreamingResponse:
    """Natives (where the original file can be verified), extracted text and manifest.csv with SHA-256 hashes."""
    hits = _hits(trail, client, settings, search, {"excludes": list(JSON_EXCLUDED)}, "production.zip")
    about = search.model_dump(mode="json", exclude={"size", "offset", "cursor", "expand"}, exclude_defaults=True)
    return _download(production_chunks(hits, about), "application/zip", "lantern-production.zip")
