"""POST /api/v1/reports/terms: the search-term report, as JSON or CSV."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client
from search_api.reports import TermsReportRequest, filters_request, report_csv, terms_report

router = APIRouter()


@router.post("/reports/terms")
def terms(
    request: TermsReportRequest,
    client: Client,
    settings: AppSettings,
    format: Literal["json", "csv"] = Query("json", description="json (default) or csv"),
    trail: AuditTrail = Depends(audited("report", "search")),
):
    """Per query: hits, unique hits (found by no other query), hits with families, per custodian and record;
    plus a `total` row for items found by any query. A malformed query is a 400 naming it (`query`, 0-based)."""
    trail.note(query="\n".join(request.queries), details={"report": "terms", "filters": request.filters, "format": format})
    try:
        filters = filters_request(request.filters)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
    report = terms_report(client, settings.items_alias, request.queries, filters, trail.principal.filters())
    trail.ok(total=report["total"]["hits"], details={"report": "terms", "filters": report["filters"], "format": format})
    if format == "csv":
        return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="search-term-report.csv"'})
    return report
