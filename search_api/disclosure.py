"""What of an item may leave the API for a caller with a scope: one filter for every route and export.

Most item fields describe the item itself. A few refer to *other* items, and could name or
betray items outside the caller's scope (search_api.scope):

| field                 | refers to                          | for a scoped caller                                  |
| --------------------- | ---------------------------------- | ---------------------------------------------------- |
| `parent_id`           | the item this one is attached to   | kept if that item is in scope, else null             |
| `family_id`           | the family's top-level item        | kept if that item is in scope, else null             |
| `official_copy_links` | official counterparts ({id, why})  | only links to items in scope                         |
| `official_copy`       | the strongest counterpart's `how`  | recomputed from the links kept: `none` if none is    |
| `near_dup_group`      | the group of near-duplicates       | kept if another item of the group is in scope        |

Lists built from other items (an item's `parent`, `attachments` and `also_held_by`, a thread's
messages and `held_by`, a conversation's messages, a search hit's `family`) are queried within
the scope in the first place. `confine` is the one place the fields above are filtered: search
hits, item views, threads, conversations, families and every export format call it on the
item documents they return, and tests/search_api/test_scope_leaks.py checks every route and
format with items whose cross-item fields all point out of scope.

An unrestricted caller (empty scope) gets the items unchanged, at no cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from opensearchpy import OpenSearch

from indexer.model import FIELDS
from search_api.scope import Scope

ID_FIELDS = ("parent_id", "family_id")
HOWS = ("exact", "forwarded", "near", "quoted", "note")
CONFINED = (*ID_FIELDS, "official_copy_links", "official_copy", "near_dup_group")  # the fields `confine` has a rule for
CROSS_ITEM_FIELDS = tuple(f.name for f in FIELDS if f.spec.cross_item)  # declared so in indexer.model (tests: the same set)
BATCH = 500  # item documents confined per pair of lookups


def confine(client: OpenSearch, index: str, sources: list[dict[str, Any]], scope: Scope) -> list[dict[str, Any]]:
    """`sources` (item documents from queries within `scope`) with their cross-item fields confined to
    `scope`, in place; returned for convenience. Two lookups at most (ids, near-duplicate groups)."""
    if not scope or not sources:
        return sources
    visible = _ids_in_scope(client, index, _referenced_ids(sources), scope)
    groups = _shared_groups(client, index, {s["near_dup_group"] for s in sources if s.get("near_dup_group")}, scope)
    for source in sources:
        for name in ID_FIELDS:
            if source.get(name) and source[name] != source.get("id") and source[name] not in visible:
                source[name] = None
        if "official_copy_links" in source:
            source["official_copy_links"] = [link for link in source["official_copy_links"] or [] if link.get("id") in visible]
        if source.get("official_copy") in HOWS:
            links = source.get("official_copy_links")
            if links is None:  # the document was read without its links: say nothing about copies
                source["official_copy"] = None
            else:
                source["official_copy"] = links[0]["how"] if links else "none"
        if source.get("near_dup_group") and source["near_dup_group"] not in groups:
            source["near_dup_group"] = None
    return sources


def confine_hits(client: OpenSearch, index: str, hits: Iterable[dict[str, Any]], scope: Scope) -> Iterator[dict[str, Any]]:
    """Search hits (with `_source`) streamed through `confine`, BATCH at a time."""
    iterator = iter(hits)
    try:
        while batch := list(islice(iterator, BATCH)):
            confine(client, index, [hit["_source"] for hit in batch], scope)
            yield from batch
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:  # a scan generator releases its point in time when closed
            close()


def _referenced_ids(sources: list[dict[str, Any]]) -> set[str]:
    ids: set[str] = set()
    for source in sources:
        ids.update(source[name] for name in ID_FIELDS if source.get(name) and source[name] != source.get("id"))
        ids.update(link["id"] for link in source.get("official_copy_links") or [] if link.get("id"))
    return ids


def _ids_in_scope(client: OpenSearch, index: str, ids: set[str], scope: Scope) -> set[str]:
    if not ids:
        return set()
    response = client.search(index=index, body={
        "query": {"bool": {"filter": [{"ids": {"values": sorted(ids)}}, *scope]}}, "size": len(ids), "_source": False})
    return {hit["_id"] for hit in response["hits"]["hits"]}


def _shared_groups(client: OpenSearch, index: str, groups: set[str], scope: Scope) -> set[str]:
    """The near-duplicate groups with at least two members in scope (the item itself and another)."""
    if not groups:
        return set()
    response = client.search(index=index, body={
        "size": 0, "query": {"bool": {"filter": [{"terms": {"near_dup_group": sorted(groups)}}, *scope]}},
        "aggs": {"groups": {"terms": {"field": "near_dup_group", "size": len(groups), "min_doc_count": 2}}}})
    return {bucket["key"] for bucket in response["aggregations"]["groups"]["buckets"]}
