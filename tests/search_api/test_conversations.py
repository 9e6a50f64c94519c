"""GET /api/v1/conversations/{id}: context around a message, paging both ways."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from indexer import store
from indexer.model import Custody
from indexer.sources.base import Limits, SourceContext
from indexer.sources.support.chat import conversation_key, message_item, sender_address
from search_api.app import create_app
from services.index import ensure_items_index

MESSAGES = 30


@pytest.fixture(scope="module")
def conversation(services, settings):
    """A 30-message conversation written straight to the real index (readers are tested elsewhere)."""
    ensure_items_index(services, settings)
    ctx = SourceContext("/evidence/chat.txt", "f" * 64, Custody("Conversation Tester", "private"), None, Limits())  # type: ignore[arg-type]
    conversation_id = conversation_key("whatsapp", ctx, "Project group")
    start = datetime(2020, 3, 1, 9, 0)
    items = [
        message_item(
            ctx, channel="whatsapp", locator=f"line[{n + 1}]", conversation_id=conversation_id,
            conversation_name="Project group", seq=n, sender=sender_address("+44 7700 900123" if n % 2 else "Matt"),
            when=start + timedelta(minutes=n), date_original=f"01/03/2020, 09:{n:02d}", body=f"message number {n}",
        )
        for n in range(MESSAGES)
    ]
    assert list(store.write_items(services, settings.items_alias, iter(items))) == []
    services.indices.refresh(index=settings.items_alias)
    return conversation_id, items


@pytest.fixture(scope="module")
def api(settings, conversation):
    with TestClient(create_app(settings)) as client:
        yield client


def test_context_around_a_message_is_in_order(api, conversation):
    conversation_id, items = conversation
    body = api.get(f"/api/v1/conversations/{conversation_id}", params={"around": items[15].id, "before": 3, "after": 2}).json()
    assert [m["seq"] for m in body["messages"]] == [12, 13, 14, 15, 16, 17]
    assert body["total"] == MESSAGES and body["name"] == "Project group" and body["channel"] == "whatsapp"
    assert body["has_before"] and body["has_after"]
    assert body["messages"][3]["body"] == "message number 15"
    assert body["messages"][3]["from"]["address"] == "+447700900123"
    assert body["messages"][4]["from"] == {"raw": "Matt", "name": "Matt"}


def test_paging_reaches_both_ends(api, conversation):
    conversation_id, items = conversation
    start = api.get(f"/api/v1/conversations/{conversation_id}", params={"after": 4}).json()
    assert [m["seq"] for m in start["messages"]] == [0, 1, 2, 3, 4]
    assert not start["has_before"] and start["has_after"]
    end = api.get(f"/api/v1/conversations/{conversation_id}", params={"around": items[-1].id, "before": 2, "after": 5}).json()
    assert [m["seq"] for m in end["messages"]] == [27, 28, 29]
    assert end["has_before"] and not end["has_after"]


def test_local_time_is_stored_in_utc_with_its_offset(api, conversation):
    conversation_id, items = conversation
    first = api.get(f"/api/v1/conversations/{conversation_id}", params={"after": 0}).json()["messages"][0]
    assert first["date"] == "2020-03-01T09:00:00Z" and first["timezone"] == "+00:00"  # GMT in March


def test_unknown_conversation_or_foreign_message_is_404(api, conversation, sample):
    conversation_id, _ = conversation
    assert api.get("/api/v1/conversations/whatsapp:nope").status_code == 404
    other = api.get("/api/v1/search", params={"q": "tellurian"}).json()["hits"][0]["id"]
    response = api.get(f"/api/v1/conversations/{conversation_id}", params={"around": other})
    assert response.status_code == 404 and "not a message" in response.json()["detail"]


def test_bad_paging_parameters_are_4xx(api, conversation):
    conversation_id, _ = conversation
    assert api.get(f"/api/v1/conversations/{conversation_id}", params={"before": -1}).status_code == 422
    assert api.get(f"/api/v1/conversations/{conversation_id}", params={"after": 10_000}).status_code == 422
