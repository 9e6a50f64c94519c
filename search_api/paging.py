"""Sort orders and deep paging: point-in-time + search_after behind an opaque cursor.

`from`/`size` pages through the first 10,000 hits. Beyond that (and for a stable snapshot
while the index changes), a client asks for `cursor=start`: Lantern opens a point in time
(PIT) and answers with `next_cursor`, a token holding the PIT id, the sort values of the last
hit and a fingerprint of the search, so a cursor cannot be replayed against another query.
The PIT is closed when the last page has been served; an abandoned one expires after
KEEP_ALIVE, and a caller holds at most a few at once (search_api.limits.Snapshots).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

from search_api.limits import Snapshots

KEEP_ALIVE = "5m"
KEEP_ALIVE_SECONDS = 300
START = "start"
SORTS = ("relevance", "date_desc", "date_asc")


class BadCursor(ValueError):
    """A cursor that is malformed, belongs to another search, or whose snapshot has expired (→ 400)."""


def sort_clauses(sort: str | None, has_text: bool) -> list[Any]:
    """The OpenSearch sort for `sort` (default: relevance for a text query, else newest first).

    Every order ends with `id`, so the order is total and search_after never skips or repeats.
    """
    sort = sort or ("relevance" if has_text else "date_desc")
    if sort == "relevance":
        return ["_score", {"date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
    order = "asc" if sort == "date_asc" else "desc"
    return [{"date": {"order": order, "missing": "_last"}}, {"id": "asc"}]


def fingerprint(search: dict[str, Any]) -> str:
    """A short digest of what is searched (query, filters, sort), never of the page."""
    return hashlib.sha256(json.dumps(search, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(pit_id: str, after: list[Any], seen: int, digest: str) -> str:
    raw = json.dumps({"pit": pit_id, "after": after, "seen": seen, "fp": digest}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, digest: str) -> dict[str, Any]:
    """The cursor's content; BadCursor if it is not one of ours or was made for another search."""
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(state["pit"], str) and isinstance(state["after"], list) and isinstance(state["seen"], int)):
            raise TypeError("wrong shape")
    except (ValueError, TypeError, KeyError) as exc:
        raise BadCursor("the cursor is not valid: pass the next_cursor of the previous page unchanged") from exc
    if state.get("fp") != digest:
        raise BadCursor("the cursor belongs to another search: keep q, filters and sort the same while paging")
    return state


def search_page(client: OpenSearch, index: str, body: dict[str, Any], cursor: str, digest: str,
                snapshots: Snapshots | None = None, caller: str = "") -> tuple[dict[str, Any], str | None]:
    """Run one cursor page of `body` (a search body with `sort` and `size`); return the OpenSearch
    response and the next cursor, or None after the last page (whose PIT is then closed).
    With `snapshots`, the PIT is counted against `caller`'s bound (older ones closed beyond it)."""
    body = {k: v for k, v in body.items() if k != "from"}
    if cursor == START:
        pit_id = client.create_pit(index=index, params={"keep_alive": KEEP_ALIVE})["pit_id"]
        seen = 0
        for old in snapshots.opened(caller, pit_id) if snapshots else ():
            close_pit(client, old)
    else:
        state = decode_cursor(cursor, digest)
        pit_id, seen = state["pit"], state["seen"]
        body["search_after"] = state["after"]
        if snapshots:
            snapshots.used(caller, pit_id)
    body["pit"] = {"id": pit_id, "keep_alive": KEEP_ALIVE}
    try:
        response = client.search(body=body)
    except Exception as exc:
        if cursor == START:  # the first page failed: nobody will page on, release the snapshot now
            close_pit(client, pit_id)
            if snapshots:
                snapshots.closed(caller, pit_id)
        elif isinstance(exc, (NotFoundError, RequestError)) and "search_context" in str(exc).lower().replace(" ", "_"):
            raise BadCursor("the cursor has expired (more than 5 minutes between pages, or replaced by newer cursors): "
                            "start again with cursor=start") from exc
        raise
    hits = response["hits"]["hits"]
    seen += len(hits)
    if hits and len(hits) == body.get("size") and seen < response["hits"]["total"]["value"]:
        return response, encode_cursor(response.get("pit_id", pit_id), hits[-1]["sort"], seen, digest)
    close_pit(client, response.get("pit_id", pit_id))
    if snapshots:
        snapshots.closed(caller, pit_id)
    return response, None


def close_pit(client: OpenSearch, pit_id: str) -> None:
    """Release a point in time now rather than at its expiry (an unknown one is already gone)."""
    try:
        client.delete_pit(body={"pit_id": [pit_id]})
    except NotFoundError:
        pass  # already expired: nothing is held


def scan(client: OpenSearch, index: str, query: dict[str, Any], sort: list[Any], source: list[str] | bool,
         page_size: int = 500) -> Iterator[dict[str, Any]]:
    """Every hit of `query` in `sort` order, one page in memory at a time, from one point in time.

    A generator: closing it early (a client that hangs up) closes the PIT.
    """
    pit_id = client.create_pit(index=index, params={"keep_alive": KEEP_ALIVE})["pit_id"]
    after: list[Any] | None = None
    try:
        while True:
            body: dict[str, Any] = {"query": query, "sort": sort, "size": page_size, "_source": source,
                                    "track_total_hits": False, "pit": {"id": pit_id, "keep_alive": KEEP_ALIVE}}
            if after is not None:
                body["search_after"] = after
            response = client.search(body=body)
            pit_id = response.get("pit_id", pit_id)
            hits = response["hits"]["hits"]
            yield from hits
            if len(hits) < page_size:
                return
            after = hits[-1]["sort"]
    finally:
        close_pit(client, pit_id)


