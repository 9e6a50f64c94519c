"""Families: an email (or loose document) with everything attached to it, at any depth.

Every item carries `family_id`, the id of its top-level item, so a family is one term query.
`expand=families` on a search adds, to each hit, its family: the top-level item and the other
members (ids, kinds and names) — enough to show an attachment with its parent and siblings.
"""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from search_api.disclosure import confine
from search_api.scope import EVERYTHING, Scope, scoped

MAX_MEMBERS = 50  # per family in a search response; `total` says how many there are
MEMBER_FIELDS = ["id", "kind", "subject", "file_name", "parent_id", "depth", "content_type"]


def attach_families(client: OpenSearch, index: str, hits: list[dict[str, Any]], scope: Scope = EVERYTHING) -> None:
    """Set `family` on every hit: {id, total, top, members}, from one aggregation for the whole page;
    only members within `scope` are listed or counted."""
    family_ids = sorted({hit["family_id"] for hit in hits if hit.get("family_id")})
    if not family_ids:
        for hit in hits:
            hit["family"] = None
        return
    response = client.search(index=index, body={
        "size": 0,
        "query": scoped({"terms": {"family_id": family_ids}}, scope),
        "aggs": {"families": {
            "terms": {"field": "family_id", "size": len(family_ids)},
            "aggs": {"members": {"top_hits": {
                "size": MAX_MEMBERS, "_source": MEMBER_FIELDS,
                "sort": [{"depth": {"order": "asc", "missing": "_first"}}, {"locator": "asc"}],
            }}},
        }},
    })
    families: dict[str, dict[str, Any]] = {}
    for bucket in response["aggregations"]["families"]["buckets"]:
        members = confine(client, index, [member["_source"] for member in bucket["members"]["hits"]["hits"]], scope)
        top = next((m for m in members if m["id"] == bucket["key"]), None)
        families[bucket["key"]] = {"id": bucket["key"], "total": bucket["doc_count"], "top": top, "members": members}
    for hit in hits:
        hit["family"] = families.get(hit.get("family_id"))
