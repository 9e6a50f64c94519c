"""GET /api/v1/threads/{id}: the emails of one thread, in date order."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path

from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client
from search_api.search import get_thread

router = APIRouter()


@router.get("/threads/{thread_id}")
def thread(
    client: Client,
    settings: AppSettings,
    thread_id: str = Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_:.-]+$"),
    trail: AuditTrail = Depends(audited("view", "view")),
) -> dict:
    """Emails of the thread (those in the caller's scope); a message held by several custodians appears once
    with `held_by` listing them."""
    trail.note(target=f"thread:{thread_id}")
    found = get_thread(client, settings.items_alias, thread_id, trail.principal.filters())
    trail.ok("ok" if found else "not_found")
    if found is None:
        raise HTTPException(status_code=404, detail=f"no thread with id {thread_id!r}")
    return found
