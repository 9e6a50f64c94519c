"""One person across channels: their identities and where their items are (GET /api/v1/people/{key}).

Counts per channel and record are aggregations over the items carrying the key in `people`.
Identities are read from the addresses on those items whose `person` is the key (address
lists are plain objects, not nested, so this cannot be an aggregation): from the
`IDENTITY_SAMPLE` most recent items, exact when the person has no more items than that
(`identities_complete`). Aliases imported from the alias file are listed as written; for a
caller with a scope, only those seen on items in the scope (a private address or phone number
known only from other custodians' items is not theirs to learn).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from indexer.enrich.people import ADDRESS_FIELDS, identity
from search_api.scope import EVERYTHING, Scope, scoped

IDENTITY_SAMPLE = 2000


def _identities(hits: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str]] = Counter()
    for hit in hits:
        seen: set[tuple[str, str]] = set()
        for name in ADDRESS_FIELDS:
            value = hit["_source"].get(name) or []
            for entry in [value] if isinstance(value, dict) else value:
                if entry.get("person") != key:
                    continue
                if entry.get("address"):
                    address = entry["address"]
                    kind = "email" if "@" in address else "phone" if address.startswith("+") else "handle"
                    seen.add((kind, address))
                if entry.get("name"):
                    seen.add(("name", entry["name"]))
        counts.update(seen)
    return [{"kind": kind, "value": value, "items": n} for (kind, value), n in
            sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))]


def _seen(aliases: list[str], identities: list[dict[str, Any]]) -> list[str]:
    """The aliases (as written) that match an identity seen on the items read."""
    seen = {identity(entry["value"]) for entry in identities}
    return [raw for raw in aliases if identity(raw) in seen]


def _alias(client: OpenSearch, people_index: str, key: str) -> dict[str, Any] | None:
    try:
        return client.get(index=people_index, id=key)["_source"]
    except NotFoundError:
        return None


def get_person(client: OpenSearch, items_index: str, people_index: str, key: str,
               scope: Scope = EVERYTHING) -> dict[str, Any] | None:
    """A person's label, aliases, identities seen and item counts by channel and record, from the items in
    `scope`; None if unknown. A restricted caller (non-empty scope) sees only people on items it may see."""
    response = client.search(index=items_index, body={
        "query": scoped({"term": {"people": key}}, scope),
        "size": IDENTITY_SAMPLE, "track_total_hits": True,
        "sort": [{"date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
        "_source": list(ADDRESS_FIELDS),
        "aggs": {
            "channel": {"terms": {"field": "channel", "size": 50}},
            "record": {"terms": {"field": "record", "size": 10}},
            "channel_record": {"multi_terms": {"terms": [{"field": "channel"}, {"field": "record"}], "size": 100}},
        },
    })
    alias = _alias(client, people_index, key)
    total = response["hits"]["total"]["value"]
    if total == 0 and (alias is None or scope):
        return None
    aggs = response["aggregations"]
    identities = _identities(response["hits"]["hits"], key)
    aliases = alias.get("raw_identities", []) if alias else []
    if scope:
        aliases = _seen(aliases, identities)
    return {
        "key": key,
        "label": alias["label"] if alias else key.removeprefix("person:"),
        "source": "alias" if alias else "automatic",
        "aliases": aliases,
        "identities": identities,
        "identities_complete": total <= IDENTITY_SAMPLE,
        "total": total,
        "by_channel": [{"value": b["key"], "count": b["doc_count"]} for b in aggs["channel"]["buckets"]],
        "by_record": [{"value": b["key"], "count": b["doc_count"]} for b in aggs["record"]["buckets"]],
        "by_channel_and_record": [
            {"channel": b["key"][0], "record": b["key"][1], "count": b["doc_count"]} for b in aggs["channel_record"]["buckets"]
        ],
    }
