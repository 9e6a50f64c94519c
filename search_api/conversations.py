"""Conversation context: the messages around a hit, in conversation order, with paging both ways."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from search_api.disclosure import confine
from search_api.scope import EVERYTHING, Scope, scoped

MESSAGE_FIELDS = [
    "id", "kind", "channel", "seq", "date", "timezone", "from", "body", "event", "attachment_names",
    "custodian", "record", "conversation_id", "conversation_name",
]


class NotInConversation(LookupError):
    """The `around` item does not belong to the conversation."""


def _page(client: OpenSearch, index: str, conversation_id: str, seq_range: dict, order: str, size: int, scope: Scope) -> list[dict]:
    if size <= 0:
        return []
    body = {
        "query": {"bool": {"filter": [{"term": {"conversation_id": conversation_id}}, {"range": {"seq": seq_range}}, *scope]}},
        "sort": [{"seq": order}, {"id": "asc"}],
        "size": size,
        "_source": MESSAGE_FIELDS,
    }
    return confine(client, index, [hit["_source"] for hit in client.search(index=index, body=body)["hits"]["hits"]], scope)


def _attachments(client: OpenSearch, index: str, message_ids: list[str], scope: Scope) -> dict[str, list[dict]]:
    if not message_ids:
        return {}
    hits = client.search(index=index, body={
        "query": scoped({"terms": {"parent_id": message_ids}}, scope), "size": 1000, "sort": [{"locator": "asc"}],
        "_source": ["id", "parent_id", "file_name", "content_type", "size", "extraction"],
    })["hits"]["hits"]
    by_parent: dict[str, list[dict]] = {}
    for hit in hits:
        source = hit["_source"]
        by_parent.setdefault(source.pop("parent_id"), []).append(source)
    return by_parent


def get_conversation(
    client: OpenSearch, index: str, conversation_id: str, around: str | None, before: int, after: int,
    scope: Scope = EVERYTHING,
) -> dict[str, Any] | None:
    """Messages of `conversation_id` within `scope`: `before` messages before `around` (or the start), the
    `around` message itself and `after` messages after it. None when the conversation has no messages in scope."""
    total = client.count(index=index, body={"query": scoped({"term": {"conversation_id": conversation_id}}, scope)})["count"]
    if total == 0:
        return None
    if around:
        found = client.search(index=index, body={"query": {"bool": {"filter": [
            {"ids": {"values": [around]}}, {"term": {"conversation_id": conversation_id}}, *scope]}}, "_source": ["seq"]})["hits"]["hits"]
        if not found:
            raise NotInConversation(f"item {around!r} is not a message of conversation {conversation_id!r}")
        pivot = found[0]["_source"]["seq"]
        earlier = list(reversed(_page(client, index, conversation_id, {"lt": pivot}, "desc", before, scope)))
        later = _page(client, index, conversation_id, {"gte": pivot}, "asc", after + 1, scope)
    else:
        earlier, later = [], _page(client, index, conversation_id, {"gte": 0}, "asc", after + 1, scope)
    messages = earlier + later
    attachments = _attachments(client, index, [m["id"] for m in messages], scope)
    for message in messages:
        message["attachments"] = attachments.get(message["id"], [])
    first, last = (messages[0]["seq"], messages[-1]["seq"]) if messages else (None, None)
    sample = messages[0] if messages else {}
    return {
        "conversation_id": conversation_id,
        "name": sample.get("conversation_name"),
        "channel": sample.get("channel"),
        "total": total,
        "around": around,
        "messages": messages,
        "has_before": first is not None and _page(client, index, conversation_id, {"lt": first}, "desc", 1, scope) != [],
        "has_after": last is not None and _page(client, index, conversation_id, {"gt": last}, "asc", 1, scope) != [],
    }
