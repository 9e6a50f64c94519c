"""GET /api/v1/people/{key}: one person's identities and item counts per channel and record."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path

from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client
from search_api.people import get_person

router = APIRouter()


@router.get("/people/{key}")
def person(
    client: Client,
    settings: AppSettings,
    key: str = Path(min_length=8, max_length=300, pattern=r"^person:[\w@.+\-]+$", description="e.g. person:alice.hart@dhsc.gov.uk"),
    trail: AuditTrail = Depends(audited("view", "view")),
) -> dict:
    """The person's label, aliases, identities seen on items, and item counts by channel and record
    (counted over the items in the caller's scope)."""
    trail.note(target=key)
    found = get_person(client, settings.items_alias, settings.people_index, key, trail.principal.filters())
    trail.ok("ok" if found else "not_found")
    if found is None:
        raise HTTPException(status_code=404, detail=f"no person with key {key!r}")
    return found
