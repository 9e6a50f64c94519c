"""GET /api/v1/audit: the audit trail, newest first; GET /api/v1/audit/verify: its hash chain checked (auditor role only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request

from search_api.audit import MAX_PAGE, read_audit
from search_api.audit_chain import verify
from search_api.audited import AuditTrail, audited
from search_api.auth import Principal, audit, require
from search_api.deps import AppSettings, Client

router = APIRouter()


@router.get("/audit")
def audit_trail(
    http: Request,
    client: Client,
    settings: AppSettings,
    user: str | None = Query(None, max_length=200, description="exactly this user (an API key is key:<name>)"),
    action: str | None = Query(None, max_length=40, description="search, view, export, report, login, denied, user_add, key_create, ..."),
    since: datetime | None = Query(None, description="ISO 8601 time; entries at or after it (UTC when no offset)"),
    size: int = Query(50, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=10_000 - MAX_PAGE, alias="from"),
    trail: AuditTrail = Depends(audited("audit_read", "audit")),
) -> dict:
    """Audit entries matching the filters: {total, entries}; entries already queued are written first.
    Audited as audit_read, a read that fails too."""
    trail.note(details={"user": user, "action": action, "since": since and since.isoformat()})
    http.app.state.audit.flush()
    page = read_audit(client, settings, user=user, action=action, since=since, size=size, offset=offset)
    trail.ok()
    return page


@router.get("/audit/verify")
def audit_verify(http: Request, client: Client, settings: AppSettings, principal: Principal = Depends(require("audit"))) -> dict:
    """The whole chain checked, as `lantern audit verify`: {intact, entries, last: {seq, hash}, problems}."""
    http.app.state.audit.flush()
    result = verify(client, settings)
    audit(http, principal, "audit_verify", outcome="ok" if result.intact else "tampered", total=len(result.problems))
    return {"intact": result.intact, "entries": result.entries, "last": {"seq": result.last.seq, "hash": result.last.hash},
            "problems": result.problems}
