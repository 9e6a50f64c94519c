"""The transfer ledger: which private items went into a records-transfer package, when, by whom.

One document per item in `<prefix>transfers` (its id is the item's id, so a later package that
holds the item again replaces the entry). The ledger is kept apart from the items index because
items are rewritten whole when their source is ingested again, and a transfer is a fact about
the organisation's record, not about the source. The gap report reads it to show an uncopied item
as "transferred, awaiting filing" until the counterpart pass finds its official copy; then the
item counts as copied and the ledger entry is only history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import RequestError

_KEYWORD = {"type": "keyword"}
MAPPING: dict[str, Any] = {"dynamic": "strict", "properties": {
    "item_id": _KEYWORD, "custodian": _KEYWORD, "package_id": _KEYWORD, "at": {"type": "date"}, "by": _KEYWORD,
    "file": _KEYWORD,  # the item's file inside the package
}}
TERMS_CHUNK = 50_000  # below OpenSearch's index.max_terms_count (65,536) per terms clause


def ledger_index(settings) -> str:
    """The ledger's index name for these settings."""
    return f"{settings.index_prefix}transfers"


def ensure_ledger(client: OpenSearch, index: str) -> None:
    """Create the ledger index if it is missing."""
    if client.indices.exists(index=index):
        return
    try:
        client.indices.create(index=index, body={"settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
                                                 "mappings": MAPPING})
    except RequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise


def record_transfers(client: OpenSearch, index: str, entries: Iterable[dict[str, Any]]) -> int:
    """Write ledger entries ({item_id, custodian, package_id, at, by, file}); return how many."""
    ensure_ledger(client, index)
    actions = ({"_op_type": "index", "_index": index, "_id": entry["item_id"], "_source": entry} for entry in entries)
    written, _ = helpers.bulk(client, actions, chunk_size=500, raise_on_error=True, refresh="wait_for")
    return written


def transfers_of(client: OpenSearch, index: str, custodians: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """item id → its ledger entry, for every item transferred (of `custodians` when given)."""
    if not client.indices.exists(index=index):
        return {}
    query = {"terms": {"custodian": list(custodians)}} if custodians else {"match_all": {}}
    return {hit["_id"]: hit["_source"] for hit in helpers.scan(client, index=index, query={"query": query}, size=1000)}


def terms_clause(field: str, values: Iterable[str]) -> dict[str, Any]:
    """A filter matching items whose `field` is one of `values` (nothing when there are none), however many."""
    ordered = sorted(values)
    if not ordered:
        return {"bool": {"must_not": [{"match_all": {}}]}}
    chunks = [ordered[n:n + TERMS_CHUNK] for n in range(0, len(ordered), TERMS_CHUNK)]
    return {"bool": {"should": [{"terms": {field: chunk}} for chunk in chunks], "minimum_should_match": 1}}


def ids_clause(ids: Iterable[str]) -> dict[str, Any]:
    """A filter matching items whose id is in `ids`."""
    return terms_clause("id", ids)
