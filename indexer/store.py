"""Bulk writes of items into OpenSearch, streamed: documents flow through, never collected."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from opensearchpy import OpenSearch, helpers

from indexer import errors
from indexer.model import Item, Problem


def _actions(items: Iterable[Item], index: str) -> Iterator[dict]:
    for item in items:
        # `index` (not `create`) with the stable id: re-ingesting overwrites, never duplicates.
        yield {"_op_type": "index", "_index": index, "_id": item.id, "_source": item.to_doc()}


def write_items(client: OpenSearch, index: str, items: Iterable[Item], chunk_size: int = 500) -> Iterator[Problem]:
    """Index `items` under their ids; yield a Problem for each document OpenSearch rejected."""
    sources: dict[str, tuple[str, str]] = {}

    def remember(stream: Iterable[Item]) -> Iterator[Item]:
        for item in stream:
            sources[item.id] = (item.source_path, item.locator)
            yield item

    results = helpers.streaming_bulk(
        client, _actions(remember(items), index), chunk_size=chunk_size, max_chunk_bytes=50 * 1024 * 1024,
        raise_on_error=False, raise_on_exception=True, max_retries=3, initial_backoff=2,
    )
    for ok, info in results:
        item_id = info.get("index", {}).get("_id")
        where = sources.pop(item_id, ("?", "?"))
        if not ok:
            error = info.get("index", {}).get("error")
            yield Problem(where[0], where[1], "index_rejected", f"OpenSearch rejected the item: {error}", item_id)
