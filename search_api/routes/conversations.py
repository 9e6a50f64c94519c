"""GET /api/v1/conversations/{id}: a chat conversation around a message, with paging."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from search_api.conversations import NotInConversation, get_conversation
from search_api.audited import AuditTrail, audited
from search_api.deps import AppSettings, Client

router = APIRouter()


@router.get("/conversations/{conversation_id}")
def conversation(
    client: Client,
    settings: AppSettings,
    conversation_id: str = Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_:.-]+$"),
    around: str | None = Query(None, max_length=128, pattern=r"^[A-Za-z0-9_-]+$", description="a message id to centre on"),
    before: int = Query(10, ge=0, le=200, description="messages before `around`"),
    after: int = Query(10, ge=0, le=200, description="messages after `around` (or from the start)"),
    trail: AuditTrail = Depends(audited("view", "view")),
) -> dict:
    """Messages in conversation order (those in the caller's scope); `has_before`/`has_after` say whether
    there is more to page to."""
    trail.note(target=f"conversation:{conversation_id}")
    try:
        found = get_conversation(client, settings.items_alias, conversation_id, around, before, after, trail.principal.filters())
    except NotInConversation as exc:
        trail.ok("not_found")
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    trail.ok("ok" if found else "not_found")
    if found is None:
        raise HTTPException(status_code=404, detail=f"no conversation with id {conversation_id!r}")
    return found
