"""What one caller can hold of the shared cluster: time per search and open snapshots.

- **Time.** The API's OpenSearch client (`LimitedOpenSearch`) gives every search, multi-search
  and count `LANTERN_SEARCH_TIMEOUT_SECONDS`: OpenSearch stops the search there (`timeout` in
  the body) and the HTTP call gives up there too. A search that ran out of time is an error
  (SearchTimedOut → 400 saying so), never a partial answer: an e-discovery count must be whole.
  Nothing is retried on a timeout, which would only run the same slow search again.
- **Snapshots.** `cursor=start` opens a point in time (PIT), which OpenSearch keeps for
  `paging.KEEP_ALIVE` and allows only a few hundred of in all, shared by every user.
  `Snapshots` remembers which caller opened which; a caller holds at most
  `LANTERN_CURSORS_PER_CALLER`, and opening one more closes their least recently used (its
  cursor then answers "expired"). A cursor's snapshot is closed after its last page.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionTimeout

from services.clients import opensearch_client
from services.settings import Settings


class SearchTimedOut(RuntimeError):
    """A search ran past LANTERN_SEARCH_TIMEOUT_SECONDS and was stopped (→ 400)."""

    def __init__(self, seconds: float):
        super().__init__(f"the search took longer than {seconds:g} s and was stopped; narrow it (a custodian, a date range, "
                         "fewer wildcards) or try again when the service is less busy")


def _duration(seconds: float) -> str:
    return f"{max(1, round(seconds * 1000))}ms"


class LimitedOpenSearch(OpenSearch):
    """An OpenSearch client whose searches, multi-searches and counts stop after `search_seconds`."""

    search_seconds: float = 30.0

    def _limited(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        # Other keyword arguments (scroll, size, ... as helpers.scan passes them) go on to the client untouched.
        params = dict(kwargs.pop("params", None) or {})
        params.setdefault("request_timeout", self.search_seconds)
        return {**kwargs, "params": params}

    def search(self, *, body: Any = None, index: Any = None, **kwargs: Any) -> Any:
        if isinstance(body, dict):
            body = {"timeout": _duration(self.search_seconds), **body}
        try:
            response = super().search(body=body, index=index, **self._limited(kwargs))
        except ConnectionTimeout as exc:
            raise SearchTimedOut(self.search_seconds) from exc
        if response.get("timed_out"):
            raise SearchTimedOut(self.search_seconds)
        return response

    def msearch(self, *, body: Any, index: Any = None, **kwargs: Any) -> Any:
        if isinstance(body, list):  # header, body, header, body, ...
            body = [{"timeout": _duration(self.search_seconds), **line} if n % 2 else line for n, line in enumerate(body)]
        try:
            response = super().msearch(body=body, index=index, **self._limited(kwargs))
        except ConnectionTimeout as exc:
            raise SearchTimedOut(self.search_seconds) from exc
        if any(part.get("timed_out") for part in response.get("responses", [])):
            raise SearchTimedOut(self.search_seconds)
        return response

    def count(self, *, body: Any = None, index: Any = None, **kwargs: Any) -> Any:
        try:
            return super().count(body=body, index=index, **self._limited(kwargs))
        except ConnectionTimeout as exc:
            raise SearchTimedOut(self.search_seconds) from exc


def limited_client(settings: Settings) -> LimitedOpenSearch:
    """The API's OpenSearch client: searches limited to LANTERN_SEARCH_TIMEOUT_SECONDS, no retry on a timeout."""
    client = opensearch_client(settings, client_class=LimitedOpenSearch, retry_on_timeout=False)
    client.search_seconds = settings.search_timeout_seconds
    return client


class Snapshots:
    """The points in time open for cursors, per caller, at most `per_caller` each (thread-safe)."""

    def __init__(self, per_caller: int, keep_alive_seconds: float):
        self.per_caller, self.keep_alive = per_caller, keep_alive_seconds
        self.open: dict[str, OrderedDict[str, float]] = {}  # caller → pit id → last use (monotonic)
        self.lock = threading.Lock()

    def opened(self, caller: str, pit_id: str) -> list[str]:
        """Record a new snapshot of `caller`; return their least recently used ones beyond the bound, to close."""
        now = time.monotonic()
        with self.lock:
            held = self.open.setdefault(caller, OrderedDict())
            for old in [p for p, used in held.items() if now - used > self.keep_alive]:
                del held[old]  # expired in OpenSearch already
            held[pit_id] = now
            evicted = []
            while len(held) > self.per_caller:
                evicted.append(held.popitem(last=False)[0])
        return evicted

    def used(self, caller: str, pit_id: str) -> None:
        """A page was read from the snapshot: it is now the caller's most recently used."""
        with self.lock:
            held = self.open.get(caller)
            if held is not None and pit_id in held:
                held[pit_id] = time.monotonic()
                held.move_to_end(pit_id)

    def closed(self, caller: str, pit_id: str) -> None:
        with self.lock:
            self.open.get(caller, OrderedDict()).pop(pit_id, None)

    def held_by(self, caller: str) -> int:
        with self.lock:
            return len(self.open.get(caller, ()))
