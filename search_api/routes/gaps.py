"""GET /api/v1/reports/record-gaps: the record-keeping gap report, as JSON or CSV;
POST /api/v1/reports/record-gaps/transfer: the records-transfer package of its uncopied business (a ZIP)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import ConfigDict, Field

from indexer.enrich.business import BusinessRules, BusinessTermsError
from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client
from search_api.inputs import ApiModel
from search_api.record_gaps import GapReportOptions, record_gaps_report, report_csv
from search_api.transfer_package import NothingToTransfer, prepare_package
from search_api.transfers import ledger_index, record_transfers

router = APIRouter()


@router.get("/reports/record-gaps")
def record_gaps(
    client: Client,
    settings: AppSettings,
    custodian: list[str] = Query([], description="only these custodians (repeatable); default all"),
    date_from: date | None = Query(None, alias="from", description="first day, YYYY-MM-DD"),
    date_to: date | None = Query(None, alias="to", description="last day, YYYY-MM-DD (inclusive)"),
    format: Literal["json", "csv"] = Query("json", description="json (default) or csv"),
    interval: Literal["day", "week", "month"] | None = Query(None, description="volume per day, week or month; default by span"),
    limit: int = Query(1000, ge=1, le=10_000, description="at most this many uncopied items and loss events listed"),
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
                                restrict=trail.principal.filters(), interval=interval, rules=rules,
                                ledger_index=ledger_index(settings))
    trail.ok(total=report["summary"]["business_items"])
    if format == "csv":
        return Response(report_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="record-gaps.csv"'})
    return report


class TransferRequest(ApiModel):
    """Which uncopied business to package: the gap report's range (a lone surrogate anywhere is a 422)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    custodian: list[str] = Field([], max_length=100, description="only these custodians; default all")
    date_from: date | None = Field(None, alias="from", description="first day, YYYY-MM-DD")
    date_to: date | None = Field(None, alias="to", description="last day, YYYY-MM-DD (inclusive)")
    include_transferred: bool = Field(False, description="also items already put into an earlier package")


@router.post("/reports/record-gaps/transfer")
def record_gaps_transfer(
    request: TransferRequest,
    client: Client,
    settings: AppSettings,
    trail: AuditTrail = Depends(audited("export", "export")),
) -> StreamingResponse:
    """A ZIP to file into the records system: every uncopied private business item in range and scope (emails as
    their original .eml, chat and SMS as day transcripts), manifest.csv/json with SHA-256 hashes, README.txt.
    Its items are recorded as transferred, so the report shows them as awaiting filing."""
    trail.note(details={"report": "record-gaps-transfer", "filters": request.model_dump(mode="json", by_alias=True)})
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise HTTPException(status_code=422, detail="from is after to")
    principal = trail.principal
    try:
        package = prepare_package(client, settings.items_alias, ledger_index(settings), settings.business_threshold,
                                  principal.audit_name, request.custodian, request.date_from, request.date_to,
                                  principal.filters(), request.include_transferred)
    except NothingToTransfer as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc  # a valid request the current state makes empty
    trail.ok(total=package.item_count, target=package.package_id,
             details={"report": "record-gaps-transfer", "filters": package.selection, "files": len(package.units)})
    chunks = package.chunks(lambda entries: record_transfers(client, ledger_index(settings), entries))
    return StreamingResponse(chunks, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{package.package_id}.zip"', "X-Lantern-Package": package.package_id,
        "X-Lantern-Items": str(package.item_count)})
