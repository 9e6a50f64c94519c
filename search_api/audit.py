"""The audit trail: who searched, viewed, exported, reported, logged in or changed an account — when,
from where, through which route — appended to its own index, `<prefix>audit`.

Entries are only ever created (`op_type=create`); nothing in Lantern updates or deletes them,
and they form one hash chain (search_api.audit_chain) so that anyone who does is found out by
`lantern audit verify`. The API records through `AuditWriter`: a background thread
with a bounded queue that bulk-writes about once a second, so a search does not wait for its
audit write. When the queue is full (OpenSearch not taking writes) requests wait, and after
PUT_TIMEOUT fail with AuditUnavailable (→ 503): Lantern refuses to serve what it cannot record.
The CLI, a short-lived process, writes synchronously with `write_now`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import RequestError, TransportError

from search_api.audit_chain import CHAIN_MAPPING, ChainBusy, claim
from services.settings import Settings

log = logging.getLogger("lantern.audit")

FLUSH_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0  # the longest wait between tries while the chain's head is contended
BATCH = 500
PUT_TIMEOUT = 10.0
MAX_PAGE = 500

_KEYWORD = {"type": "keyword"}
MAPPING: dict[str, Any] = {"dynamic": "strict", "properties": {
    "time": {"type": "date"},
    "user": _KEYWORD,          # user name, "key:<name>" … as Principal.audit_name says
    "via": _KEYWORD,           # session, key, anonymous, cli
    "key_id": _KEYWORD,
    "roles": _KEYWORD,
    "action": _KEYWORD,        # search, view, export, report, login, logout, denied, user_add, key_create, …
    "outcome": _KEYWORD,       # ok, failed, denied
    "method": _KEYWORD,
    "route": _KEYWORD,
    "client": _KEYWORD,        # the caller's address as the server saw it (after a trusted proxy's X-Forwarded-For)
    "query": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 2048}}},
    "total": {"type": "long"},
    "target": _KEYWORD,        # the item, thread, conversation, person, user or key acted on
    "reason": _KEYWORD,
    "details": {"type": "object", "enabled": False},  # filters, formats, roles given: kept, not indexed
    **CHAIN_MAPPING,           # seq, prev_hash, hash: the tamper-evident chain
}}
_CHAIN_MAPPED: set[tuple[str, str]] = set()  # (OpenSearch, index) whose mapping has the chain fields, this process


class AuditUnavailable(RuntimeError):
    """The audit trail cannot take more entries (OpenSearch not accepting writes): the request is refused."""


class AuditBusy(AuditUnavailable):
    """Other writers kept moving the chain's head: worth trying again later (the writer keeps the entries)."""


def ensure_audit_index(client: OpenSearch, settings: Settings) -> None:
    """Create the audit index if it is missing."""
    if client.indices.exists(index=settings.audit_index):
        where = (settings.effective_opensearch_url, settings.audit_index)
        if where not in _CHAIN_MAPPED:  # an index made before the chain: add its fields (a no-op when present)
            client.indices.put_mapping(index=settings.audit_index, body={"properties": CHAIN_MAPPING})
            _CHAIN_MAPPED.add(where)
        return
    try:
        client.indices.create(index=settings.audit_index, body={
            "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}}, "mappings": MAPPING})
    except RequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise


def make_entry(action: str, user: str, via: str, outcome: str = "ok", **fields: Any) -> dict[str, Any]:
    """One audit entry, stamped now (UTC). Fields that are None are left out."""
    entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "action": action, "user": user, "via": via,
             "outcome": outcome, **fields}
    return {name: value for name, value in entry.items() if value is not None and value != {}}


def _bulk_lines(index: str, chained: list[dict[str, Any]]) -> str:
    return "".join(f"{json.dumps({'create': {'_index': index, '_id': str(entry['seq'])}})}\n{json.dumps(entry)}\n"
                   for entry in chained)


def claim_entries(client: OpenSearch, settings: Settings, entries: list[dict[str, Any]],
                  tried: list[list[dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """`entries` given their place in the chain (search_api.audit_chain.claim; `tried` as it says), ready for
    `write_chained`."""
    ensure_audit_index(client, settings)
    try:
        return claim(client, settings, entries, tried)
    except ChainBusy as exc:
        raise AuditBusy(str(exc)) from exc


def write_chained(client: OpenSearch, settings: Settings, chained: list[dict[str, Any]]) -> None:
    """Create claimed entries under their seq; one already there (a retried batch) counts as written."""
    response = client.bulk(body=_bulk_lines(settings.audit_index, chained), refresh="wait_for")
    if response.get("errors"):
        reasons = {item["create"].get("error", {}).get("type") for item in response["items"] if "error" in item["create"]}
        reasons.discard("version_conflict_engine_exception")
        if reasons:
            raise AuditUnavailable(f"the audit trail refused entries: {', '.join(sorted(filter(None, reasons)))}")


def write_now(client: OpenSearch, settings: Settings, entries: list[dict[str, Any]]) -> None:
    """Write entries at once (the CLI); raises if OpenSearch refuses any of them."""
    write_chained(client, settings, claim_entries(client, settings, entries))


class AuditWriter:
    """The API's audit writer: `record` queues an entry; a daemon thread bulk-writes every FLUSH_SECONDS."""

    CLOSED = object()  # what a retried step returns when the writer is closed while it waits

    def __init__(self, client: OpenSearch, settings: Settings):
        self.client, self.settings = client, settings
        self.queue: queue.Queue[dict[str, Any] | threading.Event] = queue.Queue(maxsize=settings.audit_queue_size)
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.closing = threading.Event()

    def _start(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="lantern-audit", daemon=True)
                self.thread.start()

    def record(self, entry: dict[str, Any]) -> None:
        """Queue `entry`; AuditUnavailable when the queue stays full for PUT_TIMEOUT seconds."""
        self._start()
        try:
            self.queue.put(entry, timeout=PUT_TIMEOUT)
        except queue.Full as exc:
            raise AuditUnavailable("the audit trail is not being written (is OpenSearch up?); request refused") from exc

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything queued before this call is written; False if that took longer than `timeout`."""
        self._start()
        done = threading.Event()
        try:
            self.queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Flush and stop the thread (app shutdown). Entries that cannot be written are logged as lost."""
        if self.thread is None:
            return
        if not self.flush(timeout):
            log.error("audit: %d entries could not be written before shutdown", self.queue.qsize())
        self.closing.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.closing.is_set():
            batch, markers = self._collect()
            if batch and not self._write(batch):
                return
            for marker in markers:
                marker.set()

    def _collect(self) -> tuple[list[dict[str, Any]], list[threading.Event]]:
        """Wait up to FLUSH_SECONDS for entries; return what arrived (and flush markers), at most BATCH."""
        batch: list[dict[str, Any]] = []
        markers: list[threading.Event] = []
        try:
            item = self.queue.get(timeout=FLUSH_SECONDS)
        except queue.Empty:
            return batch, markers
        while True:
            if isinstance(item, threading.Event):
                markers.append(item)
                return batch, markers  # write what came before the marker, then release its waiter
            batch.append(item)
            if len(batch) >= BATCH:
                return batch, markers
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                return batch, markers

    def _write(self, batch: list[dict[str, Any]]) -> bool:
        """Claim the batch's place in the chain once, then write it; False if the writer closed meanwhile."""
        tried: list[list[dict[str, Any]]] = []  # kept across retries: a head write that timed out may have landed
        chained = self._retrying(lambda: claim_entries(self.client, self.settings, batch, tried), len(batch))
        if chained is None:
            return True
        if chained is self.CLOSED:
            return False
        return self._retrying(lambda: write_chained(self.client, self.settings, chained), len(batch)) is not self.CLOSED

    def _retrying(self, step, count: int):
        """`step()`'s result; retried every FLUSH_SECONDS while OpenSearch is unreachable or busy, with a growing
        wait while other writers win the chain's head (AuditBusy: never dropped). None when
        OpenSearch rejects the batch (logged: it would be rejected again), CLOSED if the writer closes meanwhile."""
        busy = 0
        while True:
            wait = FLUSH_SECONDS
            try:
                return step()
            except AuditBusy as exc:  # other writers won the head: back off, keep the entries (the queue fills → 503)
                busy += 1
                wait = min(MAX_BACKOFF_SECONDS, FLUSH_SECONDS * 2 ** (busy - 1))
                log.warning("audit: %s; %d entries wait, next try in %g s", exc, count, wait)
            except OpenSearchConnectionError as exc:
                log.warning("audit: OpenSearch unreachable, %d entries wait (%s)", count, exc.__class__.__name__)
            except TransportError as exc:
                if not (exc.status_code == 429 or (isinstance(exc.status_code, int) and exc.status_code >= 500)):
                    log.error("audit: OpenSearch rejected a batch of %d entries (%s)", count, exc.error)
                    return None
                log.warning("audit: OpenSearch busy (HTTP %s), %d entries wait", exc.status_code, count)
            except AuditUnavailable as exc:  # rejected entries would be rejected again: say so loudly, go on
                log.error("audit: %s (%d entries)", exc, count)
                return None
            if self.closing.wait(wait):
                return self.CLOSED


def read_audit(client: OpenSearch, settings: Settings, user: str | None = None, action: str | None = None,
               since: datetime | None = None, size: int = 50, offset: int = 0) -> dict[str, Any]:
    """Entries newest first, filtered by user, action and time: {total, entries}."""
    if not client.indices.exists(index=settings.audit_index):
        return {"total": 0, "entries": []}
    client.indices.refresh(index=settings.audit_index)
    filters: list[dict[str, Any]] = []
    if user:
        filters.append({"term": {"user": user}})
    if action:
        filters.append({"term": {"action": action}})
    if since:
        filters.append({"range": {"time": {"gte": since.isoformat()}}})
    response = client.search(index=settings.audit_index, body={
        "query": {"bool": {"filter": filters}}, "sort": [{"time": "desc"}], "size": min(size, MAX_PAGE), "from": offset,
        "track_total_hits": True})
    return {"total": response["hits"]["total"]["value"], "entries": [hit["_source"] for hit in response["hits"]["hits"]]}
