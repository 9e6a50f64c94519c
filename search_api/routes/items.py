"""GET /api/v1/items/{id}: one item's text and metadata, its parent and its attachments."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path

from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client
from search_api.search import get_item

router = APIRouter()


@router.get("/items/{item_id}")
def item(
    client: Client,
    settings: AppSettings,
    item_id: str = Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$"),
    trail: AuditTrail = Depends(audited("view", "view")),
) -> dict:
    """The full item, with `parent` (or null), `attachments` (its direct children) and `also_held_by`
    (other copies); an item outside the caller's scope is a 404, as if it did not exist."""
    trail.note(target=item_id)
    found = get_item(client, settings.items_alias, item_id, trail.principal.filters())
    trail.ok("ok" if found else "not_found")
    if found is None:
        raise HTTPException(status_code=404, detail=f"no item with id {item_id!r}")
    return found
