"""GET /api/v1/reports/record-gaps: the record-keeping gap report, as JSON or CSV."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from opensearchpy import OpenSearch

from indexer.enrich.business import BusinessRules, BusinessTermsError
from search_api.audited import AuditTrail, audited
from search_api.deps import get_opensearch, get_settings
from search_api.record_gaps import GapReportOptions, record_gaps_report, report_csv
from services.settings import Settings

router = APIRouter()


@router.get("/reports/record-gaps")
def record_gaps(
    custodian: list[str] = Query([], description="only these custodians (repeatable); default all"),
    date_from: date | None = Query(None, alias="from", description="first day, YYYY-MM-DD"),
    date_to: date | None = Query(None, alias="to", description="last day, YYYY-MM-DD (inclusive)"),
    format: Literal["json", "csv"] = Query("json", description="json (default) or csv"),
    interval: Literal["day", "week", "month"] | None = Query(None, description="volume per day, week or month; default by span"),
    limit: int = Query(1000, ge=1, le=10_000, description="at most this many uncopied items and loss events listed"),
    client: OpenSearch = Depends(get_opensearch),
    settings: Settings = Depends(get_settings),
    trail: AuditTrail = Depends(audited("report", "search")),
):
    """Per custodian and month: private business items, how many have an official copy (by how), the
    uncopied ones listed; silences, deleted messages and disappearing-message periods; volume per day."""
    trail.note(details={"report": "record-gaps", "format": format,
                        "filters": {"custodian": custodian, "from": date_from and date_from.isoformat(),
                                    "to": date_to and date_to.isoformat()}})
    if date_from and date_to and date_from > date_to:
        raise HTTPException(status_code=422, detail="from is after to")
    try:
        rules = BusinessRules.from_settings(settings).describe()
    except BusinessTermsError as exc:
        raise HTTPException(status_code=500, detail=str(exc)) from exc
    options = GapReportOptions.from_settings(settings, uncopied_limit=limit, events_limit=limit)
    report = record_gaps_report(client, settings.items_alias, options, custodian, date_from, date_to,
                                restrict=trail.principal.filters(), interval=interval, rules=rules)
    trail.ok(total=report["summary"]["business_items"])
    if format == "csv":
        return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="record-gaps.csv"'})
    return report
