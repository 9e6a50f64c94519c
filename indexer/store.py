"""Bulk writes of items into OpenSearch, streamed: documents flow through, never collected.

We chunk and send the bulk requests ourselves rather than through `helpers.streaming_bulk`,
whose retries cover only per-item 429s: a connection refused while OpenSearch restarts
would end the run. Here a whole request failing with a connection error, a timeout or a
429/502/503/504 is sent again, and so are the items rejected with 429/503, with exponential
backoff until `Retry.give_up_after` seconds pass without OpenSearch accepting anything.
Resending is harmless: every write is an `index` under the item's stable id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import TransportError

from indexer.model import Item, Problem

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 502, 503, 504})


class IndexUnavailable(RuntimeError):
    """OpenSearch did not accept writes for longer than the retry budget."""


@dataclass(frozen=True)
class Retry:
    """How long writes keep trying while OpenSearch is unreachable or overloaded (LANTERN_BULK_RETRY_SECONDS)."""

    give_up_after: float = 120.0  # seconds without progress before IndexUnavailable
    first_wait: float = 0.5
    longest_wait: float = 10.0


def _transient(exc: TransportError) -> bool:
    return isinstance(exc, TransportConnectionError) or exc.status_code in RETRY_STATUSES


class _Backoff:
    """Exponential waits between attempts; raises IndexUnavailable once the budget is spent."""

    def __init__(self, retry: Retry, what: str, on_retry: Callable[[], None] | None):
        self.retry, self.what, self.on_retry = retry, what, on_retry
        self.since: float | None = None
        self.wait = retry.first_wait

    def failed(self, reason: str) -> None:
        now = time.monotonic()
        self.since = self.since if self.since is not None else now
        if now - self.since >= self.retry.give_up_after:
            raise IndexUnavailable(f"OpenSearch did not accept {self.what} for {self.retry.give_up_after:.0f}s ({reason})")
        if self.on_retry:
            self.on_retry()
        time.sleep(self.wait)
        self.wait = min(self.wait * 2, self.retry.longest_wait)


def call_with_retry(call: Callable[[], T], retry: Retry = Retry(), what: str = "the request",
                    on_retry: Callable[[], None] | None = None) -> T:
    """`call()`, repeated with backoff while it fails with a transient OpenSearch error."""
    backoff = _Backoff(retry, what, on_retry)
    while True:
        try:
            return call()
        except TransportError as exc:
            if not _transient(exc):
                raise
            backoff.failed(f"{exc.__class__.__name__}: {exc.status_code} {str(exc.error)[:200]}")


def _chunks(client: OpenSearch, index: str, items: Iterable[Item], chunk_size: int,
            max_chunk_bytes: int, max_chunk_seconds: float) -> Iterator[list[tuple[Item, bytes]]]:
    """Items with their serialised bulk lines, in chunks bounded by count, bytes and age: a slow
    trickle of items is still written (and its files journalled as done) every few seconds."""
    dumps = client.transport.serializer.dumps
    chunk: list[tuple[Item, bytes]] = []
    size, opened = 0, 0.0
    for item in items:
        # `index` (not `create`) with the stable id: re-ingesting overwrites, never duplicates.
        action = dumps({"index": {"_index": index, "_id": item.id}})
        lines = (action + "\n" + dumps(item.to_doc()) + "\n").encode("utf-8")
        if chunk and (len(chunk) >= chunk_size or size + len(lines) > max_chunk_bytes
                      or time.monotonic() - opened >= max_chunk_seconds):
            yield chunk
            chunk, size = [], 0
        if not chunk:
            opened = time.monotonic()
        chunk.append((item, lines))
        size += len(lines)
    if chunk:
        yield chunk


def _send(client: OpenSearch, chunk: list[tuple[Item, bytes]], retry: Retry,
          on_retry: Callable[[], None] | None) -> Iterator[tuple[Item, object | None]]:
    """(item, error or None) for every item of `chunk`, once OpenSearch has answered for it."""
    pending = chunk
    item_backoff = _Backoff(retry, "the rejected items", on_retry)
    while pending:
        body = b"".join(lines for _, lines in pending)
        response = call_with_retry(lambda: client.bulk(body=body), retry, "bulk writes", on_retry)
        again = []
        for (item, lines), result in zip(pending, response["items"], strict=True):
            outcome = result.get("index", {})
            status = int(outcome.get("status", 500))
            if status in RETRY_STATUSES:
                again.append((item, lines))
            else:
                yield item, (outcome.get("error") or f"status {status}") if status >= 300 else None
        if again:
            item_backoff.failed(f"{len(again)} items answered {RETRY_STATUSES}")
        pending = again


def write_items(client: OpenSearch, index: str, items: Iterable[Item], chunk_size: int = 500,
                retry: Retry = Retry(), acknowledged: Callable[[Item], None] | None = None,
                on_retry: Callable[[], None] | None = None,
                max_chunk_bytes: int = 50 * 1024 * 1024, max_chunk_seconds: float = 2.0) -> Iterator[Problem]:
    """Index `items` under their ids; yield a Problem for each document OpenSearch rejected.

    `acknowledged(item)` is called once OpenSearch has answered for an item, after its
    Problem (if any) has been yielded and handled. Raises IndexUnavailable when OpenSearch
    stays unreachable past `retry.give_up_after`.
    """
    for chunk in _chunks(client, index, items, chunk_size, max_chunk_bytes, max_chunk_seconds):
        for item, error in _send(client, chunk, retry, on_retry):
            if error is not None:
                yield Problem(item.source_path, item.locator, "index_rejected", f"OpenSearch rejected the item: {error}", item.id)
            if acknowledged:
                acknowledged(item)


def delete_stale_items(client: OpenSearch, index: str, current: dict[str, set[str]], retry: Retry = Retry(),
                       batch: int = 200, custodian: str | None = None) -> int:
    """Delete the items of these units (source_path -> digests just indexed) whose source digest
    is not among the current ones: what an earlier version of a changed file left. Returns the count.

    Units that yielded no item this time are left alone: an unreadable file is reported, and
    its earlier items stay searchable rather than vanish because of, say, a Tika outage. With
    `custodian`, only that custodian's items: another holder's copy of the old version is evidence.
    (A scan and bulk deletes: the embedded OpenSearch has no `_delete_by_query`.)
    """
    units = sorted((unit, sorted(digests)) for unit, digests in current.items() if digests)
    deleted = 0
    for start in range(0, len(units), batch):
        should = [{"bool": {"filter": [{"term": {"source_path": unit}}], "must_not": [{"terms": {"source_sha256": digests}}]}}
                  for unit, digests in units[start:start + batch]]
        held = [{"term": {"custodian": custodian}}] if custodian else []
        query = {"query": {"bool": {"should": should, "minimum_should_match": 1, "filter": held}}, "_source": False}
        stale = [hit["_id"] for hit in call_with_retry(lambda: list(helpers.scan(client, index=index, query=query, size=1000)),
                                                       retry, "the stale-item search")]
        for first in range(0, len(stale), 1000):
            body = "".join(client.transport.serializer.dumps({"delete": {"_index": index, "_id": item_id}}) + "\n"
                           for item_id in stale[first:first + 1000])
            call_with_retry(lambda: client.bulk(body=body), retry, "the stale-item deletes")
        deleted += len(stale)
    if deleted:
        call_with_retry(lambda: client.indices.refresh(index=index), retry, "a refresh")
    return deleted
